"""A model on a test set: accuracy, per-class accuracy, confusion matrix, the images it gets wrong,
calibration (ECE and the reliability bins) and how much of it the out-of-distribution check
would refuse; and fitting that calibration on held-out training images.

``lenet-gui evaluate``, the trainer's per-epoch test pass and the window's Test set view all
compute their figures here, so they agree to the last digit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from . import augment
from .calibration import (
    ECE_BINS, Calibration, CalibrationReport, calibration_report, expected_calibration_error, fit_temperature, softmax,
)
from .checkpoint import LoadedModel
from .data import DataSplit
from .model import LeNet, memory_format_of
from .ood import fit_detector

# Images per stop check of evaluate_split: a stop request waits for at most this many. A multiple
# of predict_split's batch, so that chunked or not, the same batches reach the network.
STOP_CHECK_IMAGES = 2048

# Share of the held-out images the model should accept (clean, and once more imitating real
# inputs) that the threshold lets through; chosen on the evaluation sets' tuning split.
OOD_ACCEPT_QUANTILE = 0.995


@torch.inference_mode()  # no autograd bookkeeping at all: nothing here is trained on
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
def model_logits(model: LeNet, images: torch.Tensor, batch_size: int = 256,
                 average_mirror: bool = False) -> np.ndarray:
    """Logits (N x classes, float64) for images given as uint8 N x 28 x 28 or floats N x 1 x 28 x 28
    in [0, 1]. ``average_mirror``: each row the mean of the image's logits and of its left-right
    mirror image's (see ``Calibration.average_mirror``)."""
    model.eval()
    out = []
    for start in range(0, len(images), batch_size):
        x = images[start : start + batch_size]
        x = x.float().div(255).unsqueeze(1) if x.dtype == torch.uint8 else x.float()
        x = x.reshape(-1, 1, 28, 28)
        logits = model.fast_logits(x).double().numpy()
        out.append(mean_with_mirror(model, x, logits) if average_mirror else logits)
    return np.concatenate(out) if out else np.zeros((0, model.config.num_classes))


def mean_with_mirror(model: LeNet, x: torch.Tensor, logits: np.ndarray) -> np.ndarray:
    """How a model read with the mirror image (``Calibration.average_mirror``) reads the float
    images ``x`` (N x 1 x 28 x 28) whose own logits are ``logits``: their mean with the logits
    of the mirror images."""
    return (np.asarray(logits, dtype=np.float64) + model_logits(model, x.flip(-1))) / 2


def predict_split(model: LeNet, split: DataSplit, batch_size: int = 256, temperature: float = 1.0) -> torch.Tensor:
    """Class probabilities (N x classes, float32, on the CPU) for every image of a split, the
    logits divided by ``temperature`` first."""
    return torch.from_numpy(softmax(model_logits(model, split.images, batch_size), temperature)).float()


@dataclass
class EvaluationResult:
    loaded: LoadedModel | None
    dataset_key: str
    images: np.ndarray  # uint8, N x 28 x 28
    labels: np.ndarray  # int64, N
    probabilities: np.ndarray  # float32, N x classes
    predicted: np.ndarray  # int64, N
    confusion: np.ndarray  # int64, classes x classes: [true, predicted]
    temperature: float = 1.0  # what divided the logits (the checkpoint's calibration)
    unfamiliar: np.ndarray | None = None  # N booleans from the out-of-distribution check; None without one

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

    def calibration(self, bins: int = ECE_BINS) -> CalibrationReport:
        """Mean top-1 probability, expected calibration error and the reliability bins (the bars
        of a reliability diagram), of the probabilities shown."""
        return calibration_report(self.probabilities, self.labels, bins)

    @property
    def ece(self) -> float:
        return self.calibration().ece

    @property
    def unfamiliar_share(self) -> float | None:
        """Share of the images the out-of-distribution check calls unfamiliar; None without one."""
        if self.unfamiliar is None:
            return None
        return float(self.unfamiliar.mean()) if len(self.unfamiliar) else 0.0

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
                   should_stop: Callable[[], bool] = lambda: False,
                   calibration: Calibration | None = None) -> EvaluationResult | None:
    """Predictions and confusion matrix of ``model`` on ``split``; None when stopped. The
    probabilities are divided by ``calibration``'s temperature (by default the checkpoint's:
    ``loaded.calibration``), as everywhere a probability is shown."""
    if calibration is None:
        calibration = loaded.calibration if loaded is not None else Calibration()
    parts = []
    for start in range(0, len(split), STOP_CHECK_IMAGES):
        if should_stop():
            return None
        parts.append(model_logits(model, split.images[start:start + STOP_CHECK_IMAGES],
                                  average_mirror=calibration.average_mirror))
    logits = np.concatenate(parts) if parts else np.zeros((0, model.config.num_classes))
    probs = calibration.probabilities(logits)
    labels = split.labels.numpy().astype(np.int64)
    predicted = probs.argmax(1).astype(np.int64)
    classes = probs.shape[1]
    confusion = np.bincount(labels * classes + predicted, minlength=classes * classes).reshape(classes, classes)
    unfamiliar = calibration.unfamiliar(logits)
    return EvaluationResult(loaded=loaded, dataset_key=dataset_key, images=split.images.numpy(), labels=labels,
                            probabilities=probs.astype(np.float32), predicted=predicted,
                            confusion=confusion.astype(np.int64), temperature=calibration.temperature,
                            unfamiliar=unfamiliar)


def fit_calibration(model: LeNet, held_out: DataSplit, input_kind: str, seed: int = 0,
                    description: str = "", average_mirror: bool = False) -> Calibration:
    """Temperature and out-of-distribution detector for a trained model, from ``held_out``
    (training images it was not trained on), for the logits the model will be read by
    (``average_mirror``: see ``Calibration.average_mirror``).

    The temperature minimises their negative log-likelihood. The detector's threshold is the
    OOD_ACCEPT_QUANTILE quantile of their scores, clean and once more through the
    ``real-inputs`` augmentation (users' inputs vary that way), so that about that share of
    such inputs is accepted."""
    gen = torch.Generator().manual_seed(seed)
    logits = model_logits(model, held_out.images, average_mirror=average_mirror)
    labels = held_out.labels.numpy()
    temperature = fit_temperature(logits, labels)
    varied = model_logits(model, augment.real_inputs(held_out.images, input_kind, gen), average_mirror=average_mirror)
    detector = fit_detector(np.concatenate([logits, varied]), OOD_ACCEPT_QUANTILE)
    details = {
        "fitted_on": description,
        "images": len(held_out),
        "ece_bins": ECE_BINS,
        "ece_before": expected_calibration_error(softmax(logits), labels),
        "ece_after": expected_calibration_error(softmax(logits, temperature), labels),
    }
    return Calibration(temperature=temperature, ood=detector, details=details, average_mirror=average_mirror)
