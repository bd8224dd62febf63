"""`lenet-gui train` records every run; `lenet-gui runs` lists them; a run killed with SIGKILL
leaves a readable record of every epoch it printed."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lenet_gui.__main__ import main
from lenet_gui.core import history
from lenet_gui.core.checkpoint import load_checkpoint

REPO = Path(__file__).resolve().parents[2]
LINE = re.compile(r"^epoch (\d+), loss \d+\.\d{4}, train acc (\d\.\d{3}), test acc (\d\.\d{3}), time \d+\.\d sec$")
HANG_GUARD_S = 120


def _train(capsys, *args) -> list[str]:
    assert main(["train", "--threads", "1", "--batch-size", "64", *map(str, args)]) == 0
    return [line for line in capsys.readouterr().out.splitlines() if LINE.match(line)]


def test_train_records_the_run_where_runs_dir_says(fake_data_root, tmp_path, capsys):
    lines = _train(capsys, "--data-root", fake_data_root, "--epochs", 2, "--runs-dir", tmp_path / "mine")
    [record] = history.list_runs(tmp_path / "mine")
    assert record.log_lines == lines  # what the user saw, to the character
    assert record.status == history.FINISHED and record.source == "cli"
    assert record.command.startswith("lenet-gui train ")
    assert record.settings["epochs"] == 2 and record.settings["batch_size"] == 64
    assert history.list_runs(os.environ[history.RUNS_DIR_ENV]) == []  # --runs-dir beats the environment


def test_runs_lists_one_line_per_run_and_marks_the_damaged(fake_data_root, runs_dir, capsys):
    lines = _train(capsys, "--data-root", fake_data_root, "--epochs", 2)
    _train(capsys, "--data-root", fake_data_root, "--epochs", 2, "--preset", "modern", "--dataset", "mnist")
    damaged = runs_dir / "20000101-000000-beef"
    damaged.mkdir()
    (damaged / history.RUN_FILE).write_text('{"format": "lenet-studio-run", "format_ver')
    assert main(["runs"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3
    assert out[0] == f"{damaged.name}  damaged: run.json is damaged or truncated (not valid JSON)"
    first_acc = LINE.match(lines[-1]).group(3)
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{4}  \d{4}-\d\d-\d\d \d\d:\d\d  fashion-mnist  classic  "
                        rf"2/2 epochs  test acc {first_acc}  finished", out[1]), out[1]
    assert "  mnist  modern  2/2 epochs  " in out[2]


def test_runs_json_holds_settings_history_and_diagnostics(fake_data_root, runs_dir, capsys):
    lines = _train(capsys, "--data-root", fake_data_root, "--epochs", 3, "--lr", "0.01")
    [record] = history.list_runs(runs_dir)
    with open(record.folder / history.DIAGNOSTICS_FILE, "ab") as f:
        f.write(history.encode_line({"kind": "DiagnosticsSample", "data": {"step": 1}}))
    assert main(["runs", "--json"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    data = json.loads(line)
    assert data["settings"]["lr"] == 0.01 and data["settings"]["epochs"] == 3
    assert [LINE.match(text).groups() for text in lines] == [
        (str(e["epoch"]), f"{e['train_acc']:.3f}", f"{e['test_acc']:.3f}") for e in data["history"]]
    # What the training loop gathered (a histogram an epoch, samples every few steps), then the
    # line this test appended, as it was written.
    assert data["diagnostics"][-1] == {"kind": "DiagnosticsSample", "data": {"step": 1}}
    kinds = [d["kind"] for d in data["diagnostics"][:-1]]
    assert kinds.count("DiagnosticsHistogram") == 3 and "DiagnosticsSample" in kinds
    assert data["status"] == "finished" and data["damaged"] is False
    assert load_checkpoint(data["weights"]).metadata["test_acc"] == data["final_test_acc"]


def test_runs_on_an_empty_folder_says_so(tmp_path, capsys):
    assert main(["runs", "--runs-dir", str(tmp_path / "none")]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "no runs recorded" in captured.err


def _read_epoch_lines(proc: subprocess.Popen, count: int) -> list[str]:
    """Wait (bounded: a hang guard) until the process has printed ``count`` epoch lines."""
    lines: list[str] = []
    buffer = b""
    deadline = time.monotonic() + HANG_GUARD_S
    fd = proc.stdout.fileno()
    while len(lines) < count:
        assert time.monotonic() < deadline, f"only {lines} after {HANG_GUARD_S} s"
        ready, _, _ = select.select([fd], [], [], 1.0)
        if not ready:
            continue
        chunk = os.read(fd, 4096)
        assert chunk, f"the run ended early: {lines}"
        buffer += chunk
        *whole, buffer = buffer.split(b"\n")
        lines.extend(text.decode() for text in whole if text.startswith(b"epoch "))
    return lines[:count]


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
@pytest.mark.parametrize("epochs_seen", [1, 3, 7])
def test_a_run_killed_mid_way_leaves_every_printed_epoch_readable(fake_data_root, tmp_path, capsys, epochs_seen):
    runs = tmp_path / "runs"
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, "-m", "lenet_gui", "train", "--data-root", str(fake_data_root), "--epochs", "100000",
         "--batch-size", "32", "--threads", "1", "--runs-dir", str(runs)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )
    try:
        printed = _read_epoch_lines(proc, epochs_seen)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(HANG_GUARD_S)
    [record] = history.list_runs(runs)
    assert not record.damaged, record.problem
    assert record.status == history.INTERRUPTED
    assert record.log_lines[:epochs_seen] == printed
    assert [e.epoch for e in record.epochs] == list(range(1, len(record.epochs) + 1))
    assert record.batch_x == sorted(record.batch_x) and len(record.batch_x) == len(record.batch_loss)
    # Its weights open as a checkpoint, and are those of one of the epochs it recorded.
    loaded = load_checkpoint(record.weights_path)
    weights_epochs = loaded.metadata["history"]
    assert 1 <= len(weights_epochs) <= len(record.epochs)
    assert weights_epochs == [e.to_dict() for e in record.epochs[:len(weights_epochs)]]
    # And `lenet-gui runs` lists it like any other.
    assert main(["runs", "--runs-dir", str(runs)]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith(record.id) and line.endswith("  interrupted")
