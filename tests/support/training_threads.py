"""Finding the training a test left running, and ending it (see conftest's
``stop_and_join_trainers``, which does it around every test).

Two things are tracked while :func:`tracking` is active: every ``Trainer.run()`` generator,
with the thread that drives it (recorded at its first ``next()``), and every QThread with a
``stop`` method (the window's workers, the training thread among them) whose ``start()`` is called, which
covers a run still loading its data set, before any Trainer exists. Qt is looked at only when
something else already imported it: core tests import no Qt.
"""

from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

# A stop lands between two batches (or evaluation batches): far less than this even on a busy
# machine. Past it the thread is stuck, and would go on training through the next tests.
JOIN_SECONDS = 30.0


@dataclass
class TrackedRun:
    """One ``Trainer.run()`` generator and the thread that drove it."""

    trainer: object
    thread: threading.Thread
    qthread: object = None  # the QThread driving it, when it is one
    ended: threading.Event = field(default_factory=threading.Event)


@dataclass
class Tracker:
    runs: list[TrackedRun] = field(default_factory=list)
    qthreads: list = field(default_factory=list)
    join_seconds: float = JOIN_SECONDS

    def stop_and_join(self) -> str:
        """Ask every tracked run and training QThread to stop, wait for their threads (all of
        them within ``join_seconds``), and describe those still running ("" when none is)."""
        for run in self.runs:
            run.trainer.request_stop()
        for qthread in self.qthreads:
            if _qthread_running(qthread):
                qthread.stop()
        deadline = time.monotonic() + self.join_seconds
        stuck = []
        waits = list(self.qthreads)
        for run in self.runs:
            if run.qthread is not None:
                waits.append(run.qthread)
            elif run.thread is not threading.current_thread():
                # A generator this thread drove itself is not running between two next()s.
                run.thread.join(max(0.0, deadline - time.monotonic()))
                if run.thread.is_alive():
                    stuck.append(f"Trainer.run() in thread {run.thread.name!r}")
        for qthread in dict.fromkeys(waits):
            if _qthread_running(qthread):
                qthread.wait(max(0, int((deadline - time.monotonic()) * 1000)))
                if _qthread_running(qthread):
                    stuck.append(f"{type(qthread).__name__} (a QThread)")
        if not stuck:
            return ""
        return (f"training still running {self.join_seconds:g} s after it was asked to stop at the "
                f"end of the test: {'; '.join(stuck)}. It would go on training, taking the cores, "
                "during the next tests.")


def _current_qthread():
    """The QThread running this code when Qt started the thread (Python's own threads and the
    main thread are joined through ``threading``)."""
    qtcore = sys.modules.get("PySide6.QtCore")
    if qtcore is None or not isinstance(threading.current_thread(), threading._DummyThread):
        return None
    return qtcore.QThread.currentThread()


def _qthread_running(qthread) -> bool:
    try:
        import shiboken6

        if not shiboken6.isValid(qthread):
            return False  # deleted: Qt aborts rather than delete a running QThread
        return qthread.isRunning()
    except RuntimeError:
        return False


@contextmanager
def tracking(join_seconds: float = JOIN_SECONDS):
    """Track runs and training QThreads started inside the ``with`` block (see the module's
    docstring); the patches are undone when it ends, whatever happens in it."""
    from lenet_gui.core import engine

    tracker = Tracker(join_seconds=join_seconds)
    original_run = engine.Trainer.run

    def tracked_run(self, *args, **kwargs):
        inner = original_run(self, *args, **kwargs)

        def driven():
            run = TrackedRun(self, threading.current_thread(), _current_qthread())
            tracker.runs.append(run)
            try:
                yield from inner
            finally:
                run.ended.set()

        return driven()

    qthread_class = getattr(sys.modules.get("PySide6.QtCore"), "QThread", None)
    original_start = getattr(qthread_class, "start", None)

    def tracked_start(self, *args, **kwargs):
        if hasattr(self, "stop"):  # the window's workers (lenet_gui.ui.workers.Worker)
            tracker.qthreads.append(self)
        return original_start(self, *args, **kwargs)

    engine.Trainer.run = tracked_run
    if qthread_class is not None:
        qthread_class.start = tracked_start
    try:
        yield tracker
    finally:
        engine.Trainer.run = original_run
        if qthread_class is not None:
            qthread_class.start = original_start
