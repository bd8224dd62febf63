"""Checkpoints: a state dict plus plain metadata, written atomically, read with weights_only.

File layout (a dict saved with ``torch.save``)::

    {"format": "lenet-studio-checkpoint", "format_version": 1,
     "model_config": {...}, "state_dict": {...}, "metadata": {...}}

Only tensors and plain Python values are stored, so ``torch.load(weights_only=True)`` reads it
and a file that would run code when unpickled is refused instead of executed.
"""

from __future__ import annotations

import io
import os
import pickle
import platform
import re
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import torch

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


def _versions() -> dict:
    from .. import __version__

    return {"lenet_gui": __version__, "torch": torch.__version__, "python": platform.python_version()}


def _plain(value):
    """Metadata as plain Python values only (weights_only refuses anything else)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    # Exact built-in types: subclasses (torch.__version__ is a TorchVersion, numpy scalars are
    # float/int subclasses) would be pickled as their class, which weights_only then refuses.
    for plain_type in (bool, int, float, str):
        if isinstance(value, plain_type):
            return plain_type(value)
    if value is None:
        return None
    return str(value)


def save_checkpoint(path: str | os.PathLike, model: LeNet, metadata: dict | None = None,
                    state_dict: dict | None = None) -> Path:
    """Write atomically: a temporary file in the same folder, flushed to disk, then renamed over
    the target, so a crash at any moment leaves either the old file or the new one, whole."""
    path = Path(path)
    meta = dict(metadata or {})
    meta.setdefault("saved_at", time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    meta["versions"] = _versions()
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
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise CheckpointError(f"Cannot save to {path}: {exc.strerror or exc}.") from None
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, path)
    except BaseException as exc:
        try:
            os.unlink(tmp_name)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise CheckpointError(f"Cannot save to {path}: {exc.strerror or exc}.") from None
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass
    return path


def load_checkpoint(source: str | os.PathLike | bytes) -> LoadedModel:
    """Read and validate a checkpoint; every failure is a CheckpointError with a plain message."""
    path = None if isinstance(source, (bytes, bytearray)) else Path(source)
    name = str(path) if path else "The checkpoint"
    if path is not None:
        if not path.exists():
            raise CheckpointError(f"{path} does not exist.")
        if path.is_dir():
            raise CheckpointError(f"{path} is a folder, not a checkpoint file.")
    try:
        fileobj = io.BytesIO(source) if path is None else open(path, "rb")
    except OSError as exc:
        raise CheckpointError(f"Cannot read {name}: {exc.strerror or exc}.") from None
    try:
        with fileobj:
            payload = torch.load(fileobj, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        # weights_only raises this both for a forbidden object and for bytes that are no pickle.
        forbidden = re.search(r"Unsupported global: GLOBAL (\S+)", str(exc))
        if forbidden is None:
            raise CheckpointError(
                f"{name} is not a readable checkpoint: the file is damaged, truncated, or not a "
                "PyTorch file."
            ) from None
        raise CheckpointError(
            f"{name} was refused: it contains objects other than weights and plain values, which "
            f"could run code when loaded ({forbidden.group(1)[:200]}). Only load files from sources "
            "you trust; LeNet Studio never executes code from a checkpoint."
        ) from None
    except (RuntimeError, EOFError, ValueError, zipfile.BadZipFile, OSError, KeyError,
            AttributeError, TypeError, IndexError, UnicodeDecodeError) as exc:
        raise CheckpointError(
            f"{name} is not a readable checkpoint: the file is damaged, truncated, or not a "
            f"PyTorch file ({type(exc).__name__})."
        ) from None
    return _model_from_payload(payload, name, path)


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
    try:
        config = ModelConfig.from_dict(dict(payload.get("model_config") or {}))
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{name} describes a model this app cannot build: {exc}.") from None
    state = payload.get("state_dict")
    if not isinstance(state, dict):
        raise CheckpointError(f"{name} holds no weights.")
    model = LeNet(config)
    try:
        model.load_state_dict(state, strict=True)
    except (RuntimeError, TypeError, KeyError) as exc:
        detail = str(exc).strip().splitlines()
        raise CheckpointError(
            f"{name} holds weights of another architecture than LeNet ({detail[0][:160] if detail else exc})."
        ) from None
    if not all(torch.isfinite(t).all() for t in state.values() if t.is_floating_point()):
        raise CheckpointError(f"{name} holds weights that are not finite numbers (NaN or infinity).")
    model.eval()
    meta = payload.get("metadata") if isinstance(payload.get("metadata"), dict) else {}
    classes = meta.get("classes")
    if not (isinstance(classes, list) and len(classes) == config.num_classes):
        classes = [str(i) for i in range(config.num_classes)]
    dataset = meta.get("dataset") if isinstance(meta.get("dataset"), str) else None
    input_kind = meta.get("input_kind")
    if input_kind not in ("digit", "garment"):
        input_kind = "garment" if dataset == "fashion-mnist" else "digit"
    return LoadedModel(model=model, classes=[str(c) for c in classes], dataset=dataset,
                       input_kind=input_kind, metadata=meta, path=path)
