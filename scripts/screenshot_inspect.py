"""Screenshots of the Inspect tab: a drawn digit (MNIST model) and a garment photo (Fashion-MNIST).

    QT_QPA_PLATFORM=offscreen python scripts/screenshot_inspect.py [--data-root DIR] [--out DIR]
        [--mnist-model PATH] [--fashion-model PATH]

Needs the data sets (for the test-set view and the garment). Writes inspect-digit.png,
inspect-garment.png and inspect-dark.png (a drawn 1, in dark mode) into --out (default: docs/).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402
from screenshot_support import arguments  # noqa: E402


def drawn_digit():
    """A 4 drawn with a round pen on a 280 x 280 canvas, as in the Classify tab."""
    canvas = Image.new("L", (280, 280), 0)
    draw = ImageDraw.Draw(canvas)
    for stroke in ([(170, 40), (70, 170), (215, 170)], [(170, 40), (165, 250)]):
        draw.line(stroke, fill=255, width=20, joint="curve")
    return canvas


def drawn_one():
    """A 1 drawn with a round pen on a 280 x 280 canvas, with its flag."""
    canvas = Image.new("L", (280, 280), 0)
    draw = ImageDraw.Draw(canvas)
    draw.line([(120, 80), (150, 45), (150, 240)], fill=255, width=20, joint="curve")
    return canvas


def garment_photo(images, labels, wanted: int = 7):
    """A photo-like picture of a garment: a test image, dark on a light background, enlarged."""
    index = int(np.flatnonzero(labels == wanted)[3])
    image = Image.fromarray(255 - images[index]).resize((300, 300), Image.Resampling.BICUBIC)
    photo = Image.new("RGB", (400, 360), (235, 232, 226))
    photo.paste(Image.merge("RGB", [image] * 3), (50, 30))
    return photo


def main() -> int:
    parser = arguments(__doc__)
    parser.add_argument("--mnist-model", default="mnist")
    parser.add_argument("--fashion-model", default="fashion-mnist")
    args = parser.parse_args()

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from lenet_gui.core.checkpoint import load_checkpoint
    from lenet_gui.core.data import load_dataset
    from lenet_gui.core.preprocess import preprocess_image
    from lenet_gui.core.resources import model_path
    from lenet_gui.ui import theme
    from lenet_gui.ui.main_window import MainWindow
    from lenet_gui.ui.session import CurrentInput

    app = QApplication.instance() or QApplication([])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    settings = QSettings(str(out / ".screenshot-settings.ini"), QSettings.Format.IniFormat)
    fashion_test = load_dataset("fashion-mnist", args.data_root, download=False).test

    shots = [
        ("inspect-digit.png", args.mnist_model, drawn_digit(), "drawing", "gradient", theme.LIGHT),
        ("inspect-garment.png", args.fashion_model,
         garment_photo(fashion_test.images.numpy(), fashion_test.labels.numpy()), "sneaker-photo.png", "gradcam",
         theme.LIGHT),
        ("inspect-dark.png", args.mnist_model, drawn_one(), "drawing", "gradient", theme.DARK),
    ]
    for name, model, picture, description, saliency, colours in shots:
        settings.setValue("view/theme", colours)
        window = MainWindow(data_root=args.data_root, settings=settings)
        window.resize(1280, 820)
        window.show()
        loaded = load_checkpoint(model_path(model))
        window.session.set_model(loaded)
        window.tabs.setCurrentWidget(window.inspect_tab)
        window.inspect_tab.saliency.set_method(saliency)
        pre = preprocess_image(picture, loaded.input_kind)
        window.session.set_input(CurrentInput(pre, np.asarray(picture), description))
        view = window.inspect_tab.test_set
        deadline = time.monotonic() + 60
        while view.result is None and time.monotonic() < deadline:
            app.processEvents()  # a script waiting for the evaluation thread, not a UI cure
            time.sleep(0.01)
        app.processEvents()
        window.inspect_tab.saliency.update_now()  # it follows the maps' paint; the grab must not wait
        window.grab().save(str(out / name))
        print(f"wrote {out / name}")
        window.close()
    (out / ".screenshot-settings.ini").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
