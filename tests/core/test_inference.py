"""Probabilities, activations and saliency for one input (core/inference.py), each against a
reference computed here: softmax of a plain forward, module hooks, autograd on a plain forward,
and Grad-CAM's formula written out."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lenet_gui.core.checkpoint import LoadedModel
from lenet_gui.core.inference import Predictor, classify
from lenet_gui.core.model import LAYER_SHAPES, LeNet, ModelConfig
from lenet_gui.core.preprocess import Preprocessed

CLASSES = [f"class {i}" for i in range(10)]


def _loaded(seed: int = 0, **config) -> LoadedModel:
    torch.manual_seed(seed)
    model = LeNet(ModelConfig(**({"activation": "relu", "input_mean": 0.13, "input_std": 0.31} | config)))
    return LoadedModel(model=model.eval(), classes=CLASSES, dataset=None, input_kind="digit")


def _input(seed: int = 1) -> torch.Tensor:
    return torch.rand(1, 28, 28, generator=torch.Generator().manual_seed(seed))


def test_prediction_is_the_softmax_of_the_models_logits():
    loaded, x = _loaded(), _input()
    with torch.no_grad():
        logits = loaded.model(x.reshape(1, 1, 28, 28))[0].double()
    expected = (logits.exp() / logits.exp().sum()).numpy()
    for given in (x, x[0]):  # 1 x 28 x 28 or 28 x 28
        prediction = Predictor(loaded).predict(given)
        np.testing.assert_allclose(prediction.probabilities, expected, rtol=1e-6)
        assert prediction.index == int(np.argmax(expected)) and prediction.label == CLASSES[prediction.index]
        assert prediction.confidence == pytest.approx(float(expected.max()))
        assert abs(prediction.probabilities.sum() - 1) < 1e-9


def test_every_layers_activations_are_what_the_layer_put_out():
    loaded, x = _loaded(batch_norm=True, dropout=0.3), _input()
    model = loaded.model
    seen = {}
    modules = {"conv1": model.act1, "pool1": model.pool1, "conv2": model.act2, "pool2": model.pool2,
               "fc1": model.drop1, "fc2": model.drop2, "logits": model.fc3}
    hooks = [module.register_forward_hook(lambda m, i, o, name=name: seen.__setitem__(name, o[0].detach().clone()))
             for name, module in modules.items()]
    try:
        with torch.no_grad():
            model(x.reshape(1, 1, 28, 28))
    finally:
        for hook in hooks:
            hook.remove()
    prediction = Predictor(loaded).predict(x)
    assert list(prediction.activations) == list(LAYER_SHAPES)
    for name, shape in LAYER_SHAPES.items():
        assert prediction.activations[name].shape == shape, name
        np.testing.assert_allclose(prediction.activations[name], seen[name].numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("target", [0, 7])
def test_gradient_saliency_is_the_normalised_absolute_gradient(target):
    loaded, x = _loaded(), _input()
    pixels = x.reshape(1, 1, 28, 28).clone().requires_grad_(True)
    loaded.model(pixels)[0, target].backward()
    gradient = pixels.grad[0, 0].abs().double()
    expected = (gradient / gradient.max()).numpy()
    heat = Predictor(loaded).saliency(x, target, "gradient")
    assert heat.shape == (28, 28)
    np.testing.assert_allclose(heat, expected, rtol=1e-5, atol=1e-7)
    assert heat.max() == 1.0 and heat.min() >= 0.0


def _bilinear_8_to_16(cam: np.ndarray) -> np.ndarray:
    """Each output pixel p of 16 reads the 8-grid at (p + 0.5) / 2 - 0.5, clamped to the grid,
    weighting its two neighbours by distance (half-pixel centres)."""
    out = np.zeros((16, 16))
    coords = np.clip((np.arange(16) + 0.5) / 2 - 0.5, 0, 7)
    for i, y in enumerate(coords):
        for j, x in enumerate(coords):
            y0, x0 = int(np.floor(y)), int(np.floor(x))
            y1, x1 = min(y0 + 1, 7), min(x0 + 1, 7)
            wy, wx = y - y0, x - x0
            out[i, j] = ((1 - wy) * (1 - wx) * cam[y0, x0] + (1 - wy) * wx * cam[y0, x1]
                         + wy * (1 - wx) * cam[y1, x0] + wy * wx * cam[y1, x1])
    return out


@pytest.mark.parametrize("seed", [3, 5])
def test_gradcam_follows_its_formula(seed):
    loaded, x = _loaded(seed=seed), _input(seed + 1)
    model = loaded.model
    target = Predictor(loaded).predict(x).index  # the top class: its map has positive parts
    kept = {}

    def keep(module, inputs, output):
        output.retain_grad()
        kept["maps"] = output

    hook = model.act2.register_forward_hook(keep)  # conv2's 16 feature maps, 8 x 8
    try:
        model(x.reshape(1, 1, 28, 28))[0, target].backward()
    finally:
        hook.remove()
    maps, grads = kept["maps"][0].detach().double().numpy(), kept["maps"].grad[0].double().numpy()
    weights = grads.mean(axis=(1, 2))  # one weight per map: its gradient, averaged
    cam = np.maximum((weights[:, None, None] * maps).sum(0), 0)
    # conv2's unit (i, j) sees input pixels 2i .. 2i + 13: its centre is 2i + 6.5, so the 8 x 8
    # map, upsampled to 16 x 16, covers pixels 6 .. 21 of the input.
    expected = np.zeros((28, 28))
    expected[6:22, 6:22] = _bilinear_8_to_16(cam)
    assert expected.max() > 0, "pick another model: nothing drives this class"
    expected /= expected.max()
    heat = Predictor(loaded).saliency(x, target, "gradcam")
    np.testing.assert_allclose(heat, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("method", ["gradient", "gradcam"])
def test_saliency_of_a_score_nothing_drives_is_all_zero(method):
    loaded = _loaded()
    with torch.no_grad():
        loaded.model.fc3.weight.zero_()  # every class score is its bias alone
    heat = Predictor(loaded).saliency(_input(), 3, method)
    assert heat.shape == (28, 28) and not heat.any()


def test_saliency_refuses_an_unknown_method_or_class():
    predictor = Predictor(_loaded())
    with pytest.raises(ValueError, match="unknown saliency method 'occlusion'"):
        predictor.saliency(_input(), 0, "occlusion")
    for index in (-1, 10):
        with pytest.raises(ValueError, match=f"class index {index} out of range"):
            predictor.saliency(_input(), index)


def test_saliency_leaves_the_model_as_it_was():
    loaded = _loaded()
    before = {k: v.clone() for k, v in loaded.model.state_dict().items()}
    Predictor(loaded).saliency(_input(), 1, "gradcam")
    assert all(p.grad is None for p in loaded.model.parameters())
    assert all(torch.equal(v, before[k]) for k, v in loaded.model.state_dict().items())


def test_classify_a_drawing_and_a_blank_page():
    from PIL import Image, ImageDraw

    loaded = _loaded()
    page = Image.new("L", (100, 100), 255)
    pre, prediction = classify(loaded, page)
    assert isinstance(pre, Preprocessed) and pre.blank and prediction is None
    ImageDraw.Draw(page).line([(20, 20), (80, 20), (40, 90)], fill=0, width=8)
    pre, prediction = classify(loaded, page)
    assert not pre.blank
    expected = Predictor(loaded).predict(pre.tensor)
    np.testing.assert_allclose(prediction.probabilities, expected.probabilities)
    predictor = Predictor(loaded)
    _, again = classify(loaded, page, predictor)
    np.testing.assert_allclose(again.probabilities, expected.probabilities)
