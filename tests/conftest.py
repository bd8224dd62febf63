"""Shared fixtures for the whole test suite (core, CLI, GUI, robustness).

Data
    ``data_root``           the real data sets (torchvision layout) from ``$LENET_DATA_ROOT``;
                            the test is skipped when the variable is unset or the folder is missing.
    ``fashion_mnist``       the real Fashion-MNIST, loaded once per session (skips like ``data_root``).
    ``write_idx``           ``write_idx(path, uint8_array, gz=False)`` writes one IDX file.
    ``make_fake_dataset``   ``make_fake_dataset(root, key="fashion-mnist", n_train=..., n_test=...,
                            gz=False, seed=0)`` writes the four IDX files of a tiny, valid, learnable
                            data set into ``root/<Folder>/raw`` and returns that raw folder.
    ``fake_data_root``      a tmp folder holding tiny MNIST and Fashion-MNIST (plain IDX files).
    ``fake_dataset``        a :class:`LoadedDataset` read from ``fake_data_root`` (Fashion-MNIST).

Safety (autouse)
    Each test starts with the torch thread count of the one before it found (windows and the CLI
    change the calling thread's).

Safety (autouse, for the whole session)
    Downloads go to an unreachable loopback port unless ``LENET_MIRRORS`` is set (a test may set
    it with monkeypatch), so a test that misses a data set fails at once instead of reaching for
    the internet; ``XDG_CACHE_HOME`` points into pytest's tmp folder, so no test writes into the
    real per-user cache.

Real data: nothing here hard-codes where the data sets live; ``scripts/run-tests.sh`` sets
``LENET_DATA_ROOT``.
"""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np
import pytest

# A port nothing listens on: connecting fails immediately.
UNREACHABLE_MIRROR = "http://127.0.0.1:9/"

FOLDERS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
FILE_STEMS = {
    "train-images": "train-images-idx3-ubyte",
    "train-labels": "train-labels-idx1-ubyte",
    "test-images": "t10k-images-idx3-ubyte",
    "test-labels": "t10k-labels-idx1-ubyte",
}


@pytest.fixture(autouse=True, scope="session")
def _no_internet_and_private_cache(tmp_path_factory):
    # Session-wide (a test may still monkeypatch either variable): one private cache folder for
    # the run, so nothing is written into the real user's cache.
    with pytest.MonkeyPatch.context() as mp:
        if not os.environ.get("LENET_MIRRORS"):
            mp.setenv("LENET_MIRRORS", UNREACHABLE_MIRROR)
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(autouse=True)
def _torch_threads_as_they_were():
    # A window sets its thread to one torch thread (and the CLI may set others): the next test
    # starts from the thread count this one found.
    import torch

    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file of unsigned bytes holding ``array`` (1 or 3 dimensions)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + b"".join(
        struct.pack(">I", d) for d in array.shape
    )
    return header + array.tobytes()


def _write_idx(path, array: np.ndarray, gz: bool = False) -> Path:
    path = Path(path)
    if gz and not path.name.endswith(".gz"):
        path = path.with_name(path.name + ".gz")
    path.parent.mkdir(parents=True, exist_ok=True)
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def fake_split(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Images whose class is visible (a bright bar whose row depends on the label) over noise,
    so that a few batches of training already beat chance."""
    rng = np.random.default_rng(seed)
    labels = (np.arange(count) % 10).astype(np.uint8)
    rng.shuffle(labels)
    images = rng.integers(0, 60, size=(count, 28, 28), dtype=np.uint8)
    for i, label in enumerate(labels):
        row = 3 + 2 * int(label)
        images[i, row : row + 2, 4:24] = 255
    return images, labels


def _make_fake_dataset(root, key: str = "fashion-mnist", n_train: int = 200, n_test: int = 100,
                       gz: bool = False, seed: int = 0) -> Path:
    raw = Path(root) / FOLDERS[key] / "raw"
    train_x, train_y = fake_split(n_train, seed)
    test_x, test_y = fake_split(n_test, seed + 1)
    for name, array in (("train-images", train_x), ("train-labels", train_y),
                        ("test-images", test_x), ("test-labels", test_y)):
        _write_idx(raw / FILE_STEMS[name], array, gz=gz)
    return raw


@pytest.fixture
def write_idx():
    return _write_idx


@pytest.fixture
def make_fake_dataset():
    return _make_fake_dataset


@pytest.fixture
def fake_data_root(tmp_path) -> Path:
    root = tmp_path / "data"
    _make_fake_dataset(root, "fashion-mnist")
    _make_fake_dataset(root, "mnist", seed=10)
    return root


@pytest.fixture
def fake_dataset(fake_data_root):
    from lenet_gui.core.data import load_dataset

    return load_dataset("fashion-mnist", fake_data_root, download=False)


def _real_data_root() -> Path | None:
    value = os.environ.get("LENET_DATA_ROOT")
    if not value:
        return None
    root = Path(value).expanduser()
    return root if root.is_dir() else None


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = _real_data_root()
    if root is None:
        pytest.skip("real data sets not available: set LENET_DATA_ROOT to a folder holding them")
    return root


@pytest.fixture(scope="session")
def fashion_mnist(data_root):
    from lenet_gui.core.data import DatasetError, load_dataset

    try:
        return load_dataset("fashion-mnist", data_root, download=False)
    except DatasetError as exc:
        pytest.skip(f"Fashion-MNIST not available under LENET_DATA_ROOT: {exc}")


@pytest.fixture
def joined_training_threads(monkeypatch):
    """Every window training thread (``TrainingThread``) the test starts, stopped and joined when
    the test ends, also when it fails, so that no run goes on training into the next tests.
    Yields the list of started threads. Imports Qt: for GUI test files only."""
    import shiboken6

    from lenet_gui.ui import train_tab, training_worker

    started: list = []
    real_start = training_worker.TrainingThread.start

    def start(thread, *args):
        started.append(thread)
        real_start(thread, *args)

    monkeypatch.setattr(training_worker.TrainingThread, "start", start)
    yield started
    stuck = []
    for thread in started + list(train_tab._LINGERING_THREADS):
        if not shiboken6.isValid(thread):  # deleted by its tab once it had finished
            continue
        thread.request_stop()
        thread.resume()
        if not thread.wait(60_000):
            stuck.append(thread)
    if stuck:
        train_tab._LINGERING_THREADS.extend(t for t in stuck if t not in train_tab._LINGERING_THREADS)
        pytest.fail(f"{len(stuck)} training thread(s) still running 60 s after Stop")
