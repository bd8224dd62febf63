"""Deterministic control of a running trainer from another thread, for the engine's tests.

A user presses Stop or Pause while a batch is being computed. To test that moment without
sleeping and hoping, :class:`Rendezvous` holds the trainer's thread inside the forward pass of a
chosen training step (or evaluation batch) until another thread has acted, then lets it go on.
What must happen next is then exact: the batch in flight completes, the next one never starts.

Plain module, no fixtures: ``tests/test_engine.py`` and ``tests/test_robustness_training.py``
both use it.
"""

from __future__ import annotations

import queue
import threading

# Generous: only a guard against a hang, never a measure of speed.
GUARD_SECONDS = 60.0


class Rendezvous:
    """Counts the forward passes of ``model`` (through a hook on its last layer, which every
    forward path runs) separately for training (model in train mode) and evaluation, both over the
    whole run and 1-based. When the count reaches one of ``steps`` (training) or
    ``evaluation_batches`` (evaluation), the trainer's thread waits there until another thread has
    called :meth:`wait_inside` and then :meth:`release`."""

    def __init__(self, model, *, steps=(), evaluation_batches=(), guard: float = GUARD_SECONDS):
        self.steps = set(steps)
        self.evaluation_batches = set(evaluation_batches)
        self.guard = guard
        self.training_passes = 0
        self.evaluation_passes = 0
        self._arrived: queue.Queue = queue.Queue()
        self._released: queue.Queue = queue.Queue()
        self._handle = model.fc3.register_forward_hook(self._hook)

    def _hook(self, module, inputs, output):
        if module.training:
            self.training_passes += 1
            hit = ("step", self.training_passes) if self.training_passes in self.steps else None
        else:
            self.evaluation_passes += 1
            hit = ("evaluation", self.evaluation_passes) if self.evaluation_passes in self.evaluation_batches else None
        if hit is not None:
            self._arrived.put(hit)
            try:
                self._released.get(timeout=self.guard)
            except queue.Empty:
                raise AssertionError(f"held inside {hit} for {self.guard} s: the other thread never released it") from None

    def wait_inside(self) -> tuple[str, int]:
        """From the controlling thread: wait until the trainer is held; returns where it is."""
        try:
            return self._arrived.get(timeout=self.guard)
        except queue.Empty:
            raise AssertionError(
                f"the trainer did not reach {sorted(self.steps)} / evaluation {sorted(self.evaluation_batches)} "
                f"within {self.guard} s (training passes {self.training_passes}, evaluation passes {self.evaluation_passes})"
            ) from None

    def release(self) -> None:
        self._released.put(None)

    def remove(self) -> None:
        """No more holds; a trainer held now goes on (so that a failed test can stop it)."""
        self._handle.remove()
        self.steps, self.evaluation_batches = set(), set()
        self._released.put(None)


class Driver:
    """Runs ``trainer.run()`` in a worker thread, as the app does, collecting its events in a queue
    (``None`` marks the end). :meth:`close` stops the trainer and joins the thread: call it in a
    ``finally`` or a fixture so that no trainer outlives its test."""

    def __init__(self, trainer):
        self.trainer = trainer
        self.events: queue.Queue = queue.Queue()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._work, daemon=True, name="test-trainer")
        self.thread.start()

    def _work(self):
        try:
            for event in self.trainer.run():
                self.events.put(event)
        except BaseException as exc:  # surfaced by the test
            self.error = exc
        self.events.put(None)

    def next(self, timeout: float = GUARD_SECONDS):
        try:
            event = self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event from the trainer within {timeout} s") from None
        assert event is not None, f"the run ended early ({self.error!r})"
        return event

    def drain(self, timeout: float = GUARD_SECONDS) -> list:
        """Every event until the run ends."""
        out = []
        while True:
            try:
                event = self.events.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"the run did not end within {timeout} s; events so far: {out!r}") from None
            if event is None:
                return out
            out.append(event)

    def close(self, timeout: float = GUARD_SECONDS) -> None:
        self.trainer.request_stop()  # also wakes a paused loop
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"the trainer's thread did not end within {timeout} s of a stop"
