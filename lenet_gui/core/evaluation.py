"""A model on a test set: accuracy, per-class accuracy, confusion matrix, the images it gets wrong.

``lenet-gui evaluate``, the trainer's per-epoch test pass and the window's Test set view all
compute their figures here, so they agree to the last digit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from .checkpoint import LoadedModel
from .data import DataSplit
from .model import LeNet, memory_format_of

# Images per stop check of evaluate_split: a stop request waits for at most this many. A multiple
# of predict_split's batch, so that chunked or not, the same batches reach the network.
STOP_CHECK_IMAGES = 2048


@torch.no_grad()
def evaluate_accuracy(
    model: LeNet,
    split: DataSplit,
    device: torch.device | str = "cpu",
    batch_size: int = 256,
    should_stop=lambda: False,
) -> float | None:
    """Accuracy on a split; None when ``should_stop`` cut it short."""
    model.eval()
    memory_format = memory_format_of(model)
    correct = torch.zeros((), dtype=torch.long, device=device)  # read back once: see engine.REPORT_SECONDS
    images, labels = split.images, split.labels
    for start in range(0, len(split), batch_size):
        if should_stop():
            return None
        x = images[start : start + batch_size].to(device, non_blocking=True).float().div_(255).unsqueeze_(1)
        x = x.contiguous(memory_format=memory_format)
        y = labels[start : start + batch_size].to(device, non_blocking=True)
        correct += (model.fast_logits(x).argmax(1) == y).sum()
    return int(correct) / max(1, len(split))


@torch.no_grad()
def predict_split(model: LeNet, split: DataSplit, device="cpu", batch_size: int = 256) -> torch.Tensor:
    """Class probabilities (N x 10, on the CPU) for every image of a split."""
    model.eval()
    out = []
    for start in range(0, len(split), batch_size):
        x = split.images[start : start + batch_size].to(device).float().div_(255).unsqueeze_(1)
        out.append(torch.softmax(model.fast_logits(x), 1).cpu())
    return torch.cat(out) if out else torch.empty(0, 10)


@dataclass
class EvaluationResult:
    loaded: LoadedModel | None
    dataset_key: str
    images: np.ndarray  # uint8, N x 28 x 28
    labels: np.ndarray  # int64, N
    probabilities: np.ndarray  # float32, N x classes
    predicted: np.ndarray  # int64, N
    confusion: np.ndarray  # int64, classes x classes: [true, predicted]

    @property
    def accuracy(self) -> float:
        return float(np.trace(self.confusion)) / max(1, int(self.confusion.sum()))

    @property
    def per_class_accuracy(self) -> np.ndarray:
        """Accuracy on each true class; NaN for a class without test images."""
        totals = self.confusion.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(totals > 0, np.diag(self.confusion) / np.maximum(totals, 1), np.nan)

    @property
    def class_counts(self) -> np.ndarray:
        return self.confusion.sum(axis=1)

    @property
    def confidence(self) -> np.ndarray:
        return self.probabilities[np.arange(len(self.predicted)), self.predicted]

    def indices(self, true: int | None = None, predicted: int | None = None, wrong_only: bool = False) -> np.ndarray:
        """Image indices for a cell of the confusion matrix (or all mistakes), most confident first."""
        mask = np.ones(len(self.labels), dtype=bool)
        if true is not None:
            mask &= self.labels == true
        if predicted is not None:
            mask &= self.predicted == predicted
        if wrong_only:
            mask &= self.labels != self.predicted
        found = np.flatnonzero(mask)
        return found[np.argsort(-self.confidence[found], kind="stable")]


def evaluate_split(model: LeNet, split: DataSplit, dataset_key: str, loaded: LoadedModel | None = None,
                   should_stop: Callable[[], bool] = lambda: False) -> EvaluationResult | None:
    """Predictions and confusion matrix of ``model`` on ``split``; None when stopped."""
    parts = []
    for start in range(0, len(split), STOP_CHECK_IMAGES):
        if should_stop():
            return None
        part = DataSplit(split.images[start:start + STOP_CHECK_IMAGES], split.labels[start:start + STOP_CHECK_IMAGES])
        parts.append(predict_split(model, part))
    probs = torch.cat(parts) if parts else torch.empty(0, 10)
    labels = split.labels.numpy().astype(np.int64)
    predicted = probs.argmax(1).numpy().astype(np.int64)
    classes = probs.shape[1]
    confusion = np.bincount(labels * classes + predicted, minlength=classes * classes).reshape(classes, classes)
    return EvaluationResult(loaded=loaded, dataset_key=dataset_key, images=split.images.numpy(), labels=labels,
                            probabilities=probs.numpy().astype(np.float32), predicted=predicted,
                            confusion=confusion.astype(np.int64))
