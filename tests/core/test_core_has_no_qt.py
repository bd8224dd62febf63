"""The rule that keeps the core scriptable and testable: ``lenet_gui.core`` imports no Qt.

Two checks: a dynamic one (import every core module in a fresh interpreter, then look at
``sys.modules``) catches Qt arriving through any indirect import; a static one (read the
import statements) points at the offending line, and names the rule for whoever breaks it.
"""

from __future__ import annotations

import ast
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import lenet_gui.core

REPO = Path(__file__).resolve().parents[2]
CORE = REPO / "lenet_gui" / "core"
QT_PREFIXES = ("PySide2", "PySide6", "PyQt4", "PyQt5", "PyQt6", "shiboken2", "shiboken6", "pyqtgraph", "qtpy", "sip")
FORBIDDEN_INTERNAL = ("lenet_gui.ui",)


def core_modules() -> list[str]:
    return sorted(f"lenet_gui.core.{m.name}" for m in pkgutil.iter_modules(lenet_gui.core.__path__))


def test_there_are_core_modules_to_check():
    names = core_modules()
    for expected in ("data", "model", "engine", "checkpoint", "preprocess", "inference", "resources"):
        assert f"lenet_gui.core.{expected}" in names


def test_importing_the_whole_core_loads_no_qt():
    script = (
        "import importlib, json, sys\n"
        f"for name in {core_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        f"qt = sorted(m for m in sys.modules if m.split('.')[0] in {QT_PREFIXES!r})\n"
        "ui = sorted(m for m in sys.modules if m.startswith('lenet_gui.ui'))\n"
        "print(json.dumps({'qt': qt, 'ui': ui, 'core': sorted(m for m in sys.modules if m.startswith('lenet_gui.core.'))}))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(core_modules()) <= set(found["core"])  # it really imported this checkout's core
    assert found["qt"] == [], f"lenet_gui.core pulled in Qt: {found['qt']}"
    assert found["ui"] == [], f"lenet_gui.core pulled in the UI layer: {found['ui']}"


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) for every import in a core file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ["lenet_gui", "core"]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
                names = [module] if node.module else [f"{module}.{a.name}" for a in node.names]
            else:
                names = [node.module]
            found += [(node.lineno, name) for name in names]
    return found


def test_core_source_has_no_qt_or_ui_import_statement():
    offenders = []
    files = sorted(CORE.rglob("*.py"))
    assert files
    for path in files:
        for line, module in _imports(path):
            top = module.split(".")[0]
            if top in QT_PREFIXES or module.startswith(FORBIDDEN_INTERNAL):
                offenders.append(f"{path.relative_to(REPO)}:{line}: import {module}")
    assert not offenders, (
        "lenet_gui.core must stay free of Qt and of lenet_gui.ui (the UI imports the core, never "
        "the other way; see DESIGN.md):\n" + "\n".join(offenders)
    )


def test_the_static_check_catches_a_violation(tmp_path):
    sample = tmp_path / "bad.py"
    sample.write_text("import os\nfrom PySide6.QtCore import QObject\nfrom ..ui import session\n")
    modules = [m for _, m in _imports(sample)]
    assert "PySide6.QtCore" in modules and "lenet_gui.ui" in modules
