"""What is on screen while the app starts: PyTorch takes seconds to import, and a launch that
shows nothing for that long reads as a launch that failed.

The window is built from modules that import torch, so they are imported on a background thread
while this screen, painted before any of them, keeps repainting on the window's thread.
"""

from __future__ import annotations

import importlib
from typing import Callable

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QGuiApplication, QIcon, QPainter
from PySide6.QtWidgets import QWidget

from ..core.resources import ICON
from .workers import Worker, start_worker

SIZE = QSize(420, 180)


class StartupScreen(QWidget):
    """The app's icon, its name and what it is loading, in a frameless window at the screen's
    centre. (QSplashScreen waits up to a second for a window system to report it exposed, which
    some never do.)"""

    def __init__(self) -> None:
        super().__init__(None, Qt.WindowType.SplashScreen | Qt.WindowType.FramelessWindowHint)
        self.setObjectName("startupScreen")
        self.setFixedSize(SIZE)
        self.status = ""
        self.show_step("torch")
        screen = QGuiApplication.primaryScreen()
        if screen is not None:
            area = screen.availableGeometry()
            self.move(area.center() - QRect(0, 0, SIZE.width(), SIZE.height()).center())

    def show_step(self, step: str) -> None:
        """``step``: "torch" (PyTorch and the window's modules: most of the wait), "training"
        (what torch's optimizers import when the first run is built) or "window" (building it)."""
        texts = {"torch": self.tr("Loading PyTorch…"), "training": self.tr("Loading what training needs…"),
                 "window": self.tr("Opening the window…")}
        self.status = texts[step]
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("#f7f7f5"))
        painter.setPen(QColor("#c9c9c4"))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        if ICON.is_file():
            QIcon(str(ICON)).paint(painter, QRect(28, 42, 96, 96))
        painter.setPen(QColor("#1f1f1f"))
        title = QFont(self.font())
        title.setPointSizeF(title.pointSizeF() * 1.8)
        title.setBold(True)
        painter.setFont(title)
        painter.drawText(QRect(144, 50, SIZE.width() - 160, 44), Qt.AlignmentFlag.AlignVCenter, "LeNet Studio")
        painter.setFont(self.font())
        painter.setPen(QColor("#4a4a4a"))
        painter.drawText(QRect(144, 96, SIZE.width() - 160, 30), Qt.AlignmentFlag.AlignVCenter, self.status)
        painter.end()


class _ImportWorker(Worker):
    importing = Signal(str)  # the module about to be imported
    done = Signal(object)  # the exception that stopped the imports, or None

    def __init__(self, module_names: list[str]):
        super().__init__()
        self.module_names = list(module_names)

    def run(self) -> None:
        failure = None
        try:
            for name in self.module_names:
                self.importing.emit(name)
                importlib.import_module(name)
        except BaseException as exc:  # noqa: BLE001 - handed to the window's thread
            failure = exc
        self.done.emit(failure)


def import_in_background(module_names: list[str], done: Callable[[BaseException | None], None],
                         importing: Callable[[str], None] | None = None) -> Worker:
    """Import ``module_names`` on a background thread; then, on the window's thread, call
    ``done(None)``, or ``done(exception)`` when an import failed (and ``importing(name)`` as
    each begins). The window thread's event loop runs meanwhile (start it after this); the
    exit's wait for threads waits for it too."""
    worker = _ImportWorker(module_names)
    if importing is not None:
        worker.importing.connect(importing, Qt.ConnectionType.QueuedConnection)
    worker.done.connect(done, Qt.ConnectionType.QueuedConnection)
    return start_worker(worker)
