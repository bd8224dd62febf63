"""The network as the tutorial walks through it: each layer's output shape with the arithmetic
that produces it, its parameter count with the formula, and its multiply-adds per image.

Everything is read from the model's own modules (kernel sizes, strides, padding, channel and
feature counts, whether a bias or batch norm is there), walked in the order they are
registered, which is the order data flows through LeNet. ``lenet-gui summary`` prints the
table; the window's Network tab draws it.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from .model import LeNet

INPUT_SHAPE = (1, 28, 28)
MINUS = "\u2212"  # −, as the tutorial prints the arithmetic
TIMES = "\u00d7"  # ×
ARROW = "\u2192"  # →
FLOOR_OPEN, FLOOR_CLOSE = "\u230a", "\u230b"  # ⌊ ⌋


@dataclass(frozen=True)
class LayerRow:
    name: str  # the module's name in the model ("conv1", "bn1", "pool1"), "input" or "flatten"
    kind: str  # the module's class ("Conv2d", "BatchNorm2d", "MaxPool2d", "Linear", ...)
    detail: str  # "5 × 5, 1 → 6", "2 × 2, stride 2", ...
    output_shape: tuple[int, ...]  # one image's output
    shape_formula: str  # "28 − 5 + 1 = 24"; "" when the shape does not change
    parameters: int
    parameter_formula: str  # "6 × (1 × 5 × 5) + 6 = 156"; "" without parameters
    macs: int  # multiply-adds for one image
    mac_formula: str
    activation: str = ""  # the activation module applied right after ("Sigmoid", "ReLU"), if any
    dropout: float = 0.0  # the dropout after it (inactive in evaluation)

    @property
    def shape_text(self) -> str:
        return shape_text(self.output_shape)


@dataclass(frozen=True)
class Architecture:
    rows: tuple[LayerRow, ...]
    printed: str  # the model as print(net) shows it

    @property
    def total_parameters(self) -> int:
        return sum(row.parameters for row in self.rows)

    @property
    def total_macs(self) -> int:
        return sum(row.macs for row in self.rows)

    def row(self, name: str) -> LayerRow:
        return next(row for row in self.rows if row.name == name)


def number(value: int) -> str:
    return f"{value:,}"


def shape_text(shape: tuple[int, ...]) -> str:
    return f" {TIMES} ".join(str(d) for d in shape)


def _pair(value) -> tuple[int, int]:
    return (int(value[0]), int(value[1])) if isinstance(value, (tuple, list)) else (int(value), int(value))


def window_output(size: int, kernel: int, stride: int, padding: int, pooling: bool = False) -> tuple[int, str]:
    """The output length of a sliding window over ``size`` values, and its arithmetic."""
    out = (size + 2 * padding - kernel) // stride + 1
    padded = f"{size} + 2 {TIMES} {padding}" if padding else str(size)
    if pooling and kernel == stride and not padding and size % stride == 0:
        return out, f"{size} / {stride} = {out}"
    if stride == 1:
        return out, f"{padded} {MINUS} {kernel} + 1 = {out}"
    exact = (size + 2 * padding - kernel) % stride == 0
    inner = f"({padded} {MINUS} {kernel}) / {stride}"
    if not exact:  # the window does not reach the last values: rounded down
        inner = FLOOR_OPEN + inner + FLOOR_CLOSE
    return out, f"{inner} + 1 = {out}"


def _spatial(height: int, width: int, kernel, stride, padding, dilation=1, pooling: bool = False):
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = _pair(kernel), _pair(stride), _pair(padding), _pair(dilation)
    kh, kw = dh * (kh - 1) + 1, dw * (kw - 1) + 1  # a dilated kernel's reach
    out_h, text_h = window_output(height, kh, sh, ph, pooling)
    out_w, text_w = window_output(width, kw, sw, pw, pooling)
    text = text_h if text_h == text_w else f"H: {text_h}; W: {text_w}"
    return out_h, out_w, text


def _conv_row(name: str, conv: nn.Conv2d, shape: tuple[int, ...]) -> LayerRow:
    _, height, width = shape
    out_h, out_w, formula = _spatial(height, width, conv.kernel_size, conv.stride, conv.padding, conv.dilation)
    kh, kw = conv.kernel_size
    per_filter = conv.in_channels // conv.groups
    out = conv.out_channels
    weights = out * per_filter * kh * kw
    bias = out if conv.bias is not None else 0
    params_text = f"{out} {TIMES} ({per_filter} {TIMES} {kh} {TIMES} {kw})" + (f" + {bias}" if bias else "")
    macs = out * out_h * out_w * per_filter * kh * kw
    detail = f"{kh} {TIMES} {kw}, {conv.in_channels} {ARROW} {out}"
    stride, padding = _pair(conv.stride), _pair(conv.padding)
    if stride != (1, 1):
        detail += f", stride {stride[0] if stride[0] == stride[1] else stride}"
    if padding != (0, 0):
        detail += f", padding {padding[0] if padding[0] == padding[1] else padding}"
    return LayerRow(
        name, type(conv).__name__, detail, (out, out_h, out_w), formula, weights + bias,
        f"{params_text} = {number(weights + bias)}", macs,
        f"{out} {TIMES} {out_h} {TIMES} {out_w} {TIMES} ({per_filter} {TIMES} {kh} {TIMES} {kw}) = {number(macs)}",
    )


def _pool_row(name: str, pool: nn.Module, shape: tuple[int, ...]) -> LayerRow:
    channels, height, width = shape
    out_h, out_w, formula = _spatial(height, width, pool.kernel_size, pool.stride or pool.kernel_size,
                                     pool.padding, getattr(pool, "dilation", 1), pooling=True)
    kernel, stride = _pair(pool.kernel_size), _pair(pool.stride or pool.kernel_size)
    detail = f"{kernel[0]} {TIMES} {kernel[1]}, stride {stride[0] if stride[0] == stride[1] else stride}"
    return LayerRow(name, type(pool).__name__, detail, (channels, out_h, out_w), formula, 0, "", 0, "")


def _linear_row(name: str, linear: nn.Linear, shape: tuple[int, ...]) -> LayerRow:
    (inputs,) = shape
    if inputs != linear.in_features:
        raise ValueError(f"{name} expects {linear.in_features} inputs, but gets {inputs}")
    out = linear.out_features
    bias = out if linear.bias is not None else 0
    params = out * inputs + bias
    return LayerRow(
        name, type(linear).__name__, f"{inputs} {ARROW} {out}", (out,), f"{inputs} {ARROW} {out}", params,
        f"{out} {TIMES} {inputs}" + (f" + {bias}" if bias else "") + f" = {number(params)}",
        out * inputs, f"{out} {TIMES} {inputs} = {number(out * inputs)}",
    )


def _batch_norm_row(name: str, bn: nn.modules.batchnorm._BatchNorm, shape: tuple[int, ...]) -> LayerRow:
    features = bn.num_features
    params = 2 * features if bn.affine else 0
    elements = 1
    for d in shape:
        elements *= d
    # In evaluation batch norm is one affine step per value: (x − mean) / √(var + ε) · γ + β,
    # folded into x · a + b.
    return LayerRow(
        name, type(bn).__name__, f"{features} {'channels' if len(shape) > 1 else 'features'}", shape, "", params,
        f"2 {TIMES} {features} = {number(params)}" if params else "", elements,
        f"{shape_text(shape)} = {number(elements)}",
    )


def describe(model: LeNet) -> Architecture:
    """The layer table of ``model`` in data-flow order (its modules in registration order)."""
    mean, std = float(model.input_mean), float(model.input_std)
    detail = "" if (mean, std) == (0.0, 1.0) else f"(x {MINUS} {mean:.4g}) / {std:.4g}"
    rows: list[LayerRow] = [LayerRow("input", "Input", detail, INPUT_SHAPE, "", 0, "", 0, "")]
    shape: tuple[int, ...] = INPUT_SHAPE
    for name, module in model.named_children():
        row = None
        if isinstance(module, nn.Conv2d):
            row = _conv_row(name, module, shape)
        elif isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
            row = _pool_row(name, module, shape)
        elif isinstance(module, nn.Linear):
            if len(shape) > 1:  # the model flattens the maps before its first linear layer
                flat = 1
                for d in shape:
                    flat *= d
                rows.append(LayerRow("flatten", "Flatten", "", (flat,), f"{shape_text(shape)} = {flat}", 0, "", 0, ""))
                shape = (flat,)
            row = _linear_row(name, module, shape)
        elif isinstance(module, nn.modules.batchnorm._BatchNorm):
            row = _batch_norm_row(name, module, shape)
        elif isinstance(module, (nn.Sigmoid, nn.ReLU, nn.Tanh)):
            rows[-1] = _with(rows[-1], activation=type(module).__name__)
        elif isinstance(module, nn.Dropout):
            rows[-1] = _with(rows[-1], dropout=float(module.p))
        elif isinstance(module, nn.Identity):
            pass
        else:
            raise ValueError(f"the layer table does not know {name}: {type(module).__name__}")
        if row is not None:
            rows.append(row)
            shape = row.output_shape
    return Architecture(tuple(rows), str(model))


def _with(row: LayerRow, **changes) -> LayerRow:
    from dataclasses import replace

    return replace(row, **changes)


HEADERS = ("layer", "kind", "output", "shape arithmetic", "parameters", "multiply-adds")


def table_lines(architecture: Architecture) -> list[str]:
    """The table as plain text lines, for the command line."""
    body = []
    for row in architecture.rows:
        kind = row.kind + (f" + {row.activation}" if row.activation else "")
        if row.dropout:
            kind += f" + Dropout({row.dropout:g})"
        if row.detail:
            kind += f" [{row.detail}]"
        body.append((row.name, kind, row.shape_text, row.shape_formula,
                     row.parameter_formula or "0", number(row.macs) if row.macs else "0"))
    total = ("total", "", "", "", number(architecture.total_parameters), number(architecture.total_macs))
    widths = [max(len(line[i]) for line in (HEADERS, *body, total)) for i in range(len(HEADERS))]

    def line(cells) -> str:
        left = [cell.ljust(width) for cell, width in zip(cells[:4], widths)]
        right = [cell.rjust(width) for cell, width in zip(cells[4:], widths[4:])]
        return "  ".join(left + right).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return [line(HEADERS), rule, *(line(row) for row in body), rule, line(total)]
