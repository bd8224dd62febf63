"""Hostile checkpoints (load) and faults during saving (SIGKILL, full disk)."""

from __future__ import annotations

import json
import os
import pickle
import sys
import time

import numpy as np
import pytest
import torch

from lenet_gui.core import checkpoint as checkpoint_module
from lenet_gui.core.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from lenet_gui.core.model import LeNet
from tests.support import hostile

CASES = hostile.CHECKPOINT_CASES


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    return hostile.session_tiny_checkpoint(tmp_path_factory)


@pytest.fixture(scope="module")
def checkpoint_paths(tmp_path_factory, tiny_checkpoint):
    return hostile.write_checkpoint_cases(tmp_path_factory.mktemp("hostile-checkpoints"), tiny_checkpoint)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_checkpoint_gives_one_clear_error_and_the_app_stays_usable(case, checkpoint_paths, tiny_checkpoint):
    path = checkpoint_paths[case.name]
    try:
        loaded = hostile.call_with_timeout(lambda: load_checkpoint(path), 10)
    except CheckpointError as exc:
        message = str(exc)
        assert case.message.lower() in message.lower(), message
        assert "\n" not in message and "\x1b" not in message and len(message) < 500, message
        assert path.name in message, message
    else:
        assert case.message == "", f"{case.name} loaded but should have been refused"
        assert loaded.classes == [str(i) for i in range(10)]  # the harmless case: defaults
    assert not hostile.marker_path(path.parent).exists(), "the checkpoint ran code while loading"
    good = load_checkpoint(tiny_checkpoint)  # the next load works as if nothing happened
    assert good.model(torch.zeros(1, 1, 28, 28)).shape == (1, 10)


def test_the_malicious_payloads_are_live(tmp_path):
    """Guards the test above: unpickled without weights_only, these files do run code."""
    data = hostile._ck_pickle_plain_protocol2(tmp_path, None).read_bytes()
    assert not hostile.marker_path(tmp_path).exists()
    pickle.loads(data)  # what torch.load(weights_only=False) would do
    assert hostile.marker_path(tmp_path).exists()


def test_saved_metadata_with_numpy_and_torch_values_loads_back(tmp_path):
    """Metadata often carries numpy scalars and torch.__version__ (a str subclass); both once
    made every saved checkpoint unloadable under weights_only."""
    path = save_checkpoint(tmp_path / "m.pt", LeNet(), {
        "test_acc": np.float64(0.91), "epochs": np.int64(3), "flag": np.bool_(True),
        "torch": torch.__version__, "loss": torch.tensor(0.5), "history": [{"lr": np.float32(0.001)}],
    })
    meta = load_checkpoint(path).metadata
    assert meta["test_acc"] == pytest.approx(0.91) and type(meta["test_acc"]) is float
    assert meta["epochs"] == 3 and type(meta["epochs"]) is int
    assert meta["flag"] is True and type(meta["torch"]) is str
    assert meta["loss"] == 0.5 and meta["history"][0]["lr"] == pytest.approx(0.001)


def test_a_failing_write_keeps_the_old_checkpoint_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "model.pt", LeNet(), {"generation": 1})
    before = path.read_bytes()

    def disk_full(obj, f, *args, **kwargs):
        f.write(b"PK\x03\x04 half a file")
        raise RuntimeError("PytorchStreamWriter failed writing file data/0: file write failed")

    monkeypatch.setattr(checkpoint_module.torch, "save", disk_full)
    with pytest.raises(CheckpointError, match="Cannot save to .*file write failed"):
        save_checkpoint(path, LeNet(), {"generation": 2})
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]


def test_saving_into_a_path_that_cannot_exist_is_a_checkpoint_error(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(CheckpointError, match="Cannot save"):
        save_checkpoint(blocker / "sub" / "model.pt", LeNet())
    folder_in_the_way = tmp_path / "model.pt"
    folder_in_the_way.mkdir()
    with pytest.raises(CheckpointError, match="Cannot save"):
        save_checkpoint(folder_in_the_way, LeNet())
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_saved_checkpoint_is_readable_like_any_user_file(tmp_path):
    path = save_checkpoint(tmp_path / "model.pt", LeNet())
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0600
    path.chmod(0o640)
    save_checkpoint(path, LeNet())
    assert path.stat().st_mode & 0o777 == 0o640  # replacing keeps the user's choice


def test_stale_temporaries_are_removed_and_fresh_ones_kept(tmp_path):
    path = save_checkpoint(tmp_path / "model.pt", LeNet())
    stale = tmp_path / ".model.pt.abc123.tmp"
    fresh = tmp_path / ".model.pt.def456.tmp"
    other = tmp_path / ".other.pt.ghi789.tmp"
    for leftover in (stale, fresh, other):
        leftover.write_bytes(b"PK\x03\x04 killed mid-write")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    load_checkpoint(path)  # leftovers never get in the way of loading
    save_checkpoint(path, LeNet())
    assert not stale.exists()
    assert fresh.exists(), "may belong to a save still running in another process"
    assert other.exists(), "belongs to another checkpoint"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the kill loop forks")
def test_sigkill_during_save_never_damages_the_checkpoint():
    """The fast run of benchmarks/kill_during_save.py (200 kills there)."""
    result = hostile.run_cli_many(
        [[sys.executable, str(hostile.REPO_ROOT / "benchmarks" / "kill_during_save.py"), "--kills", "15", "--json"]],
        timeout=120,
    )[0]
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(result.stdout.splitlines()[-1])
    assert figures["failures"] == [] and figures["survived"] == 15
    assert figures["temporaries_after_cleanup"] == 0


def test_cli_refuses_hostile_checkpoints_with_one_line(checkpoint_paths, tmp_path):
    image = tmp_path / "seven.png"
    image.write_bytes(hostile.png_bytes(hostile.draw_seven()))
    # One run, not one per case: each pays Python + torch start-up; the core test above covers
    # every case through the same load_checkpoint, with a timeout against hangs.
    names = ["pickle_runs_code_torch_zip"]
    results = hostile.run_cli_many(
        [hostile.cli_command("predict", "--model", checkpoint_paths[n], image) for n in names])
    for name, result in zip(names, results):
        stderr = hostile.assert_clean_failure(result, expect_lines=1)
        assert stderr.startswith("lenet-gui: error: ") and checkpoint_paths[name].name in stderr, stderr
        assert result.stdout == ""
    assert not hostile.marker_path(checkpoint_paths["pickle_runs_code_torch_zip"].parent).exists()


def test_a_name_with_a_nul_byte_is_a_checkpoint_error():
    with pytest.raises(CheckpointError, match="not a valid file name"):
        load_checkpoint("model\0.pt")
