"""The recipe as a standalone script: what it imports, the network it builds, the settings it
trains with, and (slow) what it learns when run on its own as a separate process."""

from __future__ import annotations

import ast
import dataclasses
import math
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
import torchvision
from torchvision import transforms

from lenet_gui.core.data import SPLIT_FILES, load_dataset
from lenet_gui.core.engine import TrainConfig, Trainer, TrainingError
from lenet_gui.core.model import LeNet
from lenet_gui.core.presets import PRESET_NAMES, preset_config
from lenet_gui.core.script_export import ScriptExportError, script_source, write_script

# The robust recipe's real-input augmentation, outliers and held-out calibration images are the
# app's own code, which a torch + torchvision script does not have: it is refused (tested below).
SCRIPTABLE = [preset for preset in PRESET_NAMES if preset != "robust"]
RECIPES = [(preset, dataset) for preset in SCRIPTABLE for dataset in ("fashion-mnist", "mnist")]
# Variants no preset has, so every branch of the network and the loop is written at least once.
VARIANTS = [
    dict(preset="classic", pool="avg", dropout=0.3, activation="relu"),
    dict(preset="modern", batch_norm=True, activation="sigmoid", dropout=0.2, pool="avg"),
    dict(preset="classic", optimizer="adamw", weight_decay=0.0, schedule="cosine", label_smoothing=0.05),
    dict(preset="modern", optimizer="sgd", momentum=0.0, weight_decay=0.0, schedule="none"),
    dict(preset="classic", augment_shift=3, augment_flip=True, normalize=True, eval_batch_size=100, seed=11),
]
# The published pixel statistics of the training images (scaled to [0, 1]).
PUBLISHED_MEAN_STD = {"mnist": (0.1307, 0.3081), "fashion-mnist": (0.2860, 0.3530)}
LINE = re.compile(r"^epoch (\d+), loss (\d+\.\d{3}), train acc ([01]\.\d{3}), test acc ([01]\.\d{3})$")
RATE = re.compile(r"^\d+\.\d examples/sec on cpu$")


def _configs():
    configs = [preset_config(p, d) for p, d in RECIPES]
    for variant in VARIANTS:
        variant = dict(variant)
        configs.append(preset_config(variant.pop("preset"), "fashion-mnist", **variant))
    return configs


CONFIGS = _configs()
IDS = [f"{c.preset}-{c.dataset}-{i}" for i, c in enumerate(CONFIGS)]


def _namespace(source: str) -> dict:
    """The script's definitions, in a fresh namespace, without running its main()."""
    namespace = {"__name__": "exported_recipe"}
    exec(compile(source, "exported_recipe.py", "exec"), namespace)
    return namespace


def _imported_roots(source: str) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "a relative import cannot work in a standalone script"
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_the_script_compiles_and_imports_only_torch_torchvision_and_the_standard_library(config):
    source = script_source(config)
    compile(source, "exported_recipe.py", "exec")
    roots = _imported_roots(source)
    assert {"torch", "torchvision"} <= roots
    assert roots - {"torch", "torchvision"} <= set(sys.stdlib_module_names), roots
    assert "__import__" not in source and "importlib" not in source


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_the_script_builds_the_apps_network_layer_for_layer(config):
    namespace = _namespace(script_source(config))
    torch.manual_seed(config.seed)
    script_net = namespace["LeNet"]()
    mean, std = PUBLISHED_MEAN_STD[config.dataset] if config.normalize else (0.0, 1.0)
    torch.manual_seed(config.seed)
    app_net = LeNet(config.model_config(mean, std))

    assert isinstance(script_net.net, torch.nn.Sequential)
    count = sum(p.numel() for p in script_net.parameters())
    assert count == sum(p.numel() for p in app_net.parameters())
    if config.preset == "classic" and not config.batch_norm:
        assert count == 44_426  # the tutorial's figure for this network
    # The same parameters, created in the same order: the same seed draws the same weights.
    script_params = [p.detach() for p in script_net.parameters()]
    app_params = [p.detach() for p in app_net.parameters()]
    assert [p.shape for p in script_params] == [p.shape for p in app_params]
    assert all(torch.equal(a, b) for a, b in zip(script_params, app_params))

    # Each stage's output shape, as the data flows (in eval mode: batch norm keeps its statistics).
    script_net.eval()
    app_net.eval()
    shapes = []
    x = torch.rand(3, 1, 28, 28)
    h = x
    for layer in script_net.net:
        h = layer(h)
        if isinstance(layer, (torch.nn.MaxPool2d, torch.nn.AvgPool2d, torch.nn.Flatten)):
            shapes.append(tuple(h.shape[1:]))
    assert shapes == [(6, 12, 12), (16, 4, 4), (256,)]

    # The same function: the script normalises in its transform, the app inside the model.
    with torch.no_grad():
        expected = app_net(x)
        got = script_net((x - mean) / std)
    assert got.shape == (3, 10)
    assert torch.allclose(got, expected, atol=1e-5)


def _recorders(monkeypatch) -> dict:
    """Record what the script constructs: the optimizer, the schedule, the loss."""
    made: dict = {}

    def recording(owner, name):
        base = getattr(owner, name)

        class Recording(base):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                made[name] = (self, kwargs)

        monkeypatch.setattr(owner, name, Recording)

    for name in ("Adam", "AdamW", "SGD"):
        recording(torch.optim, name)
    for name in ("OneCycleLR", "CosineAnnealingLR"):
        recording(torch.optim.lr_scheduler, name)
    recording(torch.nn, "CrossEntropyLoss")
    return made


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_the_script_trains_with_the_configs_settings(config, fake_data_root, monkeypatch, capsys):
    namespace = _namespace(script_source(config))
    made = _recorders(monkeypatch)
    namespace["main"](["--data-root", str(fake_data_root), "--epochs", "3"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "training on cpu"
    assert [LINE.match(line).group(1) for line in lines[1:4]] == ["1", "2", "3"], lines
    assert RATE.match(lines[4]) and len(lines) == 5, lines

    name = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD"}[config.optimizer]
    assert set(made) & {"Adam", "AdamW", "SGD"} == {name}
    optimizer, _ = made[name]
    group, settings = optimizer.param_groups[0], optimizer.defaults  # defaults: as constructed
    assert settings["lr"] == config.lr and settings["weight_decay"] == config.weight_decay
    if config.optimizer == "sgd":
        assert settings["momentum"] == config.momentum
        assert settings["nesterov"] == (config.momentum > 0)
    batches = math.ceil(200 / config.batch_size)  # the fake training set holds 200 images
    if config.schedule == "onecycle":
        scheduler, kwargs = made["OneCycleLR"]
        assert kwargs["max_lr"] == config.lr and kwargs["pct_start"] == 0.25
        assert scheduler.total_steps == 3 * batches
        assert "CosineAnnealingLR" not in made
    elif config.schedule == "cosine":
        scheduler, kwargs = made["CosineAnnealingLR"]
        assert scheduler.T_max == 3 * batches and scheduler.base_lrs == [config.lr]
        assert "OneCycleLR" not in made
    else:
        assert "OneCycleLR" not in made and "CosineAnnealingLR" not in made
        assert group["lr"] == config.lr  # constant: as set, after the last step
    loss, _ = made["CrossEntropyLoss"]
    assert loss.label_smoothing == config.label_smoothing


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_the_scripts_data_loading_follows_the_config(config, fake_data_root):
    namespace = _namespace(script_source(config))
    assert namespace["num_epochs"] == config.epochs and namespace["lr"] == config.lr
    train_iter, test_iter = namespace["load_data"](str(fake_data_root), False, 0)
    assert train_iter.batch_size == config.batch_size
    assert test_iter.batch_size == config.eval_batch_size
    expected_class = {"mnist": torchvision.datasets.MNIST, "fashion-mnist": torchvision.datasets.FashionMNIST}
    assert type(train_iter.dataset) is expected_class[config.dataset]
    assert train_iter.dataset.train and not test_iter.dataset.train

    def steps(loader):
        return loader.dataset.transform.transforms

    crops = [t for t in steps(train_iter) if isinstance(t, transforms.RandomCrop)]
    flips = [t for t in steps(train_iter) if isinstance(t, transforms.RandomHorizontalFlip)]
    assert [c.padding for c in crops] == ([config.augment_shift] if config.augment_shift else [])
    assert all(c.size == (28, 28) and c.fill == 0 for c in crops)  # a shift, the border black
    assert [f.p for f in flips] == ([0.5] if config.augment_flip else [])
    for loader in (train_iter, test_iter):
        norms = [t for t in steps(loader) if isinstance(t, transforms.Normalize)]
        if config.normalize:
            (norm,) = norms
            mean, std = PUBLISHED_MEAN_STD[config.dataset]
            assert norm.mean[0] == pytest.approx(mean, abs=1e-4) and norm.std[0] == pytest.approx(std, abs=1e-4)
        else:
            assert norms == []
    # Testing sees the images as they are.
    assert not any(isinstance(t, (transforms.RandomCrop, transforms.RandomHorizontalFlip)) for t in steps(test_iter))
    # Each run draws the same shuffle.
    first = next(iter(train_iter))[1]
    again = next(iter(namespace["load_data"](str(fake_data_root), False, 0)[0]))[1]
    assert torch.equal(first, again)


def test_the_epochs_default_to_the_configs_and_the_options_override_them(fake_data_root, capsys):
    config = preset_config("classic", "fashion-mnist", epochs=3, batch_size=100)
    namespace = _namespace(script_source(config))
    namespace["main"](["--data-root", str(fake_data_root), "--device", "cpu", "--threads", "1"])
    lines = [line for line in capsys.readouterr().out.splitlines() if LINE.match(line)]
    assert [LINE.match(line).group(1) for line in lines] == ["1", "2", "3"]
    assert torch.get_num_threads() == 1
    namespace["main"](["--data-root", str(fake_data_root), "--epochs", "1"])
    assert len([line for line in capsys.readouterr().out.splitlines() if LINE.match(line)]) == 1
    assert torch.get_num_threads() == max(1, min(4, os.cpu_count() or 1))


def test_threads_and_device_chosen_in_the_app_become_the_scripts_defaults(fake_data_root, capsys):
    namespace = _namespace(script_source(preset_config("classic", device="cpu", threads=1, epochs=1)))
    namespace["main"](["--data-root", str(fake_data_root)])
    assert capsys.readouterr().out.startswith("training on cpu\n")
    assert torch.get_num_threads() == 1


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "0"], "--epochs must be at least 1"),
    (["--device", "tpu"], "--device tpu"),
    (["--device", "cuda:7"] if not torch.cuda.is_available() else ["--device", "cuda:99"], "--device cuda"),
])
def test_bad_options_are_refused_with_a_message(argv, message, fake_data_root, capsys):
    namespace = _namespace(script_source(preset_config("classic")))
    with pytest.raises(SystemExit) as exit_info:
        namespace["main"](["--data-root", str(fake_data_root), *argv])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_a_missing_data_set_says_where_it_looked_and_how_to_download(tmp_path, capsys):
    namespace = _namespace(script_source(preset_config("classic")))
    with pytest.raises(SystemExit):
        namespace["main"](["--data-root", str(tmp_path)])
    err = capsys.readouterr().err
    assert f"Fashion-MNIST in {tmp_path}" in err and "download=True" in err


def test_a_diverging_run_stops_with_a_message(fake_data_root, capsys):
    namespace = _namespace(script_source(preset_config("classic", lr=1e4, optimizer="sgd", activation="relu", epochs=3)))
    with pytest.raises(SystemExit) as exit_info:
        namespace["main"](["--data-root", str(fake_data_root)])
    assert "diverged" in str(exit_info.value.code) and "lower the learning rate" in str(exit_info.value.code)


# -- what the script cannot say is an error -----------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _GrownConfig(TrainConfig):
    """TrainConfig as it might grow: a setting the script writer does not know."""
    mixup: float = 0.0


def test_a_setting_the_script_cannot_reproduce_is_an_error_not_dropped():
    with pytest.raises(ScriptExportError, match="mixup"):
        script_source(_GrownConfig(mixup=0.2))
    assert "class LeNet(nn.Module)" in script_source(_GrownConfig())  # at its default it changes nothing


def test_invalid_settings_and_devices_are_refused(tmp_path):
    with pytest.raises(TrainingError, match="learning rate"):
        script_source(preset_config("classic", lr=-1.0))
    with pytest.raises(ScriptExportError, match="mps"):
        script_source(preset_config("classic", device="mps"))
    with pytest.raises(ScriptExportError, match="data set"):
        script_source(dataclasses.replace(preset_config("classic"), dataset="cifar10"))
    assert not list(tmp_path.iterdir())


def test_writing_replaces_a_file_whole_and_a_failed_write_leaves_it(tmp_path):
    path = tmp_path / "recipe.py"
    path.write_text("old")
    write_script(preset_config("modern"), path)
    assert path.read_text(encoding="utf-8") == script_source(preset_config("modern"))
    with pytest.raises(TrainingError):
        write_script(preset_config("classic", epochs=0), path)
    assert path.read_text(encoding="utf-8") == script_source(preset_config("modern"))
    with pytest.raises(OSError):
        write_script(preset_config("classic"), tmp_path / "no such folder" / "recipe.py")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["recipe.py"]


# -- slow: the script on its own, on the real data ----------------------------------------------


def _run_script(path, data_root, *args, timeout=270) -> subprocess.CompletedProcess:
    # A fresh interpreter without this checkout on its path: the script stands alone. One
    # thread, as the app's own slow tests: on a shared 2-core machine two threads racing other
    # processes are many times slower. The timeout stays under the suite's per-test one.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([sys.executable, "-I", str(path), "--data-root", str(data_root), "--threads", "1",
                           *map(str, args)],
                          cwd=path.parent, env=env, capture_output=True, text=True, timeout=timeout)


# The first images of the real Fashion-MNIST: the script and the app learn from the same ones,
# in a fraction of a full epoch's time (enough for the modern recipe to learn well).
SUBSET = {"train": 15000, "test": 2000}


@pytest.fixture
def fashion_subset(data_root, tmp_path, write_idx):
    """A data root holding the SUBSET of the real Fashion-MNIST, in torchvision's layout."""
    dataset = load_dataset("fashion-mnist", data_root, download=False)
    root = tmp_path / "subset"
    for name, split in (("train", dataset.train), ("test", dataset.test)):
        images_file, labels_file = SPLIT_FILES[name]
        write_idx(root / "FashionMNIST" / "raw" / images_file, split.images[: SUBSET[name]].numpy())
        write_idx(root / "FashionMNIST" / "raw" / labels_file, split.labels[: SUBSET[name]].numpy().astype(np.uint8))
    return root


@pytest.mark.slow
def test_the_classic_script_learns_its_first_epoch_as_the_app_does(data_root, tmp_path):
    # The whole training set: sigmoid LeNet needs most of an epoch's steps to leave its plateau.
    path = write_script(preset_config("classic", "fashion-mnist"), tmp_path / "classic.py")
    result = _run_script(path, data_root, "--epochs", 1, "--device", "cpu")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "training on cpu" and RATE.match(lines[2]) and len(lines) == 3, lines
    match = LINE.match(lines[1])
    assert match and match.group(1) == "1", lines[1]
    loss, train_acc, test_acc = map(float, match.groups()[1:])
    # The band tests/core/test_real_training.py holds the app's first classic epoch to.
    assert 0.45 <= test_acc <= 0.75 and 1.5 <= loss <= 2.2 and 0.2 <= train_acc <= 0.5, lines[1]


@pytest.mark.slow
def test_the_modern_script_learns_its_first_epoch_as_the_app_does(fashion_subset, tmp_path):
    path = write_script(preset_config("modern", "fashion-mnist"), tmp_path / "modern.py")
    result = _run_script(path, fashion_subset, "--epochs", 1, "--device", "cpu")
    assert result.returncode == 0, result.stderr
    match = LINE.match(result.stdout.splitlines()[1])
    assert match, result.stdout
    config = preset_config("modern", "fashion-mnist", epochs=1, device="cpu", threads=1)
    app = Trainer(config, load_dataset("fashion-mnist", fashion_subset, download=False), diagnostics_every=0)
    for _ in app.run():
        pass
    test_acc = float(match.group(4))
    # Same initial weights, the same images in the same order: the same epoch but for rounding.
    assert test_acc >= 0.75 and abs(test_acc - app.history[0].test_acc) < 0.02, (result.stdout, app.history)


@pytest.mark.parametrize("dataset", ["fashion-mnist", "mnist"])
def test_the_robust_recipe_is_refused_with_the_settings_a_script_cannot_reproduce(dataset, tmp_path):
    config = preset_config("robust", dataset)
    with pytest.raises(ScriptExportError) as refused:
        write_script(config, tmp_path / "robust.py")
    for name in ("augment", "holdout", "outlier_exposure"):
        assert name in str(refused.value)
    assert not (tmp_path / "robust.py").exists()
