"""Checkpoints: a state dict plus plain metadata, written atomically, read with weights_only.

File layout (a dict saved with ``torch.save``)::

    {"format": "lenet-studio-checkpoint", "format_version": 1,
     "model_config": {...}, "state_dict": {...}, "metadata": {...}}

Only tensors and plain Python values are stored, so ``torch.load(weights_only=True)`` reads it
and a file that would run code when unpickled is refused instead of executed.
"""

from __future__ import annotations

import functools
import glob
import io
import os
import pickle
import platform
import re
import stat
import time
import warnings
import zipfile
from dataclasses import dataclass, field, fields
from pathlib import Path

import torch

from .calibration import Calibration
from .files import remove_stale_files, replace_atomically
from .model import LeNet, ModelConfig

FORMAT = "lenet-studio-checkpoint"
FORMAT_VERSION = 1


class CheckpointError(RuntimeError):
    """A checkpoint cannot be written or read; the message says why."""


@dataclass
class LoadedModel:
    model: LeNet  # in eval mode, on the CPU
    classes: list[str]
    dataset: str | None
    input_kind: str  # "digit" or "garment": which preprocessing real inputs need
    metadata: dict = field(default_factory=dict)
    path: Path | None = None

    @property
    def title(self) -> str:
        return self.metadata.get("title") or (self.path.name if self.path else "model")

    @functools.cached_property
    def calibration(self) -> Calibration:
        """The temperature and out-of-distribution detector stored in the metadata; for a model
        without them (older checkpoints, the classic and modern presets) temperature 1 and no
        detector. load_checkpoint refuses a damaged block; here one reads as no calibration."""
        try:
            return Calibration.from_metadata(self.metadata)
        except ValueError:
            return Calibration()


def software_versions() -> dict:
    """The versions a saved file records: this app's, torch's and Python's."""
    from .. import __version__

    return {"lenet_gui": __version__, "torch": torch.__version__, "python": platform.python_version()}


def _plain(value):
    """Metadata as plain Python values only (weights_only refuses anything else).

    Subclasses count as "anything else": ``torch.__version__`` is a ``TorchVersion`` (a str
    subclass) and ``numpy.float64`` a float subclass, and either makes the file unloadable."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None:
        return None
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # numpy / torch scalars
        value = value.item()
    for plain_type in (bool, int, float, str):
        if isinstance(value, plain_type):
            return plain_type(value)
    return str(value)


def save_checkpoint(path: str | os.PathLike, model: LeNet, metadata: dict | None = None,
                    state_dict: dict | None = None) -> Path:
    """Write atomically: a temporary file in the same folder, flushed to disk, then renamed over
    the target, so a crash at any moment leaves either the old file or the new one, whole."""
    path = Path(path)
    meta = dict(metadata or {})
    meta.setdefault("saved_at", time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    meta["versions"] = software_versions()
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model_config": model.config.to_dict(),
        "state_dict": {k: v.detach().cpu().clone() for k, v in (state_dict or model.state_dict()).items()},
        "metadata": _plain(meta),
    }
    folder = path.parent if str(path.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Replacing a file keeps the permissions its owner gave it.
        replace_atomically(path, lambda tmp: _save_payload(payload, tmp), keep_mode=True)
    except OSError as exc:
        raise CheckpointError(f"Cannot save to {path}: {exc.strerror or exc}.") from None
    except Exception as exc:  # torch's writer reports a full disk as a RuntimeError
        raise CheckpointError(f"Cannot save to {path}: {_short(exc)}.") from None
    _remove_stale_temporaries(folder, path.name)
    return path


# A save takes well under a second; a temporary file this old was left by a process killed
# mid-save (SIGKILL, power loss), not by a save still running in another process.
STALE_TEMPORARY_SECONDS = 60.0


def _save_payload(payload: dict, tmp: Path) -> None:
    with open(tmp, "wb") as f:
        torch.save(payload, f)


def _remove_stale_temporaries(folder: Path, name: str) -> None:
    """Delete ``.<name>.*.tmp`` files that killed saves left behind. They never replace the
    checkpoint (only a finished save renames its temporary), so loading ignores them; this only
    keeps them from piling up."""
    remove_stale_files(folder, f".{glob.escape(name)}.*.tmp", STALE_TEMPORARY_SECONDS)


def load_checkpoint(source: str | os.PathLike | bytes) -> LoadedModel:
    """Read and validate a checkpoint; every failure is a CheckpointError with a plain message."""
    path = None if isinstance(source, (bytes, bytearray)) else Path(source)
    name = str(path) if path else "The checkpoint"
    data = bytes(source) if path is None else _read_checkpoint_file(path, name)
    if not data:
        raise CheckpointError(f"{name} is empty (0 bytes): it is not a checkpoint.")
    if not (data[:4] == ZIP_MAGIC or data[:1] == PICKLE_PROTO):
        looks = next((what for magic, what in _OTHER_FORMATS if data.startswith(magic)), None)
        raise CheckpointError(
            f"{name} is not a readable checkpoint: the file is damaged, truncated, or not a "
            "PyTorch file" + (f" (it looks like {looks})" if looks else "") + "."
        )
    try:
        # Pickle-protocol chatter from torch is not for the user: the outcome is reported below.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            payload = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        # weights_only raises this both for a forbidden object and for bytes that are no pickle.
        forbidden = re.search(r"Unsupported global: GLOBAL (\S+)", str(exc))
        if forbidden is None:
            raise CheckpointError(
                f"{name} is not a readable checkpoint: the file is damaged, truncated, or not a "
                f"PyTorch file ({_unpickler_detail(str(exc))[:120]})."
            ) from None
        raise CheckpointError(
            f"{name} was refused: it contains objects other than weights and plain values, which "
            f"could run code when loaded ({forbidden.group(1)[:200]}). Only load files from sources "
            "you trust; LeNet Studio never executes code from a checkpoint."
        ) from None
    except (RuntimeError, EOFError, ValueError, zipfile.BadZipFile, OSError, KeyError,
            AttributeError, TypeError, IndexError, UnicodeDecodeError, MemoryError) as exc:
        raise CheckpointError(
            f"{name} is not a readable checkpoint: the file is damaged, truncated, or not a "
            f"PyTorch file ({type(exc).__name__})."
        ) from None
    return _model_from_payload(payload, name, path)


ZIP_MAGIC = b"PK\x03\x04"  # torch.save's format since PyTorch 1.6
PICKLE_PROTO = b"\x80"  # the legacy format and plain pickles
_OTHER_FORMATS = (
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"), (b"\x93NUMPY", "a NumPy array"), (b"\x89HDF", "an HDF5 (Keras) file"),
    (b"{", "a JSON text file"), (b"%PDF", "a PDF document"),
)
# LeNet Studio checkpoints are about 250 KB; reading a multi-gigabyte file someone dropped by
# mistake would only exhaust memory before being refused.
MAX_CHECKPOINT_BYTES = 64 * 1024 * 1024


def _unpickler_detail(message: str) -> str:
    """The one informative line of torch's multi-paragraph weights_only error."""
    match = re.search(r"WeightsUnpickler error:\s*([^\n]+)", message)
    line = match.group(1) if match else (message.strip().splitlines() or [""])[0]
    line = re.sub(r"\x1b\[[0-9;]*m", "", line)  # torch colours its advice with ANSI codes
    return line.split(". Please use")[0].strip()


def _read_checkpoint_file(path: Path, name: str) -> bytes:
    """The whole file, refusing folders, pipes (whose open() blocks forever), devices and files
    far too large for a LeNet before reading them."""
    try:
        if path.is_dir():
            raise CheckpointError(f"{path} is a folder, not a checkpoint file.")
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise CheckpointError(f"{path} does not exist.") from None
    except OSError as exc:
        raise CheckpointError(f"Cannot read {name}: {exc.strerror or exc}.") from None
    except ValueError:  # a NUL byte in the name: no file can have it
        raise CheckpointError(f"{str(path)!r} is not a valid file name.") from None
    try:
        with os.fdopen(fd, "rb") as f:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise CheckpointError(f"{name} is not a regular file (a pipe, device or socket), so it is not a checkpoint.")
            if info.st_size > MAX_CHECKPOINT_BYTES:
                raise CheckpointError(
                    f"{name} is {info.st_size // (1024 * 1024)} MB: far too large to be a LeNet "
                    "checkpoint (they are under 1 MB)."
                )
            data = f.read(MAX_CHECKPOINT_BYTES + 1)
    except OSError as exc:
        raise CheckpointError(f"Cannot read {name}: {exc.strerror or exc}.") from None
    if len(data) > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"{name} is far too large to be a LeNet checkpoint (they are under 1 MB).")
    return data


def _short(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:160] if lines else type(exc).__name__


def _a(type_name: str) -> str:
    return f"{'an' if type_name[:1] in 'aeiou' else 'a'} {type_name}"


def _check_setting_types(settings: dict) -> None:
    """ModelConfig checks values, not types: batch_norm="no" is a true string (a model with
    batch norm), num_classes="10" passes as 10 and then breaks nn.Linear."""
    for setting in fields(ModelConfig):
        if setting.name not in settings:
            continue
        value, expected = settings[setting.name], type(setting.default)
        if expected is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif expected is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = type(value) is expected
        if not ok:
            raise TypeError(f"{setting.name} should be {_a(expected.__name__)}, not {value!r}")


def _model_from_payload(payload, name: str, path: Path | None) -> LoadedModel:
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(
            f"{name} is a PyTorch file but not a LeNet Studio checkpoint (save models from "
            "LeNet Studio or `lenet-gui train --save`)."
        )
    version = payload.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise CheckpointError(f"{name} has an invalid format version ({version!r}).")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{name} was written by a newer LeNet Studio (checkpoint format {version}; this "
            f"version reads up to {FORMAT_VERSION}). Update LeNet Studio to open it."
        )
    settings = payload.get("model_config") or {}
    if not isinstance(settings, dict):
        raise CheckpointError(f"{name} describes a model this app cannot build: its model settings "
                              f"are {_a(type(settings).__name__)}, not named values.")
    try:
        _check_setting_types(settings)
        config = ModelConfig.from_dict(settings)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{name} describes a model this app cannot build: {exc}.") from None
    state = payload.get("state_dict")
    if not isinstance(state, dict):
        raise CheckpointError(f"{name} holds no weights.")
    not_weights = next((key for key, value in state.items() if not isinstance(value, torch.Tensor)), None)
    if not_weights is not None:
        raise CheckpointError(f"{name} holds something other than weights under {str(not_weights)[:80]!r} "
                              f"({_a(type(state[not_weights]).__name__)}).")
    try:
        # from_dict checks values, not types: num_classes="10" passes it and fails here.
        model = LeNet(config)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{name} describes a model this app cannot build: {_short(exc)}.") from None
    try:
        model.load_state_dict(state, strict=True)
    except (RuntimeError, TypeError, KeyError, AttributeError) as exc:
        # torch's first line is only "Error(s) in loading state_dict for LeNet:"; the next says what.
        lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
        detail = lines[1] if len(lines) > 1 else (lines[0] if lines else type(exc).__name__)
        raise CheckpointError(
            f"{name} holds weights of another architecture than this LeNet ({detail[:200]})."
        ) from None
    if not all(torch.isfinite(t).all() for t in state.values() if t.is_floating_point()):
        raise CheckpointError(f"{name} holds weights that are not finite numbers (NaN or infinity).")
    model.eval()
    meta = payload.get("metadata") if isinstance(payload.get("metadata"), dict) else {}
    classes = meta.get("classes")
    if not (isinstance(classes, list) and len(classes) == config.num_classes):
        classes = [str(i) for i in range(config.num_classes)]
    try:
        Calibration.from_metadata(meta)
    except ValueError as exc:
        raise CheckpointError(f"{name} holds calibration settings this app cannot use: {exc}.") from None
    dataset = meta.get("dataset") if isinstance(meta.get("dataset"), str) else None
    input_kind = meta.get("input_kind")
    if input_kind not in ("digit", "garment"):
        input_kind = "garment" if dataset == "fashion-mnist" else "digit"
    return LoadedModel(model=model, classes=[str(c) for c in classes], dataset=dataset,
                       input_kind=input_kind, metadata=meta, path=path)
