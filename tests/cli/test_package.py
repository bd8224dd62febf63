"""The wheel alone is the whole app: built from this checkout, installed into an empty folder and
run from an unrelated one, with no source tree on the path, it classifies a bundled sample and
opens its window with both bundled models.

The installed copy runs in a fresh interpreter whose path is that folder, then this virtual
environment's site-packages for the dependencies (torch, PySide6, ...), nothing else: ``-S``
leaves out the site module (and with it the .pth files, where an editable install of the
checkout hooks in), ``-P`` the working folder. Each run asserts that it used the installed copy.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT = 600  # hang guards only
RUN_TIMEOUT = 300

pytestmark = pytest.mark.slow

# What a clone holds that a build never needs (and the build's own leftovers).
NOT_COPIED = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__",
                                    ".pytest_cache", ".hypothesis", "out", "*.shot.png")
TRANSLATION = "lenet_gui_xx"
BUNDLED = {
    "lenet_gui/_bundled/checkpoints/lenet-mnist.pt": "checkpoints/lenet-mnist.pt",
    "lenet_gui/_bundled/checkpoints/lenet-fashion-mnist.pt": "checkpoints/lenet-fashion-mnist.pt",
    "lenet_gui/_bundled/assets/icon.png": "assets/icon.png",
}


def _pip(*args, cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "pip", *map(str, args)], cwd=cwd, capture_output=True,
                            text=True, timeout=BUILD_TIMEOUT)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A copy of this checkout: building writes build/ and *.egg-info beside the sources, and
    leftovers from an earlier build could slip into the wheel."""
    copy = tmp_path_factory.mktemp("source") / "lenet-studio"
    shutil.copytree(REPO, copy, ignore=NOT_COPIED, symlinks=True)
    # A compiled translation, as the translation work will add them: it must ship too.
    (copy / "lenet_gui" / "translations" / f"{TRANSLATION}.qm").write_bytes(b"\x3c\xb8\x64\x18 stand-in")
    return copy


@pytest.fixture(scope="module")
def wheel(source, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _pip("wheel", ".", "--no-deps", "--no-build-isolation", "-w", out, cwd=source)
    (built,) = out.glob("lenet_gui-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("target")
    _pip("install", "--no-deps", "--no-index", "--target", target, wheel, cwd=target)
    return target


def _site_packages() -> list[str]:
    # This environment's own, for the dependencies: never the checkout, never the working folder.
    return [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]


def run_installed(target: Path, args: list[str], cwd: Path, extra_env: dict | None = None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = os.pathsep.join([str(target), *_site_packages()])
    env["QT_QPA_PLATFORM"] = "offscreen"
    env.update(extra_env or {})
    return subprocess.run([sys.executable, "-S", "-P", "-X", "faulthandler", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=RUN_TIMEOUT)


@pytest.fixture
def elsewhere(tmp_path) -> Path:
    folder = tmp_path / "unrelated"
    folder.mkdir()
    return folder


def test_the_wheel_holds_every_package_and_the_bundled_files(wheel, source):
    names = set(zipfile.ZipFile(wheel).namelist())
    for inside, original in BUNDLED.items():
        assert inside in names, f"{inside} is missing from the wheel"
        assert zipfile.ZipFile(wheel).read(inside) == (REPO / original).read_bytes()
    samples = sorted(p.name for p in (REPO / "assets" / "samples").iterdir())
    assert sorted(n.rsplit("/", 1)[1] for n in names if n.startswith("lenet_gui/_bundled/assets/samples/")) == samples
    assert f"lenet_gui/translations/{TRANSLATION}.qm" in names
    for compiled in (REPO / "lenet_gui" / "translations").glob("*.qm"):  # English and Chinese
        assert f"lenet_gui/translations/{compiled.name}" in names
    # A package added to the source tree but not to pyproject.toml's list would be left out.
    modules = {str(p.relative_to(source)).replace(os.sep, "/") for p in (source / "lenet_gui").rglob("*.py")}
    assert modules - names == set()
    entry_points = next(zipfile.ZipFile(wheel).read(n).decode() for n in names if n.endswith("entry_points.txt"))
    assert re.search(r"\[console_scripts\]\s+lenet-gui = lenet_gui.__main__:main", entry_points)
    assert re.search(r"\[gui_scripts\]\s+lenet-studio = lenet_gui.__main__:main", entry_points)


def test_the_sdist_carries_the_bundled_files_and_builds_a_whole_wheel(source, tmp_path):
    out = tmp_path / "sdist"
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from setuptools import build_meta as b; print(b.build_sdist(sys.argv[1]))", out],
        cwd=source, capture_output=True, text=True, timeout=BUILD_TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    (sdist,) = out.glob("lenet_gui-*.tar.gz")
    members = {m.split("/", 1)[1] for m in tarfile.open(sdist).getnames() if "/" in m}
    assert set(BUNDLED.values()) <= members
    _pip("wheel", sdist, "--no-deps", "--no-build-isolation", "-w", tmp_path / "from-sdist", cwd=tmp_path)
    (built,) = (tmp_path / "from-sdist").glob("*.whl")
    assert set(BUNDLED) <= set(zipfile.ZipFile(built).namelist())


def test_installed_copy_classifies_the_bundled_digits(installed, elsewhere):
    samples = sorted((installed / "lenet_gui" / "_bundled" / "assets" / "samples").glob("digit-*"))
    assert len(samples) >= 6
    result = run_installed(installed, ["-m", "lenet_gui", "predict", "--json", "--model", "mnist", *map(str, samples)],
                           cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    for path, record in zip(samples, records):
        digit = re.match(r"digit-(\d)-", path.name).group(1)
        assert record["label"] == digit, (path.name, record)


def test_installed_copy_opens_its_window_with_both_bundled_models(installed, elsewhere, tmp_path):
    # The window as lenet-gui opens it (run_app: its settings, its event loop, its way out),
    # looked at from inside the event loop.
    script = r"""
import json, sys, traceback
import lenet_gui
from lenet_gui.core import resources
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QComboBox
from lenet_gui.ui.app import make_application, run_app

app = make_application()
report = {}

def main_window():
    module = sys.modules.get("lenet_gui.ui.main_window")
    return next((w for w in app.topLevelWidgets() if module and isinstance(w, getattr(module, "MainWindow", ())) and w.isVisible()), None)

def look():
    # run_app's event loop starts under the start-up screen, before the main window exists.
    window = main_window()
    if window is None:
        QTimer.singleShot(20, look)
        return
    try:
        combo = window.findChild(QComboBox, "classifyModelCombo")
        tab = window.classify_tab
        seen = {}
        for index, (title, _) in enumerate(window.session.model_entries()):
            assert tab.model_picker.choose(index), title
            model = window.session.current_model
            sample = next(p for p in resources.sample_paths() if p.name.startswith(
                "digit-7" if model.input_kind == "digit" else "garment-trouser"))
            assert tab.load_image(str(sample)), tab.error_text()
            seen[title] = {"path": str(model.path), "sample": str(sample), "label": tab.last_prediction.label}
        report.update({
            "package": lenet_gui.__file__,
            "icon": str(resources.ICON), "icon_exists": resources.ICON.is_file(),
            "combo": [combo.itemText(i) for i in range(combo.count())],
            "samples": len(tab.sample_buttons),
            "models": seen,
            "window_icon": not app.windowIcon().isNull(),
            "translation": str(resources.translation_path("lenet_gui_xx")),
        })
    except Exception:
        report["error"] = traceback.format_exc()
    finally:
        app.quit()

QTimer.singleShot(0, look)
status = run_app()
print(json.dumps(report), flush=True)
sys.exit(status)
"""
    result = run_installed(installed, ["-c", script], cwd=elsewhere,
                           extra_env={"XDG_CONFIG_HOME": str(tmp_path / "config")})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert "error" not in report, report["error"]
    assert Path(report["package"]).is_relative_to(installed), report["package"]
    assert report["icon_exists"] and Path(report["icon"]).is_relative_to(installed) and report["window_icon"]
    assert report["combo"][:2] == ["Bundled: MNIST digits", "Bundled: Fashion-MNIST garments"]
    assert report["samples"] == len(list((REPO / "assets" / "samples").iterdir()))
    labels = {title: info["label"] for title, info in report["models"].items()}
    assert labels == {"Bundled: MNIST digits": "7", "Bundled: Fashion-MNIST garments": "Trouser"}
    assert Path(report["translation"]) == installed / "lenet_gui" / "translations" / f"{TRANSLATION}.qm"
    for info in report["models"].values():
        assert Path(info["path"]).is_relative_to(installed) and Path(info["sample"]).is_relative_to(installed)


def test_installed_scripts_report_the_wheels_version_and_write_a_desktop_entry(installed, wheel, elsewhere, tmp_path):
    version = re.match(r"lenet_gui-([^-]+)-", wheel.name).group(1)
    result = run_installed(installed, ["-m", "lenet_gui", "--version"], cwd=elsewhere)
    assert (result.returncode, result.stdout.strip()) == (0, f"LeNet Studio {version}")
    data_home = tmp_path / "data home"
    result = run_installed(installed, ["-m", "lenet_gui", "--install-desktop-entry"], cwd=elsewhere,
                           extra_env={"XDG_DATA_HOME": str(data_home)})
    assert result.returncode == 0, result.stderr
    entry = data_home / "applications" / "lenet-studio.desktop"
    icon = data_home / "icons" / "hicolor" / "256x256" / "apps" / "lenet-studio.png"
    assert result.stdout.splitlines() == [f"wrote {entry}", f"wrote {icon}"]
    assert icon.read_bytes() == (REPO / "assets" / "icon.png").read_bytes()
    assert "Icon=lenet-studio" in entry.read_text(encoding="utf-8").splitlines()
