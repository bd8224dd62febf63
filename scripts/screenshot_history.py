#!/usr/bin/env python
"""Screenshot of the Train tab after a restart: three earlier runs from the run history, ticked
onto the chart, the selected one in full colour.

    QT_QPA_PLATFORM=offscreen python scripts/screenshot_history.py --data-root DIR [--out DIR]

Trains three short runs with `lenet-gui train` into a run history of its own (one renamed, as a
user names a baseline), then opens the window on that history. Writes screenshot-history.png
into --out (default: docs/).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from screenshot_support import arguments, open_window, save_grab  # noqa: E402


def main() -> int:
    args = arguments(__doc__).parse_args()
    out = args.out

    from lenet_gui.__main__ import main as cli
    from lenet_gui.core import history

    runs_dir = Path(tempfile.mkdtemp(prefix="lenet-shot-runs-"))
    os.environ[history.RUNS_DIR_ENV] = str(runs_dir)
    recipes = [("classic", "mnist", 4), ("classic", "fashion-mnist", 3), ("modern", "fashion-mnist", 3)]
    for preset, dataset, epochs in recipes:
        with contextlib.redirect_stdout(io.StringIO()):
            code = cli(["train", "--preset", preset, "--dataset", dataset, "--epochs", str(epochs),
                        "--limit", "12000", "--threads", "2", "--data-root", str(args.data_root)])
        if code != 0:
            print(f"`lenet-gui train --preset {preset} --dataset {dataset}` failed", file=sys.stderr)
            return 1
    first = history.list_runs(runs_dir)[0]  # the oldest: the baseline
    history.rename_run(first.folder, "sigmoid baseline")

    from PySide6.QtTest import QTest

    app, window = open_window((1280, 820), args.data_root)  # noqa: F841 - the application lives while the window does
    tab = window.train_tab
    runs = tab.runs.records()
    for run in runs:
        tab.runs.set_visible(run.run_id, True)
    tab.runs_panel.select_run(runs[-1].run_id)
    QTest.qWait(300)
    save_grab(window, out / "screenshot-history.png")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
