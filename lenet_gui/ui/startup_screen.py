"""What is on screen while the app starts: PyTorch takes seconds to import, and a launch that
shows nothing for that long reads as a launch that failed.

The window is built from modules that import torch, so they are imported on a background thread
while the window's thread runs its event loop. The screen itself is drawn by a small process of
its own (this module's ``main()``), told each step on its standard input: loading torch's shared
libraries holds this process's interpreter lock for hundreds of milliseconds at a time, and a
screen drawn here could not repaint meanwhile. Where no such process can start, the screen is
drawn here after all.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import threading
from typing import Callable, Protocol

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
        super().__init__(None, Qt.WindowType.SplashScreen | Qt.WindowType.FramelessWindowHint
                         | Qt.WindowType.WindowDoesNotAcceptFocus)
        # It has nothing to type into: the focus stays for the main window that follows it.
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
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
        # At once: in this process, what comes next (building the window) holds the thread.
        self.repaint()

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


STEPS = ("torch", "training", "window")
CLOSE = "close"


class StartupScreenLike(Protocol):
    def show_step(self, step: str) -> None: ...

    def close(self) -> object: ...


# The screen's process imports this module from the folders this process imports from, in
# their order, and from nowhere else: not from the folder the app was started in, which
# ``python -c`` puts first on its path.
_SCREEN_MAIN = ("import sys; del sys.path[0]; import json; sys.path[:] = json.loads(sys.argv.pop(1)); "
                "from lenet_gui.ui.startup_screen import main; sys.exit(main())")


class ScreenProcess:
    """The start-up screen, drawn by a process of its own. :meth:`show_step` and :meth:`close`
    write a line to its standard input; it also closes when this process ends (its input ends).
    Should it fail (its exit status says so), the screen is drawn in this process after all."""

    def __init__(self, language: str, stderr=None) -> None:
        """``language``: a code of ``i18n.LANGUAGES``. Raises OSError when it cannot start."""
        env = dict(os.environ)
        options: dict = {}
        # Ctrl+C in the app's terminal is the app's to handle, never this process's: on Windows
        # it has no console, elsewhere a session of its own.
        if sys.platform == "win32":
            options["creationflags"] = subprocess.CREATE_NO_WINDOW
        else:
            options["start_new_session"] = True
        if sys.platform == "darwin":  # no Dock icon of its own
            env["QT_MAC_DISABLE_FOREGROUND_APPLICATION_TRANSFORM"] = "1"
        self.process = subprocess.Popen(
            [sys.executable, "-c", _SCREEN_MAIN, json.dumps(sys.path), language],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=stderr,
            text=True, encoding="utf-8", env=env, **options,
        )
        self.fallback: StartupScreen | None = None

    def show_step(self, step: str) -> None:
        if self.fallback is None and self.process.poll() not in (None, 0):
            self.fallback = StartupScreen()
            self.fallback.show()
        if self.fallback is not None:
            self.fallback.show_step(step)
        else:
            self._send(step)

    def close(self) -> None:
        if self.fallback is not None:
            self.fallback.close()
        if self.process.stdin.closed:
            return
        self._send(CLOSE)
        try:
            self.process.stdin.close()
        except OSError:
            pass
        # Reaped once it has exited, without holding this thread meanwhile.
        threading.Thread(target=self.process.wait, name="start-up screen", daemon=True).start()

    def _send(self, line: str) -> None:
        try:
            self.process.stdin.write(line + "\n")
            self.process.stdin.flush()
        except (OSError, ValueError):  # it has gone (closed by hand, or killed): nothing to tell
            pass


def open_startup_screen(language: str) -> StartupScreenLike:
    """The start-up screen on screen: in a process of its own where one can start, else here."""
    if sys.executable and not getattr(sys, "frozen", False):
        try:
            return ScreenProcess(language)
        except OSError:
            pass
    screen = StartupScreen()
    screen.show()
    return screen


class _StepReader(Worker):
    """Reads the steps from standard input, in the screen's own process."""

    step = Signal(str)
    ended = Signal()

    def __init__(self, stream) -> None:
        super().__init__()
        self.stream = stream

    def run(self) -> None:
        try:
            for line in self.stream:
                line = line.strip()
                if line == CLOSE:
                    break
                if line in STEPS:
                    self.step.emit(line)
        except (OSError, ValueError):
            pass
        self.ended.emit()


def main(argv: list[str] | None = None) -> int:
    """The screen's own process: show the screen until told to close or until the input ends."""
    from . import i18n
    from .app import make_application
    from .startup_probe import install_if_asked

    argv = sys.argv[1:] if argv is None else argv
    app = make_application()
    probe = install_if_asked(app)  # noqa: F841 - lives as the app's child
    i18n.set_language(i18n.resolve(argv[0] if argv else None))
    screen = StartupScreen()
    screen.show()
    reader = _StepReader(sys.stdin)
    reader.step.connect(screen.show_step, Qt.ConnectionType.QueuedConnection)
    reader.ended.connect(app.quit, Qt.ConnectionType.QueuedConnection)
    start_worker(reader)
    status = app.exec()
    screen.close()
    # Its input ended: the reader is finishing. Else it may wait for a line for ever, and Qt
    # aborts the process when a running QThread is destroyed.
    if not reader.wait(1000):
        sys.stderr.flush()
        os._exit(status)
    return status
