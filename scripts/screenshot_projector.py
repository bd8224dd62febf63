#!/usr/bin/env python
"""Screenshot of the Projector tab: t-SNE of fc2 for the bundled MNIST model's test images, a
drawn 7 as the diamond, and the pointer on a misclassified test image.

    QT_QPA_PLATFORM=offscreen python scripts/screenshot_projector.py --data-root DIR [--out DIR]

Writes screenshot-projector.png into --out (default: docs/). The t-SNE map is computed in the
background as in the app (a minute or two on a 2-core machine; cached afterwards).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from screenshot_support import arguments, draw_digit, open_window, save_grab  # noqa: E402


def main() -> int:
    parser = arguments(__doc__)
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for the map")
    args = parser.parse_args()
    out = args.out

    from PySide6.QtCore import QPoint
    from PySide6.QtTest import QTest

    app, window = open_window((1280, 820), args.data_root)
    classify = window.classify_tab
    window.tabs.setCurrentWidget(classify)
    draw_digit(classify.canvas, 7)
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
    save_grab(window, out / "screenshot-projector.png")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
