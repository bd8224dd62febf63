"""`lenet-gui --install-desktop-entry` / `--uninstall-desktop-entry`: a launcher in the user's
XDG data folder, in the freedesktop.org Desktop Entry format."""

from __future__ import annotations

import configparser
import sys
from pathlib import Path

import pytest

from lenet_gui.__main__ import main
from lenet_gui.core import desktop_entry
from lenet_gui.core.resources import ICON

pytestmark = pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="desktop entries are for Linux")


def _read_entry(path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"))
    return dict(parser["Desktop Entry"])


def test_install_writes_entry_and_icon_under_xdg_data_home_and_says_so(tmp_path, monkeypatch, capsys):
    home = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    assert main(["--install-desktop-entry"]) == 0
    entry = home / "applications" / "lenet-studio.desktop"
    icon = home / "icons" / "hicolor" / "256x256" / "apps" / "lenet-studio.png"
    assert capsys.readouterr().out.splitlines() == [f"wrote {entry}", f"wrote {icon}"]
    assert icon.read_bytes() == ICON.read_bytes()
    fields = _read_entry(entry)
    assert fields["Type"] == "Application" and fields["Name"] == "LeNet Studio"
    assert fields["Icon"] == "lenet-studio" and fields["Terminal"] == "false"
    assert fields["Categories"].endswith(";")
    # Installing again replaces, uninstalling removes both and says so.
    assert main(["--install-desktop-entry"]) == 0
    capsys.readouterr()
    assert main(["--uninstall-desktop-entry"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"removed {entry}", f"removed {icon}"]
    assert not entry.exists() and not icon.exists()
    assert main(["--uninstall-desktop-entry"]) == 0
    assert capsys.readouterr().out.strip() == "no desktop entry to remove"


@pytest.mark.parametrize("value", ["", "relative/data"])
def test_without_an_absolute_xdg_data_home_the_default_is_local_share(tmp_path, monkeypatch, value):
    # The XDG Base Directory spec: unset, empty or relative values are ignored.
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", value)
    assert desktop_entry.data_home() == tmp_path / ".local" / "share"


def test_the_launcher_is_the_program_that_wrote_it(tmp_path):
    desktop_entry.install_desktop_entry(tmp_path)
    exec_line = _read_entry(tmp_path / "applications" / "lenet-studio.desktop")["Exec"]
    program = exec_line.split(" ")[0].strip('"')
    # An absolute path: a desktop session's PATH often lacks pipx's ~/.local/bin.
    assert Path(program).is_absolute() and Path(program).is_file(), exec_line


@pytest.mark.parametrize("command, line", [
    (["/usr/bin/lenet-studio"], "Exec=/usr/bin/lenet-studio"),
    # The spec's quoting: reserved characters put the argument in double quotes, where $ takes a
    # backslash, which the string escaping doubles; a literal % is doubled.
    (["/home/ann lee/bin/lenet-studio"], 'Exec="/home/ann lee/bin/lenet-studio"'),
    (["/opt/$app/python", "-m", "lenet_gui"], 'Exec="/opt/\\\\$app/python" -m lenet_gui'),
    (["/opt/100%/lenet-studio"], "Exec=/opt/100%%/lenet-studio"),
])
def test_exec_quoting_follows_the_desktop_entry_spec(tmp_path, command, line):
    desktop_entry.install_desktop_entry(tmp_path, command=command)
    lines = (tmp_path / "applications" / "lenet-studio.desktop").read_text(encoding="utf-8").splitlines()
    assert line in lines


def test_an_unwritable_data_folder_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker))
    assert main(["--install-desktop-entry"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("lenet-gui: error: cannot write") and err.count("\n") == 1


def test_the_entry_passes_desktop_file_validate(tmp_path):
    # freedesktop.org's own checker (Debian's desktop-file-utils), where it is installed.
    import shutil
    import subprocess

    validate = shutil.which("desktop-file-validate")
    if validate is None:
        pytest.skip("desktop-file-validate is not installed (desktop-file-utils)")
    desktop_entry.install_desktop_entry(tmp_path, command=["/opt/my $app/python", "-m", "lenet_gui"])
    result = subprocess.run([validate, str(tmp_path / "applications" / "lenet-studio.desktop")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr
