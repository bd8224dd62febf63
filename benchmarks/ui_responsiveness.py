"""Does the window stay responsive while it trains, and what does that cost the training?

Trains one full epoch (classic recipe, Fashion-MNIST by default) from the real window while a
QTimer probe fires every 10 ms and records how late the event loop answers it, from the Train
click (loading the data, building the trainer) to the end of the epoch's test. The first window
also warms torch up in the background when it opens; that is probed and reported on its own,
and the click waits for it, as a user's would. In the same run
it times the headless CLI (``lenet-gui train``, its default thread setting) on the same epoch,
alternating GUI and CLI runs when ``--repeats`` > 1 so that a noisy neighbour hurts both alike.

    QT_QPA_PLATFORM=offscreen python benchmarks/ui_responsiveness.py --data-root ../shared/datasets

Targets (2-core machine): probe p99 <= 30 ms, worst <= 100 ms, GUI epoch <= 1.2 x CLI epoch.
Prints figures, asserts nothing: timings on a shared machine are evidence, not a test.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def cli_epoch_seconds(args, threads: int | None = None) -> float:
    """One epoch with ``python -m lenet_gui train``: the headless path, with its default threads
    unless ``threads`` is given."""
    command = [sys.executable, "-m", "lenet_gui", "train", "--dataset", args.dataset, "--preset", args.preset,
               "--epochs", "1", "--device", "cpu"]
    if threads:
        command += ["--threads", str(threads)]
    if args.limit:
        command += ["--limit", str(args.limit)]
    if args.data_root:
        command += ["--data-root", args.data_root]
    # The printed line rounds to 0.1 s (5% of an epoch here): the checkpoint's history has the
    # same measurement unrounded. Saving happens after the epoch's timing.
    saved = Path(tempfile.mkdtemp(prefix="lenet-bench-cli-")) / "run.pt"
    command += ["--save", str(saved)]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    match = re.search(r"^epoch 1, .* time ([0-9.]+) sec$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or match is None:
        raise SystemExit(f"the CLI run failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    from lenet_gui.core.checkpoint import load_checkpoint

    seconds = load_checkpoint(saved).metadata["history"][0]["seconds"]
    saved.unlink()
    saved.parent.rmdir()
    return seconds


def idle_lateness(args, app, seconds: float) -> list[float]:
    """The same probe with an idle window: the machine's own noise floor (other processes)."""
    from PySide6.QtCore import QSettings, Qt, QTimer

    from lenet_gui.ui.main_window import MainWindow

    settings = QSettings(os.path.join(tempfile.mkdtemp(prefix="lenet-bench-"), "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(data_root=args.data_root, settings=settings)
    window.resize(1280, 820)
    window.show()
    lateness: list[float] = []
    last = [None]
    interval = args.probe_ms / 1000

    def probe() -> None:
        now = time.perf_counter()
        if last[0] is not None:
            lateness.append(max(0.0, now - last[0] - interval))
        last[0] = now

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(args.probe_ms)
    timer.timeout.connect(probe)
    timer.start()
    QTimer.singleShot(int(seconds * 1000), app.quit)
    app.exec()
    timer.stop()
    window.close()
    window.deleteLater()
    return lateness


def gui_epoch(args, app) -> dict:
    """One epoch from the window, clicked once its start-up warm-up is over; the probe covers
    the warm-up (on its own) and everything from the click to the end of the epoch's test."""
    from PySide6.QtCore import QSettings, Qt, QTimer

    from lenet_gui.core.engine import EpochResult
    from lenet_gui.ui.main_window import WARM_UP_DELAY_MS, MainWindow

    settings_dir = tempfile.mkdtemp(prefix="lenet-bench-")
    settings = QSettings(os.path.join(settings_dir, "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(data_root=args.data_root, settings=settings)
    window.resize(1280, 820)
    window.show()
    tab = window.train_tab
    if args.gui_threads:
        tab.threads = args.gui_threads
    tab.train_limit = args.limit or None
    tab.recipe.dataset_combo.setCurrentIndex(tab.recipe.dataset_combo.findData(args.dataset))
    tab.recipe.preset_combo.setCurrentIndex(tab.recipe.preset_combo.findData(args.preset))
    tab.recipe.epochs_spin.setValue(1)
    tab.recipe.device_combo.setCurrentIndex(tab.recipe.device_combo.findData("cpu"))

    lateness: list[float] = []
    warm_up_lateness: list[float] = []
    results: list[EpochResult] = []
    state = {"samples": None, "last": None}
    interval = args.probe_ms / 1000

    def probe() -> None:
        now = time.perf_counter()
        if state["samples"] is not None and state["last"] is not None:
            state["samples"].append(max(0.0, now - state["last"] - interval))
        state["last"] = now

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(args.probe_ms)
    timer.timeout.connect(probe)
    timer.start()

    # The window warms torch up in the background once it shows (the first window of the
    # process does the work): probe that on its own, as a user who opens the app sees it.
    state["samples"] = warm_up_lateness
    QTimer.singleShot(WARM_UP_DELAY_MS, lambda: watch_warm_up(app))
    app.exec()

    # From the click on: loading the data, building the trainer, the epoch and its test.
    state["samples"], state["last"] = lateness, None
    if not tab.start_training():
        raise SystemExit(f"the window could not start training: {tab.error_text}")
    tab.thread.epoch_finished.connect(results.append)

    # Polled rather than connected to the thread's finished(): the tab deletes the thread when
    # it finishes, and a queued quit() bound to it was sometimes dropped with it (a hung run).
    def quit_when_done() -> None:
        if tab.running:
            QTimer.singleShot(20, quit_when_done)
        else:
            state["samples"] = None
            app.quit()

    QTimer.singleShot(20, quit_when_done)
    wall = time.perf_counter()
    app.exec()
    wall = time.perf_counter() - wall
    timer.stop()
    error = tab.error_text
    window.close()
    window.deleteLater()
    if error or not results:
        raise SystemExit(f"the GUI run failed: {error or 'no epoch finished'}")
    return {"epoch_seconds": results[0].seconds, "wall_seconds": wall, "lateness": lateness,
            "warm_up_lateness": warm_up_lateness, "threads": tab.threads, "line": results[0].line()}


def watch_warm_up(app) -> None:
    """Quit the event loop once the window's background warm-up has finished."""
    from PySide6.QtCore import QTimer

    from lenet_gui.ui.train.worker import warm_up_training_imports

    if warm_up_training_imports().is_alive():
        QTimer.singleShot(20, lambda: watch_warm_up(app))
    else:
        app.quit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=os.environ.get("LENET_DATA_ROOT"),
                        help="folder holding the data sets (default: $LENET_DATA_ROOT)")
    parser.add_argument("--dataset", default="fashion-mnist", choices=["fashion-mnist", "mnist"])
    parser.add_argument("--preset", default="classic", choices=["classic", "modern"])
    parser.add_argument("--limit", type=int, default=0, help="train on the first N images only (a quick check)")
    parser.add_argument("--probe-ms", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=1, help="GUI and CLI epochs, alternated")
    parser.add_argument("--idle-seconds", type=float, default=5.0,
                        help="probe an idle window this long first: the machine's noise floor (0: skip)")
    parser.add_argument("--gui-threads", type=int, default=0, help="override the app's torch thread count")
    args = parser.parse_args()
    if not args.data_root:
        parser.error("pass --data-root DIR or set LENET_DATA_ROOT")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtWidgets import QApplication

    from lenet_gui.ui.app import make_application

    app = QApplication.instance() or make_application()
    cores = os.cpu_count()
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"machine: {cores} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          f"(other processes share it: figures are noisy)")
    print(f"workload: 1 epoch, {args.preset} on {args.dataset}"
          f"{f', first {args.limit} images' if args.limit else ', full training set'}, CPU")

    from lenet_gui.core.engine import training_threads as gui_training_threads

    gui_threads = args.gui_threads or gui_training_threads()
    gui_runs, cli_runs, cli_same_threads = [], [], []
    for repeat in range(args.repeats):
        order = ("cli", "gui", "cli-same") if repeat % 2 == 0 else ("cli-same", "gui", "cli")
        for kind in order:
            if kind == "cli":
                cli_runs.append(cli_epoch_seconds(args))
                print(f"  CLI epoch {cli_runs[-1]:.2f} s (default threads)")
            elif kind == "cli-same":
                cli_same_threads.append(cli_epoch_seconds(args, gui_threads))
                print(f"  CLI epoch {cli_same_threads[-1]:.2f} s (--threads {gui_threads}, as the app)")
            else:
                gui_runs.append(gui_epoch(args, app))
                run = gui_runs[-1]
                print(f"  GUI epoch {run['epoch_seconds']:.2f} s ({run['line']}); probe p99 "
                      f"{1000 * percentile(run['lateness'], 99):.1f} ms, worst {1000 * max(run['lateness'], default=0):.1f} ms"
                      f"; during the window's warm-up before it: {len(run['warm_up_lateness'])} probes, worst "
                      f"{1000 * max(run['warm_up_lateness'], default=0):.1f} ms")

    idle = idle_lateness(args, app, args.idle_seconds) if args.idle_seconds > 0 else []
    lateness = [x for run in gui_runs for x in run["lateness"]]
    gui_epoch_s = statistics.median(r["epoch_seconds"] for r in gui_runs)
    cli_epoch_s = statistics.median(cli_runs)
    p50, p99, worst = (1000 * percentile(lateness, 50), 1000 * percentile(lateness, 99), 1000 * max(lateness, default=0))
    ratio = gui_epoch_s / cli_epoch_s

    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    print()
    warm_up = gui_runs[0]["warm_up_lateness"]
    if warm_up:
        print(f"event-loop lateness while a new window warms torch up ({len(warm_up)} probes): "
              f"p99 {1000 * percentile(warm_up, 99):.1f} ms, worst {1000 * max(warm_up):.1f} ms")
    print(f"event-loop lateness from the Train click to the epoch's end ({len(lateness)} probes every {args.probe_ms} ms): "
          f"p50 {p50:.1f} ms, p99 {p99:.1f} ms [{verdict(p99 <= 30)} <= 30], worst {worst:.1f} ms [{verdict(worst <= 100)} <= 100]")
    same_s = statistics.median(cli_same_threads)
    best_ratio = min(r["epoch_seconds"] for r in gui_runs) / min(cli_runs)
    if idle:
        print(f"noise floor, idle window ({len(idle)} probes): p50 {1000 * percentile(idle, 50):.1f} ms, "
              f"p99 {1000 * percentile(idle, 99):.1f} ms, worst {1000 * max(idle):.1f} ms")
    print(f"epoch time (medians of {args.repeats}): GUI {gui_epoch_s:.2f} s (torch threads {gui_runs[0]['threads']}), "
          f"headless CLI {cli_epoch_s:.2f} s (default threads: {os.cpu_count()} cores), "
          f"headless CLI {same_s:.2f} s (--threads {gui_threads})")
    print(f"ratio GUI / CLI default: {ratio:.3f} [{verdict(ratio <= 1.2)} <= 1.20] (best against best: {best_ratio:.3f})")
    # Each GUI epoch against the two CLI epochs run right around it (same repeat): the figure
    # least exposed to load that drifts during the benchmark.
    paired = [run["epoch_seconds"] / statistics.mean((cli, same)) for run, cli, same in zip(gui_runs, cli_runs, cli_same_threads)]
    print(f"per-repeat ratios GUI / adjacent CLI epochs: {' '.join(f'{x:.2f}' for x in paired)} "
          f"(median {statistics.median(paired):.3f})")
    print(f"ratio GUI / CLI with the app's threads (the cost of the window alone): {gui_epoch_s / same_s:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
