"""Launch to first paint of the window, through the installed entry point, and the longest
event-loop stall in the seconds after it.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/startup.py [--launches 7] [--seconds 3]

Each round launches a baseline (an interpreter that imports PySide6.QtWidgets and exits) and
then ``lenet-gui`` (this checkout's code, with LENET_STARTUP_PROBE set: see
lenet_gui/ui/startup_probe.py), alternately, so that the ratio holds while the machine's speed
drifts. Prints per launch and the medians: time to the first paint, time to the main window's
first paint (the start-up screen comes first), the longest stall of the start-up screen (drawn
by a process of its own) and of the main window's process from its first paint on and from the
end of the main window's first paint on (and with --train-click, from a click on Train on), and
the first paint's ratio to the baseline.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def launch_baseline(env) -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "import PySide6.QtWidgets"], env=env, check=True)
    return time.monotonic() - started


def launch_app(env, seconds: float, train_after: float | None = None) -> dict:
    env = dict(env, LENET_STARTUP_PROBE=str(seconds))
    if train_after is not None:
        env["LENET_STARTUP_PROBE_TRAIN"] = str(train_after)
    started = time.monotonic()
    result = subprocess.run([str(BIN / "lenet-gui")], env=env, capture_output=True, text=True, timeout=120)
    marks = {}
    for line in result.stderr.splitlines():
        if line.startswith("startup-probe "):
            _, what, value = line.split()
            # The start-up screen's process paints first; the main window's reports a first
            # paint of its own later.
            marks.setdefault(what, float(value))
    if "first-paint" not in marks or "longest-stall" not in marks:
        raise SystemExit(f"the app did not report its start-up (exit {result.returncode}):\n{result.stderr[-2000:]}")
    return {
        "first_paint": marks["first-paint"] - started,
        "ready": marks.get("ready", float("nan")) - started,
        "stall_ms": marks["longest-stall"],
        "screen_stall_ms": marks.get("longest-stall-on-screen", float("nan")),
        "window_stall_ms": marks.get("longest-stall-in-window", float("nan")),
        "click_stall_ms": marks.get("longest-stall-after-click", float("nan")),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--launches", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=3.0, help="how long to watch for stalls after the main window's first paint")
    parser.add_argument("--train-click", type=float, default=None, metavar="SECONDS",
                        help="also click Train this long after the main window's first paint (the classic "
                             "recipe on MNIST: the data set must be under --data-root or $LENET_DATA_ROOT) "
                             "and report the longest stall from the click on")
    parser.add_argument("--data-root", default=None, help="for --train-click (default: $LENET_DATA_ROOT)")
    args = parser.parse_args()
    if args.train_click is not None and args.train_click >= args.seconds:
        parser.error("--train-click must come before the end of --seconds")
    env = dict(os.environ)
    if args.data_root:
        env["LENET_DATA_ROOT"] = args.data_root
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    # This checkout's code, whichever checkout the environment was installed from.
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    # A fresh settings folder: no window geometry or tab remembered from a user's session.
    env["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="lenet-startup-")
    env["LENET_RUNS_DIR"] = tempfile.mkdtemp(prefix="lenet-startup-runs-")  # a clicked run's record
    launch_app(env, 0.5)  # warm the disk cache
    rows = []
    for i in range(args.launches):
        base = launch_baseline(env)
        app = launch_app(env, args.seconds, args.train_click)
        rows.append((base, app))
        print(f"launch {i + 1}: baseline {base:.3f} s | first paint {app['first_paint']:.3f} s, "
              f"main window {app['ready']:.3f} s, longest stall on the start-up screen "
              f"{app['screen_stall_ms']:.0f} ms, in the main window's process {app['stall_ms']:.0f} ms, "
              f"once the main window is up {app['window_stall_ms']:.0f} ms, "
              f"from the Train click on {app['click_stall_ms']:.0f} ms "
              f"(ratio {app['first_paint'] / base:.2f})", flush=True)
    med = statistics.median
    print(f"median: baseline {med(b for b, _ in rows):.3f} s | first paint {med(a['first_paint'] for _, a in rows):.3f} s, "
          f"main window {med(a['ready'] for _, a in rows):.3f} s, longest stall on the start-up screen "
          f"{med(a['screen_stall_ms'] for _, a in rows):.0f} ms, in the main window's process "
          f"{med(a['stall_ms'] for _, a in rows):.0f} ms, "
          f"once the main window is up {med(a['window_stall_ms'] for _, a in rows):.0f} ms, "
          f"from the Train click on {med(a['click_stall_ms'] for _, a in rows):.0f} ms, "
          f"first paint / baseline {med(a['first_paint'] / b for b, a in rows):.2f}")


if __name__ == "__main__":
    main()
