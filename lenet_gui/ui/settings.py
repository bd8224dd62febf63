"""Everything the window remembers between runs: one typed home for every key and its default.

Every tab receives the window's :class:`Settings`; none makes its own ``QSettings``. Tests and
benchmarks pass a ``QSettings`` on a file of their own, wrapped with :meth:`Settings.wrap`.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QByteArray, QSettings

SCHEMA_VERSION = 1


class _Key:
    """A typed setting: ``settings.pen_width`` reads it (the default when absent or unreadable),
    ``settings.pen_width = 40`` writes it."""

    def __init__(self, key: str, default: Any, kind: type):
        self.key, self.default, self.kind = key, default, kind

    def __get__(self, owner: "Settings | None", cls=None):
        if owner is None:
            return self
        store = owner.store
        if self.kind is QByteArray:
            value = store.value(self.key)
            return value if isinstance(value, (QByteArray, bytes)) else self.default
        try:
            return store.value(self.key, self.default, self.kind)
        except (TypeError, ValueError):  # a hand-edited or foreign value
            return self.default

    def __set__(self, owner: "Settings", value) -> None:
        owner.store.setValue(self.key, value)


class Settings:
    window_geometry = _Key("window/geometry", None, QByteArray)
    window_tab = _Key("window/tab", 0, int)
    # A code of ui.i18n.LANGUAGES ("en", "zh_CN"); empty: follow the system's locale.
    language = _Key("window/language", "", str)
    theme = _Key("view/theme", "system", str)  # "system", "light" or "dark" (ui/theme.py)

    # The folders the file dialogs last used, per kind of file.
    checkpoints_folder = _Key("paths/checkpoints", "", str)
    images_folder = _Key("paths/images", "", str)
    exports_folder = _Key("paths/exports", "", str)

    # The folder chosen in a "data set missing" dialog (see core.data.candidate_roots).
    data_root = _Key("data/root", "", str)
    # The run history's folder chosen in the window; empty: the default (core.history.resolve_runs_dir).
    runs_folder = _Key("history/runs_folder", "", str)

    pen_width = _Key("classify/pen_width", 0, int)  # thousandths of the canvas side; 0: the canvas's default
    white_on_black = _Key("classify/white_on_black", True, bool)
    bundled_model = _Key("classify/bundled_model", "", str)  # the bundled model last chosen, by its key

    train_dataset = _Key("train/dataset", "", str)
    train_preset = _Key("train/preset", "", str)
    train_epochs = _Key("train/epochs", 0, int)
    train_batch_size = _Key("train/batch_size", 0, int)
    train_lr = _Key("train/lr", "", str)  # as typed, so that 1e-3 stays 1e-3
    train_optimizer = _Key("train/optimizer", "", str)
    train_seed = _Key("train/seed", 0, int)
    train_device = _Key("train/device", "", str)

    def __init__(self, store: QSettings | None = None):
        self.store = store if store is not None else QSettings()
        self._migrate()

    @classmethod
    def wrap(cls, settings: "Settings | QSettings | None") -> "Settings":
        return settings if isinstance(settings, Settings) else cls(settings)

    @property
    def has_train_recipe(self) -> bool:
        """Whether a recipe was saved (otherwise the preset's values stand)."""
        return self.store.contains(Settings.train_epochs.key)

    def sync(self) -> None:
        self.store.sync()

    def _migrate(self) -> None:
        # Version 1 is the first with a version; the keys it names are those earlier versions
        # wrote, so there is nothing to convert yet. Later versions convert here, oldest first.
        try:
            version = int(self.store.value("schema", 0))
        except (TypeError, ValueError):
            version = 0
        if version < SCHEMA_VERSION:
            self.store.setValue("schema", SCHEMA_VERSION)
