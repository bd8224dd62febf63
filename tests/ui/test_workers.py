"""The window's one registry of background threads."""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("PySide6")

from lenet_gui.ui import workers  # noqa: E402


class _Waiting(workers.Worker):
    """Runs until asked to stop (or released), like a training or evaluation thread."""

    def __init__(self):
        super().__init__()
        self.release = threading.Event()

    def run(self) -> None:
        while not self.stop_requested and not self.release.wait(0.01):
            pass


def test_every_slot_connected_to_finished_runs_although_nobody_else_keeps_the_thread(qtbot):
    called = []
    worker = workers.start_worker(_Waiting())
    worker.finished.connect(lambda: called.append("finished"))
    assert worker in workers.running_workers()
    worker.release.set()
    del worker  # the registry alone keeps it now, as the Train tab drops its own reference
    qtbot.waitUntil(lambda: called == ["finished"], timeout=10_000)
    qtbot.waitUntil(lambda: not workers.running_workers(), timeout=10_000)


def test_stop_all_and_wait_stops_every_running_worker(qtbot):
    started = [workers.start_worker(_Waiting()) for _ in range(3)]
    assert all(w.isRunning() for w in started)
    assert workers.stop_all_and_wait(10_000)
    assert not any(w.isRunning() for w in started)
