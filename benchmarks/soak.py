"""Soak: train for several epochs while drawn inputs are classified continuously, and watch
memory and latency.

Headless: a training thread runs the engine (as the app's worker does) while this thread plays
the Classify tab: it draws a random digit-like stroke on a 280 x 280 canvas, preprocesses it and
predicts, as fast as it can, for the whole run. It prints the resident memory at the start,
after warm-up (the first epoch) and at the end, the number of predictions served and their
latency (median, 99th percentile, worst). Memory that keeps growing after warm-up is a leak.

    python benchmarks/soak.py                          # 3 epochs of classic on Fashion-MNIST
    python benchmarks/soak.py --epochs 1 --limit 10000 # shorter
    LENET_DATA_ROOT=/path/to/datasets python benchmarks/soak.py

Data from --data-root or $LENET_DATA_ROOT (no download). The predicting model is the bundled
MNIST one when present (the canvas draws digits), else an untrained LeNet.

``--gui``: the real window instead (offscreen unless QT_QPA_PLATFORM says otherwise). The Train
tab runs the training itself (``TrainTab.start_training`` with the chosen data set, preset and
epochs: its worker thread, chart, log and live filters, exactly as for a user), while the
Classify tab is the visible tab: synthetic mouse strokes are sent to its canvas every few
milliseconds (cleared after every few strokes, as a user starts a new digit) and it predicts
live. A 10 ms QTimer probe measures how late the event loop runs it: the UI stalls (p99, worst).
Memory is read at start (window shown, before the run), after warm-up (the end of epoch 1, in
the Train tab's own epoch signal) and at the end.

    QT_QPA_PLATFORM=offscreen python benchmarks/soak.py --gui --epochs 3

Structure: ``Soak`` holds the measurements, ``train_in_background`` the training thread of the
headless mode, ``serve_predictions`` (headless) or ``drive_window`` (--gui) the client.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from lenet_gui.core.checkpoint import CheckpointError, LoadedModel, load_checkpoint  # noqa: E402
from lenet_gui.core.data import DATASETS, DatasetError, load_dataset  # noqa: E402
from lenet_gui.core.engine import (  # noqa: E402
    BatchProgress, EpochResult, EvaluationStarted, Trainer, TrainingError, training_threads)
from lenet_gui.core.presets import preset_config  # noqa: E402
from lenet_gui.core.inference import Predictor  # noqa: E402
from lenet_gui.core.model import LeNet  # noqa: E402
from lenet_gui.core.preprocess import preprocess_image  # noqa: E402
from lenet_gui.core.resources import model_path  # noqa: E402


def rss_mb() -> float:
    """Resident memory now, in MB (Linux /proc; elsewhere the peak from getrusage)."""
    try:
        with open("/proc/self/status") as f:
            return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) / 1024
    except (OSError, AttributeError):
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


@dataclass
class Soak:
    rss_start: float = 0.0
    rss_warm: float | None = None
    rss_end: float = 0.0
    rss_max: float = 0.0
    latencies: list = field(default_factory=list)  # seconds per prediction, after warm-up
    predictions: int = 0
    blank: int = 0
    epochs: list = field(default_factory=list)
    phases: list = field(default_factory=list)  # (perf_counter, what the trainer was doing from then)
    training_error: str | None = None
    warm = threading.Event()
    done = threading.Event()


def random_drawing(rng: np.random.Generator, size: int = 280) -> Image.Image:
    """What the canvas hands over: white strokes of a round pen on black, a few segments."""
    image = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(image)
    points = [tuple(rng.uniform(0.15 * size, 0.85 * size, 2)) for _ in range(int(rng.integers(2, 7)))]
    width = int(rng.integers(12, 28))
    draw.line(points, fill=255, width=width, joint="curve")
    for x, y in points:
        draw.ellipse([x - width / 2, y - width / 2, x + width / 2, y + width / 2], fill=255)
    return image


def train_in_background(trainer: Trainer, soak: Soak) -> threading.Thread:
    def work():
        try:
            for event in trainer.run():
                if isinstance(event, EvaluationStarted):
                    soak.phases.append((time.perf_counter(), f"epoch {event.epoch} evaluation"))
                elif isinstance(event, BatchProgress) and event.batch == 1:
                    soak.phases.append((time.perf_counter(), f"epoch {event.epoch} training"))
                if isinstance(event, EpochResult):
                    soak.epochs.append(event)
                    print(f"  {event.line()}", flush=True)
                    soak.warm.set()
        except TrainingError as exc:
            soak.training_error = str(exc)
        finally:
            soak.warm.set()
            soak.done.set()

    thread = threading.Thread(target=work, name="training", daemon=True)
    thread.start()
    return thread


def serve_predictions(model: LoadedModel, soak: Soak, seed: int = 0) -> None:
    """The Classify tab's work, back to back, until training ends."""
    rng = np.random.default_rng(seed)
    predictor = Predictor(model)
    while not soak.done.is_set():
        drawing = random_drawing(rng)
        started = time.perf_counter()
        pre = preprocess_image(drawing, "digit")
        if pre.blank:
            soak.blank += 1
        else:
            predictor.predict(pre.tensor)
        elapsed = time.perf_counter() - started
        soak.predictions += 1
        if soak.warm.is_set():
            if soak.rss_warm is None:
                soak.rss_warm = rss_mb()
            soak.latencies.append(elapsed)
        if soak.predictions % 200 == 0:
            soak.rss_max = max(soak.rss_max, rss_mb())


def _summary(latencies: list) -> str:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]
    return (f"median {statistics.median(ordered) * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms, "
            f"worst {ordered[-1] * 1000:.2f} ms")


def measure_idle_latency(model: LoadedModel, count: int) -> list:
    rng = np.random.default_rng(12345)
    predictor = Predictor(model)
    latencies = []
    for _ in range(count + 5):
        drawing = random_drawing(rng)
        started = time.perf_counter()
        pre = preprocess_image(drawing, "digit")
        if not pre.blank:
            predictor.predict(pre.tensor)
        latencies.append(time.perf_counter() - started)
    return latencies[5:]  # the first calls pay one-off set-up


def drive_window(soak: Soak, args, seed: int = 0, event_ms: int = 8, strokes_per_drawing: int = 3) -> dict:
    """Train in the real window's Train tab while drawing on its Classify tab, until the run
    ends. Returns the UI figures: predictions shown, mouse events sent, event-loop stalls."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import tempfile

    from PySide6.QtCore import QElapsedTimer, QPoint, QSettings, Qt, QTimer
    from PySide6.QtTest import QTest

    from lenet_gui.ui.app import make_application
    from lenet_gui.ui.main_window import WARM_UP_DELAY_MS, MainWindow
    from lenet_gui.ui.train.worker import warm_up_training_imports

    app = make_application()
    settings_file = Path(tempfile.mkdtemp(prefix="lenet-soak-")) / "settings.ini"
    window = MainWindow(data_root=args.data_root,
                        settings=QSettings(str(settings_file), QSettings.Format.IniFormat))
    window.resize(1200, 800)
    window.show()
    QTest.qWaitForWindowExposed(window)
    # The window imports torch's compiler package in the background once it shows (a one-time
    # start-up cost, measured by ui_responsiveness.py); a user picks a recipe meanwhile.
    # (Joined, not polled with QTest.qWait, which holds the interpreter lock while it waits.)
    QTest.qWait(WARM_UP_DELAY_MS + 50)
    warm_up_training_imports().join()
    train = window.train_tab
    train.dataset_combo.setCurrentIndex(train.dataset_combo.findData(args.dataset))
    train.preset_combo.setCurrentIndex(train.preset_combo.findData(args.preset))  # fills the recipe
    train.epochs_spin.setValue(args.epochs)
    if args.threads:
        train.threads = args.threads
    train.train_limit = args.limit
    tab = window.classify_tab
    window.tabs.setCurrentWidget(tab)
    QTest.qWait(200)
    soak.rss_start = soak.rss_max = rss_mb()  # with the window up: its memory is not growth
    canvas = tab.canvas
    rng = np.random.default_rng(seed)
    figures = {"shown": 0, "events": 0, "strokes": 0, "gaps": [], "train_samples": 0}

    def on_prediction(prediction):
        if prediction is not None:
            figures["shown"] += 1
            soak.predictions += 1
            if soak.warm.is_set():
                soak.latencies.append(tab.last_run_ms / 1000)
        else:
            soak.blank += 1

    tab.prediction_shown.connect(on_prediction)

    stroke: list = []

    def point(x: float, y: float) -> QPoint:
        square = canvas.square()
        return QPoint(square.x() + int(square.width() * x), square.y() + int(square.height() * y))

    def pen_event():
        # One mouse event per tick: a stroke is a press, 15-40 moves along a random curve, a release.
        nonlocal stroke
        if not stroke:
            if figures["strokes"] and figures["strokes"] % strokes_per_drawing == 0:
                tab.clear()
            a, b, c = rng.uniform(0.15, 0.85, (3, 2))
            steps = int(rng.integers(15, 41))
            t = np.linspace(0, 1, steps)[:, None]
            stroke = [tuple(p) for p in (1 - t) ** 2 * a + 2 * (1 - t) * t * b + t ** 2 * c]
            QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point(*stroke.pop(0)))
        elif len(stroke) == 1:
            QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point(*stroke.pop()))
            figures["strokes"] += 1
        else:
            QTest.mouseMove(canvas, point(*stroke.pop(0)))
        figures["events"] += 1
        if figures["events"] % 200 == 0:
            soak.rss_max = max(soak.rss_max, rss_mb())

    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]

    def probe():
        now = clock.nsecsElapsed()
        gap = (now - last[0]) / 1e6
        figures["gaps"].append(gap)
        if gap > 100:  # keep the long ones with the moment they ended, to say what was going on
            figures.setdefault("long", []).append((time.perf_counter(), gap))
        last[0] = now

    # The Train tab's own signals tell where the run is; connected after the tab's slots, so
    # the tab has handled each one (chart, log) when these run.
    def on_status(code):
        soak.phases.append((time.perf_counter(), f"worker: {code}"))

    def on_loaded(_dataset):
        soak.phases.append((time.perf_counter(), "worker: data set loaded, building the trainer"))

    def on_started(info):
        soak.phases.append((time.perf_counter(), "worker: run started"))
        figures["train_samples"] = info.train_samples
        print(f"  training {info.train_samples} images on {info.device} ({info.threads} thread(s)) "
              f"from {info.data_source}", flush=True)

    def on_batches(events):
        for event in events:
            if event.batch == 1:
                soak.phases.append((time.perf_counter(), f"epoch {event.epoch} training"))

    def on_evaluating(epoch):
        soak.phases.append((time.perf_counter(), f"epoch {epoch} evaluation"))

    def on_epoch(result):
        soak.epochs.append(result)
        print(f"  {result.line()}  (RSS {rss_mb():.1f} MB)", flush=True)
        if not soak.warm.is_set():
            soak.rss_warm = rss_mb()
            soak.warm.set()

    def on_failed(failure):
        soak.training_error = f"{failure.kind}: {failure.message}"

    def quit_when_done():
        # Polled: a quit() queued on the worker's finished() was sometimes dropped with the
        # thread, which the tab deletes when the run ends.
        if not train.running:
            figures["rss_run_end"] = rss_mb()  # the window still open, the run's results kept
            soak.done.set()
            app.quit()
        else:
            QTimer.singleShot(20, quit_when_done)

    if not train.start_training():
        soak.training_error = train.error_text or "the Train tab did not start a run (data set missing?)"
        window.close()
        return figures
    worker = train.thread
    worker.status.connect(on_status)
    worker.dataset_loaded.connect(on_loaded)
    worker.run_started.connect(on_started)
    worker.batches.connect(on_batches)
    worker.evaluating.connect(on_evaluating)
    worker.epoch_finished.connect(on_epoch)
    worker.run_failed.connect(on_failed)
    QTimer.singleShot(20, quit_when_done)

    timers = []
    for interval, slot in ((event_ms, pen_event), (10, probe)):
        timer = QTimer()
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.timeout.connect(slot)
        timer.start(interval)
        timers.append(timer)
    if not soak.done.is_set():
        app.exec()
    for timer in timers:
        timer.stop()
    QTest.qWait(100)  # the tab's own end-of-run handling (its slot on the same signal)
    figures["log_epochs"] = sum(1 for line in train.log.toPlainText().splitlines() if line.startswith("epoch "))
    window.close()
    return figures


def prediction_model() -> LoadedModel:
    try:
        return load_checkpoint(model_path("mnist"))
    except CheckpointError:
        info = DATASETS["mnist"]
        return LoadedModel(model=LeNet().eval(), classes=list(info.classes), dataset="mnist", input_kind="digit")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Train while classifying drawn inputs; report memory and latency.")
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="fashion-mnist")
    parser.add_argument("--preset", choices=["classic", "modern"], default="classic")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--limit", type=int, help="train on the first N images only")
    parser.add_argument("--threads", type=int,
                        help="torch threads while the window is idle (default: the app's choice; "
                             "the app drops one while the user draws)")
    parser.add_argument("--data-root", default=os.environ.get("LENET_DATA_ROOT"))
    parser.add_argument("--baseline", type=int, default=100, help="predictions timed before training starts")
    parser.add_argument("--gui", action="store_true",
                        help="draw on the real window's canvas instead of calling the core directly")
    args = parser.parse_args(argv)
    if not args.data_root:
        print("soak: pass --data-root DIR or set LENET_DATA_ROOT", file=sys.stderr)
        return 2
    if not args.threads and not args.gui:
        args.threads = training_threads(user_active=True)  # headless: a core for the classifying thread
    trainer = None
    if not args.gui:  # with --gui the Train tab loads the data and trains, as for a user
        try:
            data = load_dataset(args.dataset, args.data_root, download=False)
            config = preset_config(args.preset, args.dataset, epochs=args.epochs, threads=args.threads)
            trainer = Trainer(config, data, train_limit=args.limit)
        except (DatasetError, TrainingError) as exc:
            print(f"soak: {exc}", file=sys.stderr)
            return 1
    # As the window does: the classifying thread gets its own torch thread count. OpenMP's
    # setting is per thread: the trainer's does not reach here, and left at "all cores" a single
    # prediction on a busy machine is many times slower.
    from lenet_gui.ui.train.worker import keep_window_thread_off_the_training_cores

    keep_window_thread_off_the_training_cores()
    model = prediction_model()
    soak = Soak()
    # Baseline on this machine, now: the same predictions with no training running. (Also warms
    # the prediction path, so that the start figure includes torch's lazy set-up.)
    baseline = measure_idle_latency(model, count=args.baseline)
    soak.rss_start = soak.rss_max = rss_mb()
    images = f"{len(trainer.train_split)} images" if trainer is not None else f"{args.limit or 'all'} images"
    threads_note = args.threads or "the app's"
    where = "in the window's Train tab while drawing on its Classify tab" if args.gui else "while classifying drawings"
    print(f"soak: {args.epochs} epoch(s) of {args.preset} on {DATASETS[args.dataset].title} "
          f"({images}, {threads_note} torch thread(s)) {where}", flush=True)
    started = time.perf_counter()
    ui = None
    if args.gui:
        ui = drive_window(soak, args)
    else:
        thread = train_in_background(trainer, soak)
        serve_predictions(model, soak)
        thread.join()
    seconds = time.perf_counter() - started
    # With --gui, the end is the end of the run with the window still open: after closing it the
    # figure would hide growth that the window (chart, log, run results) holds on to.
    soak.rss_end = ui["rss_run_end"] if ui is not None and "rss_run_end" in ui else rss_mb()
    soak.rss_max = max(soak.rss_max, soak.rss_end)

    print(f"RSS at start: {soak.rss_start:.1f} MB{' (window shown)' if args.gui else ''}")
    print(f"RSS after warm-up (epoch 1): {soak.rss_warm or float('nan'):.1f} MB")
    print(f"RSS at end: {soak.rss_end:.1f} MB (max seen {soak.rss_max:.1f} MB); growth after warm-up: "
          f"{soak.rss_end - (soak.rss_warm or soak.rss_end):+.1f} MB")
    if ui is not None:
        print(f"RSS after the window closed: {rss_mb():.1f} MB")
    print(f"predictions served: {soak.predictions} in {seconds:.1f} s ({soak.predictions / seconds:.0f}/s), "
          f"{soak.blank} blank")
    if ui is not None and ui["gaps"]:
        gaps = ui["gaps"]
        stalls = sorted(max(0.0, g - 10.0) for g in gaps)
        print(f"window: {ui['events']} mouse events in {ui['strokes']} strokes, {ui['shown']} live predictions shown; "
              f"Train tab: {len(soak.epochs)} epoch(s) reported, {ui.get('log_epochs', 0)} epoch line(s) in its log")
        print(f"event-loop stall (10 ms probe, lateness): median {statistics.median(stalls):.1f} ms, "
              f"p99 {stalls[min(len(stalls) - 1, math.ceil(0.99 * len(stalls)) - 1)]:.1f} ms, "
              f"worst {stalls[-1]:.1f} ms over {len(gaps)} ticks")
        for ended, gap in sorted(ui.get("long", []), key=lambda x: -x[1])[:5]:
            began = ended - gap / 1000
            phase = next((what for t, what in reversed(soak.phases) if t <= began), "start-up")
            print(f"  stall of {gap:.0f} ms at {began - started:.1f} s, trainer in: {phase}")
    print(f"prediction latency, no training (baseline, {len(baseline)} runs): {_summary(baseline)}")
    if soak.latencies:
        what = "UI-thread cost of a live update" if ui is not None else "prediction latency"
        print(f"{what} while training, after warm-up: {_summary(soak.latencies)}")
        print(f"ratio to baseline: median x{statistics.median(soak.latencies) / statistics.median(baseline):.1f}, "
              f"worst x{max(soak.latencies) / max(baseline):.1f}")
    if soak.training_error:
        print(f"training stopped: {soak.training_error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
