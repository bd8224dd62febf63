"""The save-file dialog every export uses: it starts in the folder last used for that kind of
file, adds the suffix a user left out, and remembers the folder."""

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
