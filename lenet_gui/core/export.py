"""Everything that leaves the app as a file, in one table keyed by the file's suffix.

``lenet-gui export OUTPUT`` and the window's export actions both go through ``export``, so a
format added here is offered by both.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from .checkpoint import LoadedModel


class ExportError(RuntimeError):
    """The export cannot be done; the message says why."""


METRIC_COLUMNS = ("epoch", "loss", "train_acc", "test_acc", "seconds", "samples_per_sec", "lr")


def write_metrics_csv(path, history) -> None:
    """Per-epoch figures (EpochResult.to_dict() rows, as checkpoints store them) as CSV.
    Raises OSError when the file cannot be written."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=METRIC_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(history)




def _export_metrics(loaded: LoadedModel, path: Path) -> None:
    history = loaded.metadata.get("history") or []
    if not history:
        raise ExportError("the model has no recorded metrics to export")
    write_metrics_csv(path, history)


def _export_torchscript(loaded: LoadedModel, path: Path) -> None:
    scripted = torch.jit.trace(loaded.model, torch.zeros(1, 1, 28, 28))
    scripted.save(str(path))


@dataclass(frozen=True)
class ExportFormat:
    suffix: str
    description: str  # for help texts and file dialogs
    write: Callable[[LoadedModel, Path], None]


EXPORT_FORMATS: dict[str, ExportFormat] = {
    ".pt": ExportFormat(".pt", "TorchScript model", _export_torchscript),
    ".csv": ExportFormat(".csv", "per-epoch metrics (CSV)", _export_metrics),
}
DEFAULT_SUFFIX = ".pt"


def export_format(path: str | os.PathLike) -> ExportFormat:
    """The format a path asks for by its suffix (a path without a known suffix: the default)."""
    return EXPORT_FORMATS.get(Path(path).suffix.lower(), EXPORT_FORMATS[DEFAULT_SUFFIX])


def export(loaded: LoadedModel, path: str | os.PathLike) -> ExportFormat:
    """Write ``loaded`` to ``path`` in the format its suffix names. Raises ExportError when the
    model cannot be exported that way and OSError when the file cannot be written."""
    fmt = export_format(path)
    fmt.write(loaded, Path(path))
    return fmt
