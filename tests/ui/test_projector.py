"""The Projector tab: the map is the model's own PCA / t-SNE of its test set, hover shows the
image, a click chooses it, the current input's diamond follows the input; t-SNE runs in the
background with progress and cancel; a missing data set says what to do."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw
from PySide6.QtCore import QPoint, QSettings, Qt

from lenet_gui.core import projection
from lenet_gui.core.checkpoint import LoadedModel
from lenet_gui.core.data import load_dataset
from lenet_gui.core.inference import Predictor
from lenet_gui.core.model import LeNet, ModelConfig
from lenet_gui.core.preprocess import preprocess_array
from lenet_gui.core.projection import ProjectionCache
from lenet_gui.ui.projector import tab as projector_tab
from lenet_gui.ui.projector.tab import ProjectorTab
from lenet_gui.ui.session import CurrentInput, Session
from lenet_gui.ui.settings import Settings
from tests.support.layer_references import hooked_layers, pca_by_covariance

DIGITS = [str(d) for d in range(10)]
WAIT_MS = 60_000  # a hang guard only


def make_model(seed: int = 0) -> LoadedModel:
    torch.manual_seed(seed)
    model = LeNet(ModelConfig(activation="relu", batch_norm=True, dropout=0.3, input_mean=0.13, input_std=0.31))
    with torch.no_grad():
        for bn in (model.bn1, model.bn2, model.bn3, model.bn4):
            bn.running_mean.uniform_(-0.2, 0.2)
            bn.running_var.uniform_(0.5, 1.5)
    return LoadedModel(model=model.eval(), classes=list(DIGITS), dataset="mnist", input_kind="digit",
                       metadata={"title": f"test model {seed}"})


def stroke_input(points, width: int = 18) -> CurrentInput:
    canvas = Image.new("L", (280, 280), 0)
    ImageDraw.Draw(canvas).line(points, fill=255, width=width, joint="curve")
    pre = preprocess_array(np.asarray(canvas, dtype=np.float64) / 255.0, "digit")
    return CurrentInput(preprocessed=pre, original=np.asarray(canvas), description="drawing")


@pytest.fixture
def settings(tmp_path):
    return Settings.wrap(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def session(qtbot, settings, fake_data_root, monkeypatch):
    monkeypatch.delenv("LENET_DATA_ROOT", raising=False)
    return Session(data_root=str(fake_data_root), settings=settings)


def _open_tab(qtbot, session, settings, cache_folder) -> ProjectorTab:
    widget = ProjectorTab(session, settings, cache=ProjectionCache(cache_folder))
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def tab(qtbot, session, settings, tmp_path):
    widget = _open_tab(qtbot, session, settings, tmp_path / "projections")
    yield widget
    widget.shutdown()


@pytest.fixture
def test_split(fake_data_root):
    return load_dataset("mnist", fake_data_root, download=False).test


def _show(qtbot, tab, session, loaded, **choice):
    with qtbot.waitSignal(tab.projected, timeout=WAIT_MS):
        if choice:
            tab.set_choice(**choice)
        session.set_model(loaded)
    return tab.projection


def _matches_up_to_sign(actual: np.ndarray, expected: np.ndarray, atol=1e-4) -> np.ndarray:
    """The per-axis signs that make ``actual`` equal ``expected`` (asserting that they do)."""
    signs = np.sign((actual * expected).sum(0))
    np.testing.assert_allclose(actual, expected * signs, atol=atol, rtol=1e-4)
    return signs


def _isolated_point(scatter) -> int:
    """A point whose nearest neighbour on screen is far: the pointer picks it and no other."""
    screen = np.array([[scatter.point_position(i).x(), scatter.point_position(i).y()]
                       for i in range(len(scatter.coords))])
    d = np.linalg.norm(screen[:, None] - screen[None], axis=2)
    np.fill_diagonal(d, np.inf)
    return int(np.argmax(d.min(1)))


def _at(scatter, index: int) -> QPoint:
    return scatter.point_position(index).toPoint()


def test_the_map_is_the_pca_of_the_models_own_fc2_outputs_for_every_test_image(qtbot, tab, session, test_split):
    loaded = make_model()
    _show(qtbot, tab, session, loaded)
    scatter = tab.scatter
    expected, shares, _ = pca_by_covariance(hooked_layers(loaded.model, test_split.images)["fc2"])
    assert len(scatter.coords) == len(test_split)  # every test image
    _matches_up_to_sign(scatter.coords, expected)
    np.testing.assert_array_equal(scatter.labels, test_split.labels.numpy())  # coloured by true class
    with torch.no_grad():
        predicted = loaded.model(test_split.images.float().div(255).unsqueeze(1)).argmax(1).numpy()
    np.testing.assert_array_equal(scatter.wrong, predicted != test_split.labels.numpy())  # rings: mistakes
    text = tab.summary.text()
    assert "PCA of fc2" in text and f"{100 * shares[0]:.1f}%" in text and f"{int(scatter.wrong.sum()):,} misclassified" in text
    assert [label.text() for label in tab.legend.labels[1:20:2]] == DIGITS  # the legend names each class


def test_a_model_read_with_the_mirror_image_marks_the_mistakes_of_that_reading(qtbot, tab, session, test_split):
    loaded = make_model(seed=8)  # a random model whose two readings differ on some test images
    loaded.metadata["calibration"] = {"temperature": 1.0, "average_mirror": True}
    assert loaded.calibration.average_mirror
    _show(qtbot, tab, session, loaded)
    x = test_split.images.float().div(255).unsqueeze(1)
    with torch.no_grad():
        alone = loaded.model(x)
        read = (alone + loaded.model(x.flip(-1))) / 2
    labels = test_split.labels.numpy()
    np.testing.assert_array_equal(tab.scatter.wrong, read.argmax(1).numpy() != labels)
    assert (read.argmax(1) != alone.argmax(1)).any()
    assert f"{int((read.argmax(1).numpy() != labels).sum()):,} misclassified" in tab.summary.text()


def test_another_layer_is_that_layers_own_outputs(qtbot, tab, session, test_split):
    loaded = make_model(seed=4)
    _show(qtbot, tab, session, loaded)
    with qtbot.waitSignal(tab.projected, timeout=WAIT_MS):
        tab.set_choice(layer="pool2")
    expected, _, _ = pca_by_covariance(hooked_layers(loaded.model, test_split.images)["pool2"])
    _matches_up_to_sign(tab.scatter.coords, expected)


def test_hover_shows_the_test_image_and_what_the_model_said(qtbot, tab, session, test_split):
    loaded = make_model()
    result = _show(qtbot, tab, session, loaded)
    point = _isolated_point(tab.scatter)
    image_index = int(result.indices[point])
    qtbot.mouseMove(tab.scatter, _at(tab.scatter, point))
    qtbot.waitUntil(lambda: tab.scatter.hovered_index == point, timeout=5000)
    shown = tab.hover_image.image
    pixels = np.array([[shown.pixelColor(x, y).red() for x in range(28)] for y in range(28)])
    np.testing.assert_array_equal(pixels, test_split.images[image_index].numpy())
    with torch.no_grad():
        logits = loaded.model(test_split.images[image_index].float().div(255).reshape(1, 1, 28, 28))
    text = tab.hover_text.text()
    assert f"#{image_index}<" in text
    assert f"true: {int(test_split.labels[image_index])}" in text and f"predicted: {int(logits.argmax())}" in text
    qtbot.mouseMove(tab.scatter, QPoint(2, 2))  # off every point: the panel says how to use it again
    qtbot.waitUntil(lambda: tab.scatter.hovered_index == -1, timeout=5000)
    assert tab.hover_image.image is None and "Hover" in tab.hover_text.text()


def test_a_click_makes_the_test_image_the_current_input_and_the_diamond_lands_on_it(qtbot, tab, session, test_split):
    result = _show(qtbot, tab, session, make_model())
    point = _isolated_point(tab.scatter)
    image_index = int(result.indices[point])
    with qtbot.waitSignal(session.input_changed, timeout=5000):
        qtbot.mouseClick(tab.scatter, Qt.MouseButton.LeftButton, pos=_at(tab.scatter, point))
    current = session.current_input
    true = int(test_split.labels[image_index])
    assert current.description == f"test image #{image_index} (true: {true})"
    np.testing.assert_allclose(current.preprocessed.tensor.reshape(28, 28).numpy(),
                               test_split.images[image_index].numpy() / 255.0, atol=1e-7)
    marker = tab.scatter.marker_position()
    target = tab.scatter.point_position(point)
    assert abs(marker.x() - target.x()) < 0.5 and abs(marker.y() - target.y()) < 0.5


def test_a_language_switch_while_hidden_after_a_new_layer_is_chosen_keeps_the_shown_map(qtbot, tab, session):
    _show(qtbot, tab, session, make_model())
    session.set_input(stroke_input([(60, 60), (220, 60), (120, 240)]))
    before = tab.scatter.marker.copy()
    tab.hide()
    tab.set_choice(layer="pool2")  # waits until shown; the fc2 map is still the one shown
    tab.retranslate()
    np.testing.assert_array_equal(tab.scatter.marker, before)


def test_the_drawings_diamond_moves_with_the_input_to_its_own_pca_position(qtbot, tab, session, test_split):
    loaded = make_model(seed=2)
    _show(qtbot, tab, session, loaded)
    features = hooked_layers(loaded.model, test_split.images)["fc2"]
    other = make_model(seed=9)
    positions = []
    for n, stroke in enumerate(([(60, 60), (220, 60), (120, 240)], [(140, 40), (140, 240)], [(60, 140), (220, 140)])):
        current = stroke_input(stroke)
        if n == 2:  # published with another model's prediction (the Classify tab's may differ): not reused
            current.prediction, current.model = Predictor(other).predict(current.preprocessed.tensor), other
        session.set_input(current)
        drawn = hooked_layers(loaded.model, current.preprocessed.tensor)["fc2"]
        expected, _, placed = pca_by_covariance(features, drawn)
        signs = _matches_up_to_sign(tab.scatter.coords, expected)
        np.testing.assert_allclose(tab.scatter.marker, placed[0] * signs, atol=1e-4)
        positions.append(tab.scatter.marker_position())
        assert "drawing" in tab.input_text.text()
    assert len({(round(p.x()), round(p.y())) for p in positions}) == 3  # it moved on the screen each time
    session.set_input(None)
    assert tab.scatter.marker_position() is None


def test_in_its_own_window_the_diamond_follows_the_pen_while_another_tab_is_shown(qtbot, tmp_path, fake_data_root,
                                                                                  monkeypatch):
    from lenet_gui.ui.main_window import MainWindow

    monkeypatch.delenv("LENET_DATA_ROOT", raising=False)
    window = MainWindow(data_root=str(fake_data_root),
                        settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    tab = window.projector_tab
    tab.cache = ProjectionCache(tmp_path / "projections")
    window.show()
    own = tab.undock()
    assert own.isVisible() and tab.away.isVisibleTo(tab) and tab.content.window() is own
    window.tabs.setCurrentWidget(window.classify_tab)  # where the user draws
    with qtbot.waitSignal(tab.projected, timeout=WAIT_MS):
        window.session.set_model(make_model())
    seen = []
    for stroke in ([(60, 60), (220, 60), (120, 240)], [(140, 40), (140, 240)]):
        window.session.set_input(stroke_input(stroke))
        seen.append(tab.scatter.marker_position())
    assert None not in seen and seen[0] != seen[1]
    own.close()  # its close button: back into the tab
    assert tab.floating is None and tab.content.window() is window and not tab.away.isVisibleTo(tab)
    window.close()


def test_tsne_runs_in_the_background_with_progress(qtbot, tab, session, test_split):
    seen: list[int] = []
    tab.progress.valueChanged.connect(seen.append)
    with qtbot.waitSignal(tab.projected, timeout=WAIT_MS):
        tab.set_choice(method="tsne")
        session.set_model(make_model())
        assert tab.busy and tab.progress.isVisible() and tab.cancel_button.isVisible()
        assert "Computing t-SNE" in tab.summary.text()
        tab.retranslate()  # a language switch meanwhile keeps the bar and the button
        assert tab.progress.isVisible() and tab.cancel_button.isVisible()
    assert len(seen) > 5 and seen == sorted(seen) and seen[-1] == tab.progress.maximum()
    assert not tab.progress.isVisible() and not tab.cancel_button.isVisible()
    assert len(tab.scatter.coords) == len(test_split) and "t-SNE of fc2" in tab.summary.text()
    # The diamond uses the same map: a test image's own input lands on its own point.
    tab.choose(3)
    marker, target = tab.scatter.marker_position(), tab.scatter.point_position(3)
    assert abs(marker.x() - target.x()) < 0.5 and abs(marker.y() - target.y()) < 0.5


def test_on_a_sample_hover_and_click_name_the_sampled_test_image(qtbot, tab, session, test_split, monkeypatch):
    monkeypatch.setattr(projection, "TSNE_POINTS", 40)  # a sample: map points and test images differ
    result = _show(qtbot, tab, session, make_model(), method="tsne")
    assert len(result) == 40 and "40 of the 100 test images" in tab.summary.text()
    point = _isolated_point(tab.scatter)
    image_index = int(result.indices[point])
    assert image_index != point
    qtbot.mouseMove(tab.scatter, _at(tab.scatter, point))
    qtbot.waitUntil(lambda: tab.scatter.hovered_index == point, timeout=5000)
    shown = tab.hover_image.image
    pixels = np.array([[shown.pixelColor(x, y).red() for x in range(28)] for y in range(28)])
    np.testing.assert_array_equal(pixels, test_split.images[image_index].numpy())
    assert f"#{image_index}<" in tab.hover_text.text()
    assert tab.scatter.labels[point] == int(test_split.labels[image_index])
    with qtbot.waitSignal(session.input_changed, timeout=5000):
        qtbot.mouseClick(tab.scatter, Qt.MouseButton.LeftButton, pos=_at(tab.scatter, point))
    assert session.current_input.description.startswith(f"test image #{image_index} ")
    np.testing.assert_allclose(session.current_input.preprocessed.tensor.reshape(28, 28).numpy(),
                               test_split.images[image_index].numpy() / 255.0, atol=1e-7)


def test_tsne_can_be_cancelled_and_started_again(qtbot, tab, session, monkeypatch):
    reached = threading.Event()
    release = threading.Event()
    real_project = projector_tab.project

    def project_and_wait(*args, progress=None, **kwargs):
        def report(fraction):
            progress(fraction)
            if fraction > 0.1 and not release.is_set():
                reached.set()
                release.wait(20)  # hang guard: the test sets it right after Cancel
        return real_project(*args, progress=report, **kwargs)

    monkeypatch.setattr(projector_tab, "project", project_and_wait)
    tab.set_choice(method="tsne")
    session.set_model(make_model())
    qtbot.waitUntil(reached.is_set, timeout=WAIT_MS)
    tab.cancel_button.click()
    release.set()
    qtbot.waitUntil(lambda: not tab.busy, timeout=WAIT_MS)
    assert tab.projection is None and "Cancelled" in tab.summary.text()
    assert tab.action_button.isVisible() and tab.action_button.text() == "Compute t-SNE"
    assert not tab.progress.isVisible()
    with qtbot.waitSignal(tab.projected, timeout=WAIT_MS):
        tab.action_button.click()
    assert tab.projection is not None and tab.projection.method == "tsne"


def test_a_second_look_is_served_from_the_cache(qtbot, tab, session, settings, tmp_path, monkeypatch):
    loaded = make_model()
    first = _show(qtbot, tab, session, loaded).coords.copy()
    with qtbot.waitSignal(tab.projected, timeout=WAIT_MS):
        tab.set_choice(layer="fc1")
    qtbot.waitUntil(lambda: not tab.busy, timeout=WAIT_MS)
    tab.set_choice(layer="fc2")  # back: at once, from memory, no thread
    assert not tab.busy and tab.projection is not None
    np.testing.assert_array_equal(tab.scatter.coords, first)

    def not_again(*args, **kwargs):
        raise AssertionError("computed again instead of read from the cache")

    monkeypatch.setattr(projection, "compute_projection", not_again)
    # A new window on the same cache folder (the next run of the app) reads it from disk.
    other_session = Session(data_root=session.data_root, settings=settings)
    again = _open_tab(qtbot, other_session, settings, tmp_path / "projections")
    try:
        with qtbot.waitSignal(again.projected, timeout=WAIT_MS):
            other_session.set_model(loaded)
        np.testing.assert_array_equal(again.scatter.coords, first)
    finally:
        again.shutdown()


def test_a_new_model_gets_its_own_map(qtbot, tab, session):
    first = _show(qtbot, tab, session, make_model(seed=0)).coords.copy()
    second = _show(qtbot, tab, session, make_model(seed=1)).coords
    assert first.shape == second.shape and not np.allclose(first, second, atol=1e-3)
    session.set_model(None)
    assert tab.projection is None and "No model" in tab.summary.text() and not tab.scatter.has_points


def test_a_missing_data_set_says_so_and_offers_the_folder_or_a_download(qtbot, tab, session, tmp_path, monkeypatch,
                                                                        fake_data_root):
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    session.data_root = str(tmp_path / "nowhere")
    session.set_model(make_model())
    assert "MNIST test set is not in" in tab.summary.text() and not tab.busy
    assert tab.action_button.isVisible() and "download" in tab.action_button.text().lower()
    tab.action_button.click()
    dialog = tab.data_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.download_button.isVisible() and dialog.choose_button.isVisible()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(fake_data_root / "MNIST"))
    with qtbot.waitSignal(tab.projected, timeout=WAIT_MS):
        dialog.choose_button.click()
    assert len(tab.scatter.coords) == 100 and not tab.action_button.isVisible()


def test_the_test_files_alone_are_enough_and_the_dialog_offers_only_them(qtbot, tab, session, tmp_path, monkeypatch,
                                                                         make_fake_dataset):
    from PySide6.QtWidgets import QFileDialog

    raw = make_fake_dataset(tmp_path / "test-only", "mnist", n_test=60)
    for stem in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        (raw / stem).unlink()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    session.data_root = str(tmp_path / "nowhere")
    session.set_model(make_model())
    assert "about 2 MB" in tab.summary.text()  # the test images' download, not the whole set's
    tab.action_button.click()
    assert "test set" in tab.data_dialog.message.text()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(raw))
    with qtbot.waitSignal(tab.projected, timeout=WAIT_MS):
        tab.data_dialog.choose_button.click()
    assert len(tab.scatter.coords) == 60


def test_a_model_without_a_data_set_gets_a_message(qtbot, tab, session):
    loaded = make_model()
    loaded.dataset = None
    session.set_model(loaded)
    assert "does not say which data set" in tab.summary.text() and not tab.busy


def test_the_window_has_the_projector_tab_after_the_network_tab(qtbot, tmp_path):
    from lenet_gui.ui.main_window import MainWindow

    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    try:
        index = window.tabs.indexOf(window.projector_tab)
        assert index == window.tabs.indexOf(window.network_tab) + 1 == window.tabs.count() - 1
        assert window.tabs.tabText(index) == "Pro&jector"
        window.session.request_tab("projector")
        assert window.tabs.currentWidget() is window.projector_tab
    finally:
        window.close()
