"""What the screenshot scripts share: their options, a window on settings of its own, a digit
drawn with the mouse, and a saved grab."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np

from handwriting import SKELETONS, _chaikin

DOCS = Path(__file__).resolve().parents[1] / "docs"


def arguments(doc: str) -> argparse.ArgumentParser:
    """The options of a script that makes the README's pictures (more may be added): where the
    data sets are, and where the pictures go (docs/ unless told)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--data-root", default=os.environ.get("LENET_DATA_ROOT"))
    parser.add_argument("--out", type=Path, default=DOCS)
    return parser


def open_window(size: tuple[int, int], data_root: str | None = None):
    """The application and a main window on throw-away settings, shown at ``size``."""
    from PySide6.QtCore import QSettings
    from PySide6.QtTest import QTest

    from lenet_gui.ui.app import make_application
    from lenet_gui.ui.main_window import MainWindow

    app = make_application()
    settings = QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(data_root=data_root, settings=settings)
    window.resize(*size)
    window.show()
    QTest.qWaitForWindowExposed(window)
    return app, window


def draw_digit(canvas, digit: int) -> None:
    """The project's skeleton of ``digit``, drawn on the Classify tab's canvas with real mouse
    events, filling its middle 70% as people draw."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    def at(x: float, y: float) -> QPoint:
        square = canvas.square()
        return QPoint(square.x() + int(square.width() * (0.15 + 0.7 * x)),
                      square.y() + int(square.height() * (0.15 + 0.7 * y)))

    for stroke in SKELETONS[digit][0]:
        points = _chaikin(np.array(stroke, dtype=float), rounds=4)
        QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(*points[0]))
        for x, y in points[1:]:
            QTest.mouseMove(canvas, at(x, y))
        QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(*points[-1]))


def save_grab(window, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(path))
    print(f"wrote {path}")
