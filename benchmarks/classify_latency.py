#!/usr/bin/env python
"""Latency of the Classify tab: from a pen event on the canvas to the updated prediction painted.

Runs the real window offscreen with the bundled MNIST model and sends synthetic mouse events to
the canvas (QTest). Two measurements:

* isolated: one move event at a time (the pen after a pause); latency = event sent -> the
  probability chart painted with a prediction computed after that event;
* continuous: a stroke at 120 events per second, as a fast mouse delivers them; latency per
  event = event sent -> the first painted prediction that includes it (this includes the wait
  imposed by the live-update throttle).

Also measured in the same run, as the baseline the tab cannot beat: the pipeline's parts alone
(raster the drawing, preprocess, LeNet forward), called directly.

    QT_QPA_PLATFORM=offscreen python benchmarks/classify_latency.py [--events 300]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def summary(name: str, values: list[float]) -> str:
    return (f"{name:<34} n={len(values):4d}  p50 {pct(values, 50):6.2f} ms  p95 {pct(values, 95):6.2f} ms  "
            f"max {max(values):6.2f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the app uses cores - 1)")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from PySide6.QtCore import QEventLoop, QPoint, QSettings, Qt
    from PySide6.QtTest import QTest

    from lenet_gui.core.preprocess import preprocess_array
    from lenet_gui.ui.app import make_application
    from lenet_gui.ui.main_window import MainWindow

    app = make_application()
    settings = QSettings(str(Path(os.environ.get("TMPDIR", "/tmp")) / "lenet-latency.ini"), QSettings.Format.IniFormat)
    settings.clear()
    window = MainWindow(settings=settings)
    window.resize(1200, 800)
    window.show()
    QTest.qWaitForWindowExposed(window)
    tab = window.classify_tab
    window.tabs.setCurrentWidget(tab)
    canvas, chart = tab.canvas, tab.chart
    print(f"model: {tab.session.current_model.title}; canvas {canvas.square().width()} px; "
          f"torch threads {torch.get_num_threads()}; platform {app.platformName()}")

    paints: list[tuple[float, float]] = []  # (painted at, refresh started at)
    costs: list[float] = []  # UI-thread time of each prediction update (render, preprocess, run, views)
    tab.prediction_shown.connect(lambda _p: costs.append(tab.last_run_ms))
    chart.painted.connect(lambda: paints.append((time.perf_counter(), tab._last_run)))

    def point(i: int) -> QPoint:
        # A spiral: every event adds ink somewhere new, as a real stroke does.
        square = canvas.square()
        angle = i * 0.21
        radius = 0.12 + 0.25 * ((i % 150) / 150)
        return QPoint(square.x() + int(square.width() * (0.5 + radius * math.cos(angle))),
                      square.y() + int(square.height() * (0.5 + radius * math.sin(angle))))

    def pump_until(condition, timeout=2.0) -> None:
        end = time.perf_counter() + timeout
        while not condition():
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents)
            if time.perf_counter() > end:
                raise RuntimeError("no prediction was painted within 2 s")

    # Warm up: first paints, first forward pass.
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point(0))
    for i in range(1, 20):
        QTest.mouseMove(canvas, point(i))
        pump_until(lambda: bool(paints))
    QTest.qWait(100)

    # Isolated events: each after a pause longer than the throttle interval.
    isolated = []
    for i in range(20, 20 + args.events):
        QTest.qWait(40)
        count = len(paints)
        sent = time.perf_counter()
        QTest.mouseMove(canvas, point(i))
        pump_until(lambda: len(paints) > count and paints[-1][1] >= sent)
        isolated.append((paints[-1][0] - sent) * 1000)
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point(20 + args.events))
    canvas.clear()
    QTest.qWait(100)

    # Continuous: 120 events per second.
    period = 1 / 120
    sent_at: list[float] = []
    paints.clear()
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point(0))
    start = time.perf_counter()
    for i in range(1, args.events + 1):
        due = start + i * period
        while time.perf_counter() < due:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents)
        sent_at.append(time.perf_counter())
        QTest.mouseMove(canvas, point(i))
    last = sent_at[-1]
    pump_until(lambda: paints and paints[-1][1] >= last)
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point(args.events))
    continuous = []
    for t in sent_at:
        covering = next(p for p, started in paints if started >= t)
        continuous.append((covering - t) * 1000)
    pace = len(sent_at) / (sent_at[-1] - sent_at[0])

    # Baseline: the pipeline's parts, called directly on the drawing as it now is.
    renders, preprocesses, forwards = [], [], []
    predictor = tab.predictor
    for _ in range(args.events):
        canvas._raster_cache = None  # force a full re-render: the worst case
        t0 = time.perf_counter()
        ink = canvas.ink_array()
        t1 = time.perf_counter()
        pre = preprocess_array(ink, "digit")
        t2 = time.perf_counter()
        predictor.predict(pre.tensor)
        t3 = time.perf_counter()
        renders.append((t1 - t0) * 1000)
        preprocesses.append((t2 - t1) * 1000)
        forwards.append((t3 - t2) * 1000)
    base = [r + p + f for r, p, f in zip(renders, preprocesses, forwards)]

    print(summary("baseline: raster (full re-render)", renders))
    print(summary("baseline: preprocess", preprocesses))
    print(summary("baseline: LeNet forward", forwards))
    print(summary("baseline: sum of the three", base))
    print(summary("isolated event -> painted", isolated))
    print(summary(f"continuous {pace:.0f} Hz -> painted", continuous))
    print(summary("UI-thread cost of one update", costs))
    refreshes = len({started for _, started in paints if started >= sent_at[0]})
    print(f"predictions painted while drawing continuously: {refreshes} for {len(sent_at)} events "
          f"({refreshes / (sent_at[-1] - sent_at[0]):.0f} per second)")
    print(f"ratio isolated p50 / baseline p50: {pct(isolated, 50) / pct(base, 50):.2f}")
    target = 30.0
    print(f"target p95 <= {target:.0f} ms: isolated {'met' if pct(isolated, 95) <= target else 'MISSED'}, "
          f"continuous {'met' if pct(continuous, 95) <= target else 'MISSED'}")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
