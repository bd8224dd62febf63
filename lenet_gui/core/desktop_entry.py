"""A launcher for Linux desktops: a freedesktop.org desktop entry and its icon, per user.

``lenet-gui --install-desktop-entry`` writes them into the user's XDG data folder, where menus,
docks and launchers look::

    $XDG_DATA_HOME/applications/lenet-studio.desktop
    $XDG_DATA_HOME/icons/hicolor/256x256/apps/lenet-studio.png

(``$XDG_DATA_HOME`` defaults to ``~/.local/share``.) The entry starts the program that wrote it,
by its absolute path, so it works whether or not that program's folder is on the desktop
session's PATH (``pipx`` puts its links in ``~/.local/bin``, which many sessions lack).
"""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from pathlib import Path

from .resources import ICON

APP_ID = "lenet-studio"  # the desktop entry's file name, the icon's name, the window's app id
GUI_SCRIPT = "lenet-studio"  # pyproject.toml's [project.gui-scripts]
ICON_SIZE = 256  # assets/icon.png


class DesktopEntryError(RuntimeError):
    """The entry cannot be written or removed; the message says why."""


def data_home(environ=None) -> Path:
    """``$XDG_DATA_HOME``, or ``~/.local/share`` when it is unset, empty or relative (the spec
    says to ignore a relative one)."""
    environ = os.environ if environ is None else environ
    value = environ.get("XDG_DATA_HOME", "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / ".local" / "share"


def entry_path(home: Path) -> Path:
    return home / "applications" / f"{APP_ID}.desktop"


def icon_path(home: Path) -> Path:
    return home / "icons" / "hicolor" / f"{ICON_SIZE}x{ICON_SIZE}" / "apps" / f"{APP_ID}.png"


def launcher_command() -> list[str]:
    """How the entry starts the app: the GUI script installed beside this interpreter, else the
    one on PATH, else this interpreter running the package."""
    suffix = ".exe" if sys.platform == "win32" else ""
    beside = Path(sysconfig.get_path("scripts")) / f"{GUI_SCRIPT}{suffix}"
    if beside.is_file():
        return [str(beside)]
    found = shutil.which(GUI_SCRIPT)
    if found:
        return [str(Path(found).resolve())]
    return [sys.executable, "-m", "lenet_gui"]


def _exec_argument(arg: str) -> str:
    # The Desktop Entry Specification's Exec quoting: an argument with a reserved character goes
    # in double quotes, where ", `, $ and \ take a backslash; the value as a whole is then
    # escaped as a string (\ doubled again); a literal % is written %%.
    reserved = set(" \t\n\"'\\><~|&;$*?#()`")
    arg = arg.replace("%", "%%")
    if any(ch in reserved for ch in arg):
        quoted = "".join("\\" + ch if ch in '"`$\\' else ch for ch in arg)
        arg = f'"{quoted}"'
    return arg.replace("\\", "\\\\")


def desktop_entry_text(command: list[str]) -> str:
    exec_line = " ".join(_exec_argument(arg) for arg in command)
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.4",
        "Name=LeNet Studio",
        "GenericName=Neural network lab",
        "GenericName[zh_CN]=神经网络实验室",
        "Comment=Train LeNet on MNIST and Fashion-MNIST, classify your own drawings, look inside the network",
        "Comment[zh_CN]=在 MNIST 和 Fashion-MNIST 上训练 LeNet，识别你自己的手写数字，看清网络的每一层",
        f"Exec={exec_line}",
        f"Icon={APP_ID}",
        "Terminal=false",
        "Categories=Education;ArtificialIntelligence;",
        "Keywords=LeNet;MNIST;CNN;neural network;deep learning;PyTorch;",
        "",
    ])


def install_desktop_entry(home: Path | None = None, command: list[str] | None = None) -> list[Path]:
    """Write the entry and its icon (replacing earlier ones); returns the files written.
    Raises DesktopEntryError."""
    home = data_home() if home is None else home
    if not ICON.is_file():
        raise DesktopEntryError(f"the bundled icon is missing ({ICON})")
    entry, icon = entry_path(home), icon_path(home)
    try:
        icon.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ICON, icon)
        entry.parent.mkdir(parents=True, exist_ok=True)
        entry.write_text(desktop_entry_text(command or launcher_command()), encoding="utf-8")
    except OSError as exc:
        raise DesktopEntryError(f"cannot write {exc.filename or home}: {exc.strerror or exc}") from None
    return [entry, icon]


def uninstall_desktop_entry(home: Path | None = None) -> list[Path]:
    """Remove the entry and the icon; returns the files that were there and are now gone.
    Raises DesktopEntryError."""
    home = data_home() if home is None else home
    removed = []
    for path in (entry_path(home), icon_path(home)):
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise DesktopEntryError(f"cannot remove {path}: {exc.strerror or exc}") from None
        removed.append(path)
    return removed
