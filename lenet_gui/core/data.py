"""Data sets: the registry, finding files, downloading them, and preloading them as tensors.

The files are the original IDX files in torchvision's layout (``ROOT/MNIST/raw/...``), plain
or gzipped. Everything here raises :class:`DatasetError` with a message meant for a person:
which file, what is wrong with it, and what to do.
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
import torch

from .files import remove_stale_files

ENV_DATA_ROOT = "LENET_DATA_ROOT"
ENV_MIRRORS = "LENET_MIRRORS"
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")

IDX_UBYTE = 0x08
# MNIST's largest file is 47 MB unpacked.
MAX_IDX_BYTES = 128 * 1024 * 1024
SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

ALL_SPLITS = tuple(SPLIT_FILES)
TEST_ONLY = ("test",)  # what the views of the test set need: a download fetches nothing else
# The size of each gzipped file torchvision downloads, to tell a person what a download costs
# before it starts.
DOWNLOAD_BYTES = {
    "mnist": {"train": 9912422 + 28881, "test": 1648877 + 4542},
    "fashion-mnist": {"train": 26421880 + 29515, "test": 4422102 + 5148},
}

ProgressCallback = Callable[[str, int, int], None]
"""Called as ``progress(file_name, bytes_done, bytes_total)``; ``bytes_total`` is 0 when unknown."""


class DatasetError(RuntimeError):
    """A data set is missing, unreadable or damaged. The message says what to do."""


class DatasetFolderNotWritable(DatasetError):
    """A download cannot write into the data folder (as opposed to reaching no server)."""


@dataclass(frozen=True)
class DatasetInfo:
    key: str
    title: str
    folder: str  # torchvision's folder name under the root
    classes: tuple[str, ...]
    mean: float  # over the training images, scaled to [0, 1]
    std: float
    input_kind: str  # which preprocessing pipeline real inputs need: "digit" or "garment"
    system_folders: tuple[Path, ...] = ()

    def torchvision_class(self):
        import torchvision.datasets as tvd

        return getattr(tvd, self.folder)


DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo(
        key="mnist",
        title="MNIST",
        folder="MNIST",
        classes=tuple(str(d) for d in range(10)),
        mean=0.1306604763,
        std=0.3081078039,
        input_kind="digit",
    ),
    "fashion-mnist": DatasetInfo(
        key="fashion-mnist",
        title="Fashion-MNIST",
        folder="FashionMNIST",
        classes=(
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
        mean=0.2860405970,
        std=0.3530242445,
        input_kind="garment",
        system_folders=(DEBIAN_FASHION_MNIST,),
    ),
}


def dataset_info(key: str) -> DatasetInfo:
    try:
        return DATASETS[key]
    except KeyError:
        raise DatasetError(
            f"Unknown data set {key!r}; choose one of: {', '.join(DATASETS)}."
        ) from None


def user_cache_folder() -> Path:
    """LeNet Studio's per-user cache folder (``~/.cache/lenet-studio`` on Linux): data sets and
    anything else worth keeping between runs that can be made again."""
    base = os.environ.get("XDG_CACHE_HOME") or (Path.home() / ".cache")
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or base
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    return Path(base) / "lenet-studio"


def default_cache_root() -> Path:
    return user_cache_folder() / "datasets"


def resolve_data_root(explicit: str | os.PathLike | None = None) -> Path:
    """The data root: the explicit choice, else ``$LENET_DATA_ROOT``, else the user's cache."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get(ENV_DATA_ROOT)
    if env:
        return Path(env).expanduser()
    return default_cache_root()


def candidate_roots(explicit: str | os.PathLike | None = None,
                    chosen: str | os.PathLike | None = None) -> list[Path]:
    """Where to look for a data set, in order, without duplicates:

    1. ``explicit``: ``--data-root DIR`` on the command line,
    2. the environment variable ``LENET_DATA_ROOT``,
    3. ``chosen``: the folder the user picked in the window (remembered in its settings),
    4. the per-user cache (``~/.cache/lenet-studio/datasets`` on Linux).

    Searching rather than taking the first folder that is set means a folder chosen in the app
    is honoured even when a stale ``LENET_DATA_ROOT`` points elsewhere, and an explicit choice
    that holds the data always wins.
    """
    roots: list[Path] = []
    for value in (explicit, os.environ.get(ENV_DATA_ROOT), chosen):
        if value:
            roots.append(Path(value).expanduser())
    roots.append(default_cache_root())
    unique: list[Path] = []
    for root in roots:
        if root not in unique:
            unique.append(root)
    return unique


def locate_dataset(key: str, explicit: str | os.PathLike | None = None,
                   chosen: str | os.PathLike | None = None, splits: Iterable[str] = ALL_SPLITS) -> Path | None:
    """The first of :func:`candidate_roots` that holds the ``splits`` of data set ``key``, or None."""
    splits = tuple(splits)
    for root in candidate_roots(explicit, chosen):
        if is_available(key, root, splits):
            return root
    return None


def download_root(explicit: str | os.PathLike | None = None) -> Path:
    """Where a download goes: ``explicit``, else ``$LENET_DATA_ROOT``, else the cache. A folder
    the user chose is left out: it is one they found already filled, and may not be writable."""
    return resolve_data_root(explicit)


@dataclass
class DataSplit:
    images: torch.Tensor  # uint8, N x 28 x 28
    labels: torch.Tensor  # int64, N

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def subset(self, count: int | None) -> "DataSplit":
        if count is None or count >= len(self):
            return self
        return DataSplit(self.images[:count], self.labels[:count])

    def part(self, indices: range) -> "DataSplit":
        """The images at ``indices`` (a contiguous range), sharing this split's memory."""
        return DataSplit(self.images[indices.start : indices.stop], self.labels[indices.start : indices.stop])


def holdout_ranges(count: int, holdout: int) -> tuple[range, range, range]:
    """How a training split of ``count`` images is divided when the last ``holdout`` are held
    out: (trained on, calibration, reserved). The calibration part (the first half of the
    held-out images) is what temperature scaling and the out-of-distribution threshold are
    fitted on; the reserved part is touched by nothing in training or calibration, so the
    evaluation sets built from it (scripts/make_eval_sets.py) measure what was never tuned on."""
    holdout = max(0, min(int(holdout), count))
    train_end = count - holdout
    middle = train_end + holdout // 2
    return range(0, train_end), range(train_end, middle), range(middle, count)


@dataclass
class LoadedDataset:
    info: DatasetInfo
    train: DataSplit
    test: DataSplit
    source: Path  # the folder the files were read from


# ---------------------------------------------------------------------------------------------
# IDX files


def _open_maybe_gzip(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_IDX_BYTES:
            raise DatasetError(
                f"{path} is {path.stat().st_size // (1024 * 1024)} MB, far more than an MNIST-style "
                "data set file holds. Replace it with a good copy."
            )
        raw = path.read_bytes()
    except PermissionError:
        raise DatasetError(f"Cannot read {path}: permission denied.") from None
    except OSError as exc:
        raise DatasetError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    if raw[:2] == b"\x1f\x8b":
        fix = "Delete it so that it is downloaded again, or replace it with a good copy."
        # Bounded: a small .gz can expand to gigabytes, and all of it would be held at once.
        inflater = zlib.decompressobj(wbits=31)
        try:
            data = inflater.decompress(raw, MAX_IDX_BYTES + 1)
        except zlib.error as exc:  # damaged deflate data or a CRC mismatch
            raise DatasetError(f"{path} is a damaged gzip file ({exc}). {fix}") from None
        if len(data) > MAX_IDX_BYTES:
            raise DatasetError(
                f"{path} unpacks to more than {MAX_IDX_BYTES // (1024 * 1024)} MB, far more than "
                f"an MNIST-style data set holds. {fix}"
            )
        if not inflater.eof:
            raise DatasetError(f"{path} is a damaged gzip file (it ends before its data does). {fix}")
        return data
    return raw


def read_idx(path: str | os.PathLike, expect_dims: int | None = None) -> np.ndarray:
    """Read an IDX file of unsigned bytes (the format of MNIST), checking every header field."""
    path = Path(path)
    data = _open_maybe_gzip(path)
    fix = "Delete it so that it is downloaded again, or replace it with a good copy."
    if len(data) < 4:
        raise DatasetError(f"{path} is not an IDX file: it is only {len(data)} bytes long. {fix}")
    zero, zero2, dtype, ndim = data[0], data[1], data[2], data[3]
    if zero != 0 or zero2 != 0 or dtype != IDX_UBYTE or ndim not in (1, 3):
        raise DatasetError(
            f"{path} is not an MNIST-style IDX file (wrong magic number "
            f"0x{int.from_bytes(data[:4], 'big'):08x}; expected 0x00000801 or 0x00000803). {fix}"
        )
    if expect_dims is not None and ndim != expect_dims:
        kind = "labels" if expect_dims == 1 else "images"
        raise DatasetError(f"{path} should hold {kind} but its header says {ndim} dimensions. {fix}")
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise DatasetError(f"{path} is truncated inside its header. {fix}")
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    expected = header_len + int(np.prod(dims, dtype=np.int64))
    if len(data) < expected:
        raise DatasetError(
            f"{path} is truncated: it has {len(data)} bytes but its header promises {expected}. {fix}"
        )
    if len(data) > expected:
        raise DatasetError(
            f"{path} has {len(data) - expected} unexpected bytes after the data its header "
            f"describes. {fix}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header_len).reshape(dims)


def _find_file(stem: str, folders: Iterable[Path]) -> Path | None:
    for folder in folders:
        for candidate in (folder / stem, folder / f"{stem}.gz"):
            if candidate.is_file():
                return candidate
    return None


def _candidate_folders(info: DatasetInfo, root: Path) -> list[Path]:
    return [root / info.folder / "raw", root / info.folder, root, *info.system_folders]


def split_file_names(splits: Iterable[str] = ALL_SPLITS) -> list[str]:
    """The IDX file names (without .gz) that ``splits`` need, in SPLIT_FILES's order."""
    return [stem for split in splits for stem in SPLIT_FILES[split]]


def download_megabytes(key: str, splits: Iterable[str] = ALL_SPLITS) -> float:
    return sum(DOWNLOAD_BYTES[key][split] for split in splits) / 1e6


def find_files(info: DatasetInfo, root: Path, splits: Iterable[str] = ALL_SPLITS) -> dict[str, Path] | None:
    """The IDX files of ``splits`` (both by default: four files), from the first folder that has
    all of them."""
    splits = tuple(splits)
    for folder in _candidate_folders(info, root):
        found = {}
        for split in splits:
            for stem, part in zip(SPLIT_FILES[split], ("images", "labels")):
                path = _find_file(stem, [folder])
                if path is not None:
                    found[f"{split}-{part}"] = path
        if len(found) == 2 * len(splits):
            return found
    return None


def is_available(key: str, root: str | os.PathLike | None = None, splits: Iterable[str] = ALL_SPLITS) -> bool:
    return find_files(dataset_info(key), resolve_data_root(root), splits) is not None


def _load_split(info: DatasetInfo, images_path: Path, labels_path: Path) -> DataSplit:
    images = read_idx(images_path, expect_dims=3)
    labels = read_idx(labels_path, expect_dims=1)
    if images.shape[1:] != (28, 28):
        raise DatasetError(
            f"{images_path} holds images of {images.shape[1]}x{images.shape[2]} pixels; "
            f"{info.title} images are 28x28. Replace it with {info.title}'s own file of that "
            "name (or delete it so that it is downloaded again)."
        )
    if images.shape[0] == 0:
        raise DatasetError(
            f"{images_path} holds no images (its header says 0). Delete it and its labels file "
            "so that they are downloaded again, or replace them with good copies."
        )
    if images.shape[0] != labels.shape[0]:
        raise DatasetError(
            f"{images_path} has {images.shape[0]} images but {labels_path} has "
            f"{labels.shape[0]} labels: the two files do not belong together. Replace both "
            "with a matching pair (delete them so that they are downloaded again)."
        )
    if labels.size and int(labels.max()) >= len(info.classes):
        bad = int(np.argmax(labels >= len(info.classes)))
        raise DatasetError(
            f"{labels_path} has label {int(labels[bad])} at position {bad}, but "
            f"{info.title} has only classes 0-{len(info.classes) - 1}. The file is damaged: "
            "delete it so that it is downloaded again."
        )
    return DataSplit(
        images=torch.from_numpy(images.copy()),
        labels=torch.from_numpy(labels.astype(np.int64)),
    )


def offline_message(info: DatasetInfo, root: Path, reason: str = "", splits: Iterable[str] = ALL_SPLITS) -> str:
    splits = tuple(splits)
    because = f" ({reason})" if reason else ""
    what = "data set" if splits == ALL_SPLITS else " and ".join(f"{split} set" for split in splits)
    names = split_file_names(splits)
    count = {2: "two", 4: "four"}.get(len(names), str(len(names)))
    return (
        f"The {info.title} {what} is not in {root} and could not be downloaded{because}. "
        f"Either connect to the internet and try again (it is downloaded automatically, about "
        f"{download_megabytes(info.key, splits):.0f} MB), or point LeNet Studio at a folder that "
        f"already holds it: pass --data-root DIR on the command line, set the environment variable "
        f"{ENV_DATA_ROOT}=DIR, or choose the folder in the app. DIR must contain {info.folder}/raw/ "
        f"with the {count} IDX files ({', '.join(names)}), plain or .gz, as torchvision lays them out."
    )


def load_dataset(
    key: str,
    root: str | os.PathLike | None = None,
    *,
    download: bool = True,
    progress: ProgressCallback | None = None,
    mirrors: Sequence[str] | None = None,
) -> LoadedDataset:
    """Find (or download) a data set and preload both splits as uint8 tensors."""
    info = dataset_info(key)
    root_path = resolve_data_root(root)
    files = find_files(info, root_path)
    if files is None:
        if not download:
            raise DatasetError(offline_message(info, root_path))
        download_dataset(key, root_path, progress=progress, mirrors=mirrors)
        files = find_files(info, root_path)
        if files is None:  # pragma: no cover - download_dataset raises before this
            raise DatasetError(offline_message(info, root_path))
    train = _load_split(info, files["train-images"], files["train-labels"])
    test = _load_split(info, files["test-images"], files["test-labels"])
    return LoadedDataset(info=info, train=train, test=test, source=files["train-images"].parent)


def load_split(
    key: str,
    split: str,
    root: str | os.PathLike | None = None,
    *,
    download: bool = True,
    progress: ProgressCallback | None = None,
    mirrors: Sequence[str] | None = None,
) -> DataSplit:
    """One split of a data set ("train" or "test"), downloading only its two files if needed."""
    info = dataset_info(key)
    root_path = resolve_data_root(root)
    files = find_files(info, root_path, (split,))
    if files is None:
        if not download:
            raise DatasetError(offline_message(info, root_path, splits=(split,)))
        download_dataset(key, root_path, progress=progress, mirrors=mirrors, splits=(split,))
        files = find_files(info, root_path, (split,))
        if files is None:  # pragma: no cover - download_dataset raises before this
            raise DatasetError(offline_message(info, root_path, splits=(split,)))
    return _load_split(info, files[f"{split}-images"], files[f"{split}-labels"])


# ---------------------------------------------------------------------------------------------
# Downloading


def default_mirrors(info: DatasetInfo) -> list[str]:
    override = os.environ.get(ENV_MIRRORS)
    if override:
        return [m.strip() for m in override.split(",") if m.strip()]
    return list(info.torchvision_class().mirrors)


def download_resources(info: DatasetInfo) -> list[tuple[str, str]]:
    """``(file name, md5)`` pairs of the gzipped files, as torchvision publishes them."""
    return [(name, md5) for name, md5 in info.torchvision_class().resources]


def _fetch(url: str, dest: Path, name: str, progress: ProgressCallback | None, timeout: float) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": "lenet-studio"})
    with urllib.request.urlopen(request, timeout=timeout) as response, open(dest, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0)
        done = 0
        while True:
            chunk = response.read(1 << 16)
            if not chunk:
                break
            out.write(chunk)
            done += len(chunk)
            if progress:
                progress(name, done, total)
        if total and done < total:
            raise ConnectionError(f"the connection closed after {done} of {total} bytes")


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# A download still running writes at least once per read timeout (30 s) or fails; a partial
# file left alone this long belongs to a download that was killed.
STALE_PARTIAL_SECONDS = 10 * 60


def _remove_stale_partials(raw: Path, filenames: Iterable[str]) -> None:
    """Delete the temporaries (``.<file>.*.part`` and their unpacked ``.raw``) that killed
    downloads left behind. They never take a data set file's name, so they cannot be read by
    mistake; this keeps them from piling up, one set per killed download."""
    for filename in filenames:
        for suffix in (".part", ".raw"):
            remove_stale_files(raw, f".{glob.escape(filename)}.*{suffix}", STALE_PARTIAL_SECONDS)


def download_dataset(
    key: str,
    root: str | os.PathLike | None = None,
    *,
    progress: ProgressCallback | None = None,
    mirrors: Sequence[str] | None = None,
    timeout: float = 30.0,
    splits: Iterable[str] = ALL_SPLITS,
) -> Path:
    """Download the files of ``splits`` (by default all four) into ``ROOT/<folder>/raw``, verify
    their MD5, and unpack them.

    Each file lands under its final name only after its checksum matched, so an interrupted
    download leaves nothing half-written behind (a killed one leaves a temporary, which the
    next download removes).
    """
    info = dataset_info(key)
    root_path = resolve_data_root(root)
    raw = root_path / info.folder / "raw"
    try:
        raw.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=raw, prefix=".write-test-", delete=True)
        probe.close()
    except OSError as exc:
        raise DatasetFolderNotWritable(
            f"Cannot write the {info.title} data set into {raw}: {exc.strerror or exc}. Choose a "
            f"folder you can write to with --data-root DIR or {ENV_DATA_ROOT}=DIR."
        ) from None
    mirror_list = list(mirrors) if mirrors is not None else default_mirrors(info)
    splits = tuple(splits)
    wanted = set(split_file_names(splits))
    resources = [(name, md5) for name, md5 in download_resources(info) if name.removesuffix(".gz") in wanted]
    _remove_stale_partials(raw, [filename for filename, _ in resources])
    for filename, md5 in resources:
        final = raw / filename.removesuffix(".gz")
        if final.is_file():
            continue
        errors = []
        for mirror in mirror_list:
            url = mirror.rstrip("/") + "/" + filename
            fd, tmp_name = tempfile.mkstemp(dir=raw, prefix=f".{filename}.", suffix=".part")
            os.close(fd)
            tmp = Path(tmp_name)
            try:
                _fetch(url, tmp, filename, progress, timeout)
                got = _md5(tmp)
                if got != md5:
                    raise ValueError(f"checksum mismatch (MD5 {got}, expected {md5})")
                unpacked = tmp.with_suffix(".raw")
                with gzip.open(tmp, "rb") as src, open(unpacked, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                os.replace(unpacked, final)
                break
            except (OSError, ValueError, EOFError, ConnectionError, urllib.error.URLError) as exc:
                reason = getattr(exc, "reason", None) or exc
                errors.append(f"{url}: {reason}")
            finally:
                tmp.unlink(missing_ok=True)
                tmp.with_suffix(".raw").unlink(missing_ok=True)
        else:
            raise DatasetError(offline_message(info, root_path, reason="; ".join(errors) or "no mirror configured",
                                               splits=splits))
    return raw
