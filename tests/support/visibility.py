"""Which controls of a window a user cannot see or reach: outside the window or the screen, cut
by a parent, or squeezed below the size their text needs.

Used in-process (tests/ui/test_screen_fit.py) and, for other scale factors, from a fresh
interpreter started with the environment under test (``python -m tests.support.visibility``).
"""

from __future__ import annotations

import json
import sys

CONTROL_TYPES = ("QAbstractButton", "QComboBox", "QAbstractSpinBox", "QLineEdit", "QSlider", "QTabBar",
                 "QProgressBar", "QStatusBar", "QMenuBar")


def _is_control(widget) -> bool:
    return any(widget.inherits(name) for name in CONTROL_TYPES)


def problems(window) -> list[str]:
    """One line per control that is on show yet not fully visible and unclipped."""
    from PySide6.QtCore import QPoint, QRect
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QAbstractScrollArea, QWidget

    found: list[str] = []
    screen = window.screen().availableGeometry()
    frame = window.frameGeometry()
    if QGuiApplication.platformName() == "offscreen":
        # No window manager: the frame a real one adds (title bar, borders) starts at the
        # window's position, which is where move() puts a window's frame.
        from lenet_gui.ui.main_window import FRAME_ALLOWANCE

        frame = QRect(window.pos(), window.size() + FRAME_ALLOWANCE)
    if not screen.contains(frame):
        found.append(f"window {frame.getRect()} is not inside the screen's free area {screen.getRect()}")
    for widget in window.findChildren(QWidget):
        if not widget.isVisibleTo(window) or not _is_control(widget) or widget.window() is not window:
            continue
        if widget.objectName().startswith("qt_"):  # a part of a control (a spin box's field), checked with it
            continue
        name = f"{type(widget).__name__} {widget.objectName() or widget.property('text') or ''!s}".strip()
        hint = widget.minimumSizeHint()
        if widget.width() < hint.width() or widget.height() < hint.height():
            found.append(f"{name}: {widget.width()}x{widget.height()} is smaller than it needs "
                         f"({hint.width()}x{hint.height()})")
        # Walk up: each ancestor must show the whole widget, except a scroll area's viewport,
        # which may hide it as long as scrolling can reveal it.
        rect = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
        child = widget
        parent = widget.parentWidget()
        while parent is not None and parent is not window:
            scroll = parent.parentWidget()
            if isinstance(scroll, QAbstractScrollArea) and parent is scroll.viewport():
                inner = child  # the scrolled content: it must fit across unless it can scroll across
                if scroll.horizontalScrollBar().maximum() == 0 and inner.width() > parent.width():
                    found.append(f"{name}: its scroll area's content is {inner.width()} wide in "
                                 f"{parent.width()} without a horizontal scroll bar")
                break
            outer = QRect(parent.mapTo(window, QPoint(0, 0)), parent.size())
            if not outer.contains(rect):
                found.append(f"{name} at {rect.getRect()} is cut by {type(parent).__name__} "
                             f"{parent.objectName()} at {outer.getRect()}")
                break
            child, parent = parent, parent.parentWidget()
        else:
            if not window.rect().contains(rect):
                found.append(f"{name} at {rect.getRect()} is outside the window {window.rect().getRect()}")
    return found


def all_tabs_problems(window) -> dict[str, list[str]]:
    """``problems`` with each tab of ``window.tabs`` in front in turn."""
    from PySide6.QtWidgets import QApplication

    result = {}
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        QApplication.processEvents()  # a test helper lays out the tab it just showed
        result[window.tabs.tabText(index).replace("&", "")] = problems(window)
    return result


def main() -> int:
    """Open the window as a first launch does (no saved geometry) and print its problems as JSON."""
    import tempfile

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from lenet_gui.ui.main_window import MainWindow

    app = QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as folder:
        window = MainWindow(settings=QSettings(f"{folder}/settings.ini", QSettings.Format.IniFormat))
        window.show()
        app.processEvents()
        report = {"screen": list(window.screen().availableGeometry().getRect()),
                  "window": list(window.geometry().getRect()),
                  "scale": window.devicePixelRatio(),
                  "problems": all_tabs_problems(window)}
        window.close()
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
