#!/usr/bin/env python
"""Write the sample inputs of the Classify tab to assets/samples/.

Digits (``digit-*``): hand-like strokes and a font, in the styles real inputs come in: dark ink
on lit paper (photo-like JPEG), white chalk on black, thick and thin pens, small and off-centre,
and a PNG with a transparent background. Garments (``garment-*``): Fashion-MNIST test images
turned back into what a product photo looks like (dark garment in a colour, on a light,
slightly shaded background, larger), so that they exercise the garment pipeline's inversion.

    python scripts/make_samples.py [--data-root DIR]    (default: $LENET_DATA_ROOT)
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from handwriting import font_digit, font_files, on_paper, stroke_digit  # noqa: E402

from lenet_gui.core.data import load_dataset  # noqa: E402

OUT = ROOT / "assets" / "samples"
# (test-set index, file name, garment colour): items picked for being typical of their class.
GARMENTS = [
    (1, "garment-pullover.jpg", (150, 40, 40)),
    (2, "garment-trouser.jpg", (40, 60, 120)),
    (0, "garment-ankle-boot.jpg", (90, 60, 30)),
    (9, "garment-sneaker.jpg", (60, 60, 60)),
    (19, "garment-tshirt.png", (30, 100, 90)),
    (13, "garment-dress.jpg", (110, 30, 90)),
    (18, "garment-bag.jpg", (120, 80, 40)),
]


def digits(rng: random.Random) -> None:
    fonts = [f for f in font_files() if "Sans-Bold." in f] or font_files()
    # Dark pen on paper, photographed: a JPEG with light falling across it.
    on_paper(stroke_digit(3, rng, 200, 0.07), rng, 160, 0.7, (0.5, 0.5), blur=0.6, noise=0.02,
             ink_rgb=(25, 30, 90), paper_rgb=(240, 236, 225), shading=0.3
             ).save(OUT / "digit-3-pen-photo.jpg", quality=88)
    # White chalk on a blackboard, a thick stroke.
    chalk = stroke_digit(7, rng, 200, 0.12)
    Image.fromarray((np.asarray(chalk) * 0.9 + 20).astype(np.uint8)).resize((96, 96), Image.Resampling.LANCZOS) \
        .save(OUT / "digit-7-chalk.png")
    # A thin pen, small and off-centre on white paper.
    on_paper(stroke_digit(2, rng, 200, 0.035), rng, 128, 0.4, (0.3, 0.35), blur=0, noise=0.0,
             ink_rgb=(10, 10, 10), paper_rgb=(252, 252, 252), shading=0.0).save(OUT / "digit-2-thin-offcentre.png")
    # A printed digit.
    on_paper(font_digit(4, rng, 200, fonts[0]), rng, 112, 0.75, (0.5, 0.5), blur=0, noise=0.01,
             ink_rgb=(20, 20, 20), paper_rgb=(250, 250, 250), shading=0.0).save(OUT / "digit-4-printed.png")
    # Pencil on squared paper would be a trap; plain pencil is not.
    on_paper(stroke_digit(9, rng, 200, 0.05), rng, 128, 0.75, (0.5, 0.5), blur=0.5, noise=0.03,
             ink_rgb=(105, 105, 110), paper_rgb=(245, 245, 240), shading=0.15).save(OUT / "digit-9-pencil.jpg", quality=88)
    # Dark ink on a transparent background, as drawing apps export it.
    ink = np.asarray(stroke_digit(5, rng, 96, 0.09))
    rgba = np.zeros((96, 96, 4), np.uint8)
    rgba[..., :3] = (30, 30, 30)
    rgba[..., 3] = ink
    Image.fromarray(rgba, "RGBA").save(OUT / "digit-5-transparent.png")


def garments(data_root: str | None) -> None:
    dataset = load_dataset("fashion-mnist", data_root, download=False)
    for index, name, colour in GARMENTS:
        item = dataset.test.images[index].numpy().astype(np.float64) / 255.0  # white garment on black
        big = np.asarray(Image.fromarray((item * 255).astype(np.uint8)).resize((112, 112), Image.Resampling.BICUBIC),
                         dtype=np.float64) / 255.0
        yy = np.linspace(0, 1, 112)[:, None]
        background = np.array([246, 244, 240], dtype=np.float64)[None, None, :] * (1.0 - 0.05 * yy[..., None])
        # Bright Fashion-MNIST pixels are light parts of the garment: shade from colour to white.
        shade = np.array(colour, dtype=np.float64)[None, None, :]
        garment = shade + (255 - shade) * (1.0 - big[..., None]) * 0.35
        alpha = np.clip(big * 3.0, 0.0, 1.0)[..., None]
        rgb = background * (1 - alpha) + garment * alpha
        image = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")
        label = dataset.info.classes[int(dataset.test.labels[index])]
        if name.endswith(".jpg"):
            image.save(OUT / name, quality=88)
        else:
            image.save(OUT / name)
        print(f"{name}: test image #{index}, {label}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", default=os.environ.get("LENET_DATA_ROOT"))
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for old in list(OUT.glob("digit-*")) + list(OUT.glob("garment-*")):
        old.unlink()
    digits(random.Random(4))
    garments(args.data_root)
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {len(list(OUT.iterdir()))} files, {total / 1024:.0f} KB, to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
