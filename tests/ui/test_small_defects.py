"""Small things a user noticed: each one checked as the user would see it."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from lenet_gui.core.presets import preset_config
from lenet_gui.ui.train.chart import TrainingChart
from lenet_gui.ui.train.runs_model import RUN_COLORS, RunsModel


def _painted_colours(sample) -> set[tuple[int, int, int]]:
    """The colours a legend sample paints (what the user sees beside the label)."""
    image = QImage(24, 24, QImage.Format.Format_ARGB32)
    image.fill(QColor(255, 255, 255, 0))
    painter = QPainter(image)
    sample.paint(painter, None, None)
    painter.end()
    pixels = np.frombuffer(image.constBits(), dtype=np.uint32).reshape(24, 24)
    opaque = pixels[(pixels >> 24) >= 100]
    return {((int(p) >> 16) & 255, (int(p) >> 8) & 255, int(p) & 255) for p in opaque}


def _same_hue(colour: tuple[int, int, int], hex_colour: str) -> bool:
    painted, run = QColor(*colour), QColor(hex_colour)
    return abs((painted.hsvHue() - run.hsvHue() + 180) % 360 - 180) <= 12


def test_the_legend_shows_the_new_runs_colour_at_once(qtbot):
    model = RunsModel()
    chart = TrainingChart(model)
    qtbot.addWidget(chart)
    config = preset_config("classic", "mnist", epochs=2, threads=1)
    model.add_run(config)
    model.add_run(config)  # a second run: no data on its curves yet
    second = RUN_COLORS[1]
    for legend in (chart.loss_legend, chart.acc_legend):
        for sample, label in legend.items:
            # Every coloured pixel of the line and the marker is in the new run's colour (greys
            # and whites aside: antialiasing, a hollow marker).
            coloured = [c for c in _painted_colours(sample) if QColor(*c).hsvSaturation() > 60]
            assert coloured, label.text
            assert all(_same_hue(c, second) for c in coloured), (label.text, coloured)


# -- the canvas ------------------------------------------------------------------------------------

def _smoothed_line(points: list[tuple[float, float]], samples: int = 400) -> np.ndarray:
    """The line the canvas draws through the pen's samples, as its docstring defines it:
    quadratic pieces through the midpoints between samples (each sample a control point), from
    the first sample, then straight to the last one."""
    p = np.asarray(points, dtype=float)
    mids = (p[:-1] + p[1:]) / 2
    line = []
    start = p[0]
    t = np.linspace(0, 1, samples)[:, None]
    for i in range(1, len(p) - 1):
        end = mids[i]
        line.append((1 - t) ** 2 * start + 2 * t * (1 - t) * p[i] + t ** 2 * end)
        start = end
    line.append((1 - t) * start + t * p[-1])
    return np.concatenate(line)


@pytest.mark.parametrize("points", [
    [(0.3, 0.2), (0.5, 0.5), (0.7, 0.2), (0.5, 0.5), (0.3, 0.8)],  # out to a corner and straight back
    [(0.2, 0.5), (0.8, 0.5), (0.25, 0.55), (0.8, 0.6)],  # a Z with hairpin turns
    [(0.2, 0.2), (0.5, 0.8), (0.8, 0.2)],  # a V
])
@pytest.mark.parametrize("pen", [0.08, 0.16])
def test_a_thick_stroke_has_no_dark_pixel_inside_its_ink(qtbot, points, pen):
    from lenet_gui.ui.classify.canvas import RASTER, DrawingCanvas

    canvas = DrawingCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(420, 420)
    canvas.show()
    qtbot.waitExposed(canvas)
    canvas.set_pen_width(pen)
    side = canvas.square().width()
    at = [QPoint(round(x * side), round(y * side)) + canvas.square().topLeft() for x, y in points]
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=at[0])
    for p in at[1:]:
        qtbot.mouseMove(canvas, p)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=at[-1])
    ink = canvas.ink_array()
    drawn = [((q.x() - canvas.square().x()) / side, (q.y() - canvas.square().y()) / side) for q in at]
    line = _smoothed_line(drawn) * RASTER
    yy, xx = np.mgrid[0:RASTER, 0:RASTER] + 0.5
    centres = np.stack([xx.ravel(), yy.ravel()], axis=1)
    distance = np.full(len(centres), np.inf)
    for chunk in np.array_split(line, 20):
        distance = np.minimum(distance, np.linalg.norm(centres[:, None] - chunk[None], axis=2).min(axis=1))
    # Every pixel well inside the pen's reach (1.5 raster pixels in from the edge) is ink.
    inside = distance < pen * RASTER / 2 - 1.5
    assert inside.sum() > 500
    values = ink.ravel()[inside]
    dark = int((values < 0.95).sum())
    assert dark == 0, f"{dark} dark pixels inside the stroke (darkest {values.min():.2f})"


def test_the_empty_input_preview_matches_the_canvas_paper(qtbot, tmp_path):
    from lenet_gui.ui.main_window import MainWindow

    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.resize(1100, 700)
    window.show()
    classify = window.classify_tab
    window.tabs.setCurrentWidget(classify)
    qtbot.waitExposed(window)
    for white_on_black, paper in ((True, (0, 0, 0)), (False, (255, 255, 255))):
        classify.ink_toggle.setChecked(white_on_black)
        view = classify.original_view.grab().toImage()
        centre = QColor(view.pixel(view.width() // 2, view.height() // 2))
        canvas = classify.canvas.grab().toImage()
        square = classify.canvas.square()
        canvas_paper = QColor(canvas.pixel(square.x() + 5, square.y() + 5))
        assert (centre.red(), centre.green(), centre.blue()) == paper
        assert (canvas_paper.red(), canvas_paper.green(), canvas_paper.blue()) == paper


# -- words -----------------------------------------------------------------------------------------

def test_one_epoch_is_written_in_the_singular():
    model = RunsModel()
    model.add_run(preset_config("classic", "mnist", epochs=1, threads=1))
    model.add_run(preset_config("classic", "mnist", epochs=3, threads=1))
    tips = [model.index(row).data(Qt.ItemDataRole.ToolTipRole) for row in range(2)]
    assert tips[0].startswith("1 epoch, batch 256"), tips
    assert tips[1].startswith("3 epochs, batch 256"), tips


def test_a_one_epoch_run_is_logged_without_epochs(qtbot, tmp_path, fake_data_root):
    from lenet_gui.ui.main_window import MainWindow

    window = MainWindow(data_root=str(fake_data_root),
                        settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    tab = window.train_tab
    tab.recipe.dataset_combo.setCurrentIndex(tab.recipe.dataset_combo.findData("mnist"))
    tab.recipe.epochs_spin.setValue(1)
    assert tab.start_training()
    qtbot.waitUntil(lambda: not tab.running, timeout=60_000)
    header = tab.log.toPlainText().splitlines()[0]
    assert ": 1 epoch, batch 256" in header, header


def test_saliency_classes_read_as_their_names(qtbot):
    from lenet_gui.ui.inspect.saliency import SaliencyPanel

    panel = SaliencyPanel()
    qtbot.addWidget(panel)
    panel.set_classes([str(d) for d in range(10)])
    digits = [panel.class_combo.itemText(i) for i in range(1, panel.class_combo.count())]
    assert digits == [str(d) for d in range(10)]
    panel.set_classes(["T-shirt/top", "Trouser"] + [f"c{k}" for k in range(8)])
    garments = [panel.class_combo.itemText(i) for i in range(1, 3)]
    assert garments == ["0 · T-shirt/top", "1 · Trouser"]


# -- read-outs that outlive their truth ------------------------------------------------------------

def test_the_filters_read_out_clears_when_the_pointer_leaves(qtbot, tmp_path):
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    from lenet_gui.ui.main_window import MainWindow

    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    inspect = window.inspect_tab
    window.tabs.setCurrentWidget(inspect)
    inspect.lower_tabs.setCurrentIndex(1)
    qtbot.waitExposed(window)
    filters = inspect.filters
    qtbot.waitUntil(lambda: bool(filters.weights), timeout=5000)
    filters.repaint()  # lays out the kernels
    spot = next((QPoint(x, y) for y in range(0, filters.height(), 3) for x in range(0, filters.width(), 3)
                 if filters.describe_at(QPointF(x, y))), None)
    assert spot is not None
    qtbot.mouseMove(filters, spot)
    qtbot.waitUntil(lambda: inspect.filters_hover.text().strip() != "", timeout=5000)
    QApplication.sendEvent(filters, QEvent(QEvent.Type.Leave))
    assert inspect.filters_hover.text().strip() == ""


def test_the_maps_read_out_goes_when_the_input_changes(qtbot, tmp_path):
    from lenet_gui.ui.main_window import MainWindow

    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    window.tabs.setCurrentWidget(window.classify_tab)
    qtbot.waitExposed(window)
    classify = window.classify_tab
    canvas = classify.canvas
    square = canvas.square()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=square.center() - QPoint(0, 80))
    qtbot.mouseMove(canvas, square.center() + QPoint(0, 80))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=square.center() + QPoint(0, 80))
    inspect = window.inspect_tab
    window.tabs.setCurrentWidget(inspect)
    maps = inspect.maps
    qtbot.waitUntil(lambda: maps.has_data, timeout=5000)
    hint = inspect.hover_label.text()
    # A point over the input image: somewhere in the left-most column of the view.
    spot = next((QPoint(x, y) for x in range(0, maps.width() // 8, 3) for y in range(0, maps.height(), 3)
                 if maps.describe_at(QPointF(x, y))), None)
    assert spot is not None
    qtbot.mouseMove(maps, spot)
    qtbot.waitUntil(lambda: inspect.hover_label.text() != hint, timeout=5000)
    # The pointer rests on the maps while the input changes (the keyboard browsing the test
    # images, say): the value read out belonged to the input that is gone.
    window.session.set_input(None)
    assert inspect.hover_label.text() == hint


def test_training_messages_fade_from_the_status_bar(qtbot, tmp_path, monkeypatch):
    from lenet_gui.ui import main_window

    monkeypatch.setattr(main_window, "STATUS_MESSAGE_MS", 200)
    window = main_window.MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    window.train_tab.status_message.emit("Training finished: test accuracy 0.900")
    assert window.statusBar().currentMessage().startswith("Training finished")
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == "", timeout=5000)


def _trained_window(qtbot, tmp_path, fake_data_root):
    from lenet_gui.ui.main_window import MainWindow

    window = MainWindow(data_root=str(fake_data_root),
                        settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    tab = window.train_tab
    tab.recipe.dataset_combo.setCurrentIndex(tab.recipe.dataset_combo.findData("mnist"))
    tab.recipe.epochs_spin.setValue(1)
    return window


def test_remove_run_is_offered_only_with_a_run_to_remove(qtbot, tmp_path, fake_data_root):
    window = _trained_window(qtbot, tmp_path, fake_data_root)
    tab = window.train_tab
    remove = tab.runs_panel.remove_button
    assert len(tab.runs) == 0 and not remove.isEnabled()
    assert tab.start_training()
    assert not remove.isEnabled()  # the run that trains cannot be removed
    qtbot.waitUntil(lambda: not tab.running, timeout=60_000)
    assert tab.selected_run() is not None and remove.isEnabled()
    remove.click()
    assert len(tab.runs) == 0 and not remove.isEnabled()


def test_the_model_picker_lists_a_finished_run_at_once(qtbot, tmp_path, fake_data_root):
    window = _trained_window(qtbot, tmp_path, fake_data_root)
    tab = window.train_tab
    combo = window.classify_tab.model_combo
    before = [combo.itemText(i) for i in range(combo.count())]
    current = window.session.current_model
    assert tab.start_training()
    qtbot.waitUntil(lambda: not tab.running, timeout=60_000)
    after = [combo.itemText(i) for i in range(combo.count())]
    added = [t for t in after if t not in before]
    [run] = tab.runs.records()
    assert len(added) == 1 and added[0].startswith(f"Trained: {tab.runs.name(run)}"), after
    assert window.session.current_model is current  # offered, not switched to


def test_an_error_banner_keeps_its_message_through_a_language_switch_and_dismiss_clears_it(qtbot):
    from lenet_gui.ui import i18n
    from lenet_gui.ui.widgets.banner import ErrorBanner

    banner = ErrorBanner()
    qtbot.addWidget(banner)
    banner.show_message("Cannot write <b>run.pt</b>: the disk is full.")
    try:
        i18n.set_language("zh_CN")
        # The switch reaches widgets as an event: wait until the button has it.
        qtbot.waitUntil(lambda: banner.close_button.toolTip() != "Hide this message", timeout=5000)
        assert banner.plain_text() == "Cannot write run.pt: the disk is full."
    finally:
        i18n.set_language("en")
    banner.dismiss()
    assert banner.plain_text() == "" and banner.isHidden()
