"""Dropping a 12-megapixel photo on the Classify tab: the longest event-loop stall.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/drop_photo.py [--rounds 5]

Generates a 4000 x 3000 JPEG, opens the window on the Classify tab, and in alternating rounds
gives it the photo the way a drop does (decoded on a worker thread) and the way a sample button
does (decoded on the window's thread, the old way of every input), while a 10 ms timer measures
how late the event loop runs. Prints each round, then the medians and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from PySide6.QtCore import QElapsedTimer, QMimeData, QPointF, QSettings, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from lenet_gui.ui.main_window import MainWindow  # noqa: E402


def make_photo(path: Path) -> None:
    rng = np.random.default_rng(0)
    pixels = (rng.random((3000, 4000, 3)) * 40 + 200).astype(np.uint8)  # a light, noisy background
    image = Image.fromarray(pixels)
    ImageDraw.Draw(image).rectangle((1400, 500, 2600, 2500), fill=(40, 40, 60))  # a dark garment
    image.save(path, quality=90)


class StallProbe:
    TICK_MS = 10

    def __init__(self):
        self.timer = QTimer()
        self.timer.setInterval(self.TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.clock = QElapsedTimer()

    def start(self):
        self.longest = 0.0
        self.clock.start()
        self.last = 0
        self.timer.start()

    def _tick(self):
        now = self.clock.elapsed()
        self.longest = max(self.longest, now - self.last - self.TICK_MS)
        self.last = now

    def stop(self) -> float:
        self.timer.stop()
        self._tick()
        return max(self.longest, 0.0)


def wait(app, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.001)


def drop(tab, path: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    centre = tab.canvas.geometry().center()
    QApplication.sendEvent(tab, QDragEnterEvent(centre, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                                Qt.KeyboardModifier.NoModifier))
    QApplication.sendEvent(tab, QDropEvent(QPointF(centre), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                           Qt.KeyboardModifier.NoModifier))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    folder = Path(tempfile.mkdtemp(prefix="lenet-drop-"))
    photo = folder / "photo-12mp.jpg"
    make_photo(photo)
    window = MainWindow(settings=QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat))
    window.show()
    window.show_tab("classify")
    tab = window.classify_tab
    wait(app, 1.0)
    probe = StallProbe()
    rows = []
    for i in range(args.rounds):
        probe.start()
        # QTimer-driven, so that the event loop (not this function) runs while the probe ticks
        QTimer.singleShot(50, lambda: tab.load_image(photo))
        wait(app, 1.5)
        old = probe.stop()
        tab.clear()
        probe.start()
        QTimer.singleShot(50, lambda: drop(tab, photo))
        wait(app, 0.1)
        while tab.decoding:
            wait(app, 0.02)
        wait(app, 0.3)
        new = probe.stop()
        label = tab.last_prediction.label if tab.last_prediction else None
        tab.clear()
        rows.append((old, new))
        print(f"round {i + 1}: window-thread decode {old:.0f} ms, worker decode (drop) {new:.0f} ms longest stall "
              f"(prediction {label})", flush=True)
    old_med, new_med = statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows)
    print(f"median longest stall: window-thread decode {old_med:.0f} ms, drop {new_med:.0f} ms "
          f"({old_med / max(new_med, 1):.1f}x shorter)")
    window.close()


if __name__ == "__main__":
    main()
