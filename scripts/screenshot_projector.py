#!/usr/bin/env python
"""Screenshot of the Projector tab: t-SNE of fc2 for the bundled MNIST model's test images, a
drawn 7 as the diamond, and the pointer on a misclassified test image.

    QT_QPA_PLATFORM=offscreen python scripts/screenshot_projector.py --data-root DIR [--out DIR]

Writes screenshot-projector.png into --out (default: docs/). The t-SNE map is computed in the
background as in the app (a minute or two on a 2-core machine; cached afterwards).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from handwriting import SKELETONS, _chaikin  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=os.environ.get("LENET_DATA_ROOT"))
    parser.add_argument("--out", default=str(ROOT / "docs"))
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for the map")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from PySide6.QtCore import QPoint, QSettings, Qt
    from PySide6.QtTest import QTest

    from lenet_gui.ui.app import make_application
    from lenet_gui.ui.main_window import MainWindow

    app = make_application()
    settings = QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(data_root=args.data_root, settings=settings)
    window.resize(1280, 820)
    window.show()
    QTest.qWaitForWindowExposed(window)

    classify = window.classify_tab
    window.tabs.setCurrentWidget(classify)
    canvas = classify.canvas

    def at(x: float, y: float) -> QPoint:
        square = canvas.square()
        return QPoint(square.x() + int(square.width() * (0.15 + 0.7 * x)),
                      square.y() + int(square.height() * (0.15 + 0.7 * y)))

    for stroke in SKELETONS[7][0]:
        points = _chaikin(np.array(stroke, dtype=float), rounds=4)
        QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(*points[0]))
        for x, y in points[1:]:
            QTest.mouseMove(canvas, at(x, y))
        QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(*points[-1]))
    QTest.qWait(200)
    print(f"drawn: {classify.last_prediction.label} ({classify.last_prediction.confidence:.1%})")

    projector = window.projector_tab
    projector.set_choice(layer="fc2", method="tsne")  # before it shows, so that no PCA starts
    window.tabs.setCurrentWidget(projector)
    scatter = projector.scatter

    def shows_tsne() -> bool:
        shown = projector.shown_request
        return scatter.has_points and shown is not None and shown[2] == "tsne" and not projector.busy

    deadline = time.monotonic() + args.timeout
    while not shows_tsne() and time.monotonic() < deadline:
        # Events, then a sleep that lets the map's worker thread run (QTest.qWait holds the
        # interpreter lock, so the worker would wait the whole time).
        app.processEvents()
        time.sleep(0.1)
    if not shows_tsne():
        print("the map did not come in time", file=sys.stderr)
        return 1
    QTest.qWait(300)
    wrong = np.flatnonzero(scatter.wrong)  # the pointer on the first misclassified image
    if len(wrong):
        where = scatter.point_position(int(wrong[0]))
        QTest.mouseMove(scatter, QPoint(round(where.x()), round(where.y())))
        QTest.qWait(300)
    path = out / "screenshot-projector.png"
    window.grab().save(str(path))
    print(f"wrote {path}")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
