"""``LENET_STARTUP_PROBE=SECONDS``: what benchmarks/startup.py reads from a launched window.

On stderr: ``startup-probe first-paint T`` when a window first paints, ``startup-probe ready T``
when the main window first paints, then, SECONDS after the first paint, ``startup-probe
longest-stall MS`` (the longest wait of a 10 ms timer beyond its interval), and the app quits.
T is ``time.monotonic()``, which the launching process shares.
"""

from __future__ import annotations

import os
import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

ENV = "LENET_STARTUP_PROBE"
TICK_MS = 10


class StartupProbe(QObject):
    def __init__(self, app: QApplication, seconds: float):
        super().__init__(app)
        self.app = app
        self.seconds = seconds
        self.painted: set[str] = set()
        self.longest = 0.0
        self.last_tick = 0.0
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        app.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Paint and isinstance(watched, QWidget) and watched.isWindow():
            now = time.monotonic()
            kind = "ready" if type(watched).__name__ == "MainWindow" else "first-paint"
            if not self.painted:
                self._report("first-paint", now)
                self.painted.add("first-paint")
                self.last_tick = now
                self.timer.start()
                QTimer.singleShot(int(self.seconds * 1000), self._finish)
            if kind == "ready" and "ready" not in self.painted:
                self.painted.add("ready")
                self._report("ready", now)
        return False

    def _tick(self) -> None:
        now = time.monotonic()
        self.longest = max(self.longest, now - self.last_tick - TICK_MS / 1000)
        self.last_tick = now

    def _finish(self) -> None:
        self._tick()
        self._report("longest-stall", self.longest * 1000)
        self.app.quit()

    @staticmethod
    def _report(what: str, value: float) -> None:
        sys.stderr.write(f"startup-probe {what} {value:.6f}\n")
        sys.stderr.flush()


def install_if_asked(app: QApplication) -> StartupProbe | None:
    value = os.environ.get(ENV)
    if not value:
        return None
    return StartupProbe(app, float(value))
