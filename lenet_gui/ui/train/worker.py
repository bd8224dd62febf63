"""The thread that trains: loads the data set, drives ``Trainer.run()``, reports through signals.

Rules this module keeps, so that the window never freezes and never races the training:

* Signals carry plain values, frozen event dataclasses and CPU tensor copies only; the model
  being trained never leaves this thread.
* Stop and pause live in one :class:`~lenet_gui.core.engine.RunControl` that the window
  creates and the trainer reads (``threading.Event`` flags, set directly from the GUI thread:
  a queued slot would wait behind the very loop it is meant to interrupt).
* Per-batch events are gathered and sent at most ``BATCH_SIGNALS_PER_SEC`` times a second (and
  always at the last batch of an epoch): the chart still receives every point, but the GUI
  thread handles a few dozen signals a second rather than one per batch.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

import torch
from PySide6.QtCore import Signal

from ...core import history
from ...core.data import LoadedDataset, load_dataset
from ...core.diagnostics import DiagnosticsHistogram, DiagnosticsSample
from ...core.engine import BatchProgress, EpochResult, EvaluationStarted, Finished, RunControl, Trainer, TrainConfig
from ...core.runs import RunOutcome, RunStarted, describe_failure
from ..workers import Worker

# Each signal costs the window a chart update in Python while the training thread waits for the
# interpreter; ten a second looks live (benchmarks/ui_responsiveness.py measures the cost).
BATCH_SIGNALS_PER_SEC = 10
LIVE_WEIGHTS_PER_SEC = 4
LIVE_WEIGHT_NAMES = ("conv1.weight", "conv2.weight")


# After the user's last stroke, how long training keeps a core free for the window.
INTERACTION_HOLD_SECONDS = 1.0


_warm_up_lock = threading.Lock()
_warm_up_thread: threading.Thread | None = None


def warm_up_training_imports() -> threading.Thread:
    """Import, on a background thread, the part of torch that the first training run needs.

    Every torch optimizer imports ``torch._dynamo`` when it is built (seconds; it pulls in
    sympy). Python holds the interpreter lock while it unmarshals a large module, so in the
    training thread that import froze the window right after the first Train click. Started
    when the window first shows, it is done before the user can pick a recipe. Idempotent; returns the thread, which
    a benchmark or test may join. Not a daemon: an interpreter must not exit mid-import.
    """
    global _warm_up_thread
    with _warm_up_lock:
        if _warm_up_thread is None:
            _warm_up_thread = threading.Thread(target=_import_optimizer_machinery, name="lenet-warm-up")
            _warm_up_thread.start()
        return _warm_up_thread


def _import_optimizer_machinery() -> None:
    try:
        import torch._dynamo  # noqa: F401
    except Exception:  # noqa: BLE001 - the training thread's own import will report it
        pass


def keep_window_thread_off_the_training_cores() -> None:
    """One torch thread for the window's own tensor work (a drawing's prediction, the inspector).

    torch's OpenMP runtime (libgomp) keeps a pool of threads for each thread that has run a
    parallel operation, and once the pools together hold more threads than there are cores,
    every pool stops spinning between operations and sleeps instead, which slows the training
    thread's epoch markedly (README: how the app shares the cores). The window's tensors are
    small: one thread serves them as fast. Call it in the GUI thread, before its first tensor
    operation.
    """
    torch.set_num_threads(1)  # the calling thread's setting only


@dataclass
class TrainingRequest:
    config: TrainConfig
    data_root: str | None
    train_limit: int | None = None
    test_limit: int | None = None
    dataset: LoadedDataset | None = None  # already loaded (an earlier run): skip reading files
    # Threads while the user interacts (config.threads otherwise), and when that last happened
    # (time.monotonic(); read from the worker thread, written by the GUI thread).
    busy_threads: int | None = None
    last_interaction: Callable[[], float] | None = None
    control: RunControl | None = None  # stop and pause; the thread makes one when not given
    runs_dir: str | None = None  # where the run is recorded (core.history); None: not recorded


class TrainingThread(Worker):
    status = Signal(str)  # what the thread is doing, for the status bar (not translated here)
    dataset_loaded = Signal(object)  # LoadedDataset, so that the next run need not read it again
    run_started = Signal(object)  # RunStarted
    batches = Signal(object)  # list[BatchProgress], every batch since the previous signal
    evaluating = Signal(int)  # epoch
    epoch_finished = Signal(object)  # EpochResult
    live_weights = Signal(object)  # {"conv1.weight": tensor, "conv2.weight": tensor}, CPU copies
    diagnostics = Signal(object)  # list of DiagnosticsSample / DiagnosticsHistogram since the previous signal
    run_finished = Signal(object)  # RunOutcome
    run_failed = Signal(object)  # RunFailure
    recorded = Signal(str, str)  # the folder of the run's record, once it exists, and its started_at
    record_problem = Signal(str)  # the record cannot be written (the run goes on): why

    def __init__(self, request: TrainingRequest, parent=None):
        super().__init__(parent)
        self.request = request
        self.control = request.control if request.control is not None else RunControl()
        self._pending: list[BatchProgress] = []  # batches not yet sent to the window
        self._pending_diagnostics: list = []  # sent with the batches
        self.threads_in_use = request.config.threads  # as Trainer.run() sets them
        self.recorder: history.RunRecorder | None = None
        self._problem_reported = False

    def stop(self) -> None:
        super().stop()
        self.control.request_stop()

    # -- the thread -----------------------------------------------------------------------------

    def run(self) -> None:
        try:
            self._train()
        except BaseException as exc:  # every failure must reach the window, never kill the app
            self._flush_batches()  # the chart shows the run up to the batch that failed
            failure = describe_failure(exc)
            if failure.details:
                print(failure.details, flush=True)
            if self.recorder is not None:
                self.recorder.finish(history.FAILED, failure.message)
                self._report_record_problem()
            self.run_failed.emit(failure)
        finally:
            if torch.cuda.is_available():
                # After an out-of-memory error the next run should start from a clean slate.
                torch.cuda.empty_cache()

    def _train(self) -> None:
        request = self.request
        config = request.config
        dataset = request.dataset
        if dataset is None:
            self.status.emit("loading")
            dataset = load_dataset(config.dataset, request.data_root, download=False)
            self.dataset_loaded.emit(dataset)
        if self.control.stop_requested:
            self.run_finished.emit(RunOutcome((), True, {}, {}))
            return
        # The run's control, so that a stop or pause that arrived while the data was loading
        # applies from the first batch.
        trainer = Trainer(config, dataset, train_limit=request.train_limit, test_limit=request.test_limit,
                          control=self.control)
        if request.runs_dir:
            self.recorder = history.RunRecorder(request.runs_dir, config, source="window",
                                                title=history.model_title(config.preset, dataset.info.title))
            self.recorder.run_started(str(trainer.device), train_samples=len(trainer.train_split),
                                      test_samples=len(trainer.test_split),
                                      batches_per_epoch=trainer.batches_per_epoch, data_source=str(dataset.source))
            if self.recorder.ok:
                self.recorded.emit(str(self.recorder.folder), self.recorder.meta["started_at"])
            self._report_record_problem()
        self.run_started.emit(RunStarted(
            device=str(trainer.device),
            threads=config.threads or torch.get_num_threads(),
            train_samples=len(trainer.train_split),
            test_samples=len(trainer.test_split),
            batches_per_epoch=trainer.batches_per_epoch,
            data_source=str(dataset.source),
        ))
        self.status.emit("training")
        batch_interval = 1.0 / BATCH_SIGNALS_PER_SEC
        weights_interval = 1.0 / LIVE_WEIGHTS_PER_SEC
        last_batch_signal = last_weights = time.monotonic()
        for event in trainer.run():
            if self.recorder is not None:
                if isinstance(event, Finished) and event.stopped:
                    epochs = "epoch" if config.epochs == 1 else "epochs"
                    self.recorder.log(f"stopped after {len(event.history)} of {config.epochs} {epochs}")
                self.recorder.record(event, trainer)
                self._report_record_problem()
            if isinstance(event, BatchProgress):
                self._adapt_threads(config)
                self._pending.append(event)
                now = time.monotonic()
                if event.batch == event.batches or now - last_batch_signal >= batch_interval:
                    self._flush_batches()
                    last_batch_signal = now
                if now - last_weights >= weights_interval:
                    self.live_weights.emit(self._conv_weights(trainer))
                    last_weights = now
            elif isinstance(event, (DiagnosticsSample, DiagnosticsHistogram)):
                self._pending_diagnostics.append(event)
                if isinstance(event, DiagnosticsHistogram):  # once an epoch, after its last batch
                    self._flush_batches()
            elif isinstance(event, EvaluationStarted):
                self.evaluating.emit(event.epoch)
            elif isinstance(event, EpochResult):
                self.epoch_finished.emit(event)
                self.live_weights.emit(self._conv_weights(trainer))
            elif isinstance(event, Finished):
                self._flush_batches()  # a stop between two signals: the chart gets every batch
                # After a Stop mid-epoch the model has moved past the epoch the history reports:
                # keep the weights that epoch measured, so a saved checkpoint's figures are its own.
                state_dict, metadata = trainer.checkpoint_state()
                gathered = trainer.diagnostics
                self.run_finished.emit(RunOutcome(
                    history=event.history,
                    stopped=event.stopped,
                    state_dict=state_dict,
                    model_config=trainer.model.config.to_dict(),
                    metadata=metadata,
                    diagnostics=[s.to_dict() for s in gathered.samples] if gathered else [],
                    histograms=[h.to_dict() for h in gathered.histograms] if gathered else [],
                ))

    def _report_record_problem(self) -> None:
        recorder = self.recorder
        if recorder is not None and recorder.problem is not None and not self._problem_reported:
            self._problem_reported = True
            self.record_problem.emit(recorder.problem)

    def _adapt_threads(self, config: TrainConfig) -> None:
        """Between batches: give the window a core while the user draws, take it back after."""
        request = self.request
        if request.busy_threads is None or request.last_interaction is None or not config.threads:
            return
        recent = time.monotonic() - request.last_interaction() < INTERACTION_HOLD_SECONDS
        wanted = min(request.busy_threads, config.threads) if recent else config.threads
        if wanted != self.threads_in_use:
            torch.set_num_threads(wanted)  # this thread's setting only
            self.threads_in_use = wanted

    def _flush_batches(self) -> None:
        if self._pending:
            self.batches.emit(self._pending)
            self._pending = []
        if self._pending_diagnostics:
            self.diagnostics.emit(self._pending_diagnostics)
            self._pending_diagnostics = []

    @staticmethod
    def _conv_weights(trainer: Trainer) -> dict[str, torch.Tensor]:
        # Called between batches, when the generator is suspended: the weights are not changing.
        params = dict(trainer.model.named_parameters())
        return {name: params[name].detach().to("cpu", copy=True) for name in LIVE_WEIGHT_NAMES}
