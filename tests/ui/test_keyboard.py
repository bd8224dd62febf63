"""The whole window from the keyboard: tab switching, every menu action's keys from every tab,
no key that means two things, the shortcut list, and names for screen readers."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtGui import QGuiApplication, QImage, QKeySequence
from PySide6.QtWidgets import QAbstractButton, QApplication, QGroupBox, QLabel, QWidget

from lenet_gui.ui.main_window import MainWindow
from tests.support import prerequisites

TABS = ("train", "classify", "inspect", "network", "projector")


@pytest.fixture
def window(qtbot, tmp_path):
    prerequisites.bundled_models()
    win = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.resize(1100, 700)
    win.show()
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win, timeout=5000)
    yield win
    win.close()


def _tab(window, name: str) -> QWidget:
    return {"train": window.train_tab, "classify": window.classify_tab, "inspect": window.inspect_tab,
            "network": window.network_tab, "projector": window.projector_tab}[name]


def _press(qtbot, window, keys: str) -> None:
    """``keys`` as a user types them, to whatever has the focus (the tab bar after a switch)."""
    sequence = QKeySequence(keys)[0]
    target = QApplication.focusWidget() or window
    qtbot.keyClick(target, sequence.key(), sequence.keyboardModifiers())


@pytest.mark.parametrize("start", TABS)
def test_ctrl_digits_and_alt_mnemonics_switch_tabs_from_each_tab(qtbot, window, start):
    for keys_of in ({"train": "Ctrl+1", "classify": "Ctrl+2", "inspect": "Ctrl+3", "network": "Ctrl+4",
                     "projector": "Ctrl+5"},
                    {"train": "Alt+T", "classify": "Alt+C", "inspect": "Alt+I", "network": "Alt+K",
                     "projector": "Alt+J"}):
        for target in TABS:
            window.tabs.setCurrentWidget(_tab(window, start))
            window.tabs.tabBar().setFocus()
            _press(qtbot, window, keys_of[target])
            assert window.tabs.currentWidget() is _tab(window, target), (start, keys_of[target])


@pytest.mark.parametrize("start", TABS)
def test_each_main_action_answers_its_keys_from_each_tab(qtbot, window, start, monkeypatch):
    calls: list[str] = []
    # The slots that open dialogs or start threads are replaced by recorders; what is checked
    # is that the key reaches the action, wherever the user is.
    monkeypatch.setattr(window.classify_tab, "open_image_dialog", lambda: calls.append("open image"))
    monkeypatch.setattr(window, "open_checkpoint_dialog", lambda: calls.append("open checkpoint"))
    monkeypatch.setattr(window.inspect_tab, "export_dialog", lambda: calls.append("export maps"))
    train = window.train_tab
    monkeypatch.setattr(train, "start_training", lambda: calls.append("train"))
    keys = {
        "Ctrl+Return": ("train", None),
        "Ctrl+Shift+O": ("open image", "classify"),
        "Ctrl+O": ("open checkpoint", None),
        "Ctrl+E": ("export maps", "inspect"),
    }
    # QAction captured the slots when connected: the triggered signals reach the recorders only
    # through fresh connections.
    for action, name in ((train.train_action, "train"), (window.open_action, "open checkpoint")):
        action.triggered.disconnect()
        action.triggered.connect(lambda _=False, n=name: calls.append(n))
    for combo, (expected, shown) in keys.items():
        window.tabs.setCurrentWidget(_tab(window, start))
        window.tabs.tabBar().setFocus()
        calls.clear()
        _press(qtbot, window, combo)
        assert calls == [expected], (start, combo, calls)
        if shown is not None:
            assert window.tabs.currentWidget() is _tab(window, shown), (start, combo)


@pytest.mark.parametrize("start", TABS)
def test_paste_classifies_the_clipboard_from_each_tab(qtbot, window, start):
    image = QImage(28, 28, QImage.Format.Format_Grayscale8)
    image.fill(0)
    for y in range(4, 24):
        for x in range(12, 16):
            image.setPixel(x, y, 0xFFFFFFFF)
    QGuiApplication.clipboard().setImage(image)
    window.tabs.setCurrentWidget(_tab(window, start))
    window.tabs.tabBar().setFocus()
    _press(qtbot, window, "Ctrl+V")
    classify = window.classify_tab
    assert window.tabs.currentWidget() is classify
    # A pasted image is decoded off the window's thread.
    qtbot.waitUntil(lambda: classify.last_prediction is not None, timeout=30_000)
    assert classify.last_prediction.label == "1"


def test_pause_and_stop_keys_reach_a_run_from_the_classify_tab(qtbot, window, monkeypatch):
    train = window.train_tab
    seen: list[str] = []
    for action, name in ((train.pause_action, "pause"), (train.stop_action, "stop")):
        action.setEnabled(True)  # as while a run goes on
        action.triggered.disconnect()
        action.triggered.connect(lambda _=False, n=name: seen.append(n))
    window.tabs.setCurrentWidget(window.classify_tab)
    window.tabs.tabBar().setFocus()
    _press(qtbot, window, "Ctrl+P")
    _press(qtbot, window, "Ctrl+.")
    assert seen == ["pause", "stop"]


def test_undo_and_clear_keys_act_only_while_the_drawing_is_on_show(qtbot, window):
    classify = window.classify_tab
    window.tabs.setCurrentWidget(classify)
    canvas = classify.canvas
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=canvas.rect().center())
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=canvas.rect().center() + canvas.rect().topLeft())
    assert not canvas.is_empty()
    window.tabs.setCurrentWidget(window.train_tab)
    window.tabs.tabBar().setFocus()
    _press(qtbot, window, "Esc")
    assert not canvas.is_empty()  # Escape on the Train tab does not wipe a drawing out of sight
    window.tabs.setCurrentWidget(classify)
    window.tabs.tabBar().setFocus()
    _press(qtbot, window, "Esc")
    assert canvas.is_empty()


def _all_actions(window):
    for top in window.menuBar().actions():
        if top.menu() is not None:
            yield from (a for a in top.menu().actions() if not a.isSeparator())


def test_no_key_means_two_things(window):
    keys = Counter(k.toString() for a in _all_actions(window) for k in a.shortcuts() if not k.isEmpty())
    assert keys and all(n == 1 for n in keys.values()), keys
    # Alt+letter: menus, tab titles and, on each tab, its labels and group titles.
    fixed = [a.text() for a in window.menuBar().actions()] + \
            [window.tabs.tabText(i) for i in range(window.tabs.count())]
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        texts = list(fixed)
        for widget in window.findChildren(QWidget):
            if not widget.isVisibleTo(window):
                continue
            if isinstance(widget, QAbstractButton):
                texts.append(widget.text())
            elif isinstance(widget, QLabel) and widget.buddy() is not None:
                texts.append(widget.text())
            elif isinstance(widget, QGroupBox):
                texts.append(widget.title())
        letters = Counter(m.group(1).lower() for t in texts for m in [re.search(r"&([^&])", t)] if m)
        assert all(n == 1 for n in letters.values()), (window.tabs.tabText(index), letters)


def test_the_shortcut_list_names_every_action_with_keys(qtbot, window):
    dialog = window.show_shortcuts()
    qtbot.waitExposed(dialog)
    rows = dialog.rows()
    listed = {(what, keys) for _, what, keys in rows}
    native = QKeySequence.SequenceFormat.NativeText
    for action in _all_actions(window):
        keys = ", ".join(k.toString(native) for k in action.shortcuts() if not k.isEmpty())
        if keys:
            what = re.sub(r"&(.)", r"\1", action.text()).rstrip("…")
            assert (what, keys) in listed, (what, keys, rows)
    # A few a user would look for, independently of how the list is made.
    texts = {keys for _, _, keys in rows}
    for expected in ("Ctrl+Return", "Ctrl+P", "Ctrl+O", "Ctrl+Shift+O", "Ctrl+V", "Ctrl+1", "Alt+T"):
        assert QKeySequence(expected).toString(native) in texts, expected
    dialog.close()


def test_tab_goes_through_the_classify_controls_in_reading_order(qtbot, window):
    classify = window.classify_tab
    window.tabs.setCurrentWidget(classify)
    # A stroke on the canvas: Undo takes part only while there is one to take back.
    centre = classify.canvas.rect().center()
    qtbot.mousePress(classify.canvas, Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseMove(classify.canvas, centre + QPoint(0, 40))
    qtbot.mouseRelease(classify.canvas, Qt.MouseButton.LeftButton, pos=centre + QPoint(0, 40))
    assert classify.undo_button.isEnabled()
    order = [classify.model_combo, classify.open_image_button, classify.paste_button, classify.canvas,
             classify.pen_slider, classify.ink_toggle, classify.undo_button, classify.clear_button]
    classify.model_combo.setFocus()
    reached = [QApplication.focusWidget()]
    for _ in range(len(order) - 1):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        reached.append(QApplication.focusWidget())
    assert reached == order


def test_widgets_that_draw_have_names_for_screen_readers(window):
    drawn = [window.classify_tab.canvas, window.classify_tab.chart, window.classify_tab.original_view,
             window.classify_tab.input_view, window.inspect_tab.maps, window.inspect_tab.filters,
             window.inspect_tab.saliency.canvas, window.train_tab.chart, window.projector_tab.scatter]
    for widget in drawn:
        assert widget.accessibleName(), type(widget).__name__
    for widget in (window.classify_tab.canvas, window.inspect_tab.maps, window.train_tab.chart,
                   window.projector_tab.scatter):
        assert widget.accessibleDescription(), type(widget).__name__
