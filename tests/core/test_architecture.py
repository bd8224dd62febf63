"""The layer table (shapes, arithmetic, parameters, multiply-adds) against the real modules."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

from lenet_gui.core.architecture import describe, table_lines
from lenet_gui.core.checkpoint import load_checkpoint
from lenet_gui.core.model import LeNet, ModelConfig
from lenet_gui.core.presets import PRESETS, preset_config


def _preset_models():
    for preset in PRESETS:
        for dataset in ("mnist", "fashion-mnist"):
            config = preset_config(preset, dataset)
            yield f"{preset}-{dataset}", LeNet(config.model_config(0.2, 0.3))


MODELS = dict(_preset_models()) | {
    "avg-dropout": LeNet(ModelConfig(pool="avg", dropout=0.3)),
}


def _observed(model: nn.Module) -> list[tuple[str, tuple[int, ...], int]]:
    """(module name, one image's output shape, its own parameter count) of every module that
    ran, in the order it ran, recorded by forward hooks."""
    seen = []
    hooks = [module.register_forward_hook(
        lambda mod, inputs, output, name=name: seen.append((name, tuple(output.shape[1:]), sum(p.numel() for p in mod.parameters()))))
        for name, module in model.named_children()]
    try:
        with torch.no_grad():
            model.eval()(torch.rand(2, 1, 28, 28))
    finally:
        for hook in hooks:
            hook.remove()
    return seen


def _check_against_modules(model: nn.Module) -> None:
    table = describe(model)
    rows = {row.name: row for row in table.rows}
    observed = [entry for entry in _observed(model) if entry[0] in rows or entry[2]]
    # Every module with parameters or a shape of its own is a row, in the order the data meets it.
    assert [name for name, _, _ in observed] == [r.name for r in table.rows if r.name not in ("input", "flatten")]
    for name, shape, params in observed:
        assert rows[name].output_shape == shape, name
        assert rows[name].parameters == params, name
        if rows[name].parameter_formula:  # the formula's arithmetic gives the count it states
            left, right = rows[name].parameter_formula.replace("×", "*").split("=")
            assert eval(left) == params == int(right.replace(",", "")), name
    assert table.total_parameters == sum(p.numel() for p in model.parameters())
    assert rows["flatten"].output_shape == (model.fc1.in_features,)


@pytest.mark.parametrize("name", list(MODELS))
def test_the_table_is_the_models_own_for_every_preset(name):
    _check_against_modules(MODELS[name])


@pytest.mark.parametrize("key", ["mnist", "fashion-mnist"])
def test_the_table_is_the_bundled_models_own(key, bundled_models):
    _check_against_modules(load_checkpoint(bundled_models[key]).model)


def test_classic_is_the_tutorials_walk():
    table = describe(LeNet())
    expected = {  # the LeNet chapter's shape walk and parameter counts
        "conv1": ((6, 24, 24), "28 − 5 + 1 = 24", "6 × (1 × 5 × 5) + 6 = 156"),
        "pool1": ((6, 12, 12), "24 / 2 = 12", ""),
        "conv2": ((16, 8, 8), "12 − 5 + 1 = 8", "16 × (6 × 5 × 5) + 16 = 2,416"),
        "pool2": ((16, 4, 4), "8 / 2 = 4", ""),
        "flatten": ((256,), "16 × 4 × 4 = 256", ""),
        "fc1": ((120,), "256 → 120", "120 × 256 + 120 = 30,840"),
        "fc2": ((84,), "120 → 84", "84 × 120 + 84 = 10,164"),
        "fc3": ((10,), "84 → 10", "10 × 84 + 10 = 850"),
    }
    for name, (shape, arithmetic, params) in expected.items():
        row = table.row(name)
        assert (row.output_shape, row.shape_formula, row.parameter_formula) == (shape, arithmetic, params), name
    assert table.total_parameters == 44_426
    assert table.row("conv1").activation == "Sigmoid"
    # Multiply-adds: each output value of a convolution costs in_channels x 5 x 5, of a linear layer in_features.
    assert table.row("conv1").macs == 6 * 24 * 24 * 25
    assert table.row("conv2").macs == 16 * 8 * 8 * 6 * 25
    assert table.total_macs == 6 * 24 * 24 * 25 + 16 * 8 * 8 * 150 + 256 * 120 + 120 * 84 + 84 * 10
    assert table.printed == str(LeNet())


def test_padding_and_stride_are_read_from_the_modules():
    model = LeNet()
    model.conv1 = nn.Conv2d(1, 6, 5, padding=2)  # d2l's variant: 28 + 2 × 2 − 5 + 1 = 28
    model.pool1 = nn.MaxPool2d(3, 2)
    table = describe(model)
    assert table.row("conv1").shape_formula == "28 + 2 × 2 − 5 + 1 = 28"
    assert table.row("conv1").detail.endswith("padding 2")
    # (28 − 3) / 2 + 1 rounds down: the last column is never under the window
    assert table.row("pool1").shape_formula == "⌊(28 − 3) / 2⌋ + 1 = 13"
    assert table.row("pool1").output_shape == (6, 13, 13)
    assert table.row("conv2").shape_formula == "13 − 5 + 1 = 9"
    strided = LeNet()
    strided.conv1 = nn.Conv2d(1, 6, 4, stride=2)  # (28 − 4) / 2 + 1: the window ends on the last column
    strided.fc1 = nn.Linear(16 * 1 * 1, 120)  # 13 → 6 → 2 → 1
    assert describe(strided).row("conv1").shape_formula == "(28 − 4) / 2 + 1 = 13"
    assert describe(strided).row("conv1").detail == "4 × 4, 1 → 6, stride 2"
    # ⌊9 / 2⌋ = 4 still gives fc1 its 256 inputs; a pooling that keeps 9 × 9 does not, and the
    # table says so instead of printing shapes the model cannot run
    model.pool2 = nn.MaxPool2d(1, 1)
    with pytest.raises(ValueError, match="fc1 expects 256 inputs, but gets 1296"):
        describe(model)


def test_batch_norm_rows_carry_their_scale_and_shift():
    model = LeNet(ModelConfig(activation="relu", batch_norm=True))
    table = describe(model)
    assert table.row("conv1").parameter_formula == "6 × (1 × 5 × 5) = 150"  # no bias before batch norm
    assert table.row("bn1").parameter_formula == "2 × 6 = 12"
    assert table.row("bn1").activation == "ReLU" and table.row("conv1").activation == ""
    model.bn1 = nn.BatchNorm2d(6, affine=False)  # only running statistics: nothing to learn
    assert (describe(model).row("bn1").parameters, describe(model).row("bn1").parameter_formula) == (0, "")


def test_text_table_lines_up_and_ends_with_the_totals():
    lines = table_lines(describe(LeNet()))
    assert lines[0].split() == ["layer", "kind", "output", "shape", "arithmetic", "parameters", "multiply-adds"]
    assert re.fullmatch(r"total\s+44,426\s+281,640", lines[-1])
    assert len({len(line) for line in lines[1::len(lines) - 3]}) == 1  # the two rules are as wide
    pool1 = next(line for line in lines if line.startswith("pool1"))
    assert pool1.split()[-2:] == ["0", "0"]  # no parameters, no multiply-adds
    assert next(line for line in lines if line.startswith("flatten")).split()[1] == "Flatten"
