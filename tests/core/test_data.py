"""Data-set registry, data-root resolution, IDX reading and its error messages (no network)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from lenet_gui.core import data
from lenet_gui.core.data import DatasetError, load_dataset, read_idx, resolve_data_root

FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)


# -- registry -----------------------------------------------------------------------------------


def test_registry_has_both_data_sets_with_their_class_names():
    assert set(data.DATASETS) == {"mnist", "fashion-mnist"}
    assert data.dataset_info("mnist").classes == tuple("0123456789")
    assert data.dataset_info("fashion-mnist").classes == FASHION_CLASSES
    assert data.dataset_info("mnist").folder == "MNIST"
    assert data.dataset_info("fashion-mnist").folder == "FashionMNIST"
    assert data.dataset_info("mnist").input_kind == "digit"
    assert data.dataset_info("fashion-mnist").input_kind == "garment"


def test_registry_folders_match_torchvision():
    for info in data.DATASETS.values():
        assert info.torchvision_class().__name__ == info.folder


def test_unknown_data_set_names_the_choices():
    with pytest.raises(DatasetError, match="cifar.*mnist.*fashion-mnist"):
        data.dataset_info("cifar")


# -- data root -----------------------------------------------------------------------------------


def test_data_root_explicit_beats_environment_beats_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("LENET_DATA_ROOT", str(tmp_path / "from-env"))
    assert resolve_data_root(tmp_path / "explicit") == tmp_path / "explicit"
    assert resolve_data_root(str(tmp_path / "explicit")) == tmp_path / "explicit"
    assert resolve_data_root(None) == tmp_path / "from-env"
    monkeypatch.delenv("LENET_DATA_ROOT")
    assert resolve_data_root(None) == data.default_cache_root()


def test_cache_root_is_per_user_and_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(data.sys, "platform", "linux")
    assert data.default_cache_root() == tmp_path / "xdg" / "lenet-studio" / "datasets"


def test_cache_root_on_macos_and_windows(monkeypatch, tmp_path):
    monkeypatch.setattr(data.Path, "home", staticmethod(lambda: tmp_path / "home"))
    monkeypatch.setattr(data.sys, "platform", "darwin")
    assert data.default_cache_root() == tmp_path / "home" / "Library" / "Caches" / "lenet-studio" / "datasets"
    monkeypatch.setattr(data.sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    assert data.default_cache_root() == tmp_path / "local" / "lenet-studio" / "datasets"
    monkeypatch.delenv("LOCALAPPDATA")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert data.default_cache_root() == tmp_path / "home" / ".cache" / "lenet-studio" / "datasets"


def test_empty_environment_variable_falls_back_to_cache(monkeypatch):
    monkeypatch.setenv("LENET_DATA_ROOT", "")
    assert resolve_data_root(None) == data.default_cache_root()


# -- IDX files ----------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_read_idx_round_trips_images_and_labels(tmp_path, write_idx, gz):
    images = np.random.default_rng(1).integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    img_path = write_idx(tmp_path / "imgs", images, gz=gz)
    lbl_path = write_idx(tmp_path / "lbls", labels, gz=gz)
    assert (img_path.suffix == ".gz") == gz
    np.testing.assert_array_equal(read_idx(img_path, expect_dims=3), images)
    np.testing.assert_array_equal(read_idx(lbl_path, expect_dims=1), labels)
    np.testing.assert_array_equal(read_idx(str(lbl_path)), labels)  # a str path, and no dims asked


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_load_dataset_preloads_both_splits_as_tensors(make_fake_dataset, tmp_path, gz):
    raw = make_fake_dataset(tmp_path, "fashion-mnist", n_train=30, n_test=20, gz=gz)
    loaded = load_dataset("fashion-mnist", tmp_path, download=False)
    assert loaded.info.key == "fashion-mnist"
    assert loaded.source == raw
    assert loaded.train.images.shape == (30, 28, 28) and loaded.train.images.dtype == torch.uint8
    assert loaded.train.labels.shape == (30,) and loaded.train.labels.dtype == torch.int64
    assert len(loaded.test) == 20
    assert set(loaded.train.labels.tolist()) == set(range(10))


def test_files_directly_in_the_root_are_found(make_fake_dataset, tmp_path):
    # e.g. Debian's /usr/share/datasets/fashion-mnist holds the .gz files without sub-folders
    raw = make_fake_dataset(tmp_path / "made", "fashion-mnist", n_train=10, gz=True)
    flat = tmp_path / "flat"
    raw.rename(flat)
    loaded = load_dataset("fashion-mnist", flat, download=False)
    assert len(loaded.train) == 10 and loaded.source == flat


def test_a_data_set_is_available_when_its_four_files_are(make_fake_dataset, tmp_path):
    assert data.is_available("mnist", tmp_path) is False
    raw = make_fake_dataset(tmp_path, "mnist")
    assert data.is_available("mnist", tmp_path) is True
    assert data.is_available("mnist", str(tmp_path)) is True
    (raw / "t10k-labels-idx1-ubyte").unlink()
    assert data.is_available("mnist", tmp_path) is False


def test_subset_limits_the_split(fake_dataset):
    assert len(fake_dataset.train.subset(7)) == 7
    assert fake_dataset.train.subset(None) is fake_dataset.train
    assert fake_dataset.train.subset(10**6) is fake_dataset.train


# -- errors a user can act on -------------------------------------------------------------------


def _assert_one_clear_paragraph(message: str):
    assert "\n" not in message
    assert "Traceback" not in message


def test_missing_data_without_download_says_what_to_do(tmp_path):
    with pytest.raises(DatasetError) as err:
        load_dataset("mnist", tmp_path, download=False)
    message = str(err.value)
    _assert_one_clear_paragraph(message)
    assert str(tmp_path) in message
    assert "--data-root" in message and "LENET_DATA_ROOT" in message
    assert "MNIST/raw" in message
    # Nothing was tried, so no reason in brackets after "downloaded".
    assert message.startswith(f"The MNIST data set is not in {tmp_path} and could not be downloaded. Either ")


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_the_size_limit_refuses_only_what_is_over_it(make_fake_dataset, tmp_path, monkeypatch, gz):
    raw = make_fake_dataset(tmp_path, "mnist", n_train=10, n_test=10, gz=gz)  # two largest files alike
    from lenet_gui.core.data import _open_maybe_gzip  # the bytes a file holds, unpacked

    size = len(_open_maybe_gzip(raw / ("train-images-idx3-ubyte" + (".gz" if gz else ""))))
    monkeypatch.setattr(data, "MAX_IDX_BYTES", size)  # the largest file is exactly at the limit
    assert len(load_dataset("mnist", tmp_path, download=False).train) == 10
    monkeypatch.setattr(data, "MAX_IDX_BYTES", size - 1)
    with pytest.raises(DatasetError, match="unpacks to more than" if gz else "far more than"):
        load_dataset("mnist", tmp_path, download=False)


def _damage(raw: Path, stem: str, transform) -> Path:
    path = raw / stem
    path.write_bytes(transform(path.read_bytes()))
    return path


@pytest.mark.parametrize(
    "stem, transform, pattern",
    [
        ("train-images-idx3-ubyte", lambda b: b[: len(b) // 2], "truncated"),
        ("train-images-idx3-ubyte", lambda b: b[:10], "truncated inside its header"),
        ("t10k-labels-idx1-ubyte", lambda b: b[:2], "only 2 bytes"),
        ("train-labels-idx1-ubyte", lambda b: b + b"\0\0\0", "3 unexpected bytes"),
        ("train-images-idx3-ubyte", lambda b: b"\x00\x00\x0d\x03" + b[4:], "wrong magic number"),
        ("train-images-idx3-ubyte", lambda b: b"\x01" + b[1:], "wrong magic number 0x01000803"),
        ("train-images-idx3-ubyte", lambda b: b"\x00\x01" + b[2:], "wrong magic number 0x00010803"),
        ("train-images-idx3-ubyte", lambda b: b"PK\x03\x04" + b[4:], "wrong magic number"),
        ("train-images-idx3-ubyte", lambda b: b"\x1f\x8b" + b[2:], "damaged gzip"),
        ("t10k-images-idx3-ubyte", lambda b: b"", "only 0 bytes"),
    ],
    ids=["truncated-data", "truncated-header", "tiny", "trailing-bytes", "magic-float",
         "magic-first-byte", "magic-second-byte", "magic-zip", "bad-gzip", "empty"],
)
def test_damaged_files_give_a_clear_error_naming_the_file(make_fake_dataset, tmp_path, stem, transform, pattern):
    raw = make_fake_dataset(tmp_path, "mnist")
    path = _damage(raw, stem, transform)
    with pytest.raises(DatasetError, match=pattern) as err:
        load_dataset("mnist", tmp_path, download=False)
    message = str(err.value)
    _assert_one_clear_paragraph(message)
    assert str(path) in message


def test_truncated_gzip_file_names_the_file(make_fake_dataset, tmp_path):
    raw = make_fake_dataset(tmp_path, "mnist", gz=True)
    path = _damage(raw, "train-images-idx3-ubyte.gz", lambda b: b[: len(b) // 2])
    with pytest.raises(DatasetError, match="damaged gzip") as err:
        load_dataset("mnist", tmp_path, download=False)
    assert str(path) in str(err.value)


def test_labels_in_the_images_slot_are_reported(make_fake_dataset, tmp_path):
    raw = make_fake_dataset(tmp_path, "mnist")
    images = raw / "t10k-images-idx3-ubyte"
    images.write_bytes((raw / "t10k-labels-idx1-ubyte").read_bytes())
    with pytest.raises(DatasetError) as err:
        load_dataset("mnist", tmp_path, download=False)
    assert str(err.value) == (f"{images} should hold images but its header says 1 dimensions. Delete it so "
                              "that it is downloaded again, or replace it with a good copy.")


def test_a_file_the_disk_cannot_read_is_reported(make_fake_dataset, tmp_path, monkeypatch):
    import errno

    raw = make_fake_dataset(tmp_path, "mnist")
    real_read_bytes = Path.read_bytes

    def failing_disk(self):
        if self.name == "train-labels-idx1-ubyte":
            raise OSError(errno.EIO, "Input/output error")
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", failing_disk)
    with pytest.raises(DatasetError) as err:
        load_dataset("mnist", tmp_path, download=False)
    assert str(err.value) == f"Cannot read {raw / 'train-labels-idx1-ubyte'}: Input/output error."


def test_a_file_without_read_permission_is_reported(make_fake_dataset, tmp_path, monkeypatch):
    """As test_unreadable_file_is_reported, also where the tests run as root (who reads all)."""
    raw = make_fake_dataset(tmp_path, "mnist")
    real_read_bytes = Path.read_bytes

    def denied(self):
        if self.name == "t10k-images-idx3-ubyte":
            raise PermissionError(13, "Permission denied")
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(DatasetError) as err:
        load_dataset("mnist", tmp_path, download=False)
    assert str(err.value) == f"Cannot read {raw / 't10k-images-idx3-ubyte'}: permission denied."


def test_images_in_the_labels_slot_are_reported(make_fake_dataset, tmp_path):
    raw = make_fake_dataset(tmp_path, "mnist")
    labels = raw / "train-labels-idx1-ubyte"
    labels.write_bytes((raw / "train-images-idx3-ubyte").read_bytes())
    with pytest.raises(DatasetError, match="should hold labels") as err:
        load_dataset("mnist", tmp_path, download=False)
    assert str(labels) in str(err.value)


def test_image_and_label_count_mismatch_names_both_files(make_fake_dataset, write_idx, tmp_path):
    raw = make_fake_dataset(tmp_path, "fashion-mnist", n_train=30)
    labels = write_idx(raw / "train-labels-idx1-ubyte", np.zeros(29, dtype=np.uint8))
    with pytest.raises(DatasetError, match="30 images.*29 labels") as err:
        load_dataset("fashion-mnist", tmp_path, download=False)
    message = str(err.value)
    _assert_one_clear_paragraph(message)
    assert str(labels) in message and str(raw / "train-images-idx3-ubyte") in message


def test_label_out_of_range_names_the_file_and_position(make_fake_dataset, write_idx, tmp_path):
    raw = make_fake_dataset(tmp_path, "fashion-mnist", n_test=20)
    bad = np.arange(20, dtype=np.uint8) % 10
    bad[13] = 10
    labels = write_idx(raw / "t10k-labels-idx1-ubyte", bad)
    with pytest.raises(DatasetError, match="label 10 at position 13") as err:
        load_dataset("fashion-mnist", tmp_path, download=False)
    assert str(labels) in str(err.value)


def test_images_of_the_wrong_size_are_reported(make_fake_dataset, write_idx, tmp_path):
    raw = make_fake_dataset(tmp_path, "mnist", n_train=10)
    images = write_idx(raw / "train-images-idx3-ubyte", np.zeros((10, 32, 32), dtype=np.uint8))
    with pytest.raises(DatasetError, match="32x32") as err:
        load_dataset("mnist", tmp_path, download=False)
    assert str(images) in str(err.value)


def test_unreadable_file_is_reported(make_fake_dataset, tmp_path):
    import os

    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    raw = make_fake_dataset(tmp_path, "mnist")
    path = raw / "train-images-idx3-ubyte"
    path.chmod(0)
    try:
        with pytest.raises(DatasetError, match="permission denied") as err:
            load_dataset("mnist", tmp_path, download=False)
        assert str(path) in str(err.value)
    finally:
        path.chmod(0o644)


# -- the real files -----------------------------------------------------------------------------


@pytest.mark.parametrize("key, first_labels", [
    ("mnist", [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]),
    ("fashion-mnist", [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]),
])
def test_real_data_sets_load_completely(data_root, key, first_labels):
    loaded = load_dataset(key, data_root, download=False)
    assert loaded.train.images.shape == (60000, 28, 28)
    assert loaded.test.images.shape == (10000, 28, 28)
    assert loaded.train.labels[:10].tolist() == first_labels
    pixels = loaded.train.images.double() / 255
    assert pixels.mean().item() == pytest.approx(loaded.info.mean, abs=1e-6)
    assert pixels.std(unbiased=False).item() == pytest.approx(loaded.info.std, abs=1e-6)  # normalises inputs


def test_held_out_training_images_split_into_calibration_and_reserved_parts():
    from lenet_gui.core.data import holdout_ranges

    trained, calibration, reserved = holdout_ranges(60000, 5000)
    assert (trained, calibration, reserved) == (range(0, 55000), range(55000, 57500), range(57500, 60000))
    assert holdout_ranges(200, 0) == (range(0, 200), range(200, 200), range(200, 200))
    # Never more than there is, and an odd count leaves the extra image reserved.
    assert holdout_ranges(10, 50) == (range(0, 0), range(0, 5), range(5, 10))
    assert holdout_ranges(100, 7) == (range(0, 93), range(93, 96), range(96, 100))
