"""Shared fixtures for the whole test suite (core, CLI, GUI, robustness).

Data
    ``data_root``           the real data sets (torchvision layout) from ``$LENET_DATA_ROOT``.
    ``mnist``, ``fashion_mnist``   the real data sets, loaded once per session.
    ``bundled_models``      the checkpoints this checkout ships, by data set key.
                            These four skip the test, saying what was looked for and how to
                            provide it, when it is missing; when ``CI`` is set they fail it instead
                            (tests/support/prerequisites.py, which tests may also call directly).
    ``write_idx``           ``write_idx(path, uint8_array, gz=False)`` writes one IDX file.
    ``make_fake_dataset``   ``make_fake_dataset(root, key="fashion-mnist", n_train=..., n_test=...,
                            gz=False, seed=0)`` writes the four IDX files of a tiny, valid, learnable
                            data set into ``root/<Folder>/raw`` and returns that raw folder.
    ``fake_data_root``      a tmp folder holding tiny MNIST and Fashion-MNIST (plain IDX files).
    ``fake_dataset``        a :class:`LoadedDataset` read from ``fake_data_root`` (Fashion-MNIST).

Safety (autouse)
    Each test starts with the torch thread count of the one before it found (windows and the CLI
    change the calling thread's).
    ``stop_and_join_trainers``: every ``Trainer`` run another thread drives, and every training
    QThread, that a test started is stopped and joined when the test ends, passed or failed; one
    that does not end within ``training_threads.JOIN_SECONDS`` fails the test loudly. A test may
    also ask for it by name: it yields the list of runs it tracks.
    A hang guard: pytest-timeout ends a test that runs past the timeout in pyproject.toml.

Safety (autouse, for the whole session)
    Downloads go to an unreachable loopback port unless ``LENET_MIRRORS`` is set (a test may set
    it with monkeypatch), so a test that misses a data set fails at once instead of reaching for
    the internet; ``XDG_CACHE_HOME`` and ``XDG_DATA_HOME`` point into pytest's tmp folder, so no
    test writes into the real per-user cache or data folder.
    ``LENET_RUNS_DIR`` (where every training run is recorded, core/history.py) points into the
    session's tmp folder, and, per test, ``runs_dir``: an empty tmp folder of the test's own, so
    no test writes into the real run history and each sees only the runs it made.

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

from tests.support import prerequisites, training_threads

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
        # Session-wide too: module-scoped fixtures (a CLI run shared by a module's tests) run
        # before the per-test folder below is set.
        mp.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data-home")))
        mp.setenv("LENET_RUNS_DIR", str(tmp_path_factory.mktemp("runs")))
        yield


@pytest.fixture(autouse=True)
def runs_dir(tmp_path, monkeypatch) -> Path:
    """The run history's folder for this test (``$LENET_RUNS_DIR``), empty at its start."""
    folder = tmp_path / "runs"
    monkeypatch.setenv("LENET_RUNS_DIR", str(folder))
    return folder


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


@pytest.fixture(scope="session")
def data_root() -> Path:
    return prerequisites.real_data_root()


@pytest.fixture(scope="session")
def mnist():
    return prerequisites.real_dataset("mnist")


@pytest.fixture(scope="session")
def fashion_mnist():
    return prerequisites.real_dataset("fashion-mnist")


@pytest.fixture
def bundled_models() -> dict[str, Path]:
    return prerequisites.bundled_models()


# ---------------------------------------------------------------------------------------------
# Trainers left running


@pytest.fixture(autouse=True)
def stop_and_join_trainers():
    """Every ``Trainer.run()`` another thread drives, and every training QThread, that the test
    started is asked to stop at teardown, passed or failed, and its thread joined; one still
    running after ``training_threads.JOIN_SECONDS`` fails the test (tests/support/training_threads.py).

    Without it, a failing assertion leaves a daemon trainer of many epochs running, and on a
    small machine the next tests, starved of cores, fail in a cascade that hides the first one.
    Yields the list of runs tracked so far (``training_threads.TrackedRun``).
    """
    with training_threads.tracking() as tracker:
        yield tracker.runs
        stuck = tracker.stop_and_join()
    if stuck:
        pytest.fail(stuck, pytrace=False)
