"""Latency of the Inspect tab: from a new input to its feature maps and probabilities on screen.

Each sample times what one throttled pen stroke causes: ``session.set_input(...)`` (as the
Classify tab calls it) -> the Inspect tab predicts, computes every layer's maps, colours them ->
the feature-map view (maps plus the output column with its probabilities) has painted. The
inputs here carry no prediction, so the tab runs the network itself (given the Classify tab's
prediction it would reuse it); the saliency map is computed after the maps are on screen, so it
is outside the timed span (benchmarks/classify_latency.py --with-inspector counts it). The tab is visible (offscreen platform), 1280 x 800, as a user would see it. The
inputs are a digit being drawn: a stroke growing point by point, preprocessed like MNIST
beforehand (preprocessing belongs to the Classify tab and is timed by its own benchmark).

Wall time is what a user sees; on a machine whose cores are busy with other work it includes
waiting for a core, so the main thread's CPU time for the same span is printed next to it.

The baseline, measured in the same run on the same inputs, is the bare model call
(``Predictor.predict``): the ratio says what the view costs on top of the network itself.

    QT_QPA_PLATFORM=offscreen python benchmarks/inspect_latency.py [--model PATH|mnist] [--inputs 300]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402


def stroke_inputs(count: int, seed: int = 0):
    """``count`` inputs as a hand would produce them: strokes growing a few points at a time."""
    from lenet_gui.core.preprocess import preprocess_array
    from lenet_gui.ui.session import CurrentInput

    rng = np.random.default_rng(seed)
    inputs = []
    while len(inputs) < count:
        canvas = Image.new("L", (280, 280), 0)
        draw = ImageDraw.Draw(canvas)
        point = rng.uniform(60, 220, size=2)
        for _ in range(40):
            nxt = np.clip(point + rng.normal(0, 18, size=2), 20, 260)
            draw.line([tuple(point), tuple(nxt)], fill=255, width=18, joint="curve")
            point = nxt
            pre = preprocess_array(np.asarray(canvas, dtype=np.float64) / 255.0, "digit")
            if not pre.blank:
                inputs.append(CurrentInput(pre, None, "drawing"))
            if len(inputs) == count:
                break
    return inputs


def percentiles(samples_ms: list[float]) -> str:
    a = np.asarray(samples_ms)
    return (f"p50 {np.percentile(a, 50):6.2f} ms   p95 {np.percentile(a, 95):6.2f} ms   "
            f"max {a.max():6.2f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mnist",
                        help="checkpoint path or a bundled model name; a fresh LeNet when missing")
    parser.add_argument("--inputs", type=int, default=300, help="timed inputs (at least 200)")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--method", choices=["gradient", "gradcam"], default="gradient",
                        help="the saliency method selected in the tab")
    args = parser.parse_args()
    if args.inputs < 200:
        parser.error("--inputs must be at least 200 for a meaningful p95")

    # The window thread's own rule, as MainWindow applies it.
    from lenet_gui.ui.train.worker import keep_window_thread_off_the_training_cores

    keep_window_thread_off_the_training_cores()

    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from lenet_gui.core.checkpoint import CheckpointError, LoadedModel, load_checkpoint
    from lenet_gui.core.inference import Predictor
    from lenet_gui.core.model import LeNet, ModelConfig
    from lenet_gui.core.resources import model_path
    from lenet_gui.ui.inspect.tab import InspectTab
    from lenet_gui.ui.session import Session

    app = QApplication.instance() or QApplication([])
    try:
        loaded = load_checkpoint(model_path(args.model))
        source = str(model_path(args.model))
    except CheckpointError as exc:
        loaded = LoadedModel(LeNet(ModelConfig(activation="relu", batch_norm=True)).eval(),
                             [str(i) for i in range(10)], None, "digit", {"title": "fresh LeNet"})
        source = f"a fresh LeNet (no checkpoint: {exc})"
    # No data set: the Test set view must not run its evaluation during the measurement.
    loaded.dataset = None

    session = Session()
    tab = InspectTab(session)
    tab.resize(1280, 800)
    tab.show()
    session.set_model(loaded)
    tab.saliency.set_method(args.method)

    inputs = stroke_inputs(args.warmup + args.inputs)
    predictor = Predictor(loaded)

    painted_at: list[float] = []
    painted_cpu: list[float] = []
    tab.maps.painted.connect(lambda: (painted_at.append(time.perf_counter()), painted_cpu.append(time.thread_time())))
    loop = QEventLoop()
    tab.maps.painted.connect(loop.quit)
    watchdog = QTimer()
    watchdog.setSingleShot(True)
    watchdog.timeout.connect(loop.quit)

    totals, computes, paints, baselines, cpu = [], [], [], [], []
    for i, current in enumerate(inputs):
        painted_at.clear()
        painted_cpu.clear()
        c0 = time.thread_time()
        t0 = time.perf_counter()
        session.set_input(current)  # what a throttled stroke in the Classify tab does
        t1 = time.perf_counter()
        watchdog.start(2000)
        if not painted_at:
            loop.exec()  # until the view has painted
        watchdog.stop()
        if not painted_at:
            print("the view did not paint within 2 s; is the tab visible?", file=sys.stderr)
            return 1
        t2 = painted_at[0]
        b0 = time.perf_counter()
        predictor.predict(current.preprocessed.tensor)
        b1 = time.perf_counter()
        if i >= args.warmup:
            totals.append((t2 - t0) * 1e3)
            computes.append((t1 - t0) * 1e3)
            paints.append((t2 - t1) * 1e3)
            baselines.append((b1 - b0) * 1e3)
            cpu.append((painted_cpu[0] - c0) * 1e3)

    print(f"Inspect tab latency, {args.inputs} inputs after {args.warmup} warm-up; model: {source}")
    print(f"torch threads {torch.get_num_threads()}, saliency method {args.method}, "
          f"view {tab.maps.width()}x{tab.maps.height()} px, platform {app.platformName()}")
    print(f"  set_input -> maps + probabilities painted: {percentiles(totals)}")
    print(f"    of which the tab's slot (predict, colouring):           {percentiles(computes)}")
    print(f"    of which event loop + paint:                            {percentiles(paints)}")
    print(f"  main-thread CPU time for the same span:                  {percentiles(cpu)}")
    print(f"  baseline, Predictor.predict alone:                       {percentiles(baselines)}")
    ratio = np.median(totals) / max(1e-9, np.median(baselines))
    print(f"  median total / median baseline: {ratio:.1f}x")
    p95 = float(np.percentile(totals, 95))
    print(f"  target p95 <= 30 ms: {'met' if p95 <= 30 else 'MISSED'} ({p95:.2f} ms)")
    tab.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
