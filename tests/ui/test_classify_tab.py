"""The Classify tab, driven like a user: real mouse strokes, drops, pastes, model switches."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import threading

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QGuiApplication, QImage
from PySide6.QtWidgets import QApplication

from tests.support.decoding import wait_for_decoding  # noqa: E402
from lenet_gui.core.preprocess import DIGIT, preprocess_image
from lenet_gui.core.resources import BUNDLED_MODELS, sample_path
from lenet_gui.ui import workers
from lenet_gui.ui.main_window import MainWindow
from lenet_gui.ui.session import CurrentInput

ROOT = Path(__file__).resolve().parents[2]
SEVEN = sample_path("digit-7-chalk.png")
THREE = sample_path("digit-3-pen-photo.jpg")
TROUSER = sample_path("garment-trouser.jpg")


@pytest.fixture
def window(qtbot, tmp_path):
    for path in BUNDLED_MODELS.values():
        assert path.is_file(), f"the bundled checkpoint {path} is missing"
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    win.resize(1100, 760)
    win.show()
    qtbot.waitExposed(win)
    win.tabs.setCurrentWidget(win.classify_tab)
    return win


@pytest.fixture
def tab(window):
    return window.classify_tab


def canvas_point(tab, x: float, y: float) -> QPoint:
    square = tab.canvas.square()
    return QPoint(square.x() + round(x * square.width()), square.y() + round(y * square.height()))


def draw(qtbot, tab, points, release=True):
    """A stroke with real mouse events: press, moves with the button held, release."""
    canvas = tab.canvas
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=canvas_point(tab, *points[0]))
    for p in points[1:]:
        qtbot.mouseMove(canvas, canvas_point(tab, *p))
    if release:
        qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=canvas_point(tab, *points[-1]))


def vertical_stroke(steps=24):
    return [(0.5, 0.15 + 0.7 * i / steps) for i in range(steps + 1)]


def test_drawing_a_vertical_stroke_reads_as_one(qtbot, tab):
    assert tab.session.current_model.dataset == "mnist"
    assert tab.last_prediction is None
    assert "Draw something" in tab.result_label.text()
    draw(qtbot, tab, vertical_stroke())
    qtbot.waitUntil(lambda: tab.last_prediction is not None)
    assert tab.last_prediction.label == "1"
    assert tab.chart.top_index() == 1
    assert tab.result_label.text().startswith("1")
    # The model's input is what MNIST looks like: a 20-pixel-high stroke, centred.
    img = tab.last_preprocessed.image28
    rows = np.flatnonzero((img > 128).any(1))
    assert rows[-1] - rows[0] + 1 >= 18
    published = tab.session.current_input
    assert published is not None and published.description == "drawing"
    assert np.array_equal(published.preprocessed.image28, img)


def test_prediction_updates_while_the_pen_is_down(qtbot, tab):
    draw(qtbot, tab, vertical_stroke(), release=False)
    qtbot.waitUntil(lambda: tab.last_prediction is not None, timeout=2000)
    assert tab.canvas.is_drawing()
    qtbot.mouseRelease(tab.canvas, Qt.MouseButton.LeftButton, pos=canvas_point(tab, 0.5, 0.85))
    assert not tab.canvas.is_drawing() and len(tab.canvas.strokes) == 1


def test_undo_and_clear_go_back_to_draw_something(qtbot, tab):
    draw(qtbot, tab, vertical_stroke())
    draw(qtbot, tab, [(0.3, 0.2), (0.7, 0.2)])
    assert len(tab.canvas.strokes) == 2
    qtbot.keyClick(tab.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(tab.canvas.strokes) == 1
    assert tab.last_prediction is not None and tab.last_prediction.label == "1"
    qtbot.keyClick(tab.canvas, Qt.Key.Key_Escape)
    assert tab.canvas.is_empty()
    assert tab.last_prediction is None and tab.chart.probabilities is None
    assert "Draw something" in tab.result_label.text()
    assert tab.session.current_input is None
    draw(qtbot, tab, vertical_stroke())
    qtbot.keyClick(tab.canvas, Qt.Key.Key_Delete)
    assert tab.canvas.is_empty() and tab.last_prediction is None


def test_undo_is_offered_only_while_there_is_a_stroke_to_take_back(qtbot, tab):
    assert tab.canvas.is_empty()
    assert not tab.undo_button.isEnabled() and not tab.undo_action.isEnabled()
    draw(qtbot, tab, vertical_stroke())
    assert tab.undo_button.isEnabled() and tab.undo_action.isEnabled()
    tab.undo_button.click()
    assert tab.canvas.is_empty() and not tab.undo_button.isEnabled() and not tab.undo_action.isEnabled()


def test_undo_brings_back_a_drawing_that_an_image_or_another_tabs_input_replaced(qtbot, tab):
    draw(qtbot, tab, vertical_stroke())
    draw(qtbot, tab, [(0.4, 0.2), (0.5, 0.15)])  # a 1 with its flag
    qtbot.waitUntil(lambda: tab.last_prediction is not None)
    drawn = tab.last_preprocessed.image28.copy()
    assert tab.load_image(SEVEN)  # the image replaces the drawing...
    assert tab.canvas.is_empty() and tab.last_prediction.label == "7"
    assert tab.undo_button.isEnabled() and tab.undo_action.isEnabled()  # ...which Undo brings back
    assert "Bring back the drawing" in tab.undo_button.toolTip()
    assert tab.undo_action.text() == "&Bring back the drawing"
    qtbot.keyClick(tab.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(tab.canvas.strokes) == 2
    qtbot.waitUntil(lambda: tab.session.current_input is not None
                    and tab.session.current_input.description == "drawing")
    assert np.array_equal(tab.last_preprocessed.image28, drawn)  # read as it was drawn
    assert tab.undo_action.text() == "&Undo stroke" and "last stroke" in tab.undo_button.toolTip()
    tab.undo_button.click()  # then Undo takes back its strokes, as before
    assert len(tab.canvas.strokes) == 1

    other = tab.session.current_input
    tab.session.set_input(CurrentInput(preprocessed=other.preprocessed, original=None, description="from Inspect"))
    assert tab.canvas.is_empty() and tab.undo_button.isEnabled()  # another tab's input replaced it
    tab.undo_button.click()
    assert len(tab.canvas.strokes) == 1 and tab.session.current_input.description == "drawing"


def test_a_new_drawing_over_an_image_forgets_the_drawing_the_image_replaced(qtbot, tab):
    draw(qtbot, tab, vertical_stroke())
    assert tab.load_image(SEVEN)
    draw(qtbot, tab, [(0.3, 0.5), (0.7, 0.5)])  # a new drawing replaces the image
    tab.undo_button.click()
    assert tab.canvas.is_empty() and not tab.undo_button.isEnabled()  # not the older drawing
    draw(qtbot, tab, vertical_stroke())
    assert tab.load_image(SEVEN)
    qtbot.keyClick(tab.canvas, Qt.Key.Key_Escape)  # Clear: a blank canvas, nothing to bring back
    assert tab.canvas.is_empty() and not tab.undo_button.isEnabled()


def _drop(tab, mime: QMimeData, wait: bool = True) -> bool:
    """A drag entering the tab, then the drop, as Qt delivers them; returns whether the drag was
    accepted (the cursor shows "copy" over the tab). Waits for the image to decode unless told."""
    centre = tab.canvas.geometry().center()
    with warnings.catch_warnings():  # PySide flags this constructor; it is the one Qt has
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(centre, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(tab, enter)
    drop = QDropEvent(QPointF(centre), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(tab, drop)
    if wait:
        wait_for_decoding(tab)
    return enter.isAccepted()


def test_dropping_a_file_classifies_it(tab):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(SEVEN))])
    assert _drop(tab, mime)
    assert tab.last_prediction is not None and tab.last_prediction.label == "7"
    assert tab.error_text() == ""
    assert tab.session.current_input.description == SEVEN.name


def test_dropping_a_broken_file_says_so_and_keeps_the_prediction(tab, tmp_path):
    tab.load_image(SEVEN)
    before = tab.last_prediction.probabilities.copy()
    broken = tmp_path / "holiday.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 definitely not a whole JPEG")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(broken))])
    _drop(tab, mime)
    assert "holiday.jpg" in tab.error_text()
    assert np.array_equal(tab.last_prediction.probabilities, before)
    text_only = QMimeData()
    text_only.setText("hello")
    assert not _drop(tab, text_only)  # nothing usable: refused, nothing lost
    assert np.array_equal(tab.last_prediction.probabilities, before)


def test_pasting_an_image_classifies_it(qtbot, tab):
    QGuiApplication.clipboard().setImage(QImage(str(THREE)))
    # Straight after switching tabs the focus is on the tab bar, not in the tab: Ctrl+V still works.
    tab.window().tabs.tabBar().setFocus()
    qtbot.keyClick(tab.window().tabs.tabBar(), Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    wait_for_decoding(tab)
    assert tab.last_prediction is not None and tab.last_prediction.label == "3"
    assert tab.original_view.image is not None


def test_dropped_image_data_from_another_app(tab):
    mime = QMimeData()
    mime.setImageData(QImage(str(SEVEN)))
    _drop(tab, mime)
    assert tab.last_prediction.label == "7"


def test_fashion_model_uses_garment_classes_and_samples(qtbot, tab):
    tab.model_combo.activated.emit(1)  # "Bundled: Fashion-MNIST garments", as a user picks it
    model = tab.session.current_model
    assert model.dataset == "fashion-mnist" and model.input_kind == "garment"
    assert tab.chart.classes == model.classes
    visible = [b.toolTip() for kind, b in tab.sample_buttons if not b.isHidden()]
    assert visible and all(name.startswith("garment") for name in visible)
    buttons = {b.toolTip(): b for _, b in tab.sample_buttons}
    qtbot.mouseClick(buttons[TROUSER.name], Qt.MouseButton.LeftButton)
    assert tab.last_prediction.label == "Trouser"


def test_the_transparent_sample_shows_its_ink_on_paper_in_the_dark_palette(qtbot, window):
    from lenet_gui.ui import theme

    window.theme_actions[theme.DARK].trigger()
    try:
        buttons = {b.toolTip(): b for _, b in window.classify_tab.sample_buttons}
        icon = buttons["digit-5-transparent.png"].icon().pixmap(44, 44).toImage()
        lightness = [QColor(icon.pixel(x, y)).lightness() for x in range(icon.width()) for y in range(icon.height())]
        assert max(lightness) > 230 and min(lightness) < 80  # white paper and dark ink, both seen
        assert all(QColor(icon.pixel(x, y)).alpha() == 255 for x in range(icon.width()) for y in range(icon.height()))
    finally:
        window.theme_actions[theme.LIGHT].trigger()


def test_damaged_checkpoint_keeps_the_previous_model(tab, tmp_path):
    before = tab.session.current_model
    bad = tmp_path / "broken.pt"
    bad.write_bytes(b"PK\x03\x04 this is not a checkpoint")
    assert not tab.open_checkpoint(str(bad))
    assert "broken.pt" in tab.error_text()
    assert tab.session.current_model is before
    assert tab.model_combo.currentText() == "Bundled: MNIST digits"


def test_models_added_elsewhere_appear_in_the_picker(tab):
    from lenet_gui.core.checkpoint import load_checkpoint

    loaded = load_checkpoint(BUNDLED_MODELS["mnist"])
    tab.session.add_model(loaded, title="Just trained")
    assert tab.model_combo.findText("Just trained") >= 0
    assert tab.model_combo.currentText() == "Just trained"


def test_inputs_from_other_tabs_are_shown_without_echo(tab):
    pre = preprocess_image(SEVEN, DIGIT)
    seen = []
    tab.session.input_changed.connect(seen.append)
    external = CurrentInput(pre, None, "test image #0 (true: 7)")
    tab.session.set_input(external)
    assert tab.last_prediction.label == "7"
    assert seen == [external]  # the tab did not publish anything back
    assert tab.session.current_input is external
    assert tab.original_view.image.width() == 28


def test_ink_colour_is_remembered(qtbot, window, tmp_path):
    tab = window.classify_tab
    assert tab.ink_toggle.isChecked()
    tab.ink_toggle.setChecked(False)
    draw(qtbot, tab, vertical_stroke())
    assert tab.last_prediction.label == "1"  # black ink on white reads the same
    again = MainWindow(settings=window.settings)
    qtbot.addWidget(again)
    assert not again.classify_tab.ink_toggle.isChecked()
    assert not again.classify_tab.canvas.white_on_black


def test_the_bundled_model_chosen_last_is_the_one_at_the_next_start(qtbot, window):
    tab = window.classify_tab
    assert tab.session.current_model.dataset == "mnist"  # a first start: the digits
    assert tab.model_picker.choose(1)
    again = MainWindow(settings=window.settings)
    qtbot.addWidget(again)
    assert again.session.current_model.dataset == "fashion-mnist"
    assert again.classify_tab.model_picker.combo.currentIndex() == 1
    assert again.classify_tab.model_picker.choose(0)
    third = MainWindow(settings=window.settings)
    qtbot.addWidget(third)
    assert third.session.current_model.dataset == "mnist"


def test_cli_and_window_agree(tab):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-m", "lenet_gui", "predict", "--json", str(THREE), str(SEVEN)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(THREE), str(SEVEN)]
    for line in lines:
        assert set(line) == {"file", "index", "label", "probabilities", "unfamiliar", "novelty"}
        tab.load_image(line["file"])
        assert line["index"] == tab.last_prediction.index
        assert line["label"] == tab.last_prediction.label
        assert np.abs(np.array(line["probabilities"]) - tab.last_prediction.probabilities).max() <= 1e-6


def _press_paste(qtbot, tab):
    qtbot.keyClick(tab.canvas, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    wait_for_decoding(tab)


@pytest.mark.parametrize("clipboard", ["empty", "text only"])
def test_pasting_without_an_image_says_so_and_keeps_the_prediction(qtbot, tab, clipboard):
    tab.load_image(SEVEN)
    before = tab.last_prediction.probabilities.copy()
    shown_input = tab.session.current_input
    if clipboard == "empty":
        QGuiApplication.clipboard().clear()
    else:
        QGuiApplication.clipboard().setText("a seven, honestly")
    _press_paste(qtbot, tab)
    assert "no image" in tab.error_text().lower()
    assert tab.last_prediction is not None and np.array_equal(tab.last_prediction.probabilities, before)
    assert tab.session.current_input is shown_input
    assert tab.original_view.image is not None and tab.original_caption.text().endswith(SEVEN.name)


def test_a_null_image_from_another_application_says_so_and_keeps_the_prediction(tab):
    tab.load_image(SEVEN)
    before = tab.last_prediction.probabilities.copy()
    assert not tab.load_qimage(QImage(), "pasted image")
    assert "empty or unreadable" in tab.error_text()
    assert np.array_equal(tab.last_prediction.probabilities, before)
    # The same through a drop whose image data is a null image.
    tab.load_image(SEVEN)
    assert tab.error_text() == ""
    mime = QMimeData()
    mime.setImageData(QImage())
    _drop(tab, mime)
    assert "empty or unreadable" in tab.error_text()
    assert np.array_equal(tab.last_prediction.probabilities, before)


def test_a_dropped_web_picture_uses_its_image_data_without_the_network(tab, monkeypatch):
    """A browser drags a picture as its web address plus the picture itself: the picture is
    classified, and nothing is fetched."""
    import socket
    import urllib.request

    attempts = []

    def no_network(*args, **kwargs):
        attempts.append(args)
        raise OSError("no network in this test")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    mime = QMimeData()
    mime.setUrls([QUrl("https://example.com/images/seven.png")])
    mime.setImageData(QImage(str(SEVEN)))
    assert _drop(tab, mime)
    assert tab.error_text() == ""
    assert tab.last_prediction is not None and tab.last_prediction.label == "7"
    assert tab.session.current_input.description == "dropped image"
    assert attempts == []


# -- images decoded off the window's thread ---------------------------------------------------------


class _GatedDecoding:
    """Records on which thread each image is opened, and holds the decodes of chosen files
    until released, as a slow decode of a large photo would be."""

    def __init__(self, monkeypatch, hold=()):
        from lenet_gui.ui.classify import tab as tab_module

        self.threads, self.hold, self.release = [], {str(p) for p in hold}, threading.Event()
        real = tab_module.open_image

        def gated(source):
            self.threads.append(threading.get_ident())
            if str(source) in self.hold:
                assert self.release.wait(30), "the test never released the decode"
            return real(source)

        monkeypatch.setattr(tab_module, "open_image", gated)


def _drop_files(tab, *paths) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    assert _drop(tab, mime, wait=False)


def test_a_dropped_photo_is_decoded_off_the_window_thread_while_the_tab_shows_it_is_busy(qtbot, tab, monkeypatch):
    gate = _GatedDecoding(monkeypatch, hold=[THREE])
    _drop_files(tab, THREE)
    # the window is free while the photo decodes: it says so, and still answers
    assert tab.decoding and tab.busy_bar.isVisible()
    assert THREE.name in tab.result_label.text()
    qtbot.keyClick(tab.canvas, Qt.Key.Key_Escape)  # events are handled meanwhile
    with qtbot.waitSignal(tab.image_decoded, timeout=30_000):
        gate.release.set()
    assert gate.threads and threading.get_ident() not in gate.threads
    assert not tab.decoding and not tab.busy_bar.isVisible()
    assert tab.last_prediction is not None and tab.last_prediction.label == "3"
    assert tab.session.current_input.description == THREE.name


def test_a_newer_drop_supersedes_one_still_decoding(qtbot, tab, monkeypatch):
    gate = _GatedDecoding(monkeypatch, hold=[THREE])
    _drop_files(tab, THREE)  # held
    with qtbot.waitSignal(tab.image_decoded, timeout=30_000):
        _drop_files(tab, SEVEN)
    assert tab.last_prediction.label == "7"
    gate.release.set()  # the older decode ends now; its result must not replace the newer one
    qtbot.waitUntil(lambda: not workers.running_workers(), timeout=30_000)
    qtbot.wait(50)  # the older result's queued signal, had it been kept, would have landed
    assert tab.last_prediction.label == "7"
    assert tab.session.current_input.description == SEVEN.name


def _energy_and_threshold(loaded, path) -> tuple[float, float]:
    """The out-of-distribution score of an image, from the model's logits computed here (for a
    model read by an image and its mirror image, their mean), and the threshold the checkpoint
    stores."""
    import torch

    pre = preprocess_image(path, loaded.input_kind)
    x = pre.tensor.reshape(1, 1, 28, 28)
    with torch.no_grad():
        logits = loaded.model(x)[0].double()
        if loaded.metadata["calibration"].get("average_mirror"):
            logits = (logits + loaded.model(torch.flip(x, dims=[3]))[0].double()) / 2
    return float(-torch.logsumexp(logits, 0)), loaded.metadata["calibration"]["ood"]["threshold"]


def test_noise_does_not_look_like_a_digit_and_a_clean_digit_does(tab, tmp_path):
    from PIL import Image

    noise = tmp_path / "static.png"
    Image.fromarray(np.random.default_rng(7).integers(0, 256, (120, 120), dtype=np.uint8)).save(noise)
    loaded = tab.session.current_model
    energy, threshold = _energy_and_threshold(loaded, noise)
    assert energy > threshold  # the stored check refuses it

    tab.load_image(noise)
    assert tab.result_label.text() == "This does not look like a digit"
    # The probability view keeps the bars, faint, highlights no class and says why.
    assert tab.chart.probabilities is not None and tab.chart.top_index() is None
    assert tab.chart.notice.startswith("Unlike the images this model was trained on")
    assert tab.chart.accessibleDescription().startswith(tab.chart.notice)

    energy, threshold = _energy_and_threshold(loaded, SEVEN)
    assert energy <= threshold
    tab.load_image(SEVEN)
    assert tab.result_label.text().startswith("7 — ")
    assert tab.chart.notice is None and tab.chart.top_index() == 7


def test_a_digit_does_not_look_like_a_garment_to_the_garment_model(tab):
    tab.model_combo.activated.emit(1)  # "Bundled: Fashion-MNIST garments"
    loaded = tab.session.current_model
    energy, threshold = _energy_and_threshold(loaded, SEVEN)
    assert energy > threshold
    tab.load_image(SEVEN)
    assert tab.result_label.text() == "This does not look like a garment"
    tab.load_image(TROUSER)
    assert tab.result_label.text().startswith("Trouser — ") and tab.chart.notice is None
    # Its percentages read the photo and its mirror image together, and the chart says so.
    assert loaded.calibration.average_mirror and "mirror image" in tab.chart.toolTip()
    tab.model_combo.activated.emit(0)
    assert not tab.session.current_model.calibration.average_mirror and tab.chart.toolTip() == ""
