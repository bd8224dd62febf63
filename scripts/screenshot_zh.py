"""Screenshots of every tab in Simplified Chinese, for review and for the README.

Needs a CJK font for offscreen rendering (Debian: fonts-noto-cjk). Trains one short run from
the real window, then shows a garment photo in Classify and Inspect.

    QT_QPA_PLATFORM=offscreen python scripts/screenshot_zh.py --data-root ../shared/datasets \\
        --out /tmp/shots-zh [--readme docs/screenshot-zh.png]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=os.environ.get("LENET_DATA_ROOT"))
    parser.add_argument("--out", default="/tmp/lenet-shots-zh")
    parser.add_argument("--readme", help="also save the Train tab's shot here")
    parser.add_argument("--limit", type=int, default=6000, help="training images")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from lenet_gui.core.history import RUNS_DIR_ENV

    # A history of its own: the pictures show this run, not the runs of whoever takes them.
    os.environ[RUNS_DIR_ENV] = tempfile.mkdtemp(prefix="lenet-shot-runs-")

    from PySide6.QtCore import QSettings, QTimer

    from lenet_gui.core.resources import sample_paths
    from lenet_gui.ui import i18n
    from lenet_gui.ui.app import make_application
    from lenet_gui.ui.main_window import MainWindow

    app = make_application()
    i18n.set_language("zh_CN")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    settings = QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(data_root=args.data_root, settings=settings)
    window.resize(1280, 820)
    window.show()
    tab = window.train_tab
    tab.train_limit, tab.test_limit = args.limit, 2000
    recipe = tab.recipe
    recipe.dataset_combo.setCurrentIndex(recipe.dataset_combo.findData("fashion-mnist"))
    recipe.preset_combo.setCurrentIndex(recipe.preset_combo.findData("classic"))
    recipe.epochs_spin.setValue(3)
    recipe.batch_spin.setValue(64)
    shots = {}

    def grab(name: str) -> None:
        app.processEvents()
        path = out / f"{name}.png"
        window.grab().save(str(path))
        shots[name] = path

    def mid_run() -> None:
        grab("train-running")

    def after_run() -> None:
        grab("train")
        window.classify_tab.model_picker.choose(1)
        window.show_tab("classify")
        window.classify_tab.load_image([p for p in sample_paths() if p.name.startswith("garment-ankle-boot")][0])
        grab("classify")
        window.show_tab("inspect")
        QTimer.singleShot(4000, lambda: (grab("inspect"), app.quit()))

    tab.start_training()
    tab.runs.epoch_added.connect(lambda _id: mid_run() if len(tab.runs.records()[0].epochs) == 1 else None)
    timer = QTimer()
    timer.timeout.connect(lambda: (timer.stop(), after_run()) if not tab.running and tab.runs.records() else None)
    timer.start(200)
    app.exec()
    if args.readme:
        Path(args.readme).write_bytes(shots["train"].read_bytes())
    for name, path in shots.items():
        print(name, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
