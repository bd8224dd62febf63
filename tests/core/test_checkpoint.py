"""Checkpoints: round trip, atomic writes, and every kind of bad file refused with a clear error."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
import torch

from lenet_gui.core import checkpoint
from lenet_gui.core.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from lenet_gui.core.model import LeNet, ModelConfig
from tests.support import growing_files

MODERN = ModelConfig(activation="relu", batch_norm=True, input_mean=0.286, input_std=0.353)
META = {
    "dataset": "fashion-mnist",
    "classes": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
    "input_kind": "garment",
    "preset": "modern",
    "hyperparameters": {"lr": 0.1, "epochs": 15, "threads": None},
    "history": [{"epoch": 1, "loss": 0.9, "test_acc": 0.85}],
    "title": "my model",
}


def _model(config=MODERN, seed=0) -> LeNet:
    torch.manual_seed(seed)
    model = LeNet(config)
    with torch.no_grad():  # batch-norm running stats differ from their defaults, as after training
        for name, buf in model.named_buffers():
            if "running" in name:
                buf.uniform_(0.5, 1.5)
    return model


def _payload(model: LeNet, **changes) -> dict:
    payload = {
        "format": checkpoint.FORMAT,
        "format_version": checkpoint.FORMAT_VERSION,
        "model_config": model.config.to_dict(),
        "state_dict": model.state_dict(),
        "metadata": {},
    }
    payload.update(changes)
    return payload


def _assert_clear(err, *words):
    message = str(err.value)
    assert "\n" not in message and "Traceback" not in message
    for word in words:
        assert word in message, (word, message)


# -- round trip ------------------------------------------------------------------------------------


@pytest.mark.parametrize("config", [ModelConfig(), MODERN], ids=["classic", "modern"])
def test_round_trip_keeps_weights_and_metadata(tmp_path, config):
    model = _model(config)
    path = save_checkpoint(tmp_path / "model.pt", model, META)
    loaded = load_checkpoint(path)
    assert loaded.path == path
    assert loaded.model.config == config
    assert not loaded.model.training
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[key], value), key
    x = torch.rand(4, 1, 28, 28)
    assert torch.equal(loaded.model(x), model.eval()(x))
    assert loaded.classes == META["classes"]
    assert loaded.dataset == "fashion-mnist" and loaded.input_kind == "garment"
    assert loaded.title == "my model"
    for key, value in META.items():
        assert loaded.metadata[key] == value
    import platform

    import lenet_gui

    assert loaded.metadata["versions"] == {"lenet_gui": lenet_gui.__version__, "torch": torch.__version__,
                                           "python": platform.python_version()}
    assert "saved_at" in loaded.metadata


def test_load_from_bytes(tmp_path):
    path = save_checkpoint(tmp_path / "m.pt", _model(), META)
    loaded = load_checkpoint(path.read_bytes())
    assert loaded.path is None and loaded.classes == META["classes"]
    untitled = load_checkpoint(save_checkpoint(tmp_path / "n.pt", _model()).read_bytes())
    assert untitled.title == "model"  # no title and no file name to show


def test_a_path_the_system_cannot_open_is_reported(tmp_path):
    loop = tmp_path / "loop.pt"
    loop.symlink_to(tmp_path / "back.pt")
    (tmp_path / "back.pt").symlink_to(loop)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(loop)
    assert str(err.value) == f"Cannot read {loop}: Too many levels of symbolic links."


def test_metadata_is_stored_as_plain_values(tmp_path):
    meta = {"where": tmp_path, "pair": (1, 2), "nested": {3: {"x": {1.5}}}}
    loaded = load_checkpoint(save_checkpoint(tmp_path / "m.pt", _model(), meta))
    assert loaded.metadata["where"] == str(tmp_path)
    assert loaded.metadata["pair"] == [1, 2]
    assert loaded.metadata["nested"] == {"3": {"x": "{1.5}"}}


def test_missing_metadata_gets_sensible_defaults(tmp_path):
    loaded = load_checkpoint(save_checkpoint(tmp_path / "m.pt", _model(ModelConfig())))
    assert loaded.classes == [str(i) for i in range(10)]
    assert loaded.dataset is None and loaded.input_kind == "digit"
    assert loaded.title == "m.pt"


# -- atomic writes ---------------------------------------------------------------------------------


def test_save_leaves_no_temporary_files_and_replaces_the_old_file(tmp_path):
    path = tmp_path / "sub" / "model.pt"
    save_checkpoint(path, _model(seed=1), {"title": "old"})
    save_checkpoint(path, _model(seed=2), {"title": "new"})
    assert [p.name for p in path.parent.iterdir()] == ["model.pt"]
    assert load_checkpoint(path).title == "new"


def test_crash_while_writing_keeps_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "model.pt"
    save_checkpoint(path, _model(seed=1), {"title": "old"})
    before = path.read_bytes()

    def crash(obj, f, *args, **kwargs):
        f.write(b"PK\x03\x04 half a file")
        raise KeyboardInterrupt  # the user hits Ctrl-C mid-save

    monkeypatch.setattr(checkpoint.torch, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, _model(seed=2), {"title": "new"})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]


def test_disk_error_while_writing_is_a_checkpoint_error(tmp_path, monkeypatch):
    def full(obj, f, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoint.torch, "save", full)
    with pytest.raises(CheckpointError) as err:
        save_checkpoint(tmp_path / "model.pt", _model(), META)
    _assert_clear(err, "No space left on device", "model.pt")
    assert list(tmp_path.iterdir()) == []


def test_saving_into_a_file_path_that_is_a_folder_is_refused(tmp_path):
    (tmp_path / "model.pt").mkdir()
    with pytest.raises(CheckpointError):
        save_checkpoint(tmp_path / "model.pt", _model(), META)
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]


# -- bad files -----------------------------------------------------------------------------------


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(tmp_path / "nope.pt")
    _assert_clear(err, "does not exist")
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(tmp_path)
    _assert_clear(err, "folder")


def test_random_bytes(tmp_path):
    path = tmp_path / "noise.pt"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    _assert_clear(err, str(path), "not a readable checkpoint")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.pt"
    path.write_bytes(b"")
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    _assert_clear(err, str(path))


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.99])
def test_truncated_file(tmp_path, keep):
    whole = save_checkpoint(tmp_path / "whole.pt", _model(), META).read_bytes()
    path = tmp_path / "cut.pt"
    path.write_bytes(whole[: int(len(whole) * keep)])
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    _assert_clear(err, str(path))


def test_foreign_torch_file(tmp_path):
    path = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    _assert_clear(err, "not a LeNet Studio checkpoint")
    torch.save(_model().state_dict(), path)  # a bare state dict: still not ours
    with pytest.raises(CheckpointError, match="not a LeNet Studio checkpoint"):
        load_checkpoint(path)


def test_newer_format_version(tmp_path):
    path = tmp_path / "future.pt"
    torch.save(_payload(_model(), format_version=checkpoint.FORMAT_VERSION + 1), path)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    _assert_clear(err, "newer LeNet Studio", "Update")


@pytest.mark.parametrize("version", [0, "1", None])
def test_invalid_format_version(tmp_path, version):
    path = tmp_path / "odd.pt"
    torch.save(_payload(_model(), format_version=version), path)
    with pytest.raises(CheckpointError, match="invalid format version"):
        load_checkpoint(path)


def test_other_architecture(tmp_path):
    other = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3), torch.nn.Flatten(), torch.nn.Linear(8 * 26 * 26, 10))
    path = tmp_path / "other.pt"
    torch.save(_payload(_model(), state_dict=other.state_dict()), path)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    _assert_clear(err, "another architecture")


def test_weights_of_the_wrong_shape(tmp_path):
    state = _model(ModelConfig()).state_dict()
    state["conv1.weight"] = torch.zeros(8, 1, 5, 5)
    path = tmp_path / "wide.pt"
    torch.save(_payload(_model(ModelConfig()), state_dict=state), path)
    with pytest.raises(CheckpointError, match="another architecture"):
        load_checkpoint(path)


@pytest.mark.parametrize("weights", [None, [1, 2], "weights"])
def test_a_checkpoint_without_a_table_of_weights(tmp_path, weights):
    path = tmp_path / "empty.pt"
    torch.save(_payload(_model(), state_dict=weights), path)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    assert str(err.value) == f"{path} holds no weights."


def test_config_the_app_cannot_build(tmp_path):
    path = tmp_path / "odd.pt"
    torch.save(_payload(_model(), model_config={"activation": "swish"}), path)
    with pytest.raises(CheckpointError, match="cannot build.*swish"):
        load_checkpoint(path)


def test_non_finite_weights(tmp_path):
    state = _model().state_dict()
    state["fc1.weight"][0, 0] = float("nan")
    path = tmp_path / "nan.pt"
    torch.save(_payload(_model(), state_dict=state), path)
    with pytest.raises(CheckpointError, match="not finite"):
        load_checkpoint(path)


# -- files that would run code -------------------------------------------------------------------


class _Exploit:
    """Unpickling this calls Path.touch(marker): proof that code ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("container", ["torch-zip", "bare-pickle"])
def test_malicious_pickle_is_refused_and_never_runs(tmp_path, container):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    payload = _payload(_model(), metadata={"title": _Exploit(marker)})
    if container == "torch-zip":
        torch.save(payload, path)
    else:
        path.write_bytes(pickle.dumps(payload, protocol=2))
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    assert not marker.exists(), "loading the checkpoint ran code from it"
    _assert_clear(err, "refused", "never executes code")
    # and the unsafe path really would have run it: the test file is a real exploit
    with open(path, "rb") as f:
        torch.load(f, weights_only=False) if container == "torch-zip" else pickle.load(f)
    assert marker.exists()


# -- the size limit ------------------------------------------------------------------------------


def _sparse_file(path: Path, size: int, start: bytes = b"PK\x03\x04") -> Path:
    """A file of ``size`` bytes that takes no disk space, starting like a torch.save zip."""
    with open(path, "wb") as f:
        f.write(start)
        f.truncate(size)
    return path


def _peak_memory_growth_mb(call) -> float:
    """How far the process's peak resident memory rose during ``call()`` (Linux)."""
    import re

    def kib(field: str) -> int:
        return int(re.search(field + r":\s+(\d+)", Path("/proc/self/status").read_text()).group(1))

    Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) starts again from now
    before = kib("VmRSS")
    call()
    return (kib("VmHWM") - before) / 1024


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="measures memory through /proc")
def test_a_huge_file_is_refused_by_its_size_without_being_read(tmp_path):
    path = _sparse_file(tmp_path / "huge.pt", 1 << 30)  # a 1 GB file dropped by mistake
    caught = []

    def load():
        with pytest.raises(CheckpointError) as err:
            load_checkpoint(path)
        caught.append(err)

    growth = _peak_memory_growth_mb(load)
    _assert_clear(caught[0], f"{path} is 1024 MB: far too large to be a LeNet checkpoint")
    # Reading it, even only up to the limit, would hold tens of megabytes.
    assert growth < 16, f"the refusal read {growth:.0f} MB of the file"


def test_the_size_limit_refuses_only_what_is_over_it(tmp_path):
    limit = checkpoint.MAX_CHECKPOINT_BYTES
    assert limit >= 16 * 1024 * 1024, "far above any LeNet checkpoint (they are under 1 MB)"
    at_limit = _sparse_file(tmp_path / "at_limit.pt", limit, start=b"\x00")
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(at_limit)
    _assert_clear(err, "is not a readable checkpoint")  # read, then refused for what it holds
    over = _sparse_file(tmp_path / "over.pt", limit + 1, start=b"\x00")
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(over)
    _assert_clear(err, f"{over} is {(limit + 1) // (1024 * 1024)} MB: far too large")


def test_a_file_that_grows_past_the_limit_after_its_size_was_read_is_refused(tmp_path, monkeypatch):
    path = _sparse_file(tmp_path / "growing.pt", checkpoint.MAX_CHECKPOINT_BYTES + 10)
    growing_files.report_an_earlier_size(monkeypatch)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    _assert_clear(err, f"{path} is far too large to be a LeNet checkpoint")


# -- the file format, as documented ----------------------------------------------------------------


def test_a_file_written_to_the_documented_layout_loads(tmp_path):
    """The layout of the module's docstring, written by hand: what another tool (or an older
    LeNet Studio) produces without this code."""
    model = _model(ModelConfig())
    path = tmp_path / "by_hand.pt"
    torch.save({"format": "lenet-studio-checkpoint", "format_version": 1,
                "model_config": model.config.to_dict(), "state_dict": model.state_dict(),
                "metadata": {"dataset": "mnist", "classes": list("0123456789")}}, path)
    loaded = load_checkpoint(path)
    assert loaded.dataset == "mnist" and loaded.classes == list("0123456789")
    x = torch.rand(2, 1, 28, 28)
    assert torch.equal(loaded.model(x), model.eval()(x))


def test_what_save_writes_is_the_documented_layout(tmp_path):
    path = save_checkpoint(str(tmp_path / "model.pt"), _model(), {"title": "t"})  # a str path too
    assert path == tmp_path / "model.pt"
    payload = torch.load(path, weights_only=True)
    assert set(payload) == {"format", "format_version", "model_config", "state_dict", "metadata"}
    assert payload["format"] == "lenet-studio-checkpoint" and payload["format_version"] == 1
    assert payload["model_config"] == MODERN.to_dict()
    assert payload["metadata"]["title"] == "t"


def test_the_bundled_checkpoints_still_load():
    """Files written by an earlier build of the app: a format change must keep reading them."""
    from lenet_gui.core.resources import BUNDLED_MODELS

    for key, path in BUNDLED_MODELS.items():
        loaded = load_checkpoint(path)
        assert loaded.dataset == key and len(loaded.classes) == 10


def test_an_explicit_input_kind_wins_over_the_data_sets(tmp_path):
    path = save_checkpoint(tmp_path / "m.pt", _model(), {"dataset": "fashion-mnist", "input_kind": "digit"})
    assert load_checkpoint(path).input_kind == "digit"
    path = save_checkpoint(tmp_path / "m.pt", _model(), {"dataset": "mnist", "input_kind": "garment"})
    assert load_checkpoint(path).input_kind == "garment"
    path = save_checkpoint(tmp_path / "m.pt", _model(), {"dataset": "fashion-mnist", "input_kind": "photo"})
    assert load_checkpoint(path).input_kind == "garment"  # unknown kind: the data set decides


@pytest.mark.parametrize("start, looks", [
    (b"\xff\xd8\xff\xe0", "a JPEG image"), (b"GIF89a", "a GIF image"), (b"\x1f\x8b\x08", "a gzip archive"),
    (b"\x93NUMPY\x01", "a NumPy array"), (b"\x89HDF\r\n", "an HDF5 (Keras) file"),
    (b'{"weights": []}', "a JSON text file"), (b"%PDF-1.7", "a PDF document"),
])
def test_a_file_of_another_kind_is_named_for_what_it_looks_like(tmp_path, start, looks):
    path = tmp_path / "model.pt"
    path.write_bytes(start + bytes(200))
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    assert str(err.value) == (f"{path} is not a readable checkpoint: the file is damaged, truncated, or "
                              f"not a PyTorch file (it looks like {looks}).")


@pytest.mark.parametrize("setting, value, expected", [
    ("num_classes", True, "num_classes should be an int, not True"),
    ("num_classes", 10.0, "num_classes should be an int, not 10.0"),
    ("dropout", True, "dropout should be a float, not True"),
])
def test_settings_of_the_wrong_type_are_refused(tmp_path, setting, value, expected):
    model = _model(ModelConfig())
    path = tmp_path / "odd.pt"
    torch.save(_payload(model, model_config={**model.config.to_dict(), setting: value}), path)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    assert str(err.value) == f"{path} describes a model this app cannot build: {expected}."


def test_an_integer_where_a_float_setting_belongs_is_fine(tmp_path):
    model = _model(ModelConfig(dropout=0.0))
    path = tmp_path / "int.pt"
    torch.save(_payload(model, model_config={**model.config.to_dict(), "dropout": 0}), path)
    assert load_checkpoint(path).model.config.dropout == 0


def test_a_one_line_weights_error_is_reported_whole(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "m.pt", _model())

    def refuse(self, state, strict=True):
        raise RuntimeError("the weights disagree")

    monkeypatch.setattr(LeNet, "load_state_dict", refuse)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    assert str(err.value) == f"{path} holds weights of another architecture than this LeNet (the weights disagree)."


def test_a_disk_error_while_saving_reads_as_the_system_says_it(tmp_path, monkeypatch):
    def full(obj, f, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoint.torch, "save", full)
    path = tmp_path / "model.pt"
    with pytest.raises(CheckpointError) as err:
        save_checkpoint(path, _model())
    assert str(err.value) == f"Cannot save to {path}: No space left on device."


_SAVE_THEN_HANG = """
import sys, threading
from lenet_gui.core import checkpoint
from lenet_gui.core.model import LeNet

def hang(obj, f, *args, **kwargs):
    f.write(b"PK\\x03\\x04 the first bytes")
    f.flush()
    print("writing", flush=True)
    threading.Event().wait()  # killed here, mid-write

checkpoint.torch.save = hang
checkpoint.save_checkpoint(sys.argv[1], LeNet())
"""


def test_the_temporary_a_killed_save_leaves_is_removed_by_a_later_save(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    path = save_checkpoint(tmp_path / "model.pt", _model(seed=1))
    child = subprocess.Popen([sys.executable, "-c", _SAVE_THEN_HANG, str(path)], stdout=subprocess.PIPE,
                             cwd=Path(__file__).resolve().parents[2], start_new_session=True)
    try:
        assert child.stdout.readline() == b"writing\n", "the save in the child never started"
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
    left = [p for p in tmp_path.iterdir() if p != path]
    assert len(left) == 1 and left[0].name.startswith(".model.pt."), left
    assert load_checkpoint(path).model.config == MODERN  # the old file is untouched
    old = time.time() - 3600
    os.utime(left[0], (old, old))
    save_checkpoint(path, _model(seed=2))
    assert list(tmp_path.iterdir()) == [path]


def test_odd_metadata_values_are_kept_as_text_instead_of_failing_the_save(tmp_path):
    import numpy as np

    meta = {"confusion": np.eye(2, dtype=np.int64), "curve": torch.arange(3), "score": np.float32(0.5)}
    loaded = load_checkpoint(save_checkpoint(tmp_path / "m.pt", _model(), meta))
    assert loaded.metadata["confusion"] == str(np.eye(2, dtype=np.int64))
    assert loaded.metadata["curve"] == str(torch.arange(3))
    assert loaded.metadata["score"] == 0.5


def test_saving_leaves_the_process_umask_as_it_was(tmp_path):
    previous = os.umask(0o027)
    try:
        save_checkpoint(tmp_path / "m.pt", _model())
        assert os.umask(0o027) == 0o027, "files created after a save would get other permissions"
        assert (tmp_path / "m.pt").stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(previous)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="names descriptors through /proc")
def test_a_save_is_flushed_to_disk_file_and_folder(tmp_path, monkeypatch):
    """A power cut after the save returns must find the new file under its name: the data and
    the folder entry of the rename are both synced."""
    synced = []
    real_fsync = os.fsync

    def recording_fsync(fd):
        synced.append((Path(os.readlink(f"/proc/self/fd/{fd}")), os.fstat(fd).st_size))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    path = save_checkpoint(tmp_path / "m.pt", _model())
    names = [p for p, _ in synced]
    assert tmp_path in names, synced
    assert names.index(tmp_path) == len(names) - 1  # the folder last, after the rename
    data = [(p, size) for p, size in synced if p.parent == tmp_path and p.name.startswith(".m.pt.")]
    assert len(data) == 1, synced
    assert data[0][1] == path.stat().st_size, "synced before all of it was written"


def test_a_refused_legacy_pickle_prints_no_warning(tmp_path):
    import pickle
    import warnings

    path = tmp_path / "legacy.pt"
    path.write_bytes(pickle.dumps({"format": "something"}, protocol=4))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(CheckpointError):
            load_checkpoint(path)
    assert [str(w.message) for w in caught] == []
