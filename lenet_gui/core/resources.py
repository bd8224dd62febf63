"""The bundled files: pretrained checkpoints, the icon, the sample inputs and the translations.

They are package data (see :mod:`lenet_gui._bundled`), found with :mod:`importlib.resources`
wherever the package is installed, so nothing depends on where a source checkout lies. The
names below are real paths on disk: for a package installed as files (what pip and pipx do)
they are the files themselves; for one imported from an archive, copies that live until the
process exits.
"""

from __future__ import annotations

import atexit
import contextlib
from importlib.resources import as_file, files
from importlib.resources.abc import Traversable
from pathlib import Path

_CHECKPOINTS_PACKAGE = "lenet_gui._bundled.checkpoints"
_ASSETS_PACKAGE = "lenet_gui._bundled.assets"
_SAMPLES_PACKAGE = "lenet_gui._bundled.assets.samples"
_TRANSLATIONS_PACKAGE = "lenet_gui.translations"

SAMPLE_SUFFIXES = (".png", ".jpg")

_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


def _on_disk(resource: Traversable) -> Path:
    return _extracted.enter_context(as_file(resource))


def bundled_file(package: str, name: str) -> Path:
    """``name`` of a bundled package as a path on disk (which may not exist: callers check)."""
    return _on_disk(files(package).joinpath(name))


ICON = bundled_file(_ASSETS_PACKAGE, "icon.png")

BUNDLED_MODELS = {
    "mnist": bundled_file(_CHECKPOINTS_PACKAGE, "lenet-mnist.pt"),
    "fashion-mnist": bundled_file(_CHECKPOINTS_PACKAGE, "lenet-fashion-mnist.pt"),
}


def model_path(name_or_path: str) -> Path:
    """``mnist``, ``fashion-mnist`` (the bundled models) or a path to a checkpoint."""
    return BUNDLED_MODELS.get(name_or_path, Path(name_or_path).expanduser())


def sample_paths() -> list[Path]:
    """The sample inputs of the Classify tab: PNGs first, then JPEGs, each in name order."""
    entries = [entry for entry in files(_SAMPLES_PACKAGE).iterdir() if entry.is_file()]

    def order(entry: Traversable):
        suffix = Path(entry.name).suffix.lower()
        return SAMPLE_SUFFIXES.index(suffix), entry.name

    chosen = sorted((e for e in entries if Path(e.name).suffix.lower() in SAMPLE_SUFFIXES), key=order)
    return [_on_disk(entry) for entry in chosen]


def sample_path(name: str) -> Path:
    """One sample input by its file name (``digit-7-chalk.png``)."""
    return bundled_file(_SAMPLES_PACKAGE, name)


def translation_path(name: str) -> Path | None:
    """The compiled translation ``name`` (``lenet_gui_zh_CN``: its ``.qm``), or None when the
    package has none by that name."""
    try:
        path = bundled_file(_TRANSLATIONS_PACKAGE, f"{name}.qm")
    except ModuleNotFoundError:  # an installed copy without any translation has no such folder
        return None
    return path if path.is_file() else None
