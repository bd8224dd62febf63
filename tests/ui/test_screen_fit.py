"""The window on small and high-DPI screens: it fits the screen's free area, its controls are all
on show and unclipped, and the Inspect tab shows the whole confusion matrix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QScrollArea, QToolButton

from lenet_gui.core.evaluation import EvaluationResult
from lenet_gui.ui.main_window import MainWindow
from tests.support import visibility

ROOT = Path(__file__).resolve().parents[2]


def _settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def test_the_minimum_size_fits_a_1024_by_600_screen(qtbot, tmp_path):
    window = MainWindow(settings=_settings(tmp_path))
    qtbot.addWidget(window)
    hint = window.minimumSizeHint()
    # Room left for a panel and a title bar on a 1024 x 600 netbook screen.
    assert hint.width() <= 1000 and hint.height() <= 540, hint


def test_every_control_is_visible_at_1024_by_600(qtbot, tmp_path):
    window = MainWindow(settings=_settings(tmp_path))
    qtbot.addWidget(window)
    window.resize(1000, 540)
    window.show()
    qtbot.waitExposed(window)
    found = visibility.all_tabs_problems(window)
    # The screen of the offscreen platform is not 1024 x 600 here; the window's own size is what counts.
    found = {tab: [p for p in lines if not p.startswith("window ")] for tab, lines in found.items()}
    assert found == {"Train": [], "Classify": [], "Inspect": [], "Network": [], "Projector": []}


def test_the_checker_sees_a_cut_control(qtbot, tmp_path):
    # The check above must be able to fail: a window squeezed below its minimum cuts controls.
    window = MainWindow(settings=_settings(tmp_path))
    qtbot.addWidget(window)
    window.setMinimumSize(100, 100)
    window.centralWidget().setMinimumSize(0, 0)
    window.tabs.setMinimumSize(0, 0)
    window.show()
    window.resize(400, 300)
    qtbot.waitExposed(window)
    assert any(visibility.all_tabs_problems(window).values())


def _offscreen_screen(tmp_path, width: int, height: int) -> str:
    config = tmp_path / "screens.json"
    config.write_text(json.dumps({"screens": [{"name": "small", "x": 0, "y": 0, "width": width, "height": height,
                                               "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    return f"offscreen:configfile={config}"


def _run_window_report(tmp_path, scale: str, width: int, height: int) -> dict:
    env = dict(os.environ, QT_SCALE_FACTOR=scale, QT_QPA_PLATFORM=_offscreen_screen(tmp_path, width, height),
               PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "tests.support.visibility"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("scale, width, height", [("2", 2048, 1200), ("1", 1024, 600)])
def test_first_launch_fits_a_small_screen_at_each_scale(tmp_path, scale, width, height):
    report = _run_window_report(tmp_path, scale, width, height)
    assert report["screen"] == [0, 0, 1024, 600], report  # the logical screen the window sees
    assert report["scale"] == float(scale)
    assert report["problems"] == {"Train": [], "Classify": [], "Inspect": [], "Network": [], "Projector": []}, report


def test_a_geometry_saved_on_a_larger_screen_is_brought_inside_this_one(qtbot, tmp_path):
    settings = _settings(tmp_path)
    big = MainWindow(settings=settings)
    qtbot.addWidget(big)
    big.setGeometry(3000, 2000, 2400, 1500)  # on a monitor that is gone now
    settings.setValue("window/geometry", QByteArray(big.saveGeometry()))
    window = MainWindow(settings=settings)
    qtbot.addWidget(window)
    area = window.screen().availableGeometry()
    assert area.contains(window.geometry()), (window.geometry(), area)


def _fake_result(window, classes: int = 10) -> EvaluationResult:
    loaded = window.session.load_entry(0)
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(classes), 100)
    predicted = np.where(rng.random(labels.size) < 0.9, labels, rng.integers(0, classes, labels.size))
    confusion = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    confusion[0, 0] += 9000  # a four-digit count, as MNIST's test set has
    probabilities = np.full((labels.size, classes), 0.01, dtype=np.float32)
    probabilities[np.arange(labels.size), predicted] = 0.91
    images = rng.integers(0, 255, (labels.size, 28, 28), dtype=np.uint8)
    return EvaluationResult(dataset_key="mnist", loaded=loaded, labels=labels, predicted=predicted,
                            probabilities=probabilities, confusion=confusion, images=images)


def test_inspect_at_1024_wide_shows_the_whole_matrix_and_four_thumbnails(qtbot, tmp_path):
    window = MainWindow(settings=_settings(tmp_path))
    qtbot.addWidget(window)
    window.resize(1024, 768)
    window.show()
    window.tabs.setCurrentWidget(window.inspect_tab)
    window.inspect_tab.lower_tabs.setCurrentWidget(window.inspect_tab.test_set)
    qtbot.waitExposed(window)
    panel = window.inspect_tab.test_set
    panel._show_result(_fake_result(window))
    qtbot.waitUntil(lambda: panel.table.isVisible(), timeout=5000)
    table = panel.table
    # Every column and row of the matrix, the accuracy column included, inside the table's view.
    view = table.viewport().rect()
    last = table.columnCount() - 1
    right = table.columnViewportPosition(last) + table.columnWidth(last)
    bottom = table.rowViewportPosition(table.rowCount() - 1) + table.rowHeight(table.rowCount() - 1)
    assert right <= view.width() and bottom <= view.height(), (right, bottom, view)
    assert not table.horizontalScrollBar().isVisible() and not table.verticalScrollBar().isVisible()
    # The accuracy text is not elided: its column is as wide as the text needs.
    metrics = table.fontMetrics()
    for row in range(table.rowCount()):
        assert metrics.horizontalAdvance(table.item(row, last).text()) <= table.columnWidth(last)
    # ... and nothing of the table is hidden by the panel's scroll area at this size.
    scroll = panel.findChild(QScrollArea, "testSetScroll")
    assert scroll.verticalScrollBar().maximum() == 0
    # At least four thumbnails wholly in the gallery's view.
    gallery = panel.gallery
    shown = [row for row in range(gallery.model().rowCount())
             if gallery.viewport().rect().contains(gallery.visualRect(gallery.model().index(row, 0)))]
    assert len(shown) >= 4, shown


def test_on_a_1280_by_800_screen_the_train_tab_shows_what_to_do_after_a_run_without_scrolling(qtbot, tmp_path):
    # The run list no longer claims QListView's default 192 pixels of the scrolled form.
    window = MainWindow(settings=_settings(tmp_path))
    qtbot.addWidget(window)
    window.resize(1280, 770)  # an 800-pixel screen less a panel and a title bar
    window.show()
    qtbot.waitExposed(window)
    scroll = window.train_tab.findChild(QScrollArea, "trainFormScroll")
    viewport = scroll.viewport()
    assert scroll.verticalScrollBar().value() == 0
    for action in (window.train_tab.use_action, window.train_tab.save_action):
        [button] = [b for b in scroll.widget().findChildren(QToolButton) if b.defaultAction() is action]
        bottom = button.mapTo(viewport, button.rect().bottomLeft()).y()
        assert bottom <= viewport.height(), (button.text(), bottom, viewport.height())
