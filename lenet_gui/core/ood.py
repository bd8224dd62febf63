"""Out-of-distribution: does an input look like what the model was trained on?

A classifier always names one of its classes, even for a photo of a shoe given to the digit
model or for a page of noise. The score here is the energy of the logits, minus the log of
the sum of their exponentials (Liu et al., "Energy-based out-of-distribution detection", 2020):
low when some class fits the input well, high when none does. The bundled models are trained
to keep it high on synthetic outliers (core/augment.py, ``outliers``), which widens the gap.
The threshold is a high quantile of the energies of held-out training images, clean and
imitating real inputs, so that few real inputs are refused.

Measured on this project's evaluation sets, the energy told garments, noise and scenes from
digits far better than the Mahalanobis distance in fc1 or fc2 space, or the top-1 probability:
inputs are binarised and fitted into 20 x 20 pixels before the model sees them, and what that
makes of a garment lies among the bold, blurry digits the model is trained to read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ENERGY = "energy"
METHODS = (ENERGY,)

NOT_LIKE = {
    "digit": "this does not look like a digit",
    "garment": "this does not look like a garment",
}


def unfamiliar_message(input_kind: str) -> str:
    """What to tell a user about an input unlike the training data (English; the window
    translates its own)."""
    return NOT_LIKE.get(input_kind, "this does not look like the training data")


def energy(logits) -> np.ndarray:
    """-log(sum(exp(logits))) per row (N x classes, or one vector): lower is more familiar."""
    z = np.asarray(logits, dtype=np.float64)
    z = z.reshape(-1, z.shape[-1])
    top = z.max(axis=1)
    return -(top + np.log(np.exp(z - top[:, None]).sum(axis=1)))


class UnknownMethod(ValueError):
    """A detector of a kind this version does not know (written by a newer one)."""


@dataclass(frozen=True)
class OodDetector:
    threshold: float  # a score above it is "not like the training data"
    method: str = ENERGY
    quantile: float | None = None  # of the accepted held-out scores that set the threshold

    def scores(self, logits) -> np.ndarray:
        return energy(logits)

    def score(self, logits) -> float:
        return float(self.scores(logits)[0])

    def is_unfamiliar(self, score: float) -> bool:
        return not score <= self.threshold  # a NaN score is unfamiliar too

    def unfamiliar(self, logits) -> np.ndarray:
        """is_unfamiliar for each row of logits."""
        return ~(self.scores(logits) <= self.threshold)

    def to_dict(self) -> dict:
        return {"method": self.method, "threshold": float(self.threshold),
                "quantile": None if self.quantile is None else float(self.quantile)}

    @classmethod
    def from_dict(cls, data) -> "OodDetector":
        """Raises ValueError for anything that is not a detector this version can use."""
        if not isinstance(data, dict):
            raise ValueError("the out-of-distribution settings are not a table")
        method = data.get("method")
        if not isinstance(method, str):
            raise ValueError("the out-of-distribution method is not named")
        if method not in METHODS:
            raise UnknownMethod(f"unknown out-of-distribution method {method!r}")
        threshold = data.get("threshold")
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not math.isfinite(threshold):
            raise ValueError("the out-of-distribution threshold is not a finite number")
        quantile = data.get("quantile")
        quantile = float(quantile) if isinstance(quantile, (int, float)) and not isinstance(quantile, bool) else None
        return cls(threshold=float(threshold), method=method, quantile=quantile)


def fit_detector(accept_logits, quantile: float) -> OodDetector:
    """The threshold at ``quantile`` of the scores of inputs the model should accept."""
    scores = energy(accept_logits)
    return OodDetector(threshold=float(np.quantile(scores, quantile)), quantile=quantile)
