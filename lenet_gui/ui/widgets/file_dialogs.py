"""The save-file dialogs every export uses: they start in the folder last used for that kind of
file, add the suffix a user left out, and remember the folder."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from ..settings import Settings


def ask_save_path(parent: QWidget, settings: Settings, folder_setting: str, title: str, default_name: str,
                  filters: str, suffix: str) -> str | None:
    """A path to write, or None when the user cancelled. ``folder_setting`` names the
    :class:`Settings` attribute holding the last folder (``"exports_folder"``, …)."""
    folder = getattr(settings, folder_setting) or str(Path.home())
    path, _ = QFileDialog.getSaveFileName(parent, title, str(Path(folder) / default_name), filters)
    if not path:
        return None
    if Path(path).suffix.lower() != suffix.lower():
        path += suffix
    setattr(settings, folder_setting, str(Path(path).parent))
    return path


def ask_save_path_as(parent: QWidget, settings: Settings, folder_setting: str, title: str, default_stem: str,
                     formats: list[tuple[str, str]]) -> str | None:
    """:func:`ask_save_path` offering several formats: ``formats`` holds (label, suffix) pairs,
    the first one preselected. A name that ends in none of their suffixes gets the suffix of
    the format chosen in the dialog."""
    filters = [f"{label} (*{suffix})" for label, suffix in formats]
    folder = getattr(settings, folder_setting) or str(Path.home())
    path, chosen = QFileDialog.getSaveFileName(parent, title, str(Path(folder) / (default_stem + formats[0][1])),
                                               ";;".join(filters), filters[0])
    if not path:
        return None
    if Path(path).suffix.lower() not in {suffix.lower() for _, suffix in formats}:
        path += formats[filters.index(chosen)][1] if chosen in filters else formats[0][1]
    setattr(settings, folder_setting, str(Path(path).parent))
    return path
