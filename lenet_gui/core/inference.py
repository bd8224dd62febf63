"""Probabilities, every layer's activations and saliency for one input."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .checkpoint import LoadedModel
from .evaluation import mean_with_mirror
from .model import LAYER_NAMES
from .preprocess import Preprocessed, preprocess_image

SALIENCY_METHODS = ("gradient", "gradcam")


@dataclass
class Prediction:
    probabilities: np.ndarray  # (10,), sums to 1
    index: int  # the top class
    label: str
    activations: dict[str, np.ndarray]  # layer name -> one sample's output, in LAYER_NAMES order
    # What the probabilities are the softmax of (over the temperature): the "logits" activation,
    # or its mean with the mirror image's for a model read by both (Calibration.average_mirror).
    logits: np.ndarray | None = None
    # The out-of-distribution score (core/ood.py) and its verdict; None and False for a model
    # without a detector.
    novelty: float | None = None
    unfamiliar: bool = False

    @property
    def confidence(self) -> float:
        return float(self.probabilities[self.index])


class Predictor:
    """Runs one loaded model on single inputs. Not thread-safe: one Predictor per thread."""

    def __init__(self, loaded: LoadedModel):
        self.loaded = loaded
        self.model = loaded.model.eval()
        self.calibration = loaded.calibration

    @property
    def classes(self) -> list[str]:
        return self.loaded.classes

    def predict(self, x: torch.Tensor) -> Prediction:
        """``x``: 1 x 28 x 28 (or 28 x 28) in [0, 1]."""
        x = x.reshape(1, 1, 28, 28).float()
        with torch.inference_mode():
            logits, acts = self.model(x, return_activations=True)
        activations = {name: acts[name][0].numpy().copy() for name in LAYER_NAMES}
        logits = logits.double().numpy()
        if self.calibration.average_mirror:
            logits = mean_with_mirror(self.model, x, logits)
        logits = logits[0]
        # The checkpoint's temperature makes the percentages match how often they are right.
        probs = self.calibration.probabilities(logits)
        index = int(np.argmax(probs))
        novelty, unfamiliar = None, False
        detector = self.calibration.ood
        if detector is not None:
            novelty = detector.score(logits)
            unfamiliar = detector.is_unfamiliar(novelty)
        return Prediction(
            probabilities=probs,
            index=index,
            label=self.classes[index],
            activations=activations,
            logits=logits,
            novelty=novelty,
            unfamiliar=unfamiliar,
        )

    def saliency(self, x: torch.Tensor, class_index: int, method: str = "gradient") -> np.ndarray:
        """A 28 x 28 map in [0, 1] of how much each input pixel drove ``class_index``'s score.

        ``gradient``: |d logit / d pixel| (Simonyan et al.). ``gradcam``: Grad-CAM on conv2's
        feature maps, upsampled from 8 x 8 to the 28 x 28 input (Selvaraju et al.).
        """
        if method not in SALIENCY_METHODS:
            raise ValueError(f"unknown saliency method {method!r}")
        if not 0 <= class_index < len(self.classes):
            raise ValueError(f"class index {class_index} out of range")
        x = x.reshape(1, 1, 28, 28).float().clone().requires_grad_(True)
        with torch.enable_grad():
            logits, acts = self.model(x, return_activations=True)
            if method == "gradient":
                (grad,) = torch.autograd.grad(logits[0, class_index], x)
                heat = grad[0, 0].abs()
            else:
                conv2 = acts["conv2"]
                (grad,) = torch.autograd.grad(logits[0, class_index], conv2)
                weights = grad.mean(dim=(2, 3), keepdim=True)
                cam = torch.relu((weights * conv2).sum(1, keepdim=True))
                # conv2's unit (i, j) is centred on input pixel (2i + 6.5, 2j + 6.5): upsampling
                # 8 -> 16 and padding by 6 puts every unit's value over the pixels it sees.
                heat = torch.nn.functional.interpolate(cam, size=(16, 16), mode="bilinear", align_corners=False)
                heat = torch.nn.functional.pad(heat, (6, 6, 6, 6))[0, 0]
        heat = heat.detach().double()
        top = float(heat.max())
        return (heat / top).numpy() if top > 0 else np.zeros((28, 28))


def classify(loaded: LoadedModel, source, predictor: Predictor | None = None) -> tuple[Preprocessed, Prediction | None]:
    """Image (path, bytes, PIL) -> (the model's input, its prediction or None for a blank input)."""
    pre = preprocess_image(source, loaded.input_kind)
    if pre.blank:
        return pre, None
    return pre, (predictor or Predictor(loaded)).predict(pre.tensor)
