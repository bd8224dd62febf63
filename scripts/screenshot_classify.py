#!/usr/bin/env python
"""Screenshots of the Classify tab: a digit drawn with the mouse, and a garment photo dropped in.

    QT_QPA_PLATFORM=offscreen python scripts/screenshot_classify.py [OUTDIR]   (default: docs/)

Writes screenshot-classify.png (a drawn 3), screenshot-classify-garment.png (a dropped photo) and
screenshot-classify-unfamiliar.png (static given to the digit model).
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from screenshot_support import draw_digit, open_window  # noqa: E402


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs"
    out.mkdir(parents=True, exist_ok=True)
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from lenet_gui.core.resources import sample_path

    app, window = open_window((1180, 760))  # noqa: F841 - the application lives while the window does
    tab = window.classify_tab
    window.tabs.setCurrentWidget(tab)
    canvas = tab.canvas
    draw_digit(canvas, 3)
    QTest.qWait(100)
    window.grab().save(str(out / "screenshot-classify.png"))
    print(f"drawn: {tab.last_prediction.label} ({tab.last_prediction.confidence:.1%})")

    tab.model_picker.choose(1)  # the bundled Fashion-MNIST model, as picked in the combo box
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(sample_path("garment-pullover.jpg")))])
    centre = canvas.geometry().center()
    with warnings.catch_warnings():  # PySide flags this constructor; it is the one Qt has
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(centre, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(tab, enter)
    # The photo decodes in the background: the picture waits until its result is on screen.
    decoded = []
    tab.image_decoded.connect(lambda: decoded.append(True))
    QApplication.sendEvent(tab, QDropEvent(QPointF(centre), Qt.DropAction.CopyAction, mime,
                                           Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier))
    for _ in range(300):
        if decoded:
            break
        QTest.qWait(20)
    QTest.qWait(100)
    window.grab().save(str(out / "screenshot-classify-garment.png"))
    print(f"dropped: {tab.last_prediction.label} ({tab.last_prediction.confidence:.1%})")

    from PIL import Image

    tab.model_picker.choose(0)  # the bundled MNIST model
    static = np.random.default_rng(0).integers(0, 256, (200, 200), dtype=np.uint8)
    tab.load_image(Image.fromarray(static), "static.png")
    QTest.qWait(100)
    window.grab().save(str(out / "screenshot-classify-unfamiliar.png"))
    print(f"static: unfamiliar {tab.last_prediction.unfamiliar}, nearest {tab.last_prediction.label}")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
