"""The one registry of the window's background threads, and the one wait for them at exit.

Every thread the window starts is a :class:`Worker`: a ``QThread`` with a stop flag that its
``run()`` checks (a flag, not a queued slot: a slot would wait behind the very loop it is meant
to interrupt). :func:`start_worker` keeps it referenced until it has finished, so that Python
never destroys a running QThread (Qt aborts the process when that happens), whoever started it
and whether or not its window still exists. :func:`stop_all_and_wait` is the exit's single wait.
"""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Slot

EXIT_WAIT_MS = 15_000  # after the window has gone: how long the process waits for its threads


class Worker(QThread):
    """A background thread of the window. Subclasses check :attr:`stop_requested` in ``run()``."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._stop_event = threading.Event()

    def stop(self) -> None:
        """Ask the thread to end at its next check; returns at once (any thread)."""
        self._stop_event.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop_event.is_set()


class _Registry(QObject):
    """Lives in the GUI thread: a finished thread is released there, once every slot queued on
    its ``finished`` has run (releasing it sooner would delete it with those calls pending,
    and Qt drops calls to a deleted sender's slots), never from the thread itself."""

    def __init__(self) -> None:
        super().__init__()
        self.workers: set[Worker] = set()

    @Slot()
    def release_finished(self) -> None:
        # Posted now, so it runs after the calls that the same ``finished`` queued.
        QTimer.singleShot(0, self._discard_finished)

    def _discard_finished(self) -> None:
        for worker in [w for w in self.workers if w.isFinished()]:
            self.workers.discard(worker)


_registry: _Registry | None = None


def _the_registry() -> _Registry:
    global _registry
    if _registry is None:
        _registry = _Registry()
    return _registry


def start_worker(worker: Worker, priority: QThread.Priority = QThread.Priority.InheritPriority) -> Worker:
    """Start ``worker`` and keep it alive until it has finished. Call from the GUI thread."""
    registry = _the_registry()
    registry.workers.add(worker)
    worker.finished.connect(registry.release_finished, Qt.ConnectionType.QueuedConnection)
    worker.start(priority)
    return worker


def running_workers() -> list[Worker]:
    return [w for w in _the_registry().workers if w.isRunning()]


def stop_all_and_wait(timeout_ms: int = EXIT_WAIT_MS) -> bool:
    """Ask every thread to stop and wait (bounded) for them; True when none is left running."""
    workers = list(_the_registry().workers)
    for worker in workers:
        worker.stop()
    deadline = time.monotonic() + timeout_ms / 1000
    for worker in workers:
        worker.wait(max(0, int((deadline - time.monotonic()) * 1000)))
    return not any(worker.isRunning() for worker in workers)
