"""Screenshots of the Network tab: the layer table of the tutorial's network, and a convolution
step-through on a drawn digit (the bundled MNIST model).

    QT_QPA_PLATFORM=offscreen python scripts/screenshot_network.py [--out DIR] [--model PATH]
        [--size 1280x820]

Writes screenshot-network.png and screenshot-network-conv.png into --out (default: docs/).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
from screenshot_inspect import drawn_digit  # noqa: E402 - the same 4 as the Inspect tab's screenshot


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(REPO / "docs"))
    parser.add_argument("--model", default="mnist")
    parser.add_argument("--size", default="1280x820")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from lenet_gui.core.checkpoint import LoadedModel, load_checkpoint
    from lenet_gui.core.model import LeNet
    from lenet_gui.core.preprocess import preprocess_image
    from lenet_gui.core.resources import model_path
    from lenet_gui.ui.main_window import MainWindow
    from lenet_gui.ui.session import CurrentInput

    app = QApplication.instance() or QApplication([])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    settings = QSettings(str(out / ".screenshot-settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings)
    window.resize(width, height)
    window.show()
    tab = window.network_tab
    window.tabs.setCurrentWidget(tab)

    # The tutorial's network (untrained): its table is the chapter's shape walk.
    classic = LoadedModel(model=LeNet().eval(), classes=[str(d) for d in range(10)], dataset=None,
                          input_kind="digit", metadata={"title": "LeNet (classic)"})
    window.session.set_model(classic)
    tab.pages.setCurrentWidget(tab.table)
    app.processEvents()
    window.grab().save(str(out / "screenshot-network.png"))
    print(f"wrote {out / 'screenshot-network.png'}")

    loaded = load_checkpoint(model_path(args.model))
    window.session.set_model(loaded)
    picture = drawn_digit()
    window.session.set_input(CurrentInput(preprocess_image(picture, loaded.input_kind), np.asarray(picture), "drawing"))
    tab.pages.setCurrentWidget(tab.step_page)
    tab.set_layer("conv2")
    app.processEvents()
    # The strongest value of a channel that sees the digit's corner: a window with something in it.
    conv2 = tab.prediction.activations["conv2"][9]
    tab.set_position((9, *(int(i) for i in np.unravel_index(int(np.argmax(conv2)), conv2.shape))))
    app.processEvents()
    window.grab().save(str(out / "screenshot-network-conv.png"))
    print(f"wrote {out / 'screenshot-network-conv.png'}")
    window.close()
    (out / ".screenshot-settings.ini").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
