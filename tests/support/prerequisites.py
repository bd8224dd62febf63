"""What some tests need from outside the code under test, and the one place that decides what
happens when it is missing.

A missing prerequisite (the real data sets, the bundled models) skips the test with a message
that says what was looked for and how to provide it. When the environment variable ``CI`` is
set (CI services set ``CI=true``), it fails the test instead: a CI run that skipped every test
needing the real data would be green while checking far less than it claims.

Tests use these through the fixtures of ``conftest.py`` (``data_root``, ``mnist``,
``fashion_mnist``, ``bundled_models``) or call them directly from a fixture of their own.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

ENV_DATA_ROOT = "LENET_DATA_ROOT"
HOW_TO_PROVIDE_DATA = (
    f"Set {ENV_DATA_ROOT} to a folder holding MNIST/raw/ and FashionMNIST/raw/ with the four IDX "
    "files each (torchvision's layout), for example "
    f"{ENV_DATA_ROOT}=/path/to/datasets python -m pytest"
)


def ci_is_set() -> bool:
    """True under CI: ``CI`` set to anything but empty, 0, false or no."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing(what: str, how_to_provide: str, *, module_level: bool = False) -> NoReturn:
    """Skip the calling test (or, with ``module_level``, the whole test module being imported)
    because ``what`` is missing, or fail it when ``CI`` is set."""
    message = f"{what.rstrip('.')}. {how_to_provide.rstrip('.')}."
    if ci_is_set():
        pytest.fail(f"CI is set, so a missing prerequisite fails the run instead of skipping: {message}",
                    pytrace=False)
    pytest.skip(message, allow_module_level=module_level)


def module(name: str):
    """``import name`` for a test module's top level, like ``pytest.importorskip`` but failing
    under CI: the test extra of pyproject.toml installs everything the tests import."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError as exc:
        missing(f"This test module needs {name}, which cannot be imported ({exc})",
                "Install the test extra: pip install -e '.[test]'", module_level=True)


def real_data_root(holding: str | None = None) -> Path:
    """The folder ``$LENET_DATA_ROOT`` names (and, with ``holding``, that holds that data set's
    four files); skips, or fails under CI, otherwise."""
    value = os.environ.get(ENV_DATA_ROOT, "")
    if not value:
        missing(f"This test needs the real data sets and {ENV_DATA_ROOT} is not set", HOW_TO_PROVIDE_DATA)
    root = Path(value).expanduser()
    if not root.is_dir():
        missing(f"This test needs the real data sets and {ENV_DATA_ROOT}={value} is not a folder",
                HOW_TO_PROVIDE_DATA)
    if holding is not None:
        from lenet_gui.core.data import dataset_info, is_available

        if not is_available(holding, root):
            info = dataset_info(holding)
            missing(f"This test needs the real {info.title} and {root / info.folder / 'raw'} "
                    f"({ENV_DATA_ROOT}={value}) does not hold its four IDX files", HOW_TO_PROVIDE_DATA)
    return root


def real_dataset(key: str):
    """The real data set ``key`` ("mnist" or "fashion-mnist") read from ``$LENET_DATA_ROOT``."""
    from lenet_gui.core.data import DatasetError, dataset_info, load_dataset

    root = real_data_root(holding=key)
    try:
        return load_dataset(key, root, download=False)
    except DatasetError as exc:
        info = dataset_info(key)
        missing(f"This test needs the real {info.title}; the copy under {root} "
                f"({ENV_DATA_ROOT}) cannot be read: {exc}", HOW_TO_PROVIDE_DATA)


def bundled_models() -> dict[str, Path]:
    """The checkpoints this checkout ships; skips (or fails under CI) when any is absent."""
    from lenet_gui.core.resources import BUNDLED_MODELS

    absent = [str(path) for path in BUNDLED_MODELS.values() if not path.is_file()]
    if absent:
        missing(f"This test needs the bundled models and this checkout lacks {', '.join(absent)}",
                "They are part of the repository: restore them with `git checkout -- checkpoints/`")
    return dict(BUNDLED_MODELS)
