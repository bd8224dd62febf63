"""LeNet: the layers a user reads, their shapes, and the variants."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

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


def test_a_config_that_names_no_normalisation_feeds_the_image_as_given():
    # What an early checkpoint, written before the model normalised its input, comes back as.
    config = ModelConfig.from_dict({"activation": "sigmoid", "pool": "max"})
    torch.manual_seed(0)
    model = LeNet(config).eval()
    x = torch.rand(2, 1, 28, 28)
    with torch.no_grad():
        _, acts = model(x, return_activations=True)
        direct = torch.sigmoid(F.conv2d(x, model.conv1.weight, model.conv1.bias))
    assert torch.allclose(acts["conv1"], direct, atol=1e-6)


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
    """forward() pools before the activation when it can, on the fast CPU kernels for max-pooling;
    the layer-by-layer path (the one the inspector shows) must train the same network."""
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


def test_max_pooling_models_run_on_the_fast_cpu_kernels():
    assert LeNet(ModelConfig()).has_fast_cpu_path
    assert LeNet(MODERN).has_fast_cpu_path
    assert not LeNet(ModelConfig(pool="avg")).has_fast_cpu_path


def test_fast_training_path_keeps_the_batch_statistics_the_layers_keep():
    """Batch norm sees conv1's output as quadrants on the fast path: its running mean and
    variance (the figures evaluation uses) must come out as the textbook layers leave them."""
    torch.manual_seed(3)
    fast = LeNet(MODERN).train()
    textbook = LeNet(MODERN).train()
    textbook.load_state_dict(fast.state_dict())
    for step in range(3):
        x = torch.rand(32, 1, 28, 28)
        x[:4] = 0  # blank images: windows of equal values
        torch.manual_seed(step)  # the same dropout masks for both
        fast(x)
        torch.manual_seed(step)
        textbook(x, return_activations=True)
    for name in ("bn1", "bn2", "bn3", "bn4"):
        ours, theirs = getattr(fast, name), getattr(textbook, name)
        torch.testing.assert_close(ours.running_mean, theirs.running_mean, atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(ours.running_var, theirs.running_var, atol=1e-6, rtol=1e-5)
        assert int(ours.num_batches_tracked) == 3


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


def _textbook_lenet(model: LeNet, x: torch.Tensor, training: bool) -> dict[str, torch.Tensor]:
    """Each layer's output, written out here in torch.nn.functional from the model's weights and
    settings: conv -> batch norm -> activation -> pooling, twice, then the three linear layers.
    (Dropout is random: the models compared with this have none.)"""
    c = model.config
    act = torch.sigmoid if c.activation == "sigmoid" else torch.relu
    pool = F.max_pool2d if c.pool == "max" else F.avg_pool2d

    def bn(y, module):
        if not c.batch_norm:
            return y
        # clones: the reference must not move the model's running statistics
        return F.batch_norm(y, module.running_mean.clone(), module.running_var.clone(), module.weight,
                            module.bias, training, 0.1, module.eps)

    out = {}
    y = (x - c.input_mean) / c.input_std
    out["conv1"] = act(bn(F.conv2d(y, model.conv1.weight, model.conv1.bias), model.bn1))
    out["pool1"] = pool(out["conv1"], 2, 2)
    out["conv2"] = act(bn(F.conv2d(out["pool1"], model.conv2.weight, model.conv2.bias), model.bn2))
    out["pool2"] = pool(out["conv2"], 2, 2)
    out["fc1"] = act(bn(F.linear(out["pool2"].flatten(1), model.fc1.weight, model.fc1.bias), model.bn3))
    out["fc2"] = act(bn(F.linear(out["fc1"], model.fc2.weight, model.fc2.bias), model.bn4))
    out["logits"] = F.linear(out["fc2"], model.fc3.weight, model.fc3.bias)
    return out


REFERENCE_CONFIGS = {
    "classic": ModelConfig(),
    "relu-normalised": ModelConfig(activation="relu", input_mean=0.1307, input_std=0.3081),
    "batch-norm": ModelConfig(activation="relu", batch_norm=True, input_mean=0.286, input_std=0.353),
    "avg": ModelConfig(pool="avg"),
    "avg-batch-norm": ModelConfig(pool="avg", batch_norm=True),
}


def _model_with_nontrivial_statistics(config: ModelConfig) -> LeNet:
    torch.manual_seed(4)
    model = LeNet(config)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                module.running_mean.uniform_(-0.3, 0.3)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.2, 0.2)
    return model


@pytest.mark.parametrize("name", list(REFERENCE_CONFIGS))
def test_every_route_computes_the_textbook_network(name):
    """What the inspector shows (layer by layer), what evaluation uses (fast_logits) and what
    training uses (forward in train mode) are all the network drawn in the module docstring."""
    model = _model_with_nontrivial_statistics(REFERENCE_CONFIGS[name])
    x = torch.rand(16, 1, 28, 28)
    x[:, :, :8] = 0  # blank rows, as in real digits: ties in the pooling windows
    with torch.no_grad():
        model.eval()
        expected = _textbook_lenet(model, x, training=False)
        logits, activations = model(x, return_activations=True)
        for layer in LAYER_NAMES:
            torch.testing.assert_close(activations[layer], expected[layer], msg=lambda m: f"{layer}: {m}")
        torch.testing.assert_close(model(x), expected["logits"])
        torch.testing.assert_close(model.fast_logits(x), expected["logits"])
        model.train()
        expected = _textbook_lenet(model, x, training=True)  # batch statistics
        torch.testing.assert_close(model(x), expected["logits"], rtol=1e-4, atol=1e-5)


def test_dropout_is_random_while_training_and_off_while_evaluating():
    torch.manual_seed(5)
    model = LeNet(ModelConfig(dropout=0.5))
    twin = LeNet(ModelConfig())  # the same network without dropout
    twin.load_state_dict(model.state_dict())
    x = torch.rand(64, 1, 28, 28)
    with torch.no_grad():
        model.train()
        assert not torch.equal(model(x), model(x))  # the fast route drops too
        _, activations = model(x, return_activations=True)
        for layer in ("fc1", "fc2"):  # sigmoid outputs are never 0 unless dropped
            dropped = float((activations[layer] == 0).float().mean())
            assert 0.4 <= dropped <= 0.6, (layer, dropped)
        model.eval()
        assert torch.equal(model(x), model(x))
        torch.testing.assert_close(model(x), twin.eval()(x))
        torch.testing.assert_close(model.fast_logits(x), twin.fast_logits(x))


def test_relu_variant_cuts_negative_values():
    model = LeNet(ModelConfig(activation="relu")).eval()
    with torch.no_grad():
        _, activations = model(torch.rand(8, 1, 28, 28), return_activations=True)
    for layer in ("conv1", "conv2", "fc1", "fc2"):
        values = activations[layer]
        assert bool((values == 0).any()) and bool((values > 0).any()), layer
        assert float(values.min()) == 0.0, layer
