"""Whether a model's percentages mean what they say: reliability bins, the expected calibration
error, and temperature scaling.

A model is calibrated when, of all the inputs it gives about 80% to, about 80% are right.
:func:`reliability_bins` sorts predictions by their top-1 probability into equal-width bins
(the data of a reliability diagram: per bin, how confident the model was and how often it was
right); :func:`expected_calibration_error` is the gap between the two, weighted by how many
predictions each bin holds (Guo et al., "On calibration of modern neural networks", 2017, with
their 15 bins). :func:`fit_temperature` finds the one number T that divides the logits before
the softmax to make held-out predictions as likely as possible; it never changes which class
wins, only how sure the model says it is.

No Qt here: the command line, the window and the tests all call these functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .ood import OodDetector

ECE_BINS = 15
TEMPERATURE_RANGE = (0.05, 20.0)


@dataclass(frozen=True)
class ReliabilityBin:
    lower: float  # the bin holds top-1 probabilities in (lower, upper]
    upper: float
    count: int
    confidence: float  # mean top-1 probability of its predictions (nan when empty)
    accuracy: float  # share of them that are right (nan when empty)

    @property
    def gap(self) -> float:
        """Confidence minus accuracy: above 0 the model claims more than it delivers."""
        return self.confidence - self.accuracy


def _top1(probabilities, labels) -> tuple[np.ndarray, np.ndarray]:
    probs = np.asarray(probabilities, dtype=np.float64)
    labels = np.asarray(labels).astype(np.int64).reshape(-1)
    if probs.ndim != 2 or probs.shape[0] != labels.shape[0]:
        raise ValueError("probabilities must be N x classes and labels N long")
    return probs.max(axis=1), probs.argmax(axis=1) == labels


def reliability_bins(probabilities, labels, bins: int = ECE_BINS) -> list[ReliabilityBin]:
    """``bins`` equal-width bins of top-1 probability over [0, 1], each with its count, mean
    confidence and accuracy: the bars of a reliability diagram. ``probabilities``: N x classes
    (rows sum to 1); ``labels``: N true class indices."""
    if bins < 1:
        raise ValueError("bins must be at least 1")
    confidence, correct = _top1(probabilities, labels)
    index = np.clip(np.ceil(confidence * bins).astype(np.int64) - 1, 0, bins - 1)
    result = []
    for b in range(bins):
        members = index == b
        count = int(members.sum())
        result.append(ReliabilityBin(
            lower=b / bins, upper=(b + 1) / bins, count=count,
            confidence=float(confidence[members].mean()) if count else math.nan,
            accuracy=float(correct[members].mean()) if count else math.nan,
        ))
    return result


def expected_calibration_error(probabilities, labels, bins: int = ECE_BINS) -> float:
    """Sum over the bins of (share of predictions in the bin) x |accuracy - confidence|."""
    table = reliability_bins(probabilities, labels, bins)
    total = sum(b.count for b in table)
    if total == 0:
        return math.nan
    return float(sum(b.count / total * abs(b.accuracy - b.confidence) for b in table if b.count))


@dataclass(frozen=True)
class CalibrationReport:
    count: int
    accuracy: float
    mean_confidence: float  # mean top-1 probability
    ece: float
    bins: tuple[ReliabilityBin, ...]


def calibration_report(probabilities, labels, bins: int = ECE_BINS) -> CalibrationReport:
    confidence, correct = _top1(probabilities, labels)
    table = tuple(reliability_bins(probabilities, labels, bins))
    return CalibrationReport(
        count=int(confidence.size),
        accuracy=float(correct.mean()) if confidence.size else math.nan,
        mean_confidence=float(confidence.mean()) if confidence.size else math.nan,
        ece=expected_calibration_error(probabilities, labels, bins),
        bins=table,
    )


def softmax(logits, temperature: float = 1.0) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64) / float(temperature)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def negative_log_likelihood(logits, labels, temperature: float = 1.0) -> float:
    z = np.asarray(logits, dtype=np.float64) / float(temperature)
    labels = np.asarray(labels).astype(np.int64).reshape(-1)
    m = z.max(axis=1, keepdims=True)
    log_norm = (m[:, 0] + np.log(np.exp(z - m).sum(axis=1)))
    return float((log_norm - z[np.arange(len(labels)), labels]).mean())


def fit_temperature(logits, labels, tolerance: float = 1e-5) -> float:
    """The temperature T > 0 that minimises the mean negative log-likelihood of
    softmax(logits / T) on held-out data. The likelihood is convex in 1/T, so a golden-section
    search over 1/T finds the one minimum; the result is clipped to TEMPERATURE_RANGE."""
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim != 2 or len(logits) == 0:
        raise ValueError("logits must be a non-empty N x classes array")
    lo, hi = 1.0 / TEMPERATURE_RANGE[1], 1.0 / TEMPERATURE_RANGE[0]
    ratio = (math.sqrt(5) - 1) / 2

    def loss(beta: float) -> float:
        return negative_log_likelihood(logits, labels, 1.0 / beta)

    a, b = lo, hi
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = loss(c), loss(d)
    while b - a > tolerance * max(1.0, a):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = loss(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = loss(d)
    beta = (a + b) / 2
    return float(min(max(1.0 / beta, TEMPERATURE_RANGE[0]), TEMPERATURE_RANGE[1]))


@dataclass(frozen=True)
class Calibration:
    """What a checkpoint says about reading and trusting its outputs: the temperature that
    divides its logits, the detector of inputs unlike its training data (None: no such check),
    and whether an input is read together with its mirror image.
    A checkpoint without this block loads as ``Calibration()``: temperature 1, no detector."""

    temperature: float = 1.0
    ood: "OodDetector | None" = None
    details: dict | None = None  # how and on what it was fitted (plain values, for people)
    # The logits behind every probability (and the detector's score) are the mean of the
    # image's and of its left-right mirror image's: for a model trained on mirrored images,
    # to which an image and its mirror are the same class (garments, not digits).
    average_mirror: bool = False

    def probabilities(self, logits) -> np.ndarray:
        """softmax(logits / temperature), row by row: the one place where the temperature meets
        the logits, for every probability the window, the CLI and the evaluation show."""
        return softmax(logits, self.temperature)

    def unfamiliar(self, logits) -> np.ndarray | None:
        """Per row of logits, whether the detector calls the input unlike the training data;
        None without a detector."""
        return None if self.ood is None else self.ood.unfamiliar(logits)

    def to_metadata(self) -> dict:
        block = {"temperature": float(self.temperature)}
        if self.average_mirror:
            block["average_mirror"] = True
        if self.ood is not None:
            block["ood"] = self.ood.to_dict()
        if self.details:
            block["details"] = dict(self.details)
        return block

    @classmethod
    def from_metadata(cls, metadata) -> "Calibration":
        """The ``calibration`` block of a checkpoint's metadata; ``Calibration()`` when there
        is none. Raises ValueError for a block that is there but unusable."""
        block = metadata.get("calibration") if isinstance(metadata, dict) else None
        if block is None:
            return cls()
        if not isinstance(block, dict):
            raise ValueError("the calibration block is not a table")
        temperature = block.get("temperature", 1.0)
        if (isinstance(temperature, bool) or not isinstance(temperature, (int, float))
                or not TEMPERATURE_RANGE[0] <= temperature <= TEMPERATURE_RANGE[1]):
            raise ValueError(
                f"the temperature must be a number from {TEMPERATURE_RANGE[0]} to {TEMPERATURE_RANGE[1]}, "
                f"not {temperature!r}")
        from .ood import OodDetector, UnknownMethod

        try:
            ood = OodDetector.from_dict(block["ood"]) if block.get("ood") is not None else None
        except UnknownMethod:
            ood = None  # a newer version's detector: the model still works, without the check
        average_mirror = block.get("average_mirror", False)
        if not isinstance(average_mirror, bool):
            raise ValueError(f"average_mirror must be true or false, not {average_mirror!r}")
        details = block.get("details") if isinstance(block.get("details"), dict) else None
        return cls(temperature=float(temperature), ood=ood, details=details, average_mirror=average_mirror)
