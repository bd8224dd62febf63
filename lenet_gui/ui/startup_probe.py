"""``LENET_STARTUP_PROBE=SECONDS``: what benchmarks/startup.py reads from a launched window.

On stderr: ``startup-probe first-paint T`` when a window first paints (the start-up screen),
``startup-probe ready T`` when the main window first paints, then, SECONDS after that,
``startup-probe longest-stall MS`` (the longest wait of a 10 ms timer beyond its interval, from
the first paint on) and ``startup-probe longest-stall-in-window MS`` (the same, from the end of
the main window's first paint on), and the app quits.
T is ``time.monotonic()``, which the launching process shares.

The start-up screen's own process (ui/startup_screen.py) reports its ``first-paint`` too, and,
as it closes, ``startup-probe longest-stall-on-screen MS`` (from its first paint on).

With ``LENET_STARTUP_PROBE_TRAIN=AFTER`` too, the main window's Train action is triggered AFTER
seconds after its first paint (``startup-probe train-click T``), as a user who clicks Train at
once would, and ``startup-probe longest-stall-after-click MS`` is reported as well.
"""

from __future__ import annotations

import os
import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

ENV = "LENET_STARTUP_PROBE"
ENV_TRAIN = "LENET_STARTUP_PROBE_TRAIN"
TICK_MS = 10


class StartupProbe(QObject):
    def __init__(self, app: QApplication, seconds: float, train_after: float | None = None):
        super().__init__(app)
        self.app = app
        self.seconds = seconds
        self.train_after = train_after
        self.longest_after_click: float | None = None  # once Train has been clicked
        self.painted: set[str] = set()
        self.longest = 0.0
        self.longest_in_window = 0.0  # once the main window has painted
        self.last_tick = 0.0
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        app.installEventFilter(self)
        app.aboutToQuit.connect(self._report_screen_only)

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
                # The window is up once this first paint is done: what it waited for until then
                # (building and painting the window) belongs to the start, not to the window.
                QTimer.singleShot(0, self._window_up)
                QTimer.singleShot(int(self.seconds * 1000), self._finish)
                if self.train_after is not None:
                    QTimer.singleShot(int(self.train_after * 1000), lambda: self._click_train(watched))
        return False

    def _tick(self) -> None:
        now = time.monotonic()
        stall = now - self.last_tick - TICK_MS / 1000
        self.longest = max(self.longest, stall)
        if "up" in self.painted:
            self.longest_in_window = max(self.longest_in_window, stall)
        if self.longest_after_click is not None:
            self.longest_after_click = max(self.longest_after_click, stall)
        self.last_tick = now

    def _report_screen_only(self) -> None:
        # A process that painted windows but never the main window: the start-up screen's.
        if self.painted and "ready" not in self.painted:
            self._tick()
            self._report("longest-stall-on-screen", self.longest * 1000)

    def _window_up(self) -> None:
        self._tick()
        self.painted.add("up")

    def _click_train(self, window: QWidget) -> None:
        self._tick()  # a stall before the click is not the click's
        self.longest_after_click = 0.0
        self._report("train-click", time.monotonic())
        window.train_tab.train_action.trigger()

    def _finish(self) -> None:
        self._tick()
        self._report("longest-stall", self.longest * 1000)
        self._report("longest-stall-in-window", self.longest_in_window * 1000)
        if self.longest_after_click is not None:
            self._report("longest-stall-after-click", self.longest_after_click * 1000)
        self.app.quit()

    @staticmethod
    def _report(what: str, value: float) -> None:
        sys.stderr.write(f"startup-probe {what} {value:.6f}\n")
        sys.stderr.flush()


def install_if_asked(app: QApplication) -> StartupProbe | None:
    value = os.environ.get(ENV)
    if not value:
        return None
    train_after = os.environ.get(ENV_TRAIN)
    return StartupProbe(app, float(value), float(train_after) if train_after else None)
