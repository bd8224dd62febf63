"""Each step-through value is the forward pass's own, computed from the shown numbers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lenet_gui.core.checkpoint import load_checkpoint
from lenet_gui.core.inference import Predictor
from lenet_gui.core.model import LeNet, ModelConfig
from lenet_gui.core.stepthrough import ConvStep, DenseStep, PoolStep, STEP_LAYER_NAMES, explain, reach


def _model(**config) -> LeNet:
    torch.manual_seed(1)
    model = LeNet(ModelConfig(**config))
    if model.config.batch_norm:
        with torch.no_grad():  # statistics and an affine step far from the identity, so that they matter
            for bn in (model.bn1, model.bn2, model.bn3, model.bn4):
                bn.running_mean.uniform_(-0.3, 0.3)
                bn.running_var.uniform_(0.4, 1.6)
                bn.weight.uniform_(0.5, 1.5)
                bn.bias.uniform_(-0.3, 0.3)
    return model.eval()


MODELS = {
    "sigmoid-max": dict(),
    "relu-batchnorm-normalised": dict(activation="relu", batch_norm=True, input_mean=0.286, input_std=0.353),
    "sigmoid-avg": dict(pool="avg"),
}


def _image(seed: int = 0) -> torch.Tensor:
    image = torch.zeros(28, 28)
    image[6:22, 9:19] = torch.rand(16, 10, generator=torch.Generator().manual_seed(seed))
    return image


def _forward(model: LeNet, image: torch.Tensor) -> dict[str, np.ndarray]:
    with torch.no_grad():
        _, acts = model(image.reshape(1, 1, 28, 28), return_activations=True)
    return {name: value[0].numpy() for name, value in acts.items()}


@pytest.mark.parametrize("name", list(MODELS))
def test_every_value_of_every_layer_is_what_the_forward_pass_gives(name):
    model = _model(**MODELS[name])
    image = _image()
    acts = _forward(model, image)
    for layer in STEP_LAYER_NAMES:
        for position in np.ndindex(*acts[layer].shape):
            step = explain(model, image.numpy(), acts, layer, position)
            assert step.value == pytest.approx(float(acts[layer][position]), abs=0)
            assert abs(step.result - float(acts[layer][position])) <= 1e-5, (layer, position)


def test_conv_with_relu_and_batch_norm_shows_each_step():
    model = _model(**MODELS["relu-batchnorm-normalised"])
    image = _image(3)
    acts = _forward(model, image)
    step = explain(model, image.numpy(), acts, "conv2", (5, 3, 4))
    assert isinstance(step, ConvStep) and step.activation == "ReLU" and step.bias is None
    # the receptive field is pool1's 6 x 5 x 5 block at rows 3..7, columns 4..8
    assert (step.rows, step.cols) == ((3, 8), (4, 9))
    np.testing.assert_allclose(step.inputs, acts["pool1"][:, 3:8, 4:9], rtol=0, atol=0)
    np.testing.assert_allclose(step.weights, model.conv2.weight[5].detach().numpy(), rtol=0, atol=0)
    # Batch norm's step by hand, from the module's running statistics
    bn = model.bn2.requires_grad_(False)
    z = float((acts["pool1"][:, 3:8, 4:9] * model.conv2.weight[5].detach().numpy()).sum())
    by_hand = (z - float(bn.running_mean[5])) / np.sqrt(float(bn.running_var[5]) + bn.eps) * float(bn.weight[5]) + float(bn.bias[5])
    assert step.batch_norm.before == pytest.approx(z, abs=1e-5)
    assert step.batch_norm.after == pytest.approx(by_hand, abs=1e-5)
    assert step.result == pytest.approx(max(by_hand, 0.0), abs=1e-5)
    # conv2's unit (3, 4) sees 14 x 14 pixels of the image: rows 6..19, columns 8..21
    assert step.reach == (6, 20, 8, 22)


def test_conv1_sees_the_normalised_image():
    model = _model(**MODELS["relu-batchnorm-normalised"])
    image = _image(4)
    step = explain(model, image.numpy(), _forward(model, image), "conv1", (0, 10, 12))
    expected = (image[10:15, 12:17].numpy() - 0.286) / 0.353
    np.testing.assert_allclose(step.inputs[0], expected, atol=1e-6)
    assert step.reach == (10, 15, 12, 17)


def test_max_pooling_marks_the_maximum_and_avg_pooling_takes_the_mean():
    image = _image(5)
    model = _model()
    acts = _forward(model, image)
    step = explain(model, image.numpy(), acts, "pool1", (2, 4, 7))
    assert isinstance(step, PoolStep) and step.kind == "max"
    window = acts["conv1"][2, 8:10, 14:16]
    assert step.inputs.tolist() == window.tolist()
    assert window[step.chosen] == window.max()
    model = _model(pool="avg")
    acts = _forward(model, image)
    step = explain(model, image.numpy(), acts, "pool2", (9, 1, 2))
    assert step.kind == "avg" and step.chosen is None
    assert step.result == pytest.approx(float(acts["conv2"][9, 2:4, 4:6].mean()), abs=1e-6)
    assert step.reach == (4, 20, 8, 24)  # pool2 (1, 2): 16 x 16 pixels


def test_a_fully_connected_unit_lists_its_largest_contributions():
    model = _model()
    image = _image(6)
    acts = _forward(model, image)
    step = explain(model, image.numpy(), acts, "fc1", (17,))
    assert isinstance(step, DenseStep) and step.source_shape == (16, 4, 4)
    products = acts["pool2"].reshape(-1).astype(np.float64) * model.fc1.weight[17].detach().double().numpy()
    top = step.top(5)
    assert [c.index for c in top] == list(np.argsort(-np.abs(products))[:5])
    assert sum(c.product for c in step.top()) + step.rest == pytest.approx(products.sum())
    with torch.no_grad():
        direct = float(F.linear(torch.from_numpy(acts["pool2"].reshape(1, -1)), model.fc1.weight, model.fc1.bias)[0, 17])
    assert step.total + step.bias == pytest.approx(direct, abs=1e-5)
    logits = explain(model, image.numpy(), acts, "logits", (3,))
    assert logits.activation == "" and logits.result == pytest.approx(float(acts["logits"][3]), abs=1e-5)


@pytest.mark.parametrize("key", ["mnist", "fashion-mnist"])
def test_bundled_models_through_the_predictor(key, bundled_models):
    loaded = load_checkpoint(bundled_models[key])
    image = _image(7)
    prediction = Predictor(loaded).predict(image)
    for layer, position in (("conv1", (1, 5, 6)), ("pool1", (0, 3, 3)), ("conv2", (7, 2, 2)), ("pool2", (4, 1, 1)),
                            ("fc1", (0,)), ("fc2", (40,)), ("logits", (prediction.index,))):
        step = explain(loaded.model, image.numpy(), prediction.activations, layer, position)
        assert abs(step.result - float(prediction.activations[layer][position])) <= 1e-5, layer


def test_padding_and_strides_are_the_modules_own():
    # d2l's variant pads conv1 (28 + 2 × 2 − 5 + 1 = 28); a padded 3 x 3 pooling on conv2.
    model = _model()
    model.conv1 = torch.nn.Conv2d(1, 6, 5, padding=2)
    model.pool2 = torch.nn.MaxPool2d(3, 2, padding=1)
    model.fc1 = torch.nn.Linear(16 * 5 * 5, 120)
    model.eval()
    image = _image(8)
    acts = _forward(model, image)
    assert acts["conv1"].shape == (6, 28, 28) and acts["pool2"].shape == (16, 5, 5)
    for layer in ("conv1", "pool1", "conv2", "pool2", "fc1"):
        for position in list(np.ndindex(*acts[layer].shape))[:: 7]:
            step = explain(model, image.numpy(), acts, layer, position)
            assert abs(step.result - float(acts[layer][position])) <= 1e-5, (layer, position)
    corner = explain(model, image.numpy(), acts, "conv1", (0, 0, 1))
    assert (corner.rows, corner.cols) == ((-2, 3), (-1, 4))  # the window reaches into the zero padding
    assert corner.inputs[0, :2].tolist() == [[0.0] * 5] * 2
    assert corner.reach == (0, 3, 0, 4)
    edge = explain(model, image.numpy(), acts, "pool2", (1, 0, 4))
    assert (edge.rows, edge.cols) == ((-1, 2), (7, 10))
    assert edge.inputs[0].tolist() == [-np.inf] * 3  # padding never wins a maximum
    assert edge.inputs[1:, :2].tolist() == acts["conv2"][1, 0:2, 7:9].tolist()


def test_without_bias_or_batch_norm_the_sum_goes_to_the_activation():
    model = _model()
    model.conv2 = torch.nn.Conv2d(6, 16, 5, bias=False)
    model.fc2 = torch.nn.Linear(120, 84, bias=False)
    model.eval()
    image = _image(9)
    acts = _forward(model, image)
    for layer, position in (("conv2", (3, 4, 4)), ("fc2", (10,))):
        step = explain(model, image.numpy(), acts, layer, position)
        assert step.bias is None and step.batch_norm is None
        assert step.pre_activation == pytest.approx(step.total, abs=0)
        assert 1 / (1 + np.exp(-step.pre_activation)) == pytest.approx(float(acts[layer][position]), abs=1e-5)


def test_positions_outside_the_layer_are_refused():
    model = _model()
    acts = _forward(model, _image())
    with pytest.raises(ValueError, match="outside conv1"):
        explain(model, _image().numpy(), acts, "conv1", (0, 24, 0))
    with pytest.raises(ValueError, match="unknown layer"):
        explain(model, _image().numpy(), acts, "conv3", (0,))
    assert reach(model, "pool2", 3, 3) == (12, 28, 12, 28)
