"""The training loop, as a generator of progress events.

The loop reads preloaded uint8 tensors (moved to the device once) instead of a per-item
DataLoader, which is what makes it several times faster than the tutorial's loop on a CPU.
Another thread stops or pauses a run through its :class:`RunControl` (``Trainer.request_stop``,
``pause`` and ``resume`` are shorthands) at any time; that takes effect between batches (and
between evaluation batches), never inside one. The batches' figures stay on the device until the
loop reports them, a few times a second (see ``REPORT_SECONDS``): on a GPU a read-back per batch
would make every step wait for the one before.
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import asdict, dataclass, replace
from typing import Iterator, Union

import torch
import torch.nn.functional as F

from . import augment
from .calibration import Calibration
from .data import LoadedDataset, holdout_ranges
from .diagnostics import DIAGNOSTICS_EVERY, Diagnostics, DiagnosticsHistogram, DiagnosticsSample
from .evaluation import evaluate_accuracy, fit_calibration
from .model import LeNet, ModelConfig, memory_format_of
from .optimizer_step import clear_gradients, stepper

OPTIMIZERS = ("adam", "adamw", "sgd")
OUTLIER_BANK = 2048  # synthetic outliers made once per run for outlier exposure

# How often the loop reads the batches' losses and accuracies back from the device. On a GPU each
# read-back makes the host wait for every queued step, so the loop queues steps and reads the
# figures a few times a second (and at the end of each epoch), as often as anyone looks at them.
REPORT_SECONDS = 0.1
SCHEDULES = ("none", "onecycle", "cosine")


# The fewest steps a one-cycle schedule is used for (see Trainer._make_scheduler).
ONE_CYCLE_MIN_STEPS = 8


class TrainingError(RuntimeError):
    """Training cannot go on; the message says why and what to change."""


class NonFiniteLossError(TrainingError):
    pass


@dataclass(frozen=True)
class TrainConfig:
    dataset: str = "fashion-mnist"
    preset: str = "classic"
    epochs: int = 5
    batch_size: int = 256
    lr: float = 0.001
    optimizer: str = "adam"
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: str = "none"
    label_smoothing: float = 0.0
    augment_shift: int = 0  # random translation of up to this many pixels
    augment_flip: bool = False  # random horizontal flip (garments, not digits)
    augment: str = "none"  # a policy of core/augment.py, e.g. "real-inputs"
    holdout: int = 0  # the last N training images are not trained on; they calibrate the model
    outlier_exposure: float = 0.0  # weight of the loss that spreads outliers' probability evenly
    activation: str = "sigmoid"
    pool: str = "max"
    batch_norm: bool = False
    dropout: float = 0.0
    normalize: bool = False  # normalise inputs with the data set's mean and std
    device: str = "auto"
    seed: int = 0
    threads: int | None = None  # torch intra-op threads; None leaves torch's setting alone
    # The test pass is forward only: larger batches spend less of it on each call's fixed cost.
    eval_batch_size: int = 1000

    def to_dict(self) -> dict:
        return asdict(self)

    def validate(self) -> None:
        problems = []
        if self.epochs < 1:
            problems.append("epochs must be at least 1")
        if self.batch_size < 1:
            problems.append("batch size must be at least 1")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            problems.append("learning rate must be a positive number")
        if self.optimizer not in OPTIMIZERS:
            problems.append(f"optimizer must be one of {', '.join(OPTIMIZERS)}")
        if self.schedule not in SCHEDULES:
            problems.append(f"schedule must be one of {', '.join(SCHEDULES)}")
        if self.threads is not None and self.threads < 1:
            problems.append("threads must be at least 1")
        if self.eval_batch_size < 1:
            problems.append("evaluation batch size must be at least 1")
        if not 0.0 <= self.label_smoothing < 1.0:
            problems.append("label smoothing must be in [0, 1)")
        if not 0 <= self.augment_shift <= 8:
            problems.append("augmentation shift must be 0 to 8 pixels")
        if self.augment not in augment.POLICIES:
            problems.append(f"augmentation must be one of {', '.join(augment.POLICIES)}")
        if self.holdout < 0:
            problems.append("the number of held-out images cannot be negative")
        if not (self.outlier_exposure >= 0 and math.isfinite(self.outlier_exposure)):
            problems.append("the outlier exposure weight cannot be negative")
        if not (self.momentum >= 0 and self.weight_decay >= 0):
            problems.append("momentum and weight decay cannot be negative")
        try:  # the model's own settings (activation, pooling, dropout), named the same way
            self.model_config(0.0, 1.0).validate()
        except ValueError as exc:
            problems.append(str(exc))
        if problems:
            raise TrainingError("Invalid training settings: " + "; ".join(problems) + ".")

    def model_config(self, mean: float, std: float) -> ModelConfig:
        return ModelConfig(
            activation=self.activation,
            pool=self.pool,
            batch_norm=self.batch_norm,
            dropout=self.dropout,
            input_mean=mean if self.normalize else 0.0,
            input_std=std if self.normalize else 1.0,
        )


def resolve_device(name: str) -> torch.device:
    if name in (None, "", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise TrainingError(f"Unknown device {name!r}; use auto, cpu, cuda or cuda:N.") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise TrainingError(f"Device {name!r} was asked for, but no CUDA GPU is available here; use cpu.")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise TrainingError(
                f"Device {name!r} does not exist: this machine has {torch.cuda.device_count()} CUDA device(s)."
            )
    elif device.type != "cpu":
        raise TrainingError(f"Device {name!r} is not supported; use auto, cpu, cuda or cuda:N.")
    return device


def available_devices() -> list[tuple[str, str]]:
    """``(device name, description)`` for the CPU and every CUDA device, best first."""
    devices = []
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            devices.append((f"cuda:{i}", f"GPU {i}: {torch.cuda.get_device_name(i)}"))
    devices.append(("cpu", "CPU"))
    return devices


# ---------------------------------------------------------------------------------------------
# Events


@dataclass(frozen=True)
class BatchProgress:
    epoch: int  # 1-based
    epochs: int
    batch: int  # 1-based
    batches: int
    step: int  # batches done since the start of the run
    loss: float  # this batch's mean loss
    accuracy: float  # this batch's accuracy
    samples_per_sec: float  # over the epoch so far
    eta_seconds: float  # until the end of this epoch's training batches
    lr: float


@dataclass(frozen=True)
class EvaluationStarted:
    epoch: int


# The decimal places of an epoch's figures in the tutorial's line (EpochResult.line), which
# the window's tables of final figures follow too.
LINE_PLACES = {"loss": 4, "train_acc": 3, "test_acc": 3, "seconds": 1}


@dataclass(frozen=True)
class EpochResult:
    epoch: int
    epochs: int
    loss: float
    train_acc: float
    test_acc: float
    seconds: float
    samples_per_sec: float
    lr: float

    def line(self) -> str:
        """The tutorial's line, to the character."""
        p = LINE_PLACES
        return (
            f"epoch {self.epoch}, loss {self.loss:.{p['loss']}f}, train acc {self.train_acc:.{p['train_acc']}f}, "
            f"test acc {self.test_acc:.{p['test_acc']}f}, time {self.seconds:.{p['seconds']}f} sec"
        )

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Finished:
    history: tuple[EpochResult, ...]
    stopped: bool  # True when a stop request ended the run early


Event = Union[BatchProgress, DiagnosticsSample, DiagnosticsHistogram, EvaluationStarted, EpochResult, Finished]


# ---------------------------------------------------------------------------------------------


def _shift_and_flip(x: torch.Tensor, shift: int, flip: bool, gen: torch.Generator) -> torch.Tensor:
    """Random per-sample translation (zero fill) and horizontal flip of a N x 28 x 28 batch."""
    n, h, w = x.shape
    if shift:
        padded = F.pad(x, (shift, shift, shift, shift))
        offsets = torch.randint(0, 2 * shift + 1, (2, n), generator=gen).to(x.device)
        rows = offsets[0][:, None] + torch.arange(h, device=x.device)
        cols = offsets[1][:, None] + torch.arange(w, device=x.device)
        batch_index = torch.arange(n, device=x.device)[:, None, None]
        x = padded[batch_index, rows[:, :, None], cols[:, None, :]]
    if flip:
        mask = (torch.rand(n, generator=gen) < 0.5).to(x.device)
        x = torch.where(mask[:, None, None], x.flip(-1), x)
    return x


def _fast_memory_format(model: LeNet, device: torch.device) -> torch.memory_format:
    # On the CPU, oneDNN's channels-last kernels run LeNet's convolutions and max-pooling faster
    # than NCHW ones (average pooling, off the fast path, trains so). The arithmetic is the same
    # up to float rounding; CUDA gains nothing, so it keeps NCHW. Models on the fast CPU path
    # (max-pooling) pick a layout per layer themselves, from NCHW parameters.
    if device.type != "cpu" or model.has_fast_cpu_path:
        return torch.contiguous_format
    return torch.channels_last


class RunControl:
    """Stop and pause for one run: the window (or a test) creates it, the trainer reads it.

    Any thread may call its methods at any time; the trainer looks at it between batches (and
    between evaluation batches), never inside one. A stop wakes a paused run so that it can end.
    """

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def request_stop(self) -> None:
        self._stop.set()
        self._running.set()

    def pause(self) -> None:
        if not self._stop.is_set():
            self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_while_paused(self, poll_seconds: float = 0.05) -> None:
        while not self._running.wait(poll_seconds):
            pass


def training_threads(cores: int | None = None, user_active: bool = False) -> int:
    """Torch intra-op threads for training beside a window, chosen again between batches.

    While the window is idle, training on every core leaves it responsive and as fast as the
    headless CLI. While the user draws, the window needs a core of its own: torch's threads wait
    for each other at every operation, so when the scheduler gives one of their cores to the
    window the whole batch waits, and the window's repaints wait for the batch. Beyond 4 threads
    LeNet's small tensors gain nothing.
    """
    cores = cores or os.cpu_count() or 1
    return max(1, min(4, cores - 1 if user_active else cores))


class Trainer:
    """Trains one LeNet on one data set. Drive it with ``for event in trainer.run(): ...``."""

    def __init__(
        self,
        config: TrainConfig,
        dataset: LoadedDataset,
        *,
        train_limit: int | None = None,
        test_limit: int | None = None,
        control: RunControl | None = None,
        report_seconds: float = REPORT_SECONDS,
        diagnostics_every: int | None = DIAGNOSTICS_EVERY,
    ):
        """``diagnostics_every``: sample every that many steps for the layers' diagnostics
        (core/diagnostics.py; the events come with the batches'); 0 or None: no diagnostics."""
        config.validate()
        self.report_seconds = report_seconds
        self.config = config
        self.dataset = dataset
        self.device = resolve_device(config.device)
        trained_on, self.calibration_range, self.reserved_range = holdout_ranges(len(dataset.train), config.holdout)
        self.train_split = dataset.train.part(trained_on).subset(train_limit)
        self.test_split = dataset.test.subset(test_limit)
        if len(self.train_split) == 0:
            raise TrainingError("The training set is empty.")
        torch.manual_seed(config.seed)
        self.model = LeNet(config.model_config(dataset.info.mean, dataset.info.std)).to(self.device)
        self.optimizer = self._make_optimizer()
        # The figures it has reported stay in it (.samples, .histograms), for the run's record.
        self.diagnostics = Diagnostics(self.model, diagnostics_every) if diagnostics_every else None
        self.batches_per_epoch = math.ceil(len(self.train_split) / config.batch_size)
        self.scheduler = self._make_scheduler()
        self.history: list[EpochResult] = []
        self.stopped = False
        self._epoch_end_state: dict[str, torch.Tensor] | None = None  # weights history[-1] measured
        self._calibration: tuple[dict, Calibration] | None = None  # (weights, their calibration)
        self.control = control if control is not None else RunControl()
        self._paused_seconds = 0.0  # time spent paused, which no figure of the run counts

    # -- control, from any thread: shorthands for the run's RunControl ------------------------

    def request_stop(self) -> None:
        self.control.request_stop()

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    @property
    def stop_requested(self) -> bool:
        return self.control.stop_requested

    @property
    def paused(self) -> bool:
        return self.control.paused

    # -- state, from the thread that runs the loop -------------------------------------------

    def state_dict_snapshot(self) -> dict[str, torch.Tensor]:
        """A CPU copy of the weights in the usual (NCHW) layout, safe to hand to another thread."""
        return {
            k: v.detach().to("cpu", memory_format=torch.contiguous_format, copy=True)
            for k, v in self.model.state_dict().items()
        }

    def metadata(self) -> dict:
        info = self.dataset.info
        return {
            "dataset": info.key,
            "classes": list(info.classes),
            "input_kind": info.input_kind,
            "preset": self.config.preset,
            "hyperparameters": self.config.to_dict(),
            "train_samples": len(self.train_split),
            "held_out": {"calibration": [self.calibration_range.start, self.calibration_range.stop],
                         "reserved": [self.reserved_range.start, self.reserved_range.stop]}
            if self.config.holdout else None,
            "test_samples": len(self.test_split),
            "history": [e.to_dict() for e in self.history],
            "test_acc": self.history[-1].test_acc if self.history else None,
        }

    def checkpoint_state(self) -> tuple[dict[str, torch.Tensor], dict]:
        """Weights and metadata that describe each other, for saving. After a Stop in the
        middle of an epoch (or of its evaluation) the model has moved past the last epoch the
        history reports; saving it would label those weights with another model's accuracy.
        So: the weights as they were when the last completed epoch was measured, or the
        current ones when no epoch completed (the metadata then reports no accuracy)."""
        state = self._epoch_end_state if self.history and self._epoch_end_state else self.state_dict_snapshot()
        metadata = self.metadata()
        if self.history and len(self.calibration_range):
            metadata["calibration"] = self.calibration_for(state).to_metadata()
        return state, metadata

    def calibration_for(self, state: dict[str, torch.Tensor]) -> Calibration:
        """Temperature and out-of-distribution detector for these weights, fitted on the
        calibration part of the held-out training images (computed once per set of weights)."""
        if self._calibration is not None and self._calibration[0] is state:
            return self._calibration[1]
        model = LeNet(self.model.config)
        model.load_state_dict(state)
        r = self.calibration_range
        kind = self.dataset.info.input_kind
        calibration = fit_calibration(
            model.eval(), self.dataset.train.part(r), kind,
            seed=self.config.seed,
            description=f"training images {r.start}-{r.stop - 1}, held out from training",
            # Taught that a mirror image is the same class, the model is read by both.
            average_mirror=self.config.augment_flip or augment.mirrors(self.config.augment, kind),
        )
        self._calibration = (state, calibration)
        return calibration

    # -- the loop -----------------------------------------------------------------------------

    def _make_optimizer(self) -> torch.optim.Optimizer:
        c = self.config
        params = list(self.model.parameters())  # a list: the fused attempt may need a second go
        if c.optimizer in ("adam", "adamw"):
            adam = torch.optim.Adam if c.optimizer == "adam" else torch.optim.AdamW
            # The fused kernel does the same update in one call instead of ~10 per parameter
            # (about 1 ms of a classic CPU step of ~9); torch < 2.4 has it for CUDA only.
            try:
                return adam(params, lr=c.lr, weight_decay=c.weight_decay, fused=True)
            except RuntimeError:
                return adam(params, lr=c.lr, weight_decay=c.weight_decay)
        sgd = dict(lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay, nesterov=c.momentum > 0)
        if self.device.type != "cpu":
            # Fused, so that it can skip a step on the device (see _loop). Not on the CPU: there
            # it rounds differently from the kernel the CPU's results were made with, and a CPU
            # loop loses nothing by checking each loss on the host.
            try:
                return torch.optim.SGD(params, **sgd, fused=True)
            except RuntimeError:
                pass
        # foreach: the per-parameter loop's arithmetic, bit for bit, with its loop in C++.
        return torch.optim.SGD(params, **sgd, foreach=True)

    def _make_scheduler(self):
        c = self.config
        total = c.epochs * self.batches_per_epoch
        if c.schedule == "onecycle":
            if total < ONE_CYCLE_MIN_STEPS:
                # Too short to warm up and anneal (torch's schedule divides by zero at 4 steps):
                # a handful of steps at the peak rate.
                return None
            return torch.optim.lr_scheduler.OneCycleLR(self.optimizer, max_lr=c.lr, total_steps=total, pct_start=0.25)
        if c.schedule == "cosine":
            return torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, T_max=total)
        return None

    def _evaluation_should_stop(self) -> bool:
        # Between evaluation batches as between training batches: a pause holds here too.
        self._wait_while_paused()
        return self.control.stop_requested

    def _wait_while_paused(self) -> None:
        if self.control.paused:
            began = time.perf_counter()
            self.control.wait_while_paused()
            self._paused_seconds += time.perf_counter() - began

    def _seconds_since(self, started: float, paused_before: float) -> float:
        """Running time since ``started``, when ``_paused_seconds`` was ``paused_before``: an
        epoch's time and speed leave out the time it spent paused."""
        return time.perf_counter() - started - (self._paused_seconds - paused_before)

    def run(self) -> Iterator[Event]:
        """The loop; the model trains in the layout fastest on its device and is handed back in
        the usual one (also when the run stops, fails or is abandoned)."""
        self.model.to(memory_format=_fast_memory_format(self.model, self.device))
        try:
            yield from self._loop()
        finally:
            if self.diagnostics is not None:
                self.diagnostics.abandon_step()  # a step that failed mid-way leaves no hook behind
            self.model.to(memory_format=torch.contiguous_format)

    def _loop(self) -> Iterator[Event]:
        c = self.config
        if c.threads:
            torch.set_num_threads(c.threads)
        gen = torch.Generator().manual_seed(c.seed)
        device = self.device
        # Augmentation draws its randomness where the batch is: a CPU draw copied to a GPU would
        # wait for the device at every batch. The CPU keeps the generator its results come from.
        augment_gen = gen if device.type == "cpu" else torch.Generator(device).manual_seed(c.seed)
        train_x = self.train_split.images.to(device)
        train_y = self.train_split.labels.to(device)
        n = len(self.train_split)
        model, optimizer, diagnostics = self.model, self.optimizer, self.diagnostics
        memory_format = memory_format_of(model)
        kind = self.dataset.info.input_kind
        bank = augment.outliers(OUTLIER_BANK, kind, gen).to(device) if c.outlier_exposure else None
        # The divergence check happens when the losses are read back, batches after the bad one;
        # a fused optimizer reads this flag on the device and skips every step from the first
        # non-finite loss on, so the weights stay those of the last good batch, as if the check
        # had stopped the loop there. Other optimizers have the loss checked at every batch.
        diverged = torch.zeros((), device=device)
        checks_on_device = bool(optimizer.defaults.get("fused"))
        if checks_on_device:
            optimizer.found_inf = diverged
        step_optimizer, params = stepper(optimizer), list(model.parameters())
        step = 0
        last_report = -math.inf  # the first batch is reported at once
        for epoch in range(1, c.epochs + 1):
            model.train()
            started, paused_before = time.perf_counter(), self._paused_seconds
            order = torch.randperm(n, generator=gen).to(device)
            loss_sum = torch.zeros((), device=device)
            correct = torch.zeros((), device=device, dtype=torch.long)
            pending = _PendingBatches(diagnostics)
            seen = 0
            try:
                for batch in range(1, self.batches_per_epoch + 1):
                    if self.control.paused or self.control.stop_requested:
                        # whoever paused or stopped sees every batch done until then
                        yield from pending.report(c.lr)
                    self._wait_while_paused()
                    if self.control.stop_requested:
                        self.stopped = True
                        yield Finished(tuple(self.history), stopped=True)
                        return
                    index = order[(batch - 1) * c.batch_size : batch * c.batch_size]
                    xb = train_x.index_select(0, index)
                    if c.augment_shift or c.augment_flip:
                        xb = _shift_and_flip(xb, c.augment_shift, c.augment_flip, augment_gen)
                    y = train_y.index_select(0, index)
                    last_batch = batch == self.batches_per_epoch
                    sampled = diagnostics is not None and diagnostics.wants(step + 1, last_batch)
                    if c.augment == "real-inputs":
                        x = augment.real_inputs(xb, kind, gen, y)
                    else:
                        # One pass: a uint8 tensor's true division converts each value to
                        # float and divides it, exactly as .float().div_(255) does in two.
                        x = torch.div(xb, 255).unsqueeze_(1)
                    if bank is not None:
                        # Outlier exposure: a quarter as many outliers again, in the same forward
                        # pass (batch norm sees them too), pushed towards even probabilities.
                        x = torch.cat([x, augment.draw_outliers(bank, max(1, len(index) // 4), gen).to(device)])
                    if sampled:
                        diagnostics.begin()
                    logits = model(x.contiguous(memory_format=memory_format))
                    if bank is not None:
                        logits, outlier_logits = logits[: len(index)], logits[len(index) :]
                    loss = F.cross_entropy(logits, y, label_smoothing=c.label_smoothing)
                    total = loss
                    if bank is not None:
                        # Reported losses stay the classification loss the tutorial's line means.
                        total = loss + c.outlier_exposure * -F.log_softmax(outlier_logits, 1).mean()
                    clear_gradients(params)
                    total.backward()
                    loss, total = loss.detach(), total.detach()
                    if checks_on_device:
                        diverged.masked_fill_(~torch.isfinite(total), 1.0)
                    elif not math.isfinite(value := float(total)):
                        raise _diverged(value, epoch, batch, c.lr)
                    if sampled:
                        diagnostics.before_step()
                    step_optimizer()
                    if sampled:
                        diagnostics.after_step(epoch, batch, self.batches_per_epoch, step + 1, histograms=last_batch)
                    lr = optimizer.param_groups[0]["lr"]
                    if self.scheduler is not None:
                        self.scheduler.step()
                    batch_correct = (logits.detach().argmax(1) == y).sum()
                    loss_sum += loss
                    correct += batch_correct
                    seen += len(index)
                    step += 1
                    elapsed = self._seconds_since(started, paused_before)
                    rate = seen / elapsed if elapsed > 0 else 0.0
                    pending.add(loss, batch_correct, BatchProgress(
                        epoch=epoch, epochs=c.epochs, batch=batch, batches=self.batches_per_epoch,
                        step=step, loss=math.nan, accuracy=math.nan, samples_per_sec=rate,
                        eta_seconds=(n - seen) / rate if rate else 0.0, lr=lr,
                    ), len(index))
                    now = time.perf_counter()
                    if batch == self.batches_per_epoch:
                        epoch_loss_sum, epoch_correct = pending.read_back_with(loss_sum, correct.to(loss_sum.dtype))
                        yield from pending.report(c.lr)
                    elif now - last_report >= self.report_seconds:
                        yield from pending.report(c.lr)
                        last_report = now
            except Exception:
                yield from pending.report(c.lr)  # the batches trained before a failure are shown too
                raise
            train_seconds = self._seconds_since(started, paused_before)
            yield EvaluationStarted(epoch)
            test_acc = evaluate_accuracy(model, self.test_split, device, c.eval_batch_size, self._evaluation_should_stop)
            if test_acc is None:
                self.stopped = True
                yield Finished(tuple(self.history), stopped=True)
                return
            result = EpochResult(
                epoch=epoch, epochs=c.epochs,
                loss=epoch_loss_sum / self.batches_per_epoch,
                train_acc=int(epoch_correct) / n, test_acc=test_acc,
                seconds=self._seconds_since(started, paused_before),
                samples_per_sec=n / train_seconds if train_seconds > 0 else 0.0,
                lr=optimizer.param_groups[0]["lr"],
            )
            self.history.append(result)
            self._epoch_end_state = self.state_dict_snapshot()
            yield result
        yield Finished(tuple(self.history), stopped=False)


def _diverged(loss: float, epoch: int, batch: int, lr: float) -> NonFiniteLossError:
    return NonFiniteLossError(
        f"The loss became {loss} at epoch {epoch}, batch {batch}: training "
        f"diverged. Lower the learning rate (it is {lr:g}) and train again."
    )


class _PendingBatches:
    """Batches trained but not yet reported: their loss and count of right answers stay on the
    device until :meth:`report` reads them all back in one transfer, with the diagnostics
    gathered on those batches, if any."""

    def __init__(self, diagnostics: Diagnostics | None = None) -> None:
        self._diagnostics = diagnostics
        self._losses: list[torch.Tensor] = []
        self._correct: list[torch.Tensor] = []
        self._events: list[BatchProgress] = []
        self._sizes: list[int] = []
        self._values: list[float] | None = None  # read back early by read_back_with
        self._diagnostic_events: list = []

    def add(self, loss: torch.Tensor, correct: torch.Tensor, event: BatchProgress, size: int) -> None:
        self._losses.append(loss)
        self._correct.append(correct)
        self._events.append(event)
        self._sizes.append(size)

    def read_back_with(self, *extra: torch.Tensor) -> list[float]:
        """Read the pending figures back, and ``extra`` 0-d tensors in the same transfer."""
        parts = [torch.stack(self._losses), torch.stack(self._correct).to(self._losses[0].dtype)] if self._events else []
        layout, figures = self._diagnostics.take() if self._diagnostics is not None else (None, None)
        tail = [] if figures is None else [figures.to(parts[0].dtype if parts else figures.dtype)]
        values = torch.cat([*parts, *(t.reshape(1) for t in extra), *tail]).tolist()
        batches = 2 * len(self._events)
        self._values = values[:batches]
        if figures is not None:
            self._diagnostic_events += self._diagnostics.events(layout, values[batches + len(extra):])
        return values[batches:batches + len(extra)]

    def report(self, lr: float) -> Iterator[BatchProgress | DiagnosticsSample | DiagnosticsHistogram]:
        """The pending batches' events, in order, then their diagnostics; raises at the first
        non-finite loss."""
        if not self._events:
            return
        if self._values is None:
            self.read_back_with()
        values, events, sizes = self._values, self._events, self._sizes
        diagnostics = self._diagnostic_events
        count = len(events)
        self._losses, self._correct, self._events, self._sizes, self._values = [], [], [], [], None
        self._diagnostic_events = []
        for event, size, loss, right in zip(events, sizes, values[:count], values[count:]):
            if not math.isfinite(loss):
                raise _diverged(loss, event.epoch, event.batch, lr)
            yield replace(event, loss=loss, accuracy=right / size)
        yield from diagnostics


def train_config_from_dict(data: dict) -> TrainConfig:
    known = set(TrainConfig.__dataclass_fields__)
    return replace(TrainConfig(), **{k: v for k, v in data.items() if k in known})
