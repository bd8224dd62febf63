"""The Network tab: the model's layer table, and the step-through on the current input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw
from PySide6.QtCore import QSettings, Qt

from lenet_gui.core.checkpoint import LoadedModel
from lenet_gui.core.model import LeNet, ModelConfig
from lenet_gui.core.preprocess import preprocess_array
from lenet_gui.ui.network.explanation import num
from lenet_gui.ui.network.tab import NetworkTab
from lenet_gui.ui.session import CurrentInput, Session
from lenet_gui.ui.settings import Settings

# The module whose output is each step-through layer's, for hooks independent of the model's
# own activations-by-layer forward.
OUTPUT_MODULE = {"conv1": "act1", "pool1": "pool1", "conv2": "act2", "pool2": "pool2", "fc1": "act3",
                 "fc2": "act4", "logits": "fc3"}


def make_model(seed: int = 0, **config) -> LoadedModel:
    torch.manual_seed(seed)
    model = LeNet(ModelConfig(**config))
    if model.config.batch_norm:
        with torch.no_grad():
            for bn in (model.bn1, model.bn2, model.bn3, model.bn4):
                bn.running_mean.uniform_(-0.2, 0.2)
                bn.running_var.uniform_(0.5, 1.5)
    return LoadedModel(model=model.eval(), classes=[str(d) for d in range(10)], dataset=None, input_kind="digit",
                       metadata={"title": f"test model {seed}"})


def stroke_input(points) -> CurrentInput:
    canvas = Image.new("L", (280, 280), 0)
    ImageDraw.Draw(canvas).line(points, fill=255, width=18, joint="curve")
    pre = preprocess_array(np.asarray(canvas, dtype=np.float64) / 255.0, "digit")
    return CurrentInput(preprocessed=pre, original=np.asarray(canvas), description="drawing")


SEVEN = [(60, 60), (220, 60), (120, 240)]
ZERO = [(140, 40), (220, 140), (140, 240), (60, 140), (140, 40)]


def hooked(loaded: LoadedModel, current: CurrentInput, layer: str) -> np.ndarray:
    out = {}

    def keep(_module, _inputs, output) -> None:  # returns None: the forward goes on unchanged
        out["y"] = output[0].detach().numpy().copy()

    handle = getattr(loaded.model, OUTPUT_MODULE[layer]).register_forward_hook(keep)
    try:
        with torch.no_grad():
            loaded.model(current.preprocessed.tensor.reshape(1, 1, 28, 28))
    finally:
        handle.remove()
    return out["y"]


@pytest.fixture
def session(qtbot, tmp_path):
    return Session(settings=Settings.wrap(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)))


@pytest.fixture
def tab(qtbot, session):
    widget = NetworkTab(session)
    qtbot.addWidget(widget)
    widget.resize(1024, 560)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()


def _click_cell(qtbot, tab, position) -> None:
    centre = tab.grid.cell_rect(position).center().toPoint()
    qtbot.mouseClick(tab.grid, Qt.MouseButton.LeftButton, pos=centre)


def test_the_table_and_print_net_are_the_current_models(tab, session):
    session.set_model(make_model())
    table = tab.table
    rows = {table.item(r, 0).text(): r for r in range(table.rowCount())}
    assert table.item(rows["conv1"], 3).text() == "28 − 5 + 1 = 24"
    assert table.item(rows["conv1"], 4).text() == "6 × (1 × 5 × 5) + 6 = 156"
    assert table.item(rows["total"], 4).text() == "44,426"
    assert tab.printed.toPlainText() == str(session.current_model.model)
    assert "44,426 parameters" in tab.diagram.totals
    modern = make_model(activation="relu", batch_norm=True)
    session.set_model(modern)
    rows = {table.item(r, 0).text(): r for r in range(table.rowCount())}
    assert "bn1" in rows and table.item(rows["bn1"], 4).text() == "2 × 6 = 12"
    total = sum(p.numel() for p in modern.model.parameters())
    assert table.item(rows["total"], 4).text() == f"{total:,}"
    assert tab.printed.toPlainText() == str(modern.model)


@pytest.mark.parametrize("config", [{}, {"activation": "relu", "batch_norm": True, "input_mean": 0.13, "input_std": 0.31},
                                    {"pool": "avg"}], ids=["sigmoid-max", "relu-bn", "avg"])
def test_clicking_a_value_of_each_layer_explains_that_value(qtbot, tab, session, config):
    session.set_model(make_model(**config))
    session.set_input(stroke_input(SEVEN))
    choices = {"conv1": (2, 9, 13), "pool1": (4, 5, 6), "conv2": (11, 3, 5), "pool2": (7, 2, 1), "fc1": (37,),
               "fc2": (50,), "logits": (7,)}
    for layer, position in choices.items():
        tab.set_layer(layer)
        _click_cell(qtbot, tab, position)
        assert tab.step.position == position, layer
        reference = float(hooked(session.current_model, session.current_input, layer)[position])
        assert abs(tab.step.value - reference) <= 1e-5, layer
        assert abs(tab.step.result - reference) <= 1e-5, layer  # what the shown arithmetic arrives at
        assert f"{reference:.4f}".replace("-", "−") in tab.explanation.result_lines(tab.step)[-1]


def test_arrow_keys_move_to_the_neighbouring_value(qtbot, tab, session):
    session.set_model(make_model())
    session.set_input(stroke_input(SEVEN))
    tab.set_layer("conv1")
    _click_cell(qtbot, tab, (3, 10, 10))
    for key, expected in ((Qt.Key.Key_Right, (3, 10, 11)), (Qt.Key.Key_Down, (3, 11, 11)),
                          (Qt.Key.Key_Left, (3, 11, 10)), (Qt.Key.Key_Up, (3, 10, 10))):
        qtbot.keyClick(tab.grid, key)
        assert tab.step.position == expected
    _click_cell(qtbot, tab, (3, 0, 23))
    qtbot.keyClick(tab.grid, Qt.Key.Key_Right)  # at the edge: stays
    qtbot.keyClick(tab.grid, Qt.Key.Key_Up)
    assert tab.step.position == (3, 0, 23)
    tab.set_layer("fc2")
    _click_cell(qtbot, tab, (13,))
    qtbot.keyClick(tab.grid, Qt.Key.Key_Down)  # the next row of units
    assert tab.step.position == (13 + 12,)


def test_play_sweeps_the_window_and_stop_stops_it(qtbot, tab, session):
    session.set_model(make_model())
    session.set_input(stroke_input(ZERO))
    tab.set_layer("conv2")
    _click_cell(qtbot, tab, (5, 0, 0))
    seen = []
    tab.explained.connect(lambda: seen.append(tab.step.position))
    qtbot.mouseClick(tab.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(seen) >= 4, timeout=5000)
    assert seen[:4] == [(5, 0, 1), (5, 0, 2), (5, 0, 3), (5, 0, 4)]  # reading order across the map
    qtbot.mouseClick(tab.play_button, Qt.MouseButton.LeftButton)
    assert not tab.sweeping
    stopped_at = tab.step.position
    qtbot.wait(3 * 120)
    assert tab.step.position == stopped_at
    # At the map's end the sweep stops by itself.
    _click_cell(qtbot, tab, (5, 7, 6))
    tab.start_sweep()
    qtbot.waitUntil(lambda: not tab.sweeping, timeout=5000)
    assert tab.step.position == (5, 7, 7) and not tab.play_button.isChecked()
    seen.clear()
    tab.start_sweep()  # from the end: again from the start
    qtbot.waitUntil(lambda: len(seen) >= 2, timeout=5000)
    tab.stop_sweep()
    assert seen[:2] == [(5, 0, 0), (5, 0, 1)]


def test_the_tab_follows_the_input_and_the_model(qtbot, tab, session):
    session.set_model(make_model())
    session.set_input(stroke_input(SEVEN))
    tab.set_layer("conv1")
    _click_cell(qtbot, tab, (1, 12, 8))
    session.set_input(stroke_input(ZERO))
    expected = float(hooked(session.current_model, session.current_input, "conv1")[1, 12, 8])
    assert tab.step.position == (1, 12, 8) and abs(tab.step.value - expected) <= 1e-5
    session.set_model(make_model(seed=3, activation="relu", batch_norm=True))
    expected = float(hooked(session.current_model, session.current_input, "conv1")[1, 12, 8])
    assert abs(tab.step.value - expected) <= 1e-5 and tab.step.batch_norm is not None


def test_clicking_a_layer_in_the_diagram_steps_through_it(qtbot, tab, session):
    session.set_model(make_model())
    session.set_input(stroke_input(SEVEN))
    rect = tab.diagram.card_rect("pool2")
    qtbot.mouseClick(tab.diagram, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
    assert tab.layer == "pool2" and tab.step.layer == "pool2" and tab.layer_box.currentText() == "pool2"


def test_no_model_no_input_and_blank_input_show_a_message(qtbot, tab, session):
    assert tab.step is None and "No model" in tab.explanation.message
    tab.start_sweep()
    assert not tab.sweeping
    session.set_input(stroke_input(SEVEN))  # an input without a model
    assert tab.step is None
    session.set_model(make_model())
    assert tab.step is not None
    blank = CurrentInput(preprocessed=preprocess_array(np.zeros((28, 28)), "digit"), original=None, description="blank")
    session.set_input(blank)
    assert tab.step is None and "blank" in tab.explanation.message
    session.set_input(None)
    assert tab.step is None and "No input" in tab.explanation.message
    session.set_model(None)
    assert tab.table.rowCount() == 0
    tab.grab()  # paints without a model


def test_a_hidden_tab_computes_only_when_shown(qtbot, session):
    widget = NetworkTab(session)
    qtbot.addWidget(widget)
    session.set_model(make_model())
    session.set_input(stroke_input(SEVEN))
    assert widget.step is None  # no work while nobody looks
    widget.show()
    qtbot.waitExposed(widget)
    assert widget.step is not None
    widget.shutdown()


@pytest.mark.parametrize("value, digits, text", [
    (-0.001, 2, "0.00"), (-0.0, 4, "0.0000"), (0.004, 2, "0.00"), (-0.005001, 2, "\u22120.01"),
    (-0.5, 2, "\u22120.50"), (1.23456, 4, "1.2346"),
])
def test_numbers_are_written_with_a_true_minus_and_no_negative_zero(value, digits, text):
    assert num(value, digits) == text
