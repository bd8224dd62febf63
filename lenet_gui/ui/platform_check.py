"""Before the window opens on Linux: can Qt's X11 platform plugin load?

Without its system libraries (libxcb-cursor0 is missing on several distributions by default)
Qt aborts with "no Qt platform plugin could be initialized", which names no package. This
looks at the plugin's shared libraries first (``ldd``), before any QApplication exists, and
says which packages to install.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

# soname -> (Debian/Ubuntu package, Fedora/RHEL package)
PACKAGES: dict[str, tuple[str, str]] = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-xinerama.so.0": ("libxcb-xinerama0", "libxcb"),
    "libxcb-xinput.so.0": ("libxcb-xinput0", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libSM.so.6": ("libsm6", "libSM"),
    "libICE.so.6": ("libice6", "libICE"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libOpenGL.so.0": ("libopengl0", "libglvnd-opengl"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
}

Ldd = Callable[[Path], str]


def xcb_plugin() -> Path | None:
    """PySide6's X11 platform plugin, found without importing QtGui."""
    try:
        import PySide6
    except ImportError:
        return None
    plugin = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return plugin if plugin.is_file() else None


def run_ldd(path: Path) -> str:
    ldd = shutil.which("ldd")
    if ldd is None:
        return ""
    try:
        return subprocess.run([ldd, str(path)], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def missing_libraries(plugin: Path, ldd: Ldd = run_ldd) -> list[str]:
    """The shared libraries ``plugin`` needs that the system does not have, in ldd's order."""
    missing: list[str] = []
    for match in re.finditer(r"^\s*(\S+)\s+=>\s+not found", ldd(plugin), re.MULTILINE):
        if match.group(1) not in missing:
            missing.append(match.group(1))
    return missing


def uses_xcb(environ: os._Environ | dict) -> bool:
    """Whether Qt will try its X11 plugin: asked for, or left to choose outside a Wayland session."""
    asked = environ.get("QT_QPA_PLATFORM", "")
    if asked:
        return asked.split(";")[0].split(":")[0] == "xcb"  # the first choice, without its options
    return not environ.get("WAYLAND_DISPLAY")


def advice(missing: list[str]) -> str:
    """One paragraph: what is missing and the command that installs it."""
    apt = sorted({PACKAGES[name][0] for name in missing if name in PACKAGES})
    dnf = sorted({PACKAGES[name][1] for name in missing if name in PACKAGES})
    text = (f"LeNet Studio cannot open its window: Qt's X11 platform plugin needs system libraries "
            f"that are not installed ({', '.join(missing)}).")
    if apt:
        text += (f" Install them with `sudo apt install {' '.join(apt)}` (Debian, Ubuntu) or "
                 f"`sudo dnf install {' '.join(dnf)}` (Fedora, RHEL), then start lenet-gui again.")
    else:
        text += " Install the packages that provide them with your distribution's package manager."
    text += " The command-line tools (lenet-gui train, predict, evaluate, export) work without them."
    return text


def platform_problem(environ=None, platform: str | None = None, plugin: Path | None = None,
                     ldd: Ldd | None = None) -> str | None:
    """The paragraph to print when the window cannot open on this system; None when it can
    (or when there is no way to tell). Each argument defaults to this process's own."""
    environ = os.environ if environ is None else environ
    platform = platform or sys.platform
    if not platform.startswith("linux") or not uses_xcb(environ):
        return None
    plugin = plugin or xcb_plugin()
    if plugin is None:
        return None
    missing = missing_libraries(plugin, ldd or run_ldd)
    return advice(missing) if missing else None
