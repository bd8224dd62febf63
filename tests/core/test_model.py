"""LeNet: the layers a user reads, their shapes, and the variants."""

from __future__ import annotations

import pytest
import torch

from lenet_gui.core.model import LAYER_NAMES, LAYER_SHAPES, LeNet, ModelConfig, build_model

EXPECTED_SHAPES = {
    "conv1": (6, 24, 24),
    "pool1": (6, 12, 12),
    "conv2": (16, 8, 8),
    "pool2": (16, 4, 4),
    "fc1": (120,),
    "fc2": (84,),
    "logits": (10,),
}
MODERN = ModelConfig(activation="relu", batch_norm=True, dropout=0.2, input_mean=0.286, input_std=0.353)


@pytest.mark.parametrize("config", [ModelConfig(), MODERN, ModelConfig(pool="avg")], ids=["classic", "modern", "avg"])
def test_activations_are_named_and_shaped_as_a_user_reads_them(config):
    torch.manual_seed(0)
    model = LeNet(config).eval()
    x = torch.rand(3, 1, 28, 28)
    logits, acts = model(x, return_activations=True)
    assert list(acts) == list(EXPECTED_SHAPES) == list(LAYER_NAMES)
    assert dict(LAYER_SHAPES) == EXPECTED_SHAPES
    for name, shape in EXPECTED_SHAPES.items():
        assert tuple(acts[name].shape) == (3, *shape), name
    assert torch.equal(acts["logits"], logits)
    assert torch.equal(model(x), logits)


def test_classic_activations_are_after_the_sigmoid():
    model = LeNet().eval()
    with torch.no_grad():
        _, acts = model(torch.rand(2, 1, 28, 28), return_activations=True)
    for name in ("conv1", "pool1", "conv2", "pool2", "fc1", "fc2"):
        assert float(acts[name].min()) >= 0 and float(acts[name].max()) <= 1, name


def test_classic_is_the_tutorials_lenet():
    model = LeNet()
    # d2l's LeNet: 156 + 2416 + 30840 + 10164 + 850 weights and biases
    assert model.parameter_count() == 44426
    assert isinstance(model.act1, torch.nn.Sigmoid)
    assert isinstance(model.pool1, torch.nn.MaxPool2d)
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules()) == 0


def test_normalisation_lives_in_the_model_and_travels_with_its_state():
    model = LeNet(MODERN)
    state = model.state_dict()
    assert float(state["input_mean"]) == pytest.approx(0.286)
    assert float(state["input_std"]) == pytest.approx(0.353)
    twin = LeNet(MODERN)
    twin.load_state_dict(state)
    x = torch.rand(2, 1, 28, 28)
    assert torch.equal(model.eval()(x), twin.eval()(x))


def test_config_round_trips_and_rejects_nonsense():
    assert ModelConfig.from_dict(MODERN.to_dict()) == MODERN
    assert isinstance(build_model(MODERN.to_dict()), LeNet)
    for bad in ({"activation": "tanh"}, {"pool": "median"}, {"dropout": 1.0}, {"input_std": 0},
                {"num_classes": 7}, {"colour": True}):
        with pytest.raises(ValueError):
            ModelConfig.from_dict(bad)


@pytest.mark.parametrize(
    "config",
    [ModelConfig(), ModelConfig(activation="relu", input_mean=0.3, input_std=0.35), ModelConfig(activation="relu", batch_norm=True)],
    ids=["classic", "relu-normalised", "batch-norm"],
)
def test_fast_training_path_gives_the_same_gradients(config):
    """forward() pools before the activation when it can, on the fast CPU kernels without batch
    norm; the layer-by-layer path (the one the inspector shows) must train the same network."""
    torch.manual_seed(1)
    model = LeNet(config).train()
    x, y = torch.randn(16, 1, 28, 28), torch.randint(0, 10, (16,))
    grads = []
    for with_activations in (False, True):
        model.zero_grad()
        out = model(x, return_activations=True)[0] if with_activations else model(x)
        torch.nn.functional.cross_entropy(out, y).backward()
        grads.append({k: p.grad.clone() for k, p in model.named_parameters()})
    for name in grads[0]:
        assert torch.allclose(grads[0][name], grads[1][name], atol=1e-6), name


def test_classic_runs_on_the_fast_cpu_kernels():
    assert LeNet(ModelConfig()).has_fast_cpu_path
    assert not LeNet(MODERN).has_fast_cpu_path
    assert not LeNet(ModelConfig(pool="avg")).has_fast_cpu_path


@pytest.mark.parametrize("config", [ModelConfig(), MODERN, ModelConfig(pool="avg")], ids=["classic", "modern", "avg"])
def test_batch_evaluation_gives_the_outputs_of_the_layers_one_by_one(config):
    """Batch evaluation (accuracy, the test-set view) takes the fast route; a user comparing its
    predictions with the inspector's must see the same numbers."""
    torch.manual_seed(2)
    model = LeNet(config).eval()
    x = torch.rand(32, 1, 28, 28)
    x[:, :, :9] = 0
    with torch.no_grad():
        layer_by_layer = model(x, return_activations=True)[0]
        torch.testing.assert_close(model.fast_logits(x), layer_by_layer)
        torch.testing.assert_close(model(x), layer_by_layer)


def test_module_hooks_see_every_layer_in_eval_mode():
    """In eval mode forward() runs the layers one by one, in the order drawn: hooks (and the
    model exports, which trace) see each of them."""
    model = LeNet(ModelConfig()).eval()
    seen = []
    for name in ("conv1", "act1", "pool1", "conv2", "act2", "pool2", "fc1", "fc2", "fc3"):
        getattr(model, name).register_forward_hook(lambda *_args, name=name: seen.append(name))
    with torch.no_grad():
        model(torch.rand(2, 1, 28, 28))
    assert seen == ["conv1", "act1", "pool1", "conv2", "act2", "pool2", "fc1", "fc2", "fc3"]
