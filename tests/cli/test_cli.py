"""The headless command line: `python -m lenet_gui train | evaluate | export`.

Two runs go through a real subprocess (output format, exit codes, no traceback, no terminal
escapes when piped); the rest call ``main()`` in-process, which is the same code without paying
for a new interpreter and a torch import each time.
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lenet_gui.__main__ import _ProgressBar, main, opens_the_window
from lenet_gui.core.checkpoint import load_checkpoint

REPO = Path(__file__).resolve().parents[2]
LINE = re.compile(r"^epoch \d+, loss \d+\.\d{4}, train acc \d\.\d{3}, test acc \d\.\d{3}, time \d+\.\d sec$")


def run_cli(*args, env_overrides=None, timeout=120) -> subprocess.CompletedProcess:
    """Run this checkout's CLI in a fresh interpreter, output piped (not a terminal)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(env_overrides or {})
    return subprocess.run(
        [sys.executable, "-m", "lenet_gui", *map(str, args)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout,
    )


@pytest.fixture(scope="module")
def trained(data_root, tmp_path_factory):
    """One real `train --save` run on 2000 Fashion-MNIST images, shared by the tests below."""
    path = tmp_path_factory.mktemp("cli") / "fashion.pt"
    result = run_cli("train", "--limit", 2000, "--epochs", 1, "--threads", 1,
                     "--data-root", data_root, "--save", path)
    return result, path


def test_train_prints_the_tutorials_lines(trained):
    result, _ = trained
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "training on cpu"
    assert LINE.match(lines[1]), lines[1]
    assert lines[1].startswith("epoch 1, ")
    assert lines[2].startswith("saved ")
    assert len(lines) == 3


def test_train_writes_no_terminal_escapes_when_piped(trained):
    result, _ = trained
    for stream in (result.stdout, result.stderr):
        assert "\r" not in stream and "\x1b" not in stream
    assert "Traceback" not in result.stderr


def test_train_save_writes_a_loadable_checkpoint_with_its_story(trained):
    result, path = trained
    loaded = load_checkpoint(path)
    meta = loaded.metadata
    assert loaded.dataset == "fashion-mnist" and loaded.input_kind == "garment"
    assert loaded.classes[0] == "T-shirt/top"
    assert meta["preset"] == "classic" and meta["train_samples"] == 2000
    assert meta["command"].startswith("lenet-gui train --limit 2000 --epochs 1")
    assert len(meta["history"]) == 1
    printed = result.stdout.splitlines()[1]
    assert f"test acc {meta['history'][0]['test_acc']:.3f}" in printed
    assert meta["test_acc"] == meta["history"][0]["test_acc"]


# -- in-process -----------------------------------------------------------------------------------


@pytest.fixture
def fake_checkpoint(fake_data_root, tmp_path, capsys):
    # The modern recipe learns the tiny set in two epochs: a model whose predictions differ from
    # image to image, so that accuracy figures can tell a right count from a wrong one.
    path = tmp_path / "tiny.pt"
    code = main(["train", "--data-root", str(fake_data_root), "--preset", "modern", "--epochs", "2",
                 "--batch-size", "50", "--threads", "1", "--save", str(path)])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert [LINE.match(line) is not None for line in out] == [False, True, True, False]
    return path


def test_missing_data_offline_is_one_paragraph(tmp_path, monkeypatch, capsys):
    # In-process (torchvision's import alone costs a subprocess seconds); __main__ exits with
    # main()'s return code, so a return without an exception is an exit without a traceback.
    monkeypatch.setenv("LENET_MIRRORS", "http://127.0.0.1:9/")
    empty = tmp_path / "empty"
    empty.mkdir()
    code = main(["train", "--dataset", "mnist", "--data-root", str(empty), "--epochs", "1"])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    message = captured.err.strip()
    assert message.startswith("lenet-gui: error: ")
    assert "\n" not in message and "\r" not in message and "\x1b" not in message
    assert "--data-root" in message and "LENET_DATA_ROOT" in message
    assert str(empty) in message
    assert not any(p.is_file() for p in empty.rglob("*")), "a half-download was left behind"


def test_data_root_option_beats_the_environment(fake_data_root, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LENET_DATA_ROOT", str(tmp_path / "nothing-here"))
    args = ["--epochs", "1", "--threads", "1", "--limit", "50"]
    assert main(["train", "--data-root", str(fake_data_root), *args]) == 0
    assert main(["--data-root", str(fake_data_root), "train", *args]) == 0  # before the sub-command
    assert capsys.readouterr().out.count("epoch 1, ") == 2
    # without the option, the environment variable is used
    monkeypatch.setenv("LENET_DATA_ROOT", str(fake_data_root))
    assert main(["train", *args]) == 0


def test_train_records_the_command_in_process(fake_checkpoint):
    meta = load_checkpoint(fake_checkpoint).metadata
    assert meta["command"].startswith("lenet-gui train --data-root ")
    assert "--epochs 2" in meta["command"]
    assert [e["epoch"] for e in meta["history"]] == [1, 2]


def test_evaluate_prints_accuracy_per_class(fake_checkpoint, fake_data_root, capsys):
    code = main(["evaluate", "--model", str(fake_checkpoint), "--data-root", str(fake_data_root)])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert re.fullmatch(r"test acc \d\.\d{4}", out[0])
    # A model without a calibration block: temperature 1, and no out-of-distribution line.
    assert re.fullmatch(r"mean top-1 probability \d\.\d{4}, expected calibration error \d\.\d{4} "
                        r"\(15 equal-width bins\), temperature 1\.000", out[1]), out[1]
    assert out[2] == "per-class accuracy:"
    assert len(out) == 13
    assert "Ankle boot" in out[-1] and "(10 images)" in out[-1]
    # The figures are the model's real accuracy on the test split, counted here from its outputs.
    from lenet_gui.core.data import load_dataset

    test = load_dataset("fashion-mnist", fake_data_root).test
    with torch.no_grad():
        predicted = load_checkpoint(fake_checkpoint).model(test.images.float().div(255).unsqueeze(1)).argmax(1)
    right = (predicted == test.labels).tolist()
    assert out[0] == f"test acc {sum(right) / len(right):.4f}"
    for label in range(10):
        mine = [ok for ok, y in zip(right, test.labels.tolist()) if y == label]
        assert out[3 + label].split()[-3] == f"{sum(mine) / len(mine):.4f}", out[3 + label]


def test_a_robust_run_calibrates_and_evaluate_reports_it(fake_data_root, tmp_path, capsys):
    path = tmp_path / "robust.pt"
    code = main(["train", "--data-root", str(fake_data_root), "--preset", "robust", "--holdout", "60",
                 "--epochs", "1", "--batch-size", "32", "--threads", "1", "--save", str(path)])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    # 200 training images, 60 held out: trained on 140, calibrated on the next 30.
    calibrated = [line for line in out if line.startswith("calibrated on")]
    assert len(calibrated) == 1 and "training images 140-169, held out from training" in calibrated[0]
    assert re.search(r"temperature \d+\.\d{3}, expected calibration error \d\.\d{4} -> \d\.\d{4} \(15 bins\); "
                     r"out-of-distribution threshold -?\d+\.\d{2} \(energy\)$", calibrated[0]), calibrated[0]
    loaded = load_checkpoint(path)
    assert loaded.metadata["train_samples"] == 140
    assert "--preset robust --holdout 60" in loaded.metadata["command"]
    temperature = loaded.calibration.temperature
    assert main(["evaluate", "--model", str(path), "--data-root", str(fake_data_root)]) == 0
    lines = capsys.readouterr().out.splitlines()
    # The fake data set is Fashion-MNIST: garments, trained mirrored, read with their mirror image.
    assert lines[1].endswith(f"temperature {temperature:.3f}, each image read with its mirror image")
    assert re.fullmatch(r"called unfamiliar: \d\.\d{4} of the test images", lines[2])


def test_predict_says_when_an_input_does_not_look_like_the_training_data(tmp_path, capsys):
    import json

    from lenet_gui.core.checkpoint import save_checkpoint
    from lenet_gui.core.model import LeNet, ModelConfig
    from lenet_gui.core.resources import sample_path

    torch.manual_seed(0)
    model = LeNet(ModelConfig(activation="relu"))
    paths = {}
    # One detector accepts everything (a threshold no energy exceeds), one refuses everything.
    for name, threshold in (("accepts", 1e9), ("refuses", -1e9)):
        meta = {"dataset": "mnist", "input_kind": "digit", "classes": [str(i) for i in range(10)],
                "calibration": {"temperature": 1.0, "ood": {"method": "energy", "threshold": threshold}}}
        paths[name] = save_checkpoint(tmp_path / f"{name}.pt", model, meta)
    image = str(sample_path("digit-7-chalk.png"))
    assert main(["predict", image, "--model", str(paths["accepts"])]) == 0
    assert re.fullmatch(rf"{re.escape(image)}: \d \(\d+\.\d%\)", capsys.readouterr().out.strip())
    assert main(["predict", image, "--model", str(paths["refuses"])]) == 0
    assert re.fullmatch(rf"{re.escape(image)}: this does not look like a digit \(nearest class \d, \d+\.\d%\)",
                        capsys.readouterr().out.strip())
    assert main(["predict", image, "--model", str(paths["refuses"]), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["unfamiliar"] is True and isinstance(record["novelty"], float)


def test_evaluate_on_another_data_set_and_missing_model(fake_checkpoint, fake_data_root, tmp_path, capsys):
    assert main(["evaluate", "--model", str(fake_checkpoint), "--dataset", "mnist",
                 "--data-root", str(fake_data_root)]) == 0
    assert capsys.readouterr().out.startswith("test acc ")
    assert main(["evaluate", "--model", str(tmp_path / "none.pt"), "--data-root", str(fake_data_root)]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_export_pt2_matches_the_model(fake_checkpoint, tmp_path, capsys):
    out = tmp_path / "model.pt2"
    assert main(["export", str(out), "--model", str(fake_checkpoint)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    program = torch.export.load(str(out)).module()
    model = load_checkpoint(fake_checkpoint).model
    x = torch.rand(5, 1, 28, 28)
    logits, probabilities = program(x)
    assert torch.allclose(logits, model(x), atol=1e-6)
    assert torch.allclose(probabilities, torch.softmax(model(x), 1), atol=1e-6)


def test_export_metrics_as_csv(fake_checkpoint, tmp_path, capsys):
    out = tmp_path / "metrics.csv"
    assert main(["export", str(out), "--model", str(fake_checkpoint)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert set(rows[0]) == {"epoch", "loss", "train_acc", "test_acc", "seconds", "samples_per_sec", "lr"}
    assert float(rows[1]["test_acc"]) == pytest.approx(load_checkpoint(fake_checkpoint).metadata["history"][1]["test_acc"])


def test_export_to_an_unwritable_place(fake_checkpoint, tmp_path, capsys):
    target = tmp_path / "no-such-folder" / "metrics.csv"
    assert main(["export", str(target), "--model", str(fake_checkpoint)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("lenet-gui: error: cannot write") and "Traceback" not in err


@pytest.mark.parametrize("args, words", [
    (["--epochs", "0"], "epochs must be at least 1"),
    (["--lr", "-1"], "learning rate"),
    (["--device", "tpu"], "tpu"),
    (["--threads", "0"], "threads"),
])
def test_bad_training_settings_are_one_line_errors(fake_data_root, capsys, args, words):
    assert main(["train", "--data-root", str(fake_data_root), *args]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("lenet-gui: error: ") and words in captured.err


def test_progress_bar_only_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    from lenet_gui.core.engine import BatchProgress

    event = BatchProgress(epoch=1, epochs=5, batch=235, batches=235, step=235, loss=0.5,
                          accuracy=0.8, samples_per_sec=9000.0, eta_seconds=0.0, lr=0.001)
    piped = io.StringIO()
    bar = _ProgressBar(piped)
    bar.update(event)
    bar.clear()
    assert piped.getvalue() == ""
    terminal = Terminal()
    bar = _ProgressBar(terminal)
    bar.update(event)
    assert "epoch 1/5" in terminal.getvalue() and "235/235" in terminal.getvalue()
    bar.clear()
    assert terminal.getvalue().endswith("\r\x1b[K")


# Printed by this command before the loop kept its figures on the device (one read-back per
# batch); the loop must train the same network to the last printed digit. Modern's line is the
# one printed since batch norm runs on the fast CPU kernels (another summation order: the earlier
# kernels' line moved as far between one thread and two, to loss 1.0922 and test acc 0.698).
SEEDED_LINES = {
    ("--preset", "classic", "--epochs", 3, "--limit", 6000): [
        "epoch 1, loss 2.3113, train acc 0.105, test acc 0.100",
        "epoch 2, loss 2.3058, train acc 0.100, test acc 0.100",
        "epoch 3, loss 2.3015, train acc 0.116, test acc 0.160",
    ],
    ("--preset", "modern", "--epochs", 1, "--limit", 3000): [
        "epoch 1, loss 1.0948, train acc 0.629, test acc 0.680",
    ],
}


@pytest.mark.slow
@pytest.mark.parametrize("args", list(SEEDED_LINES), ids=["classic", "modern"])
def test_a_seeded_run_prints_the_lines_it_always_printed(data_root, args):
    result = run_cli("train", *args, "--threads", 1, "--seed", 0, "--data-root", data_root)
    assert result.returncode == 0, result.stderr
    lines = [line.rsplit(", time ", 1)[0] for line in result.stdout.splitlines()[1:]]
    assert lines == SEEDED_LINES[args]


@pytest.mark.parametrize("argv, window_only", [
    ([], True),
    (["--lang", "zh_CN", "--data-root=/data"], True),
    (["--data-root", "/data", "--runs-dir", "/runs"], True),
    (["train"], False),
    (["--data-root", "/data", "predict", "x.png"], False),
    (["--help"], False),
    (["--version"], False),
    (["trian"], False),
])
def test_only_the_windows_own_options_skip_building_the_commands(argv, window_only):
    assert opens_the_window(argv) is window_only


def test_a_misspelt_command_still_names_the_commands(capsys):
    with pytest.raises(SystemExit):
        main(["trian"])
    err = capsys.readouterr().err
    assert "invalid choice: 'trian'" in err and "train" in err
