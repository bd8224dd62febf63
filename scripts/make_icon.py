"""Draw LeNet Studio's icon (assets/icon.png, 256x256) with QPainter.

Feature maps stacked like LeNet's layers, the front one holding a pixelated digit. The shapes
are few and large so that the icon still reads at 16x16 in a title bar or task bar.

    QT_QPA_PLATFORM=offscreen python scripts/make_icon.py [--preview DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QLinearGradient, QPainter, QPainterPath

SIZE = 256
# A "5" on a 5x7 grid, the first digit of MNIST's training set.
DIGIT = (
    "#####",
    "#....",
    "####.",
    "....#",
    "....#",
    "#...#",
    ".###.",
)


def draw_icon(size: int = SIZE) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = size / 256.0

    background = QPainterPath()
    background.addRoundedRect(QRectF(8 * s, 8 * s, 240 * s, 240 * s), 44 * s, 44 * s)
    gradient = QLinearGradient(0, 0, size, size)
    gradient.setColorAt(0.0, QColor("#3949ab"))
    gradient.setColorAt(1.0, QColor("#00897b"))
    p.fillPath(background, gradient)

    # Two feature maps behind the front one, fading with depth.
    for offset, alpha in ((64, 80), (40, 150)):
        rect = QRectF((40 + offset) * s, (40 - offset * 0.55 + 16) * s, 132 * s, 132 * s)
        path = QPainterPath()
        path.addRoundedRect(rect, 14 * s, 14 * s)
        p.fillPath(path, QColor(255, 255, 255, alpha))

    front = QRectF(32 * s, 84 * s, 148 * s, 148 * s)
    path = QPainterPath()
    path.addRoundedRect(front, 16 * s, 16 * s)
    p.fillPath(path, QColor("#ffffff"))

    cell = 18 * s
    left = front.center().x() - 2.5 * cell
    top = front.center().y() - 3.5 * cell
    ink = QColor("#1a237e")
    for row, line in enumerate(DIGIT):
        for col, char in enumerate(line):
            if char == "#":
                p.fillRect(QRectF(left + col * cell, top + row * cell, cell + 0.5, cell + 0.5), ink)
    p.end()
    return image


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(Path(__file__).resolve().parents[1] / "assets" / "icon.png"))
    parser.add_argument("--preview", metavar="DIR", help="also write 16, 32 and 64 px versions here, to look at")
    args = parser.parse_args(argv)
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - QImage needs it for fonts
    image = draw_icon()
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    if not image.save(args.output, "PNG"):
        print(f"cannot write {args.output}", file=sys.stderr)
        return 1
    print(f"wrote {args.output}")
    if args.preview:
        for px in (16, 32, 64):
            small = image.scaled(px, px, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
            # Shown large, pixel for pixel, so that a 16 px icon can be judged on screen.
            small.scaled(px * 8, px * 8).save(str(Path(args.preview) / f"icon-{px}.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
