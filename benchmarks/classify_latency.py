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

``--with-inspector``: a user with the inspector in view. A second, top-level InspectTab bound to
the window's session is shown beside the window (1280 x 800; the window's own Inspect tab stays
hidden behind the Classify tab and does no work), and each event is then timed until BOTH

* the Classify tab's probability chart has painted a prediction computed after the event, and
* the inspector's feature-map view (every layer plus the output column with its probabilities)
  has painted maps computed for an input that includes the event: the CurrentInput the Classify
  tab published from a prediction run that started after the event was sent (or a later one).
  The inspector records which input its maps were computed for (``InspectTab.shown_input``);
  the benchmark maps each published input to the start time of the run that published it, and
  reads ``shown_input`` when the view emits ``painted``.

The inspector's saliency map is not in the timed span: it is computed once the maps are on
screen, at most every 50 ms while inputs stream in (lenet_gui/ui/inspect/saliency.py); the benchmark
counts how many it computed while drawing continuously.

For isolated events the main thread's CPU time over the same span is printed as well (the
benchmark sleeps in the event loop while it waits, as the app does): on a machine whose cores are
busy with other work, wall time also counts waiting for a core.

``--with-network``: a user with the Network tab in view, its step-through open on conv1 (the
value explained at the centre of channel 0). A second, top-level NetworkTab bound to the same
session is shown beside the window, and each event is timed until the Classify tab's chart AND
the step-through's explanation have painted an input that includes the event (read from
``NetworkTab.shown_input`` when the explanation emits ``painted``). With both options, all three.

The same run first measures the classify-only figures (inspector hidden, as in the tabbed
window) as the baseline, then shows the inspector (and/or the Network tab) and measures again;
the ratio compares them.

    QT_QPA_PLATFORM=offscreen python benchmarks/classify_latency.py [--events 300] [--with-inspector] [--with-network]
"""

from __future__ import annotations

import argparse
import math
import os
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
    parser.add_argument("--with-inspector", action="store_true",
                        help="also show an inspector bound to the same session and wait for its maps too")
    parser.add_argument("--with-network", action="store_true",
                        help="also show a Network tab (step-through open) bound to the same session and wait for it too")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from PySide6.QtCore import QEventLoop, QPoint, QSettings, Qt, QTimer
    from PySide6.QtTest import QTest

    from lenet_gui.core.preprocess import preprocess_array
    from lenet_gui.ui.app import make_application
    from lenet_gui.ui.inspect.tab import InspectTab
    from lenet_gui.ui.main_window import MainWindow
    from lenet_gui.ui.network.tab import NetworkTab

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

    # Every prediction run, by its start time, and the input it published to the session.
    run_of_input: dict[int, float] = {}
    published: list = []  # keeps the inputs alive, so that their ids stay unique

    def on_published(current) -> None:
        if current is not None:
            published.append(current)
            run_of_input[id(current)] = tab.last_run_started

    tab.session.input_changed.connect(on_published)  # before the inspector: it runs first
    # (painted at, start of the run it shows, main-thread CPU time when painted)
    chart_paints: list[tuple[float, float, float]] = []
    map_paints: list[tuple[float, float, float]] = []
    costs: list[float] = []  # UI-thread time of each prediction update (render, preprocess, run, views)
    tab.prediction_shown.connect(lambda _p: costs.append(tab.last_run_ms))
    chart.painted.connect(lambda: chart_paints.append((time.perf_counter(), tab.last_run_started, time.thread_time())))

    inspector = None
    saliency_runs: list[float] = []  # the saliency map is part of the view: count that it keeps up
    if args.with_inspector:
        inspector = InspectTab(window.session)
        inspector.setWindowTitle("Inspector")
        inspector.resize(1280, 800)

        def on_maps_painted() -> None:
            shown = inspector.shown_input
            map_paints.append((time.perf_counter(), run_of_input.get(id(shown), -1.0) if shown else -1.0,
                               time.thread_time()))

        inspector.maps.painted.connect(on_maps_painted)
        inspector.saliency.computed.connect(lambda: saliency_runs.append(time.perf_counter()))

    network = None
    network_paints: list[tuple[float, float, float]] = []
    if args.with_network:
        network = NetworkTab(window.session)
        network.setWindowTitle("Network")
        network.resize(1024, 560)
        network.set_layer("conv1")

        def on_explanation_painted() -> None:
            shown = network.shown_input
            network_paints.append((time.perf_counter(), run_of_input.get(id(shown), -1.0) if shown else -1.0,
                                   time.thread_time()))

        network.explanation.painted.connect(on_explanation_painted)

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
                raise RuntimeError("nothing was painted within 2 s")

    def wait_until(condition, timeout=2.0) -> None:
        """Like pump_until, but sleeping between events as the app's own loop does, so that the
        main thread's CPU time over the wait is the app's work, not this loop's spinning."""
        watchdog = QTimer()
        watchdog.start(50)  # wakes the wait now and then, so that the timeout is noticed
        end = time.perf_counter() + timeout
        while not condition():
            app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
            if time.perf_counter() > end:
                raise RuntimeError("nothing was painted within 2 s")
        watchdog.stop()

    def first_paint(paints: list[tuple[float, float, float]], sent: float) -> tuple[float, float] | None:
        """(wall, CPU) time of the first paint showing a run started at or after ``sent``."""
        return next(((at, cpu) for at, started, cpu in paints if started >= sent), None)

    def measure(with_maps: bool, with_network: bool = False) -> tuple[list[float], list[float], float, int, float]:
        streams = [chart_paints] + [map_paints] * with_maps + [network_paints] * with_network

        def done(sent: float) -> float | None:
            """When everything measured showed the event (the later of the paints)."""
            times = [first_paint(paints, sent) for paints in streams]
            return None if None in times else max(times)[0]

        def done_cpu(sent: float) -> float:
            return max(first_paint(paints, sent) for paints in streams)[1]

        for paints in streams:
            paints.clear()
        costs.clear()
        canvas.clear()
        QTest.qWait(100)
        # Warm up: first paints, first forward pass.
        QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point(0))
        for i in range(1, 20):
            sent = time.perf_counter()
            QTest.mouseMove(canvas, point(i))
            pump_until(lambda: done(sent) is not None)
        QTest.qWait(100)

        # Isolated events: each after a pause longer than the throttle interval.
        isolated, isolated_cpu = [], []
        for i in range(20, 20 + args.events):
            QTest.qWait(max(40, int(3 * tab.last_run_ms)))
            for paints in streams:
                paints.clear()
            cpu = time.thread_time()
            sent = time.perf_counter()
            QTest.mouseMove(canvas, point(i))
            wait_until(lambda: done(sent) is not None)
            isolated.append((done(sent) - sent) * 1000)
            isolated_cpu.append((done_cpu(sent) - cpu) * 1000)
        QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point(20 + args.events))
        canvas.clear()
        QTest.qWait(100)

        # Continuous: 120 events per second.
        period = 1 / 120
        sent_at: list[float] = []
        for paints in streams:
            paints.clear()
        costs.clear()
        QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point(0))
        start = time.perf_counter()
        for i in range(1, args.events + 1):
            due = start + i * period
            while time.perf_counter() < due:
                app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents)
            sent_at.append(time.perf_counter())
            QTest.mouseMove(canvas, point(i))
        last = sent_at[-1]
        pump_until(lambda: done(last) is not None)
        QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point(args.events))
        continuous = [(done(t) - t) * 1000 for t in sent_at]
        pace = len(sent_at) / (sent_at[-1] - sent_at[0])
        refreshes = len({started for _, started, _ in chart_paints if started >= sent_at[0]})
        QTest.qWait(200)  # the saliency map of the stroke's last input
        saliency = sum(1 for t in saliency_runs if t >= sent_at[0])
        return isolated, continuous, pace, refreshes, sent_at[-1] - sent_at[0], isolated_cpu, saliency

    def report(label: str, results, with_saliency: bool = False) -> None:
        isolated, continuous, pace, refreshes, span, isolated_cpu, saliency = results
        print(summary(f"{label}isolated event -> painted", isolated))
        print(summary(f"{label}  main-thread CPU time of it", isolated_cpu))
        print(summary(f"{label}continuous {pace:.0f} Hz -> painted", continuous))
        print(summary(f"{label}UI-thread cost of one update", costs))
        print(f"{label}predictions painted while drawing continuously: {refreshes} for {args.events} events "
              f"({refreshes / span:.0f} per second)")
        if with_saliency:
            print(f"{label}saliency maps computed while drawing continuously: {saliency} "
                  f"({saliency / span:.0f} per second)")

    classify_only = measure(with_maps=False)
    report("classify only: " if inspector or network else "", classify_only)
    if network is not None:
        network.move(window.x() + window.width(), window.y())
        network.show()
        QTest.qWaitForWindowExposed(network)
    if network is not None and inspector is None:
        with_maps = measure(with_maps=False, with_network=True)
        report("with Network tab: ", with_maps)
        print(f"Network tab {network.width()}x{network.height()} px, step-through of {network.layer} "
              f"(explanation {network.explanation.width()}x{network.explanation.height()} px)")
    if inspector is not None:
        inspector.move(window.x() + window.width(), window.y())
        inspector.show()
        QTest.qWaitForWindowExposed(inspector)
        # The Test set page evaluates the model once when first shown; let that finish first.
        end = time.perf_counter() + 120
        while inspector.test_set.busy and time.perf_counter() < end:
            QTest.qWait(50)
        with_maps = measure(with_maps=True, with_network=network is not None)
        report("with inspector and Network tab: " if network else "with inspector: ", with_maps, with_saliency=True)
        print(f"inspector view {inspector.maps.width()}x{inspector.maps.height()} px, "
              f"saliency {inspector.saliency.method}")

    # Baseline: the pipeline's parts, called directly on the drawing as it now is.
    renders, preprocesses, forwards = [], [], []
    predictor = tab.predictor
    for _ in range(args.events):
        t0 = time.perf_counter()
        ink = canvas.ink_array(cached=False)  # every stroke rendered again: the worst case
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
    isolated, continuous = classify_only[0], classify_only[1]
    print(f"ratio classify-only isolated p50 / pipeline baseline p50: {pct(isolated, 50) / pct(base, 50):.2f}")
    target = 30.0
    if network is not None and inspector is None:
        m_isolated, m_continuous = with_maps[0], with_maps[1]
        for name, a, b in (("isolated", m_isolated, isolated), ("continuous", m_continuous, continuous)):
            print(f"ratio with Network tab / classify only, {name}: p50 {pct(a, 50) / pct(b, 50):.2f}, "
                  f"p95 {pct(a, 95) / pct(b, 95):.2f}")
        isolated, continuous = m_isolated, m_continuous
    if network is not None:
        network.close()
        network.shutdown()
    if inspector is not None:
        m_isolated, m_continuous = with_maps[0], with_maps[1]
        for name, a, b in (("isolated", m_isolated, isolated), ("continuous", m_continuous, continuous)):
            print(f"ratio with inspector / classify only, {name}: p50 {pct(a, 50) / pct(b, 50):.2f}, "
                  f"p95 {pct(a, 95) / pct(b, 95):.2f}")
        isolated, continuous = m_isolated, m_continuous
        inspector.close()
        inspector.shutdown()
    what = ("maps and probabilities" if inspector is not None else "prediction") + \
        (" and step-through" if network is not None else "")
    print(f"target p95 <= {target:.0f} ms ({what}): isolated {'met' if pct(isolated, 95) <= target else 'MISSED'}, "
          f"continuous {'met' if pct(continuous, 95) <= target else 'MISSED'}")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
