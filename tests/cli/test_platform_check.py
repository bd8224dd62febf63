"""`lenet-gui` on a Linux system without the X11 libraries Qt's platform plugin needs: one clear
paragraph naming the packages, instead of Qt's abort."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lenet_gui import __main__ as cli
from lenet_gui.ui import app, platform_check

LDD_WITHOUT_CURSOR = """\
\tlinux-vdso.so.1 (0x00007ffc)
\tlibQt6XcbQpa.so.6 => /x/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f)
\tlibxcb-cursor.so.0 => not found
\tlibxcb-icccm.so.4 => not found
\tlibxkbcommon-x11.so.0 => not found
\tlibxcb-cursor.so.0 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)
"""


def _fake_ldd(output: str):
    calls = []

    def ldd(path: Path) -> str:
        calls.append(path)
        return output

    return ldd, calls


def test_the_paragraph_names_each_missing_library_and_the_commands_that_install_them():
    ldd, _ = _fake_ldd(LDD_WITHOUT_CURSOR)
    text = platform_check.platform_problem(environ={"DISPLAY": ":0"}, platform="linux",
                                           plugin=Path("/x/libqxcb.so"), ldd=ldd)
    assert text is not None and "\n" not in text  # one paragraph
    for package in ("libxcb-cursor0", "libxcb-icccm4", "libxkbcommon-x11-0"):
        assert package in text
    assert "sudo apt install libxcb-cursor0 libxcb-icccm4 libxkbcommon-x11-0" in text
    assert "sudo dnf install" in text and "xcb-util-cursor" in text and "xcb-util-wm" in text
    assert text.count("libxcb-cursor.so.0") == 1


@pytest.mark.parametrize("environ, platform", [
    ({"QT_QPA_PLATFORM": "offscreen"}, "linux"),
    ({"WAYLAND_DISPLAY": "wayland-0"}, "linux"),
    ({"DISPLAY": ":0"}, "darwin"),
    ({"DISPLAY": ":0"}, "win32"),
])
def test_nothing_is_probed_where_the_x11_plugin_is_not_used(environ, platform):
    ldd, calls = _fake_ldd(LDD_WITHOUT_CURSOR)
    assert platform_check.platform_problem(environ=environ, platform=platform, plugin=Path("/x"), ldd=ldd) is None
    assert calls == []


def test_a_complete_system_passes():
    ldd, _ = _fake_ldd("\tlibxcb-cursor.so.0 => /usr/lib/libxcb-cursor.so.0 (0x1)\n")
    assert platform_check.platform_problem(environ={"QT_QPA_PLATFORM": "xcb"}, platform="linux",
                                           plugin=Path("/x"), ldd=ldd) is None


def test_lenet_gui_prints_the_paragraph_and_exits_before_qt_starts(monkeypatch, capsys):
    ldd, _ = _fake_ldd(LDD_WITHOUT_CURSOR)
    monkeypatch.setattr(platform_check, "run_ldd", ldd)
    monkeypatch.setattr(platform_check, "xcb_plugin", lambda: Path("/x/libqxcb.so"))
    monkeypatch.setattr(platform_check.sys, "platform", "linux")
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")

    def no_qt(*_args, **_kwargs):
        raise AssertionError("the QApplication was created despite the missing libraries")

    monkeypatch.setattr(app, "make_application", no_qt)
    assert cli.main([]) == 1
    err = capsys.readouterr().err
    assert "libxcb-cursor0" in err and "sudo apt install" in err
    assert "could not be initialized" not in err


def test_the_probe_reads_this_systems_real_plugin():
    """On this machine: the real ldd on PySide6's real plugin, in a fresh interpreter (no Qt
    loaded), agrees with ldd run directly."""
    plugin = platform_check.xcb_plugin()
    if plugin is None or sys.platform != "linux":
        pytest.skip("no X11 platform plugin here")
    direct = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True).stdout
    expected = sorted({line.split()[0] for line in direct.splitlines() if "not found" in line})
    assert sorted(platform_check.missing_libraries(plugin)) == expected
