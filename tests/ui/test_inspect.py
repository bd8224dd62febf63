"""The Inspect tab shows the model's own numbers: activations, weights, saliency, test-set results."""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QImage

from lenet_gui.core.checkpoint import LoadedModel, save_checkpoint
from lenet_gui.core.model import LAYER_SHAPES, LeNet, ModelConfig
from lenet_gui.core.preprocess import Preprocessed, preprocess_array
from lenet_gui.ui.widgets.colormaps import ACTIVATION_LUT, INPUT_LUT, colorize
from lenet_gui.ui.inspect.feature_maps import INPUT_KEY, OUTPUT_KEY, FeatureMapView
from lenet_gui.ui.widgets.hover import format_value
from lenet_gui.ui.inspect.filters import FilterView
from lenet_gui.ui.inspect.saliency import overlay
from lenet_gui.ui.inspect.tab import InspectTab
from lenet_gui.ui.session import CurrentInput, Session
from lenet_gui.ui.settings import Settings
from tests.support import prerequisites

REPO = Path(__file__).resolve().parents[2]
DIGITS = [str(d) for d in range(10)]


def _data_root() -> Path:
    return prerequisites.real_data_root(holding="mnist")


def make_model(seed: int = 0, dataset: str | None = None, **config) -> LoadedModel:
    """A random LeNet; without ``dataset`` the Test set view has nothing to evaluate it on."""
    torch.manual_seed(seed)
    # Batch norm and dropout make sure the view shows what the model computes in eval mode.
    cfg = ModelConfig(**({"activation": "relu", "batch_norm": True, "dropout": 0.3,
                          "input_mean": 0.13, "input_std": 0.31} | config))
    model = LeNet(cfg)
    with torch.no_grad():  # running statistics other than 0 / 1, so that batch norm matters
        for bn in (model.bn1, model.bn2, model.bn3, model.bn4):
            bn.running_mean.uniform_(-0.2, 0.2)
            bn.running_var.uniform_(0.5, 1.5)
    return LoadedModel(model=model.eval(), classes=list(DIGITS), dataset=dataset, input_kind="digit",
                       metadata={"title": f"test model {seed}"})


def stroke_input(points, width: int = 18) -> CurrentInput:
    """What the Classify tab sets after a stroke: a canvas drawing, preprocessed like MNIST."""
    canvas = Image.new("L", (280, 280), 0)
    ImageDraw.Draw(canvas).line(points, fill=255, width=width, joint="curve")
    pre = preprocess_array(np.asarray(canvas, dtype=np.float64) / 255.0, "digit")
    assert not pre.blank
    return CurrentInput(preprocessed=pre, original=np.asarray(canvas), description="drawing")


def grainy(current: CurrentInput, amount: float = 0.05) -> CurrentInput:
    """The same input with a little grain, as a photo has. Over a flat background max pooling
    sees ties, where the gradient is not defined (autograd picks one of the tied pixels, finite
    differences see half of each): grain makes every pixel's gradient well defined."""
    noise = amount * torch.rand(current.preprocessed.tensor.shape, generator=torch.Generator().manual_seed(0))
    tensor = (current.preprocessed.tensor + noise).clamp(0, 1)
    return CurrentInput(preprocessed=Preprocessed(tensor, blank=False), original=current.original,
                        description=current.description)


SEVEN = [(60, 60), (220, 60), (120, 240)]
ZERO = [(140, 40), (220, 140), (140, 240), (60, 140), (140, 40)]


@pytest.fixture
def settings(tmp_path):
    """The window's settings on a file of the test's own (never the user's)."""
    return Settings.wrap(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def session(qtbot, settings):
    return Session(data_root=None, settings=settings)


@pytest.fixture
def tab(qtbot, session, settings):
    widget = InspectTab(session, settings)
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()  # as the main window does when it closes


def hooked_forward(loaded: LoadedModel, x: torch.Tensor) -> dict[str, np.ndarray]:
    """Every layer's output, captured by forward hooks on the modules, independent of the
    model's own return_activations path."""
    model = loaded.model
    modules = {"conv1": model.act1, "pool1": model.pool1, "conv2": model.act2, "pool2": model.pool2,
               "fc1": model.drop1, "fc2": model.drop2, "logits": model.fc3}
    captured = {}
    handles = [module.register_forward_hook(
        lambda _m, _i, out, name=name: captured.__setitem__(name, out[0].detach().numpy().copy()))
        for name, module in modules.items()]
    try:
        with torch.no_grad():
            model(x.reshape(1, 1, 28, 28))
    finally:
        for handle in handles:
            handle.remove()
    return captured


# ---------------------------------------------------------------------------------------------
# References written out here, independent of the code under test


# Published values of the colour maps (matplotlib's viridis and inferno, colorcet's CET-D1), as
# 8-bit RGB at the given positions of the scale.
VIRIDIS = {0.0: (68, 1, 84), 0.25: (59, 82, 139), 0.5: (33, 145, 140), 0.75: (94, 201, 98),
           1.0: (253, 231, 37)}
INFERNO = {0.0: (0, 0, 4), 1.0: (252, 255, 164)}
CET_D1 = {0.0: (33, 81, 219), 1.0: (192, 2, 6)}
COLOUR_TOLERANCE = 3  # a 256-entry table approximates the continuous map


def rgb(argb) -> tuple[int, int, int]:
    argb = int(argb)
    return (argb >> 16) & 0xFF, (argb >> 8) & 0xFF, argb & 0xFF


def assert_colour(argb, expected, where="", tolerance=COLOUR_TOLERANCE) -> None:
    got = rgb(argb)
    assert max(abs(a - b) for a, b in zip(got, expected)) <= tolerance, f"{where}: {got} is not {expected}"


def gradient_saliency_by_finite_differences(loaded: LoadedModel, x: torch.Tensor, k: int) -> np.ndarray:
    """|d logit_k / d pixel| for every pixel by central differences on a float64 copy of the
    model (one batched forward pass), scaled so that its maximum is 1."""
    model = copy.deepcopy(loaded.model).double().eval()
    base = x.reshape(1, 1, 28, 28).double()
    h = 1e-6
    steps = h * torch.eye(28 * 28, dtype=torch.float64).reshape(-1, 1, 28, 28)
    with torch.no_grad():
        plus = model(base + steps)[:, k]
        minus = model(base - steps)[:, k]
    heat = ((plus - minus) / (2 * h)).abs().reshape(28, 28).numpy()
    return heat / heat.max()


def gradient_saliency_by_autograd(loaded: LoadedModel, x: torch.Tensor, k: int) -> np.ndarray:
    """|d logit_k / d pixel| by autograd through the model's plain forward pass, scaled to a
    maximum of 1."""
    x = x.reshape(1, 1, 28, 28).float().clone().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(loaded.model.eval()(x)[0, k], x)
    heat = grad[0, 0].abs().double().numpy()
    return heat / heat.max()


def _bilinear_half_pixel(grid: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resampling of a square grid to ``size`` x ``size``, pixel centres aligned
    (sample i of the output reads the input at (i + 0.5) * n / size - 0.5, clamped to the edge)."""
    n = grid.shape[0]
    src = np.clip((np.arange(size) + 0.5) * n / size - 0.5, 0, n - 1)
    low = np.floor(src).astype(int)
    high = np.minimum(low + 1, n - 1)
    frac = src - low
    rows = grid[low] * (1 - frac)[:, None] + grid[high] * frac[:, None]
    return rows[:, low] * (1 - frac)[None, :] + rows[:, high] * frac[None, :]


def grad_cam_on_conv2(loaded: LoadedModel, x: torch.Tensor, k: int) -> np.ndarray:
    """Grad-CAM (Selvaraju et al.) on conv2's 16 x 8 x 8 output, written out: each map weighted by
    the spatial mean of the gradient of class k's score with respect to it, the ReLU of the
    weighted sum, upsampled to 16 x 16 and placed in the 28 x 28 input with a 6-pixel border
    (conv2's unit (i, j) is centred on input pixel (2i + 6.5, 2j + 6.5)), scaled to a maximum of 1."""
    model = loaded.model.eval()
    captured = {}
    handle = model.act2.register_forward_hook(lambda _m, _i, out: captured.__setitem__("maps", out))
    try:
        with torch.enable_grad():
            logits = model(x.reshape(1, 1, 28, 28).float())
            (grads,) = torch.autograd.grad(logits[0, k], captured["maps"])
    finally:
        handle.remove()
    maps = captured["maps"][0].detach().double().numpy()
    grads = grads[0].double().numpy()
    weights = grads.mean(axis=(1, 2))
    cam = np.maximum(0.0, np.tensordot(weights, maps, axes=1))
    heat = np.zeros((28, 28))
    heat[6:22, 6:22] = _bilinear_half_pixel(cam, 16)
    return heat / heat.max() if heat.max() > 0 else heat


def screen_color(view: FeatureMapView, screen: QImage, key: str, tile: int, r: int, c: int) -> int:
    """The colour on screen at the middle of data pixel (r, c) of tile ``tile`` of layer ``key``."""
    layer = view.layers[key]
    rect = layer.tile_rects[tile]
    point = QPoint(int(rect.left() + (c + 0.5) * layer.px), int(rect.top() + (r + 0.5) * layer.px))
    return screen.pixel(point)


def test_maps_are_the_models_own_activations_for_every_layer(qtbot, tab, session):
    loaded = make_model()
    session.set_model(loaded)
    current = stroke_input(SEVEN)
    with qtbot.waitSignal(tab.maps.painted, timeout=5000):
        session.set_input(current)
    x = current.preprocessed.tensor
    expected = hooked_forward(loaded, x)
    assert list(expected) == list(LAYER_SHAPES)
    for key, shape in LAYER_SHAPES.items():
        shown = tab.maps.layer_values(key)
        assert shown.shape == shape, key
        np.testing.assert_allclose(shown, expected[key], rtol=1e-5, atol=1e-6, err_msg=key)
        # One colour scale per layer, from its smallest value to its largest: the smallest is
        # drawn in viridis's first colour, the largest in its last.
        lo, hi = float(expected[key].min()), float(expected[key].max())
        assert tab.maps.layer_range(key) == pytest.approx((lo, hi), rel=1e-5, abs=1e-6)
        colors = tab.maps.layer_colors(key)
        assert_colour(colors.flat[int(np.argmin(shown))], VIRIDIS[0.0], f"{key} minimum")
        assert_colour(colors.flat[int(np.argmax(shown))], VIRIDIS[1.0], f"{key} maximum")
        np.testing.assert_array_equal(colors, colorize(shown, ACTIVATION_LUT, lo, hi))
    np.testing.assert_array_equal(tab.maps.layer_values(INPUT_KEY), x[0].numpy())
    np.testing.assert_array_equal(tab.maps.layer_colors(INPUT_KEY), colorize(x[0].numpy(), INPUT_LUT, 0.0, 1.0))
    # And those colours are what is on screen: sample the middle of some data pixels.
    screen = tab.maps.grab().toImage()
    for key, tile, r, c in [("conv1", 0, 12, 12), ("conv1", 5, 3, 20), ("pool1", 2, 6, 6),
                            ("conv2", 9, 4, 4), ("pool2", 15, 1, 2)]:
        layer = tab.maps.layers[key]
        rect = layer.tile_rects[tile]
        px = rect.width() / layer.spec.tile_w
        point = QPoint(int(rect.left() + (c + 0.5) * px), int(rect.top() + (r + 0.5) * px))
        on_screen = screen.pixel(point) & 0xFFFFFF
        assert on_screen == int(tab.maps.layer_colors(key)[tile, r, c]) & 0xFFFFFF, (key, tile, r, c)


def test_probabilities_shown_are_the_softmax_of_the_logits(tab, session):
    loaded = make_model()
    session.set_model(loaded)
    current = stroke_input(ZERO)
    session.set_input(current)
    logits = hooked_forward(loaded, current.preprocessed.tensor)["logits"]
    expected = torch.softmax(torch.from_numpy(logits).double(), 0).numpy()
    np.testing.assert_allclose(tab.maps.probabilities, expected, rtol=1e-9)
    assert f"{100 * expected.max():.1f}%" in tab.input_label.text()


def test_the_inspector_shows_the_models_temperature_and_its_unfamiliar_verdict(tab, session):
    loaded = make_model()
    # A temperature of 4, and a check whose threshold no input's energy stays under.
    loaded.metadata["calibration"] = {"temperature": 4.0, "ood": {"method": "energy", "threshold": -1e9}}
    session.set_model(loaded)
    current = stroke_input(ZERO)
    session.set_input(current)
    logits = hooked_forward(loaded, current.preprocessed.tensor)["logits"]
    expected = torch.softmax(torch.from_numpy(logits).double() / 4.0, 0).numpy()
    np.testing.assert_allclose(tab.maps.probabilities, expected, rtol=1e-9)
    assert "unlike its training images (nearest class: " in tab.input_label.text()
    assert f"{100 * expected.max():.1f}%" in tab.input_label.text()


def test_a_mirror_averaging_models_output_says_what_its_probability_comes_from(tab, session):
    loaded = make_model()
    loaded.metadata["calibration"] = {"temperature": 2.0, "average_mirror": True}
    session.set_model(loaded)
    current = stroke_input(SEVEN)  # a seven is far from its mirror image
    session.set_input(current)
    tensor = current.preprocessed.tensor
    own = hooked_forward(loaded, tensor)["logits"]
    mirrored = hooked_forward(loaded, torch.flip(tensor, dims=[-1]))["logits"]
    mean = (own.astype(np.float64) + mirrored) / 2
    expected = torch.softmax(torch.from_numpy(mean) / 2.0, 0).numpy()
    np.testing.assert_allclose(tab.maps.probabilities, expected, rtol=1e-5)
    top = int(np.argmax(expected))
    text = tab.maps.describe(OUTPUT_KEY, 0, top, 0)
    assert f"logit {format_value(float(own[top]))}" in text  # the network's own pass, as drawn
    assert f"mirror image’s {format_value(float(mean[top]))}" in text
    assert f"probability {100 * expected[top]:.1f}%" in text


def test_known_activations_are_drawn_in_the_colour_maps_known_colours(qtbot):
    """Each layer's scale runs from its smallest value (viridis's first colour) to its largest
    (its last); the input is grey from 0 (black) to 1 (white). Checked on screen."""
    view = FeatureMapView()
    qtbot.addWidget(view)
    view.resize(1280, 520)
    view.show()
    qtbot.waitExposed(view)
    activations = {key: np.zeros(shape, dtype=np.float32) for key, shape in LAYER_SHAPES.items()}
    # conv1 spans -2 .. 2: the quarters of the scale sit at -1, 0 and 1.
    for c, value in enumerate([-2.0, -1.0, 0.0, 1.0, 2.0]):
        activations["conv1"][3, 10, c] = value
    activations["conv2"][7, 2, 5], activations["conv2"][0, 0, 0] = 5.0, -0.5  # 0 is 1/11 of the way
    activations["fc1"][0], activations["fc1"][1] = 10.0, -10.0  # units 0 and 1: the strip's first column
    image = np.zeros((28, 28), dtype=np.float32)
    image[4, 4], image[4, 5] = 1.0, 0.5
    with qtbot.waitSignal(view.painted, timeout=5000):
        view.set_data(image, activations, np.full(10, 0.1), [str(d) for d in range(10)])
    screen = view.grab().toImage()
    for c, position in enumerate([0.0, 0.25, 0.5, 0.75, 1.0]):
        assert_colour(screen_color(view, screen, "conv1", 3, 10, c), VIRIDIS[position], f"conv1 at {position}")
    assert_colour(screen_color(view, screen, "conv2", 7, 2, 5), VIRIDIS[1.0], "conv2 maximum")
    assert_colour(screen_color(view, screen, "conv2", 0, 0, 0), VIRIDIS[0.0], "conv2 minimum")
    assert view.layer_range("conv2") == (-0.5, 5.0)
    assert_colour(screen_color(view, screen, "fc1", 0, 0, 0), VIRIDIS[1.0], "fc1 unit 0")
    assert_colour(screen_color(view, screen, "fc1", 0, 1, 0), VIRIDIS[0.0], "fc1 unit 1")
    assert_colour(screen_color(view, screen, "fc1", 0, 2, 0), VIRIDIS[0.5], "fc1 unit 2 (zero)")
    assert_colour(screen_color(view, screen, INPUT_KEY, 0, 4, 4), (255, 255, 255), "input ink", tolerance=0)
    assert_colour(screen_color(view, screen, INPUT_KEY, 0, 0, 0), (0, 0, 0), "input background", tolerance=0)
    assert_colour(screen_color(view, screen, INPUT_KEY, 0, 4, 5), (128, 128, 128), "input at 0.5", tolerance=1)


@pytest.mark.parametrize("height", [150, 190, 520])
def test_the_output_rows_labels_never_run_into_each_other_however_short_the_view(qtbot, height):
    from PySide6.QtGui import QFontMetrics

    view = FeatureMapView()
    qtbot.addWidget(view)
    view.resize(1000, height)
    view.show()
    qtbot.waitExposed(view)
    activations = {key: np.zeros(shape, dtype=np.float32) for key, shape in LAYER_SHAPES.items()}
    with qtbot.waitSignal(view.painted, timeout=5000):
        view.set_data(np.zeros((28, 28), dtype=np.float32), activations, np.full(10, 0.1), [str(d) for d in range(10)])
    strip = view.layers[OUTPUT_KEY].tile_rects[0]
    row_height = strip.height() / 10
    if view.every_output_row_labelled():
        for font in view.output_fonts():
            assert QFontMetrics(font).height() <= row_height + 0.5, (height, row_height)
    else:  # too short to read ten rows: only the top class is written, in the view's font
        assert row_height < 8 and QFontMetrics(view.output_fonts()[1]).height() > row_height
    if QFontMetrics(view.font()).height() < row_height:  # room enough: the view's own font
        assert view.output_fonts()[0].pixelSize() == view.font().pixelSize()
    assert (height >= 190) == view.every_output_row_labelled()


def test_filters_are_drawn_blue_negative_white_zero_red_positive(qtbot):
    view = FilterView()
    qtbot.addWidget(view)
    view.resize(900, 300)
    view.show()
    qtbot.waitExposed(view)
    conv1 = np.zeros((6, 1, 5, 5), dtype=np.float32)
    conv1[0, 0, 0, 0], conv1[0, 0, 0, 1] = -0.4, 0.2  # symmetric scale: -0.4 .. 0.4
    conv2 = np.zeros((16, 6, 5, 5), dtype=np.float32)
    conv2[3, 2, 1, 1] = 0.7
    view.set_weights(conv1, conv2)
    screen = view.grab().toImage()

    def at(key, o, i, r, c):
        rect = view.kernel_rect(key, o, i)
        point = QPointF(rect.left() + (c + 0.5) * rect.width() / 5, rect.top() + (r + 0.5) * rect.height() / 5)
        return screen.pixel(point.toPoint())

    assert_colour(at("conv1", 0, 0, 0, 0), CET_D1[0.0], "most negative")
    assert_colour(at("conv2", 3, 2, 1, 1), CET_D1[1.0], "most positive")
    zero = rgb(at("conv1", 0, 0, 2, 2))
    assert min(zero) >= 220 and max(zero) - min(zero) <= 12, f"zero should be near white: {zero}"
    half = rgb(at("conv1", 0, 0, 0, 1))  # +0.2, half-way to the top: a lighter red
    assert half[0] > half[2] and half[0] > 200 and half[1] < 200, half


def test_drawing_updates_the_maps_each_stroke(qtbot, tab, session):
    loaded = make_model(seed=1)
    session.set_model(loaded)
    first, second = stroke_input(SEVEN), stroke_input(ZERO)
    with qtbot.waitSignal(tab.maps.painted, timeout=5000):
        session.set_input(first)
    conv2_first = tab.maps.layer_values("conv2").copy()
    with qtbot.waitSignal(tab.maps.painted, timeout=5000):
        session.set_input(second)
    conv2_second = tab.maps.layer_values("conv2")
    assert not np.allclose(conv2_first, conv2_second)
    np.testing.assert_allclose(conv2_second, hooked_forward(loaded, second.preprocessed.tensor)["conv2"],
                               rtol=1e-5, atol=1e-6)
    assert tab.input_label.text().startswith("Input: drawing")


def test_hidden_tab_catches_up_when_shown(qtbot, session, settings):
    widget = InspectTab(session, settings)
    qtbot.addWidget(widget)
    session.set_model(make_model())
    session.set_input(stroke_input(SEVEN))
    assert not widget.maps.has_data  # no work while nobody looks
    widget.resize(1280, 800)
    widget.show()
    qtbot.waitExposed(widget)
    np.testing.assert_allclose(widget.maps.layer_values("pool2"),
                               hooked_forward(session.current_model, session.current_input.preprocessed.tensor)["pool2"],
                               rtol=1e-5, atol=1e-6)


def test_a_new_model_redraws_the_same_input(tab, session):
    session.set_model(make_model(seed=2))
    current = stroke_input(SEVEN)
    session.set_input(current)
    other = make_model(seed=3)
    session.set_model(other)
    np.testing.assert_allclose(tab.maps.layer_values("fc2"), hooked_forward(other, current.preprocessed.tensor)["fc2"],
                               rtol=1e-5, atol=1e-6)


def test_no_model_blank_input_and_no_input_show_a_message(tab, session):
    session.set_input(stroke_input(SEVEN))
    assert not tab.maps.has_data and "No model" in tab.maps.message
    session.set_model(make_model())
    assert tab.maps.has_data
    session.set_input(CurrentInput(Preprocessed(torch.zeros(1, 28, 28), blank=True), None, "drawing"))
    assert not tab.maps.has_data and "blank" in tab.maps.message
    assert not tab.export_button.isEnabled()
    session.set_input(None)
    assert not tab.maps.has_data and "No input" in tab.maps.message
    tab.maps.grab()  # paints the message without error


def test_hover_reads_a_value_and_click_enlarges_the_map(qtbot, tab, session):
    session.set_model(make_model())
    session.set_input(stroke_input(SEVEN))
    layer = tab.maps.layers["conv2"]
    rect = layer.tile_rects[5]
    px = rect.width() / 8
    pos = QPointF(rect.left() + 4.5 * px, rect.top() + 3.5 * px)  # row 3, column 4
    value = float(tab.maps.layer_values("conv2")[5, 3, 4])
    text = tab.maps.describe_at(pos)
    assert "conv2" in text and "channel 5" in text and "row 3" in text and "column 4" in text
    assert f"{value:.3g}" in text
    qtbot.mouseMove(tab.maps, pos.toPoint())
    assert tab.hover_label.text() == text
    qtbot.mouseClick(tab.maps, Qt.MouseButton.LeftButton, pos=pos.toPoint())
    dialog = tab.zoom_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.key == "conv2" and dialog.channel_spin.value() == 5
    np.testing.assert_array_equal(dialog.canvas.values, tab.maps.layer_values("conv2")[5])
    # The enlarged map follows the input.
    session.set_input(stroke_input(ZERO))
    np.testing.assert_array_equal(dialog.canvas.values, tab.maps.layer_values("conv2")[5])
    # A unit of a fully connected layer is found where the strip shows it.
    fc1 = tab.maps.layers["fc1"]
    strip = fc1.tile_rects[0]
    unit_pos = QPointF(strip.left() + 2.5 * fc1.px, strip.top() + 7.5 * fc1.px)  # column 2, row 7
    unit = int(fc1.spec.unit_index[7, 2])
    assert unit == 2 * 30 + 7
    assert f"unit {unit} = {float(tab.maps.layer_values('fc1')[unit]):.3g}" in tab.maps.describe_at(unit_pos)
    dialog.close()


def test_filters_shown_equal_the_weights_and_follow_training(qtbot, tab, session):
    loaded = make_model(seed=4)
    session.set_model(loaded)
    tab.lower_tabs.setCurrentIndex(1)
    np.testing.assert_array_equal(tab.filters.weights["conv1"], loaded.model.conv1.weight.detach().numpy())
    np.testing.assert_array_equal(tab.filters.weights["conv2"], loaded.model.conv2.weight.detach().numpy())
    assert tab.filters.weights["conv1"].shape == (6, 1, 5, 5)
    assert tab.filters.weights["conv2"].shape == (16, 6, 5, 5)
    assert "current model" in tab.filters_source.text()
    # During a run the Train tab's snapshots are shown, labelled as such.
    live = {"conv1.weight": torch.randn(6, 1, 5, 5), "conv2.weight": torch.randn(16, 6, 5, 5)}
    session.set_training_active(True)
    session.live_weights.emit(live)
    np.testing.assert_array_equal(tab.filters.weights["conv1"], live["conv1.weight"].numpy())
    np.testing.assert_array_equal(tab.filters.weights["conv2"], live["conv2.weight"].numpy())
    assert "being trained" in tab.filters_source.text()
    session.set_training_active(False)
    np.testing.assert_array_equal(tab.filters.weights["conv2"], loaded.model.conv2.weight.detach().numpy())
    assert "current model" in tab.filters_source.text()
    text = tab.filters.describe_at(tab.filters.kernel_rect("conv2", 3, 2).center())
    assert "filter 3" in text and "input channel 2" in text


def test_saliency_is_computed_for_the_class_named(tab, session):
    loaded = make_model(seed=5)
    session.set_model(loaded)
    current = grainy(stroke_input(SEVEN))
    session.set_input(current)
    x = current.preprocessed.tensor
    logits = hooked_forward(loaded, x)["logits"]
    top = int(np.argmax(logits))
    panel = tab.saliency
    assert panel.class_index == top  # by default, the top class
    references = {"gradient": gradient_saliency_by_finite_differences, "gradcam": grad_cam_on_conv2}
    for method, reference in references.items():
        panel.set_method(method)
        maps = {}
        for k in (top, (top + 3) % 10):
            panel.set_class(k)
            assert panel.class_index == k
            expected = reference(loaded, x, k)
            # Finite differences in float64 against the model's float32 gradient.
            tolerance = 1e-5 if method == "gradient" else 1e-6
            np.testing.assert_allclose(panel.saliency, expected, rtol=0, atol=tolerance, err_msg=f"{method}, class {k}")
            assert loaded.classes[k] in panel.caption.text()
            maps[k] = panel.saliency.copy()
        assert not np.allclose(*maps.values()), method
    assert "Grad-CAM on conv2" in panel.caption.text()


def test_a_pixel_that_lowers_the_score_is_as_salient_as_one_that_raises_it(tab, session):
    """Plain-gradient saliency is the gradient's magnitude: the sign says which way a pixel
    pushes the score, and both ways count."""
    loaded = make_model(seed=5)
    session.set_model(loaded)
    current = stroke_input(SEVEN)
    session.set_input(current)
    tab.saliency.set_method("gradient")
    x = current.preprocessed.tensor.reshape(1, 1, 28, 28).clone().requires_grad_(True)
    k = tab.saliency.class_index
    (grad,) = torch.autograd.grad(loaded.model(x)[0, k], x)
    grad = grad[0, 0].numpy()
    lowering = grad < -0.1 * np.abs(grad).max()
    assert lowering.sum() >= 3, "the test needs pixels that lower the score"
    np.testing.assert_allclose(tab.saliency.saliency[lowering], (-grad / np.abs(grad).max())[lowering],
                               rtol=1e-5, atol=1e-7)


def test_the_saliency_overlay_uses_infernos_colours_over_the_dimmed_input():
    image = np.zeros((28, 28))
    image[0, :] = 1.0  # white ink along the top row
    saliency = np.zeros((28, 28))
    saliency[10, 10] = 1.0
    saliency[0, 5] = 1.0
    argb = overlay(image, saliency)
    assert rgb(argb[20, 20]) == (0, 0, 0)  # no ink, no influence: black
    # Ink without influence shows through, dimmed so that the heat stands out: 55 % of white.
    assert rgb(argb[0, 20]) == (140, 140, 140)
    # The strongest influence is inferno's last colour at 85 % opacity, over black or over ink.
    assert_colour(argb[10, 10], tuple(round(0.85 * v) for v in INFERNO[1.0]), "over black", tolerance=2)
    assert_colour(argb[0, 5], tuple(round(0.85 * v + 0.15 * 140) for v in INFERNO[1.0]), "over ink", tolerance=2)


def test_export_writes_the_feature_maps_as_png(tmp_path, tab, session):
    session.set_model(make_model())
    session.set_input(stroke_input(SEVEN))
    target = tmp_path / "maps.png"
    assert tab.export_png(target)
    image = QImage(str(target))
    assert image.width() == 1600 and image.height() > 520
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_main_window_has_the_inspect_tab(qtbot, tmp_path):
    from lenet_gui.ui.main_window import MainWindow

    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    titles = [window.tabs.tabText(i).replace("&", "") for i in range(window.tabs.count())]
    assert "Inspect" in titles
    assert window.tabs.widget(titles.index("Inspect")).objectName() == "inspectTab"


# ---------------------------------------------------------------------------------------------
# The test set (needs the real MNIST)


@pytest.fixture(scope="module")
def trained_checkpoint(tmp_path_factory):
    from lenet_gui.core.data import load_dataset
    from lenet_gui.core.engine import Trainer
    from lenet_gui.core.presets import preset_config

    root = _data_root()
    dataset = load_dataset("mnist", root, download=False)
    trainer = Trainer(preset_config("modern", "mnist", epochs=1, threads=1), dataset, train_limit=2000, test_limit=500)
    for _ in trainer.run():
        pass
    meta = trainer.metadata()
    meta["title"] = "tiny MNIST model"
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    save_checkpoint(path, trainer.model, meta)
    return path


@pytest.fixture
def evaluated_tab(qtbot, tab, session, trained_checkpoint):
    from lenet_gui.core.checkpoint import load_checkpoint

    session.data_root = str(_data_root())
    session.set_model(load_checkpoint(trained_checkpoint))
    qtbot.waitUntil(lambda: tab.test_set.result is not None, timeout=60000)
    return tab


@pytest.mark.slow
def test_confusion_matrix_adds_up_and_agrees_with_the_cli(evaluated_tab, trained_checkpoint):
    result = evaluated_tab.test_set.result
    table = evaluated_tab.test_set.table
    shown = np.array([[int(table.item(t, p).text()) for p in range(10)] for t in range(10)])
    np.testing.assert_array_equal(shown, result.confusion)
    assert shown.sum() == 10000
    out = subprocess.run(
        [sys.executable, "-m", "lenet_gui", "evaluate", "--model", str(trained_checkpoint),
         "--data-root", str(_data_root())],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    cli_acc = float(re.search(r"test acc (\d\.\d+)", out.stdout).group(1))
    assert np.trace(shown) / shown.sum() == pytest.approx(cli_acc, abs=5e-5)
    assert f"{100 * cli_acc:.2f}%" in evaluated_tab.test_set.summary.text()
    for k, line in enumerate(re.findall(r"^\s+\d\s+\S+\s+(\d\.\d+)\s+\((\d+) images\)", out.stdout, re.M)):
        assert shown[k].sum() == int(line[1])
        assert shown[k, k] / shown[k].sum() == pytest.approx(float(line[0]), abs=5e-5)
        assert table.item(k, 10).text() == f"{100 * shown[k, k] / shown[k].sum():.1f}%"


def test_clicking_a_misclassified_image_makes_it_the_input(qtbot, evaluated_tab, session):
    tab = evaluated_tab
    result = tab.test_set.result
    gallery = tab.test_set.gallery
    assert tab.test_set.gallery_model.rowCount() == int((result.labels != result.predicted).sum()) > 0
    index = gallery.model().index(0, 0)
    image_index = tab.test_set.gallery_model.image_index(0)
    assert result.labels[image_index] != result.predicted[image_index]
    gallery.scrollTo(index)
    with qtbot.waitSignal(session.input_changed, timeout=5000):
        qtbot.mouseClick(gallery.viewport(), Qt.MouseButton.LeftButton, pos=gallery.visualRect(index).center())
    current = session.current_input
    assert current.description == f"test image #{image_index} (true: {result.labels[image_index]})"
    np.testing.assert_array_equal(current.original, result.images[image_index])
    np.testing.assert_allclose(current.preprocessed.tensor[0].numpy(), result.images[image_index] / 255.0, atol=1e-7)
    # Its maps and saliency show at once, and agree with the test-set prediction.
    np.testing.assert_allclose(tab.maps.layer_values(INPUT_KEY), result.images[image_index] / 255.0, atol=1e-7)
    assert int(np.argmax(tab.maps.probabilities)) == result.predicted[image_index]
    assert tab.saliency.class_index == result.predicted[image_index]


def test_a_confusion_cell_lists_exactly_its_images(qtbot, evaluated_tab):
    view = evaluated_tab.test_set
    result = view.result
    off = result.confusion.copy()
    np.fill_diagonal(off, 0)
    t, p = np.unravel_index(int(np.argmax(off)), off.shape)
    table = view.table
    rect = table.visualRect(table.model().index(int(t), int(p)))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    rows = [view.gallery_model.image_index(r) for r in range(view.gallery_model.rowCount())]
    assert len(rows) == result.confusion[t, p] > 0
    assert all(result.labels[i] == t and result.predicted[i] == p for i in rows)
    confidences = [result.probabilities[i, p] for i in rows]
    assert confidences == sorted(confidences, reverse=True)


def reference_reliability(probabilities: np.ndarray, labels: np.ndarray, bins: int = 15):
    """Per equal-width bin of top-1 probability, (lower, upper] as Guo et al. define them:
    (count, accuracy), counted here with plain loops, and the expected calibration error."""
    top = probabilities.max(1)
    right = probabilities.argmax(1) == labels
    table = []
    for b in range(bins):
        lower, upper = b / bins, (b + 1) / bins
        members = [i for i in range(len(top)) if (lower < top[i] <= upper) or (b == 0 and top[i] == 0)]
        count = len(members)
        table.append((count, sum(right[i] for i in members) / count if count else None,
                      sum(top[i] for i in members) / count if count else None))
    ece = sum(c / len(top) * abs(a - conf) for c, a, conf in table if c)
    return table, ece


@pytest.fixture(scope="module")
def warm_checkpoint(tmp_path_factory, trained_checkpoint):
    """The tiny model with a calibration block: a temperature of 2 and a detector."""
    from lenet_gui.core.checkpoint import load_checkpoint

    loaded = load_checkpoint(trained_checkpoint)
    meta = dict(loaded.metadata, title="tiny warm model",
                calibration={"temperature": 2.0, "ood": {"method": "energy", "threshold": -3.0}})
    path = tmp_path_factory.mktemp("warm") / "warm.pt"
    save_checkpoint(path, loaded.model, meta)
    return path


def test_the_test_set_shows_the_calibration_of_the_probabilities_its_model_gives(qtbot, tab, session,
                                                                                 warm_checkpoint):
    from lenet_gui.core.checkpoint import load_checkpoint
    from lenet_gui.core.data import load_dataset

    session.data_root = str(_data_root())
    loaded = load_checkpoint(warm_checkpoint)
    session.set_model(loaded)
    view = tab.test_set
    qtbot.waitUntil(lambda: view.result is not None, timeout=60000)
    # The model's own outputs, computed here: its temperature divides the logits.
    test = load_dataset("mnist", _data_root(), download=False).test
    with torch.no_grad():
        logits = loaded.model(test.images.float().div(255).unsqueeze(1)).double()
    probabilities = torch.softmax(logits / 2.0, 1).numpy()
    labels = test.labels.numpy()
    table, ece = reference_reliability(probabilities, labels)
    shown = view.reliability.report
    assert [b.count for b in shown.bins] == [count for count, _, _ in table]
    assert sum(b.count for b in shown.bins) == 10000
    plot = view.reliability.plot_rect()
    for index, (count, accuracy, _) in enumerate(table):
        bar = view.reliability.bar_rect(index)
        if not count:
            assert bar is None
            continue
        # Each bar is as tall as the share of its bin's predictions that were right.
        assert bar.height() / plot.height() == pytest.approx(accuracy, abs=1e-6)
        assert bar.bottom() == pytest.approx(plot.bottom())
    text = view.summary.text()
    assert f"Expected calibration error {ece:.4f} (15 bins)" in text, text
    assert "temperature 2.000" in text
    unfamiliar = (-torch.logsumexp(logits, 1).numpy() > -3.0).mean()
    assert f"called unfamiliar: {100 * unfamiliar:.2f}%" in text
    assert f"mean confidence {100 * probabilities.max(1).mean():.2f}%" in text


def test_the_reliability_diagram_takes_the_gallerys_place_on_demand_where_the_panel_is_narrow(qtbot, evaluated_tab):
    view = evaluated_tab.test_set
    beside = view.reliability.mapTo(view, QPoint(0, 0))
    assert view.reliability.isVisible() and not view.reliability_button.isVisible()
    assert beside.x() > view.table.mapTo(view, QPoint(0, 0)).x() + view.table.width() - 1
    evaluated_tab.resize(900, 800)
    qtbot.waitUntil(lambda: view.reliability_button.isVisible())
    assert not view.reliability.isVisible() and view.gallery.isVisible()
    qtbot.mouseClick(view.reliability_button, Qt.MouseButton.LeftButton)
    assert view.reliability.isVisible() and not view.gallery.isVisible()
    assert view.reliability.report is not None
    # Asking for images brings the gallery back.
    qtbot.mouseClick(view.all_wrong_button, Qt.MouseButton.LeftButton)
    assert view.gallery.isVisible() and not view.reliability.isVisible()


def test_missing_data_set_gives_a_message_not_a_crash(qtbot, tab, session, tmp_path, monkeypatch):
    # In none of the places searched: --data-root, LENET_DATA_ROOT, a chosen folder, the cache.
    monkeypatch.delenv("LENET_DATA_ROOT", raising=False)
    session.data_root = str(tmp_path)
    session.set_model(make_model(dataset="mnist"))
    text = tab.test_set.summary.text()
    assert "MNIST test set is not in" in text and str(tmp_path) in text
    assert tab.test_set.action_button.isVisible() and "download" in tab.test_set.action_button.text().lower()
    assert not tab.test_set.busy and tab.test_set.result is None


def test_the_missing_test_set_can_be_found_by_choosing_its_folder(qtbot, tab, session, tmp_path, monkeypatch,
                                                                   fake_data_root):
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.delenv("LENET_DATA_ROOT", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    session.data_root = str(tmp_path / "nowhere")
    tab.resize(1200, 800)
    tab.show()
    tab.lower_tabs.setCurrentWidget(tab.test_set)
    qtbot.waitExposed(tab)
    session.set_model(make_model(dataset="mnist"))
    panel = tab.test_set
    assert panel.action_button.isVisible()
    panel.action_button.click()
    dialog = panel.data_dialog
    assert dialog is not None and dialog.isVisible()
    # The same two ways out as the Train tab's dialog.
    assert dialog.download_button.isVisible() and dialog.choose_button.isVisible()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(fake_data_root / "MNIST"))
    with qtbot.waitSignal(panel.evaluated, timeout=60_000) as evaluated:
        dialog.choose_button.click()
    result = evaluated.args[0]
    fake_test = (fake_data_root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").stat().st_size - 8
    assert int(result.confusion.sum()) == fake_test  # the chosen folder's test set, every image
    assert session.settings.data_root == str(fake_data_root)  # remembered for the next time
    assert not panel.action_button.isVisible() and "Test accuracy" in panel.summary.text()


def test_the_test_set_view_downloads_only_the_test_images(qtbot, tab, session, tmp_path, monkeypatch,
                                                          make_fake_dataset):
    from tests.support.mirror import serve_fake_dataset

    mirror = serve_fake_dataset(make_fake_dataset, tmp_path / "served", monkeypatch, key="mnist", n_test=40)
    try:
        monkeypatch.delenv("LENET_DATA_ROOT", raising=False)
        monkeypatch.setenv("LENET_MIRRORS", mirror.url("good"))
        session.data_root = str(tmp_path / "data")
        tab.lower_tabs.setCurrentWidget(tab.test_set)
        session.set_model(make_model(dataset="mnist"))
        panel = tab.test_set
        assert "about 2 MB" in panel.summary.text()  # the test images' size, not the whole data set's
        panel.action_button.click()
        dialog = panel.data_dialog
        assert "test set" in dialog.message.text() and "about 2 MB" in dialog.message.text()
        with qtbot.waitSignal(panel.evaluated, timeout=60_000) as evaluated:
            dialog.download_button.click()
        assert int(evaluated.args[0].confusion.sum()) == 40
        assert sorted(mirror.requests) == ["/good/t10k-images-idx3-ubyte.gz", "/good/t10k-labels-idx1-ubyte.gz"]
    finally:
        mirror.close()


def test_a_folder_with_only_the_test_files_is_enough_for_the_test_set_view(qtbot, tab, session, tmp_path,
                                                                           monkeypatch, make_fake_dataset):
    from PySide6.QtWidgets import QFileDialog

    raw = make_fake_dataset(tmp_path / "test-only", "mnist", n_test=25)
    for stem in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        (raw / stem).unlink()
    monkeypatch.delenv("LENET_DATA_ROOT", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    session.data_root = str(tmp_path / "nowhere")
    tab.lower_tabs.setCurrentWidget(tab.test_set)
    session.set_model(make_model(dataset="mnist"))
    panel = tab.test_set
    panel.action_button.click()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(raw))
    with qtbot.waitSignal(panel.evaluated, timeout=60_000) as evaluated:
        panel.data_dialog.choose_button.click()
    assert int(evaluated.args[0].confusion.sum()) == 25


def test_a_failed_download_says_what_to_do_in_one_sentence_with_details_behind_a_button(qtbot, tmp_path,
                                                                                         monkeypatch):
    from lenet_gui.ui.settings import Settings
    from lenet_gui.ui.widgets.data_dialog import DatasetDialog

    monkeypatch.setenv("LENET_MIRRORS", "http://127.0.0.1:9/")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    settings = Settings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    dialog = DatasetDialog("mnist", str(tmp_path / "data"), settings)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.download_button.click()
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=20_000)
    text = dialog.error.text()
    assert text.count(". ") == 0 and text.endswith(".") and "try again" in text  # one sentence
    assert "127.0.0.1" not in text and "Errno" not in text and "--data-root" not in text
    assert dialog.details_button.isVisible() and not dialog.details.isVisible()
    dialog.details_button.click()
    assert dialog.details.isVisible() and "127.0.0.1:9" in dialog.details.toPlainText()


def test_a_data_folder_chosen_in_the_dialog_is_used_by_the_test_set_after_a_restart(
        qtbot, tmp_path, monkeypatch, data_root):
    """The folder a user picks when the Train tab says a data set is missing is one of the places
    every part of the window looks, the Test set view included, in the next session too."""
    from lenet_gui.ui.main_window import MainWindow
    from lenet_gui.ui.widgets.data_dialog import DatasetDialog

    if not (data_root / "MNIST").is_dir():
        pytest.skip("LENET_DATA_ROOT holds no MNIST")
    # Neither --data-root nor LENET_DATA_ROOT, and an empty cache: only the chosen folder has it.
    monkeypatch.delenv("LENET_DATA_ROOT", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    settings_file = str(tmp_path / "settings.ini")
    first = MainWindow(settings=QSettings(settings_file, QSettings.Format.IniFormat))
    qtbot.addWidget(first)
    dialog = DatasetDialog("mnist", first.session.data_root, first.settings, parent=first)
    assert dialog.use_folder(data_root / "MNIST" / "raw")
    first.close()
    first.settings.sync()

    again = MainWindow(settings=QSettings(settings_file, QSettings.Format.IniFormat))  # a restart
    qtbot.addWidget(again)
    again.resize(1280, 820)
    again.show()
    qtbot.waitExposed(again)
    assert again.session.current_model.dataset == "mnist"
    again.tabs.setCurrentWidget(again.inspect_tab)
    panel = again.inspect_tab.test_set
    qtbot.waitUntil(lambda: panel.result is not None or panel.action_button.isVisible(), timeout=60000)
    assert panel.result is not None, panel.summary.text()
    assert int(panel.result.confusion.sum()) == 10000  # MNIST's whole test set
    assert "Test accuracy" in panel.summary.text() and not panel.action_button.isVisible()


def test_many_qt_calls_do_not_exhaust_none_refcount():
    """PySide6 6.12.0 drops a reference to None on each void call (to True on each emit); the
    guard in lenet_gui.ui keeps a long session (thousands of repaints) from aborting."""
    code = (
        "import lenet_gui.ui\n"
        "from PySide6.QtCore import QObject, Signal\n"
        "from PySide6.QtWidgets import QApplication, QLabel\n"
        "class Emitter(QObject):\n"
        "    fired = Signal(object)\n"
        "app = QApplication([])\n"
        "label, emitter = QLabel(), Emitter()\n"
        # Without torch imported None has about 5 000 references: four times as many calls.
        "for _ in range(20_000):\n"
        "    label.setText('x')\n"
        "    emitter.fired.emit(1)\n"
        "print('survived')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0 and "survived" in out.stdout, out.stderr[-2000:]


# ---------------------------------------------------------------------------------------------
# Beside the Classify tab


def test_strokes_on_the_classify_canvas_update_a_visible_inspector(qtbot, tmp_path):
    """The inspector in view beside the window (as benchmarks/classify_latency.py --with-inspector
    has it) follows real pen strokes on the Classify canvas: its maps are the activations of the
    very input the Classify tab shows, its probabilities those of the Classify chart."""
    from lenet_gui.ui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    # No data set: the inspector's Test set page has nothing to evaluate in the background.
    window = MainWindow(data_root=str(tmp_path / "no-data"), settings=settings)
    qtbot.addWidget(window)
    window.resize(1100, 760)
    window.show()
    qtbot.waitExposed(window)
    window.tabs.setCurrentWidget(window.classify_tab)
    classify, session = window.classify_tab, window.session
    inspector = InspectTab(session, window.settings)
    qtbot.addWidget(inspector)
    inspector.resize(1280, 800)
    inspector.show()
    qtbot.waitExposed(inspector)
    painted_for: list = []  # the input the maps showed at each paint
    inspector.maps.painted.connect(lambda: painted_for.append(inspector.shown_input))

    canvas = classify.canvas

    def at(x: float, y: float) -> QPoint:
        square = canvas.square()
        return QPoint(square.x() + round(x * square.width()), square.y() + round(y * square.height()))

    def caught_up() -> bool:
        """The Classify tab has predicted the drawing as it is, and the inspector has painted it."""
        current = session.current_input
        return (not classify._live_timer.isActive() and current is not None
                and current.preprocessed is classify.last_preprocessed
                and bool(painted_for) and painted_for[-1] is current)

    def check_shows_what_classify_shows() -> np.ndarray:
        tensor = classify.last_preprocessed.tensor
        np.testing.assert_allclose(inspector.maps.layer_values(INPUT_KEY), tensor.reshape(28, 28).numpy(), atol=1e-6)
        expected = hooked_forward(session.current_model, tensor)
        for key in LAYER_SHAPES:
            np.testing.assert_allclose(inspector.maps.layer_values(key), expected[key], rtol=1e-5, atol=1e-5,
                                       err_msg=key)
        np.testing.assert_allclose(inspector.maps.probabilities, classify.chart.probabilities, rtol=1e-9)
        assert classify.last_prediction.label in inspector.input_label.text()
        return inspector.maps.layer_values("pool2").copy()

    # A vertical stroke, the pen still down: the maps follow while drawing.
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=at(0.5, 0.15))
    for i in range(1, 13):
        qtbot.mouseMove(canvas, at(0.5, 0.15 + 0.7 * i / 12))
    qtbot.waitUntil(caught_up, timeout=5000)
    while_drawing = check_shows_what_classify_shows()
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=at(0.5, 0.85))
    qtbot.waitUntil(caught_up, timeout=5000)
    # A second stroke, across the top: a 7 now; the maps move with it.
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=at(0.2, 0.15))
    for i in range(1, 13):
        qtbot.mouseMove(canvas, at(0.2 + 0.3 * i / 12, 0.15))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=at(0.5, 0.15))
    qtbot.waitUntil(caught_up, timeout=5000)
    after_second = check_shows_what_classify_shows()
    assert not np.allclose(while_drawing, after_second)
    # The saliency map catches up with the last input too, for the class shown.
    qtbot.waitUntil(lambda: not inspector.saliency.pending, timeout=5000)
    tensor = classify.last_preprocessed.tensor
    assert inspector.saliency.class_index == classify.last_prediction.index
    assert inspector.saliency.method == "gradient"
    np.testing.assert_allclose(inspector.saliency.saliency,
                               gradient_saliency_by_autograd(session.current_model, tensor, classify.last_prediction.index),
                               rtol=1e-5, atol=1e-7)
    # The window's own Inspect tab, hidden behind the Classify tab, did no work meanwhile.
    assert not window.inspect_tab.maps.has_data
    inspector.shutdown()
