"""The download path, for real, against an HTTP server on loopback.

The server serves gzipped copies of small IDX files that the test writes. torchvision's MD5s
belong to the real files, so ``download_resources`` is patched to list these files' MD5s; the
real function is tested on its own.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lenet_gui.core import data
from lenet_gui.core.data import DatasetError, download_dataset, load_dataset, load_split
from tests.support.mirror import RESOURCE_ORDER, serve_fake_dataset


@pytest.fixture
def served(tmp_path, make_fake_dataset, monkeypatch):
    """A loopback mirror with gzipped copies of a tiny Fashion-MNIST, and the MD5s to check them."""
    mirror = serve_fake_dataset(make_fake_dataset, tmp_path / "source", monkeypatch)
    yield mirror
    mirror.close()


def _raw(root: Path) -> Path:
    return root / "FashionMNIST" / "raw"


def _assert_nothing_half_written(raw: Path):
    leftovers = sorted(p.name for p in raw.iterdir()) if raw.exists() else []
    assert leftovers == []


def _assert_offline_paragraph(message: str, root: Path):
    assert "\n" not in message
    assert "--data-root" in message and "LENET_DATA_ROOT" in message
    assert str(root) in message


# -- the real resource list -----------------------------------------------------------------------


@pytest.mark.parametrize("key", ["mnist", "fashion-mnist"])
def test_real_resources_are_torchvisions_four_gzipped_files(key):
    resources = data.download_resources(data.dataset_info(key))
    assert len(resources) == 4
    assert sorted(name.removesuffix(".gz") for name, _ in resources) == sorted(RESOURCE_ORDER)
    for name, md5 in resources:
        assert name.endswith(".gz")
        assert re.fullmatch(r"[0-9a-f]{32}", md5)


def test_default_mirrors_are_torchvisions_unless_overridden(monkeypatch):
    info = data.dataset_info("fashion-mnist")
    monkeypatch.delenv("LENET_MIRRORS", raising=False)
    mirrors = data.default_mirrors(info)
    assert mirrors == list(info.torchvision_class().mirrors)
    assert all(m.startswith("http") for m in mirrors)
    monkeypatch.setenv("LENET_MIRRORS", " http://a.example/x/ ,, http://b.example/ ")
    assert data.default_mirrors(info) == ["http://a.example/x/", "http://b.example/"]


# -- success --------------------------------------------------------------------------------------


def test_download_lands_unpacked_files_that_load(served, tmp_path):
    root = tmp_path / "root"
    calls = []
    raw = download_dataset("fashion-mnist", root, mirrors=[served.url("good")],
                           progress=lambda *a: calls.append(a))
    assert raw == _raw(root)
    assert sorted(p.name for p in raw.iterdir()) == sorted(RESOURCE_ORDER)
    for stem, original in served.originals.items():
        assert (raw / stem).read_bytes() == original
    loaded = load_dataset("fashion-mnist", root, download=False)
    assert len(loaded.train) == 60 and len(loaded.test) == 30
    # Some mirrors turn away Python's default User-Agent; the app names itself.
    assert served.httpd.agents == ["lenet-studio"] * 4
    # progress: every file reported, ending at its full size
    for name, body in served.httpd.files.items():
        mine = [c for c in calls if c[0] == name]
        assert mine, f"no progress for {name}"
        assert mine[-1][1] == mine[-1][2] == len(body)
        assert [c[1] for c in mine] == sorted(c[1] for c in mine)


def test_a_server_that_does_not_say_the_size_gives_progress_of_unknown_total(served, tmp_path):
    root = tmp_path / "root"
    calls = []
    download_dataset("fashion-mnist", root, mirrors=[served.url("nolength")], progress=lambda *a: calls.append(a))
    assert len(load_dataset("fashion-mnist", root, download=False).train) == 60
    for name, body in served.httpd.files.items():
        mine = [c for c in calls if c[0] == name]
        assert mine and mine[-1][1] == len(body), name
        assert {c[2] for c in mine} == {0}, "0 is how progress says the total is unknown"


def test_load_dataset_downloads_from_mirrors_in_the_environment(served, tmp_path, monkeypatch):
    monkeypatch.setenv("LENET_MIRRORS", served.url("good"))
    loaded = load_dataset("fashion-mnist", tmp_path / "root")
    assert len(loaded.train) == 60
    assert loaded.source == _raw(tmp_path / "root")
    assert len(served.requests) == 4


def test_the_test_split_alone_downloads_only_its_two_files_and_loads(served, tmp_path, monkeypatch):
    monkeypatch.setenv("LENET_MIRRORS", served.url("good"))
    root = tmp_path / "root"
    split = load_split("fashion-mnist", "test", root)
    assert sorted(served.requests) == ["/good/t10k-images-idx3-ubyte.gz", "/good/t10k-labels-idx1-ubyte.gz"]
    assert sorted(p.name for p in _raw(root).iterdir()) == ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    assert len(split) == 30
    assert split.images.numpy().tobytes() == served.originals["t10k-images-idx3-ubyte"][16:]
    # The training split is still missing, and says so; the test split is found without a request.
    assert not data.is_available("fashion-mnist", root)
    assert data.is_available("fashion-mnist", root, ("test",))
    assert len(load_split("fashion-mnist", "test", root, download=False)) == 30
    assert len(served.requests) == 2


def test_a_missing_test_split_offline_names_only_its_two_files(tmp_path):
    with pytest.raises(DatasetError) as info:
        load_split("mnist", "test", tmp_path, download=False)
    message = str(info.value)
    _assert_offline_paragraph(message, tmp_path)
    assert "test set" in message and "t10k-images-idx3-ubyte" in message and "two IDX files" in message
    assert "train-images" not in message and "about 2 MB" in message


def test_second_mirror_is_used_when_the_first_fails(served, tmp_path):
    root = tmp_path / "root"
    download_dataset("fashion-mnist", root, mirrors=[served.url("missing"), served.url("good")])
    assert len(load_dataset("fashion-mnist", root, download=False).test) == 30
    modes = [path.split("/")[1] for path in served.requests]
    assert modes == ["missing", "good"] * 4


def test_dropped_connection_then_good_mirror_leaves_only_good_files(served, tmp_path):
    root = tmp_path / "root"
    download_dataset("fashion-mnist", root, mirrors=[served.url("drop"), served.url("good")])
    assert sorted(p.name for p in _raw(root).iterdir()) == sorted(RESOURCE_ORDER)
    for stem, original in served.originals.items():
        assert (_raw(root) / stem).read_bytes() == original


def test_files_already_present_are_not_fetched_again(served, tmp_path):
    root = tmp_path / "root"
    _raw(root).mkdir(parents=True)
    (_raw(root) / RESOURCE_ORDER[0]).write_bytes(served.originals[RESOURCE_ORDER[0]])
    download_dataset("fashion-mnist", root, mirrors=[served.url("good")])
    assert len(served.requests) == 3
    assert not any(RESOURCE_ORDER[0] in r for r in served.requests)


# -- failures: a clear error and nothing half-written ------------------------------------------


def test_connection_dropped_halfway(served, tmp_path):
    root = tmp_path / "root"
    with pytest.raises(DatasetError) as err:
        download_dataset("fashion-mnist", root, mirrors=[served.url("drop")])
    message = str(err.value)
    _assert_offline_paragraph(message, root)
    assert "closed after" in message
    _assert_nothing_half_written(_raw(root))


def test_wrong_checksum(served, tmp_path):
    root = tmp_path / "root"
    with pytest.raises(DatasetError, match="checksum mismatch") as err:
        download_dataset("fashion-mnist", root, mirrors=[served.url("corrupt")])
    _assert_offline_paragraph(str(err.value), root)
    _assert_nothing_half_written(_raw(root))


def test_stalled_server_times_out_instead_of_hanging(served, tmp_path):
    root = tmp_path / "root"
    with pytest.raises(DatasetError) as err:
        download_dataset("fashion-mnist", root, mirrors=[served.url("stall")], timeout=0.5)
    # Not "closed after": the server would hang up by itself after ten seconds of silence, and
    # the download must give up at its own timeout first.
    assert "timed out" in str(err.value) and "closed after" not in str(err.value)
    _assert_offline_paragraph(str(err.value), root)
    _assert_nothing_half_written(_raw(root))


def test_all_mirrors_failing_gives_the_offline_paragraph(served, tmp_path, monkeypatch):
    root = tmp_path / "root"
    mirrors = [served.url("missing"), served.url("drop"), served.url("corrupt"), "http://127.0.0.1:9/"]
    monkeypatch.setenv("LENET_MIRRORS", ",".join(mirrors))
    with pytest.raises(DatasetError) as err:
        load_dataset("fashion-mnist", root)
    message = str(err.value)
    _assert_offline_paragraph(message, root)
    for mirror in mirrors:
        assert mirror in message  # each mirror's failure is named
    _assert_nothing_half_written(_raw(root))


def test_no_network_at_all_gives_the_offline_paragraph(tmp_path):
    # conftest points LENET_MIRRORS at a closed loopback port: the situation of an offline user
    root = tmp_path / "root"
    with pytest.raises(DatasetError) as err:
        load_dataset("mnist", root)
    message = str(err.value)
    assert "\n" not in message
    assert "--data-root" in message and "LENET_DATA_ROOT" in message
    _assert_nothing_half_written(root / "MNIST" / "raw")


def test_root_that_cannot_be_written_is_reported(served, tmp_path):
    root = tmp_path / "a-file"
    root.write_text("not a folder")
    with pytest.raises(DatasetError, match="Cannot write") as err:
        download_dataset("fashion-mnist", root, mirrors=[served.url("good")])
    assert "--data-root" in str(err.value)
    assert served.requests == []


# -- a download that was killed -------------------------------------------------------------------


_DOWNLOAD_IN_A_CHILD = """
import json, sys
from lenet_gui.core import data
resources = json.loads(sys.argv[3])
data.download_resources = lambda info: [tuple(r) for r in resources]
data.download_dataset("fashion-mnist", sys.argv[1], mirrors=[sys.argv[2]], timeout=60)
"""


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_the_temporary_a_killed_download_leaves_is_removed_by_the_next(served, tmp_path):
    root = tmp_path / "root"
    resources = data.download_resources(data.dataset_info("fashion-mnist"))  # the served files' MD5s
    child = subprocess.Popen(
        [sys.executable, "-c", _DOWNLOAD_IN_A_CHILD, str(root), served.url("stall"), json.dumps(resources)],
        cwd=Path(__file__).resolve().parents[2], start_new_session=True)
    try:
        assert served.httpd.stalled.wait(60), "the download in the child never started"
    finally:
        os.killpg(child.pid, signal.SIGKILL)  # killed mid-file, as by a power cut or kill -9
        child.wait()
    left = [p for p in _raw(root).iterdir() if p.name.endswith(".part")]
    assert len(left) == 1 and left[0].name.startswith(f".{RESOURCE_ORDER[0]}.gz."), left
    _age(left[0], 3600)
    download_dataset("fashion-mnist", root, mirrors=[served.url("good")])
    assert sorted(p.name for p in _raw(root).iterdir()) == sorted(RESOURCE_ORDER)
    assert len(load_dataset("fashion-mnist", root, download=False).train) == 60


def test_only_old_temporaries_of_this_data_set_are_removed(served, tmp_path):
    raw = _raw(tmp_path / "root")
    raw.mkdir(parents=True)
    stale_part = raw / ".train-images-idx3-ubyte.gz.k1ll3d.part"
    stale_unpacked = raw / ".t10k-labels-idx1-ubyte.gz.k1ll3d.raw"
    running = raw / ".train-labels-idx1-ubyte.gz.st1ll.part"  # another process downloading now
    not_ours = [raw / ".notes.part", raw / "train-images-idx3-ubyte.part", raw / "README"]
    for path in (stale_part, stale_unpacked, running, *not_ours):
        path.write_bytes(b"\x1f\x8b half a file")
    for path in (stale_part, stale_unpacked, *not_ours):
        _age(path, 3600)
    _age(running, 60)
    download_dataset("fashion-mnist", tmp_path / "root", mirrors=[served.url("good")])
    assert not stale_part.exists() and not stale_unpacked.exists()
    assert running.exists(), "may belong to a download still running in another process"
    assert all(path.exists() for path in not_ours)
