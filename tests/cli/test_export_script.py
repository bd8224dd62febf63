"""`lenet-gui export-script OUT.py`: the recipe `train` would run with the same options, as a
standalone script."""

from __future__ import annotations

import argparse

import pytest

from lenet_gui.__main__ import build_parser, main
from lenet_gui.core.presets import preset_config
from lenet_gui.core.script_export import script_source


def _namespace(path) -> dict:
    namespace = {"__name__": "exported_recipe"}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
    return namespace


def test_export_script_writes_the_recipe_with_every_option_given(tmp_path, capsys):
    out = tmp_path / "recipe.py"
    code = main(["export-script", str(out), "--preset", "modern", "--dataset", "mnist", "--epochs", "3",
                 "--batch-size", "64", "--lr", "0.02", "--optimizer", "adamw", "--seed", "7",
                 "--device", "cpu", "--threads", "2"])
    assert code == 0
    assert str(out) in capsys.readouterr().out
    namespace = _namespace(out)
    assert (namespace["num_epochs"], namespace["batch_size"], namespace["lr"], namespace["seed"]) == (3, 64, 0.02, 7)
    assert namespace["label_smoothing"] == 0.1 and namespace["max_shift"] == 2  # modern on digits
    source = out.read_text(encoding="utf-8")
    assert "torch.optim.AdamW(" in source and "torchvision.datasets.MNIST(" in source
    assert 'default="cpu"' in source and "default=2" in source
    # What `train` with the same options runs, and nothing else.
    expected = preset_config("modern", "mnist", epochs=3, batch_size=64, lr=0.02, optimizer="adamw", seed=7,
                             device="cpu", threads=2)
    assert source == script_source(expected)


def test_export_script_defaults_to_the_classic_recipe_on_fashion_mnist(tmp_path):
    out = tmp_path / "classic.py"
    assert main(["export-script", str(out)]) == 0
    namespace = _namespace(out)
    assert (namespace["num_epochs"], namespace["batch_size"], namespace["lr"]) == (5, 256, 0.001)
    assert "torchvision.datasets.FashionMNIST(" in out.read_text(encoding="utf-8")


def _options(parser: argparse.ArgumentParser) -> dict:
    return {action.option_strings[0]: (action.default, action.choices, action.type, action.help)
            for action in parser._actions if action.option_strings and action.dest != "help"}


def test_train_and_export_script_take_the_same_recipe_options():
    subparsers = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    train = _options(subparsers.choices["train"])
    script = _options(subparsers.choices["export-script"])
    # train's own: what to do with the run here (and where it is recorded), and the images it
    # keeps back to calibrate (a script trains on every image, so it has no such option)
    assert set(train) - set(script) == {"--limit", "--save", "--data-root", "--holdout", "--runs-dir"}
    assert {name: train[name] for name in script} == script


@pytest.mark.parametrize("args, message", [
    (["--lr", "-1"], "learning rate must be a positive number"),
    (["--epochs", "0"], "epochs must be at least 1"),
    (["--device", "mps"], "mps"),
])
def test_settings_that_cannot_run_are_refused_and_nothing_is_written(tmp_path, capsys, args, message):
    out = tmp_path / "recipe.py"
    assert main(["export-script", str(out), *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("lenet-gui: error: ") and message in err
    assert not out.exists()


def test_a_file_that_cannot_be_written_is_an_error_not_a_traceback(tmp_path, capsys):
    out = tmp_path / "no such folder" / "recipe.py"
    assert main(["export-script", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"lenet-gui: error: cannot write {out}: ") and "Traceback" not in err
