"""Screenshots of the Train tab: one mid-training, one after, for review and for the README.

Trains two short runs from the real window (offscreen): the tutorial's recipe, then the modern
one, so that the chart shows an earlier run dimmed beside the current one.

    QT_QPA_PLATFORM=offscreen python scripts/screenshot_train.py --data-root ../shared/datasets \\
        --out /tmp/shots [--readme docs/screenshot-train.png] [--diagnostics docs/screenshot-diagnostics.png]

``--diagnostics``: also the Diagnostics page of each run after training, side by side.
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
    parser.add_argument("--out", default="/tmp/lenet-shots")
    parser.add_argument("--readme", help="also save the mid-training shot here")
    parser.add_argument("--diagnostics", help="also save both runs' Diagnostics pages, side by side, here")
    parser.add_argument("--limit", type=int, default=30000, help="training images per run")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from lenet_gui.core.history import RUNS_DIR_ENV

    # A history of its own: the pictures show these two runs, not the runs of whoever takes them.
    os.environ[RUNS_DIR_ENV] = tempfile.mkdtemp(prefix="lenet-shot-runs-")

    from PySide6.QtCore import QSettings, QTimer

    from lenet_gui.ui.app import make_application
    from lenet_gui.ui.main_window import MainWindow

    app = make_application()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    settings = QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(data_root=args.data_root, settings=settings)
    window.resize(1280, 800)
    window.show()
    tab = window.train_tab
    tab.train_limit = args.limit
    recipes = [("classic", args.epochs), ("modern", args.epochs)]

    def start_next() -> None:
        preset, epochs = recipes.pop(0)
        tab.recipe.dataset_combo.setCurrentIndex(tab.recipe.dataset_combo.findData("fashion-mnist"))
        tab.recipe.preset_combo.setCurrentIndex(tab.recipe.preset_combo.findData(preset))
        tab.recipe.epochs_spin.setValue(epochs)
        if not tab.start_training():
            print(tab.error_text, file=sys.stderr)
            app.exit(1)
            return
        last = not recipes
        tab.thread.finished.connect(lambda: QTimer.singleShot(300, after if last else start_next))
        if last:
            tab.thread.epoch_finished.connect(lambda r: r.epoch == 1 and QTimer.singleShot(1500, mid))

    def mid() -> None:
        window.grab().save(str(out / "train-mid.png"))
        print(f"wrote {out / 'train-mid.png'}")
        if args.readme:  # the README shows a run learning beside the dimmed earlier one
            Path(args.readme).parent.mkdir(parents=True, exist_ok=True)
            window.grab().save(args.readme)
            print(f"wrote {args.readme}")

    def after() -> None:
        window.grab().save(str(out / "train-after.png"))
        print(f"wrote {out / 'train-after.png'}")
        if args.diagnostics:
            save_diagnostics(Path(args.diagnostics))
        app.quit()

    def save_diagnostics(path: Path) -> None:
        from PySide6.QtGui import QImage, QPainter
        from PySide6.QtWidgets import QApplication

        view = tab.diagnostics_view
        tab.chart_tabs.setCurrentWidget(view)
        pages = []
        for run in tab.runs.records():
            tab.runs_panel.select_run(run.run_id)
            QApplication.processEvents()
            pages.append(view.grab().toImage())
        picture = QImage(sum(p.width() for p in pages), max(p.height() for p in pages), QImage.Format.Format_RGB32)
        picture.fill(0xFFFFFF)
        painter = QPainter(picture)
        x = 0
        for page in pages:
            painter.drawImage(x, 0, page)
            x += page.width()
        painter.end()
        path.parent.mkdir(parents=True, exist_ok=True)
        picture.save(str(path))
        print(f"wrote {path}")

    QTimer.singleShot(0, start_next)
    code = app.exec()
    window.close()
    return code


if __name__ == "__main__":
    sys.exit(main())
