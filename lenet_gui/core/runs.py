"""What a training run leaves behind, and how a failed one is described to a person.

The window's training thread hands these to the window; the CLI and tests use the same
descriptions, so a failure reads alike wherever it happens.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field

import torch

from .checkpoint import LoadedModel
from .data import DatasetError
from .engine import EpochResult, NonFiniteLossError, TrainingError
from .model import LeNet, ModelConfig


@dataclass
class RunStarted:
    device: str
    threads: int
    train_samples: int
    test_samples: int
    batches_per_epoch: int
    data_source: str


@dataclass
class RunOutcome:
    """What is kept of a run: figures and a CPU copy of the final weights."""

    history: tuple[EpochResult, ...]
    stopped: bool
    state_dict: dict[str, torch.Tensor]
    model_config: dict
    metadata: dict = field(default_factory=dict)
    # The layers' diagnostics (core/diagnostics.py), as their events' to_dict(), in order.
    diagnostics: list[dict] = field(default_factory=list)
    histograms: list[dict] = field(default_factory=list)

    @property
    def has_model(self) -> bool:
        return bool(self.history and self.state_dict)

    def loaded_model(self, title: str) -> LoadedModel:
        """The run's final weights as a model for classifying (eval mode, CPU)."""
        model = LeNet(ModelConfig.from_dict(self.model_config))
        model.load_state_dict(self.state_dict)
        model.eval()
        meta = dict(self.metadata)
        meta["title"] = title
        return LoadedModel(model=model, classes=list(meta["classes"]), dataset=meta["dataset"],
                           input_kind=meta["input_kind"], metadata=meta)


# RunFailure.kind: each front end titles them in its own words.
DIVERGED = "diverged"
DATA_SET = "data-set"
INVALID_SETTINGS = "invalid-settings"
OUT_OF_MEMORY = "out-of-memory"
UNEXPECTED = "unexpected"
FAILURE_KINDS = (DIVERGED, DATA_SET, INVALID_SETTINGS, OUT_OF_MEMORY, UNEXPECTED)


@dataclass
class RunFailure:
    kind: str  # one of FAILURE_KINDS
    message: str
    details: str = ""  # a traceback, for unexpected errors only


def describe_failure(exc: BaseException) -> RunFailure:
    """A message a person can act on, for every way a run can fail."""
    if isinstance(exc, NonFiniteLossError):
        return RunFailure(DIVERGED, str(exc))
    if isinstance(exc, DatasetError):
        return RunFailure(DATA_SET, str(exc))
    if isinstance(exc, TrainingError):
        return RunFailure(INVALID_SETTINGS, str(exc))
    if isinstance(exc, (torch.cuda.OutOfMemoryError, RuntimeError)) and "out of memory" in str(exc).lower():
        return RunFailure(
            OUT_OF_MEMORY,
            "The device ran out of memory during training. Choose a smaller batch size, or train "
            f"on the CPU. ({str(exc).strip().splitlines()[0][:200]})",
        )
    if isinstance(exc, MemoryError):
        return RunFailure(OUT_OF_MEMORY, "The computer ran out of memory during training. "
                                         "Close other programs or choose a smaller batch size.")
    first_line = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
    return RunFailure(
        UNEXPECTED,
        f"Training stopped because of an unexpected error: {type(exc).__name__}"
        + (f": {first_line}" if first_line else "") + ". The details are in the log.",
        details="".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    )
