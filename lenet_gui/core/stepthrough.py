"""How one value of one layer is made, from the model's own weights and the input's activations.

For a convolution: the receptive field on its input (and its reach on the 28 x 28 image), the
kernel, the element-wise products, their sum plus the bias, batch norm's affine step with its
running statistics, and the activation. For pooling: the window and its maximum (or mean). For
a fully connected unit: its inputs, weights and products (the largest contributions first),
plus the bias, batch norm and the activation. The final value equals the activation the forward
pass gives at that position (tests/core/test_stepthrough.py).

The activations come from ``core.inference.Predictor.predict`` (``Prediction.activations``);
the input image is the 28 x 28 tensor in [0, 1] the model receives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .model import LAYER_SHAPES, LeNet

INPUT = "input"
# Each explained layer: the modules it applies in order (named as in LeNet), and what it reads.
STEP_LAYERS: dict[str, tuple[tuple[str, ...], str]] = {
    "conv1": (("conv1", "bn1", "act1"), INPUT),
    "pool1": (("pool1",), "conv1"),
    "conv2": (("conv2", "bn2", "act2"), "pool1"),
    "pool2": (("pool2",), "conv2"),
    "fc1": (("fc1", "bn3", "act3"), "pool2"),
    "fc2": (("fc2", "bn4", "act4"), "fc1"),
    "logits": (("fc3",), "fc2"),
}
STEP_LAYER_NAMES = tuple(STEP_LAYERS)
TOP_CONTRIBUTIONS = 8
# The spatial layers before the fully connected ones, in data-flow order (for the reach on the image).
_SPATIAL = ("conv1", "pool1", "conv2", "pool2")


@dataclass(frozen=True)
class BatchNormStep:
    mean: float  # running mean
    var: float  # running variance
    eps: float
    gamma: float
    beta: float
    before: float
    after: float  # (before − mean) / √(var + eps) · gamma + beta


class _WeightedSum:
    """What a convolution's value and a fully connected unit's share: the sum of their
    ``products``, then the bias or batch norm, before the activation."""

    products: np.ndarray
    bias: float | None
    batch_norm: BatchNormStep | None

    @property
    def total(self) -> float:
        return float(self.products.sum())

    @property
    def pre_activation(self) -> float:
        """After the bias and batch norm, before the activation."""
        if self.batch_norm is not None:
            return self.batch_norm.after
        return self.total + (self.bias or 0.0)


@dataclass(frozen=True)
class ConvStep(_WeightedSum):
    layer: str
    position: tuple[int, int, int]  # channel, row, column of the output
    source: str  # the layer it reads: "input" or "pool1"
    rows: tuple[int, int]  # the window on the source, [start, stop) (may reach into the padding)
    cols: tuple[int, int]
    inputs: np.ndarray  # in_channels x k x k: what the kernel sees (conv1: the normalised input)
    weights: np.ndarray  # in_channels x k x k
    products: np.ndarray  # inputs * weights
    bias: float | None
    batch_norm: BatchNormStep | None
    activation: str  # the activation module's class name, "" without one
    result: float  # what these numbers give: the activation module applied to pre_activation
    value: float  # the layer's output at ``position`` in the forward pass
    reach: tuple[int, int, int, int]  # rows [r0, r1) and columns [c0, c1) of the 28 x 28 image

    @property
    def channel_sums(self) -> np.ndarray:
        return self.products.reshape(self.products.shape[0], -1).sum(1)


@dataclass(frozen=True)
class PoolStep:
    layer: str
    position: tuple[int, int, int]
    source: str
    rows: tuple[int, int]
    cols: tuple[int, int]
    inputs: np.ndarray  # k x k: the window on the source's channel
    kind: str  # "max" or "avg"
    chosen: tuple[int, int] | None  # the maximum's place in the window (max pooling)
    result: float  # the window's maximum or mean
    value: float
    reach: tuple[int, int, int, int]


@dataclass(frozen=True)
class Contribution:
    index: int  # the input's index (for fc1: into pool2's flattened 16 x 4 x 4)
    input: float
    weight: float

    @property
    def product(self) -> float:
        return self.input * self.weight


@dataclass(frozen=True)
class DenseStep(_WeightedSum):
    layer: str
    position: tuple[int]  # the unit
    source: str
    source_shape: tuple[int, ...]  # the source's shape before flattening (pool2: 16 x 4 x 4)
    inputs: np.ndarray  # (n,)
    weights: np.ndarray  # (n,)
    bias: float | None
    batch_norm: BatchNormStep | None
    activation: str
    result: float
    value: float

    @property
    def products(self) -> np.ndarray:
        return self.inputs * self.weights

    def top(self, count: int = TOP_CONTRIBUTIONS) -> list[Contribution]:
        """The ``count`` largest contributions by size, largest first."""
        order = np.argsort(-np.abs(self.products), kind="stable")[:count]
        return [Contribution(int(i), float(self.inputs[i]), float(self.weights[i])) for i in order]

    @property
    def rest(self) -> float:
        """The sum of the contributions ``top()`` leaves out."""
        shown = sum(c.product for c in self.top())
        return self.total - shown


Step = ConvStep | PoolStep | DenseStep


def positions(layer: str) -> tuple[int, ...]:
    """The shape of ``layer``'s output: (channels, rows, columns) or (units,)."""
    return LAYER_SHAPES[layer]


def _pair(value) -> tuple[int, int]:
    return (int(value[0]), int(value[1])) if isinstance(value, (tuple, list)) else (int(value), int(value))


def _window(module: nn.Module) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    stride = getattr(module, "stride", None) or module.kernel_size
    return _pair(module.kernel_size), _pair(stride), _pair(module.padding)


def reach(model: LeNet, layer: str, row: int, col: int) -> tuple[int, int, int, int]:
    """The rows [r0, r1) and columns [c0, c1) of the 28 x 28 image that output (row, col) of
    spatial ``layer`` depends on, composed back through every window before it."""
    r0, r1, c0, c1 = row, row, col, col  # inclusive ranges while walking back
    for name in reversed(_SPATIAL[: _SPATIAL.index(layer) + 1]):
        module = getattr(model, STEP_LAYERS[name][0][0])
        (kh, kw), (sh, sw), (ph, pw) = _window(module)
        r0, r1 = r0 * sh - ph, r1 * sh - ph + kh - 1
        c0, c1 = c0 * sw - pw, c1 * sw - pw + kw - 1
    return max(r0, 0), min(r1, 27) + 1, max(c0, 0), min(c1, 27) + 1


def _batch_norm(module: nn.Module, index: int, before: float) -> BatchNormStep | None:
    if not isinstance(module, nn.modules.batchnorm._BatchNorm):
        return None
    mean, var = float(module.running_mean[index]), float(module.running_var[index])
    gamma = float(module.weight[index]) if module.weight is not None else 1.0
    beta = float(module.bias[index]) if module.bias is not None else 0.0
    after = (before - mean) / np.sqrt(var + module.eps) * gamma + beta
    return BatchNormStep(mean, var, float(module.eps), gamma, beta, before, float(after))


def _activate(module: nn.Module | None, value: float) -> tuple[str, float]:
    """The activation's name and the value it gives, by the model's own module."""
    if module is None or isinstance(module, nn.Identity):
        return "", value
    with torch.no_grad():
        return type(module).__name__, float(module(torch.tensor(value, dtype=torch.float64)))


def _source(model: LeNet, image: np.ndarray, activations: dict, source: str) -> np.ndarray:
    if source == INPUT:
        # What conv1 receives: the image after the model's own input normalisation.
        x = np.asarray(image, dtype=np.float64).reshape(1, 28, 28)
        return (x - float(model.input_mean)) / float(model.input_std)
    return np.asarray(activations[source], dtype=np.float64)


def explain(model: LeNet, image, activations: dict, layer: str, position: tuple[int, ...]) -> Step:
    """How ``layer``'s output at ``position`` ((channel, row, col), or (unit,) for fc layers) is
    computed for ``image`` (28 x 28 in [0, 1]) whose activations by layer are ``activations``."""
    if layer not in STEP_LAYERS:
        raise ValueError(f"unknown layer {layer!r}; one of {', '.join(STEP_LAYERS)}")
    shape = np.asarray(activations[layer]).shape  # the model's own (a variant may differ from LeNet's)
    position = tuple(int(p) for p in position)
    if len(position) != len(shape) or not all(0 <= p < n for p, n in zip(position, shape)):
        raise ValueError(f"position {position} is outside {layer}'s {' x '.join(map(str, shape))}")
    names, source = STEP_LAYERS[layer]
    modules = [getattr(model, name) for name in names]
    value = float(np.asarray(activations[layer])[position])
    data = _source(model, image, activations, source)
    first = modules[0]
    with torch.no_grad():  # the weights are read, never differentiated
        if isinstance(first, nn.Conv2d):
            return _explain_conv(model, layer, position, source, data, modules, value)
        if isinstance(first, (nn.MaxPool2d, nn.AvgPool2d)):
            return _explain_pool(model, layer, position, source, data, first, value)
        return _explain_dense(layer, position, source, data, modules, value)


def _explain_conv(model, layer, position, source, data, modules, value) -> ConvStep:
    conv, bn, act = (modules + [None, None])[:3]
    channel, row, col = position
    (kh, kw), (sh, sw), (ph, pw) = _window(conv)
    padded = np.pad(data, ((0, 0), (ph, ph), (pw, pw))) if ph or pw else data
    r, c = row * sh, col * sw
    inputs = padded[:, r : r + kh, c : c + kw]
    weights = conv.weight[channel].detach().double().numpy()
    products = inputs * weights
    bias = float(conv.bias[channel]) if conv.bias is not None else None
    total = float(products.sum()) + (bias or 0.0)
    norm = _batch_norm(bn, channel, total) if bn is not None else None
    activation, result = _activate(act, norm.after if norm else total)
    return ConvStep(layer, position, source, (r - ph, r - ph + kh), (c - pw, c - pw + kw), inputs, weights,
                    products, bias, norm, activation, result, value, reach(model, layer, row, col))


def _explain_pool(model, layer, position, source, data, pool, value) -> PoolStep:
    channel, row, col = position
    (kh, kw), (sh, sw), (ph, pw) = _window(pool)
    padded = data[channel]
    if ph or pw:
        padded = np.pad(padded, ((ph, ph), (pw, pw)), constant_values=-np.inf if isinstance(pool, nn.MaxPool2d) else 0)
    r, c = row * sh, col * sw
    window = padded[r : r + kh, c : c + kw]
    if isinstance(pool, nn.MaxPool2d):
        kind = "max"
        # The first of equal values, in reading order, as max_pool2d chooses.
        chosen = tuple(int(i) for i in np.unravel_index(int(np.argmax(window)), window.shape))
        result = float(window[chosen])
    else:
        kind, chosen = "avg", None
        # count_include_pad: the padding's zeros count, as AvgPool2d does by default
        result = float(window.sum() / window.size)
    return PoolStep(layer, position, source, (r - ph, r - ph + kh), (c - pw, c - pw + kw), window, kind, chosen,
                    result, value, reach(model, layer, row, col))


def _explain_dense(layer, position, source, data, modules, value) -> DenseStep:
    linear, bn, act = (modules + [None, None])[:3]
    (unit,) = position
    inputs = data.reshape(-1)
    weights = linear.weight[unit].detach().double().numpy()
    bias = float(linear.bias[unit]) if linear.bias is not None else None
    total = float((inputs * weights).sum()) + (bias or 0.0)
    norm = _batch_norm(bn, unit, total) if bn is not None else None
    activation, result = _activate(act, norm.after if norm else total)
    return DenseStep(layer, position, source, tuple(data.shape), inputs, weights, bias, norm, activation, result,
                     value)
