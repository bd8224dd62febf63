"""View ▸ Light / Dark / System: the palette, the charts and the drawn widgets follow, and the
choice is remembered."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from lenet_gui.ui import theme
from lenet_gui.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, tmp_path):
    path = str(tmp_path / "settings.ini")
    win = MainWindow(settings=QSettings(path, QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.resize(1100, 700)
    win.show()
    qtbot.waitExposed(win)
    win.settings_path = path
    yield win
    # The palette is the whole application's: later tests start light.
    QApplication.instance().setPalette(QApplication.instance().style().standardPalette())


def _lightness(colour: QColor) -> int:
    return colour.lightness()


def _chart_paper(window) -> QColor:
    chart = window.train_tab.chart
    image = chart.grab().toImage()
    return QColor(image.pixel(8, image.height() // 2))  # beside the axes, inside the view


def test_dark_and_light_switch_the_window_and_its_charts(qtbot, window):
    window.theme_actions[theme.DARK].trigger()
    assert _lightness(QApplication.palette().color(QPalette.ColorRole.Window)) < 80
    # Widgets hear of a new palette through the event loop.
    qtbot.waitUntil(lambda: _lightness(_chart_paper(window)) < 80, timeout=5000)
    axis_text = window.train_tab.chart.loss_plot.getAxis("left").textPen().color()
    assert _lightness(axis_text) > 150  # light text on the dark paper
    maps = window.inspect_tab.maps.grab().toImage()
    assert _lightness(QColor(maps.pixel(2, 2))) < 80
    assert window.settings.theme == theme.DARK

    window.theme_actions[theme.LIGHT].trigger()
    assert _lightness(QApplication.palette().color(QPalette.ColorRole.Window)) > 180
    qtbot.waitUntil(lambda: _lightness(_chart_paper(window)) > 200, timeout=5000)
    assert _lightness(window.train_tab.chart.loss_plot.getAxis("left").textPen().color()) < 100
    assert window.settings.theme == theme.LIGHT


def _brightest(widget) -> int:
    image = widget.grab().toImage()
    return max(QColor(image.pixel(x, y)).lightness()
               for x in range(0, image.width(), 2) for y in range(0, image.height(), 2))


def test_in_dark_mode_the_axis_titles_and_the_preset_note_are_light_enough_to_read(qtbot, window):
    window.theme_actions[theme.DARK].trigger()
    chart = window.train_tab.chart
    qtbot.waitUntil(lambda: _lightness(_chart_paper(window)) < 80, timeout=5000)
    for plot in (chart.loss_plot, chart.acc_plot):
        for side in ("left", "bottom"):
            # The axis title ("cross-entropy loss", "epoch"), not only the tick numbers.
            assert _lightness(QColor(plot.getAxis(side).labelStyle["color"])) > 150, side
    note = window.train_tab.recipe.preset_note
    assert note.isVisible() and note.text()
    assert _brightest(note) > 120  # its text (the palette's placeholder grey), on the dark window


def test_the_choice_is_remembered_and_system_follows_the_system(qtbot, window, monkeypatch):
    window.theme_actions[theme.DARK].trigger()
    window.close()
    again = MainWindow(settings=QSettings(window.settings_path, QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    assert again.theme_actions[theme.DARK].isChecked()
    assert _lightness(QApplication.palette().color(QPalette.ColorRole.Window)) < 80

    monkeypatch.setattr(theme, "system_is_dark", lambda: False)
    again.theme_actions[theme.SYSTEM].trigger()
    assert _lightness(QApplication.palette().color(QPalette.ColorRole.Window)) > 180
    monkeypatch.setattr(theme, "system_is_dark", lambda: True)  # the desktop turned dark
    again._system_scheme_changed()
    assert _lightness(QApplication.palette().color(QPalette.ColorRole.Window)) < 80
    again.theme_actions[theme.LIGHT].trigger()
    again._system_scheme_changed()  # a light choice ignores the desktop
    assert _lightness(QApplication.palette().color(QPalette.ColorRole.Window)) > 180
