"""``LENET_STARTUP_PROBE=SECONDS``: what benchmarks/startup.py reads from a launched window.

On stderr: ``startup-probe first-paint T`` when a window first paints (the start-up screen),
``startup-probe ready T`` when the main window first paints, then, SECONDS after that,
``startup-probe longest-stall MS`` (the longest wait of a 10 ms timer beyond its interval, from
the first paint on) and ``startup-probe longest-stall-in-window MS`` (the same, from the main
window's first paint on), and the app quits.
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
        self.longest_in_window = 0.0  # once the main window has painted
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
            if kind == "ready" and "ready" not in self.painted:
                self.painted.add("ready")
                self._report("ready", now)
                QTimer.singleShot(int(self.seconds * 1000), self._finish)
        return False

    def _tick(self) -> None:
        now = time.monotonic()
        stall = now - self.last_tick - TICK_MS / 1000
        self.longest = max(self.longest, stall)
        if "ready" in self.painted:
            self.longest_in_window = max(self.longest_in_window, stall)
        self.last_tick = now

    def _finish(self) -> None:
        self._tick()
        self._report("longest-stall", self.longest * 1000)
        self._report("longest-stall-in-window", self.longest_in_window * 1000)
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
