#!/usr/bin/env python
"""How well does the MNIST model read digits that are not MNIST?

Renders digits of our own making (hand-like strokes with random pens, the installed fonts; dark
ink on lit, noisy paper, some blurred, rotated, small or off-centre, saved as JPEG or PNG like a
photo or a scan) and classifies each file's bytes with the same pipeline as ``lenet-gui predict``
(``lenet_gui.core.inference.classify``). With ``--variants`` it also runs alternative digit
preprocessing on the same images, which is how the choices in core/preprocess.py were made.

    python scripts/handwriting_eval.py [--model mnist] [--count 300] [--variants] [--save-dir DIR]
"""

from __future__ import annotations

import argparse
import io
import random
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from handwriting import font_files, random_digit_photo  # noqa: E402

from lenet_gui.core import preprocess as pp  # noqa: E402
from lenet_gui.core.checkpoint import load_checkpoint  # noqa: E402
from lenet_gui.core.inference import Predictor, classify  # noqa: E402
from lenet_gui.core.resources import model_path  # noqa: E402


def make_set(count: int, seed: int) -> list[tuple[int, bytes, str]]:
    rng = random.Random(seed)
    fonts = font_files()
    items = []
    for i in range(count):
        digit = i % 10
        image, style = random_digit_photo(digit, rng, fonts)
        buffer = io.BytesIO()
        if rng.random() < 0.5:
            image.save(buffer, "JPEG", quality=rng.choice([70, 85, 95]))
            style += " jpeg"
        else:
            image.save(buffer, "PNG")
            style += " png"
        items.append((digit, buffer.getvalue(), style))
    return items


# -- alternative digit pipelines, for the comparison --------------------------------------------

def _estimate_width(binary: np.ndarray) -> float:
    """Stroke width of a binary shape: twice the area over the perimeter (w for a long stroke)."""
    area = binary.sum()
    perimeter = (binary[:, 1:] != binary[:, :-1]).sum() + (binary[1:, :] != binary[:-1, :]).sum()
    return 2.0 * area / max(1, perimeter)


def _otsu(values: np.ndarray) -> float:
    hist, edges = np.histogram(values, bins=64, range=(0.0, 1.0))
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * centres) / np.maximum(w0, 1)
    m1 = (np.sum(hist * centres) - np.cumsum(hist * centres)) / np.maximum(w1, 1)
    between = w0 * w1 * (m0 - m1) ** 2
    return float(centres[int(np.argmax(between))])


def _gaussian(arr: np.ndarray, sigma: float) -> np.ndarray:
    radius = max(1, int(3 * sigma))
    x = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (x / sigma) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(arr, radius, mode="constant")
    rows = np.apply_along_axis(lambda r: np.convolve(r, kernel, mode="valid"), 1, padded)
    return np.apply_along_axis(lambda c: np.convolve(c, kernel, mode="valid"), 0, rows)


def _grow_or_shrink(image: Image.Image, steps: int) -> Image.Image:
    for _ in range(abs(steps)):
        image = image.filter(ImageFilter.MaxFilter(3) if steps > 0 else ImageFilter.MinFilter(3))
    return image


def digit_variant(grey: np.ndarray, *, resample=Image.Resampling.LANCZOS, blur: bool = False,
                  threshold: float | str | None = None, stroke_target: float | None = None,
                  renormalise: bool = True) -> pp.Preprocessed:
    background = pp._border_level(grey)
    ink = 1.0 - grey if background > 0.5 else grey.copy()
    floor = min(background, 1.0 - background)
    peak = float(np.percentile(ink, 99.9)) if ink.size > 1000 else float(ink.max())
    if peak - floor < 0.15:
        return pp._blank()
    ink = np.clip((ink - floor) / (peak - floor), 0.0, 1.0)
    ink[ink < 0.2] = 0.0
    if threshold == "otsu":
        ink = (ink > _otsu(ink)).astype(float)
    elif threshold:
        ink = (ink > float(threshold)).astype(float)
    box = pp._ink_bbox(ink, 0.2)
    if box is None:
        return pp._blank()
    top, bottom, left, right = box
    ink = ink[top:bottom, left:right]
    h, w = ink.shape
    if stroke_target is not None:
        # Work at 4x the output size: big enough for 1-pixel morphology steps to be fine ones.
        s = 80.0 / max(h, w)
        mid = Image.fromarray(ink.astype(np.float32), "F").resize(
            (max(1, round(w * s)), max(1, round(h * s))), Image.Resampling.BOX)
        arr = np.asarray(mid)
        width = _estimate_width(arr > 0.5) / 4.0  # in output (20-box) pixels
        steps = int(round((stroke_target - width) * 4.0 / 2.0))  # each 3x3 step adds 2 px at 4x
        steps = max(-3, min(6, steps))
        if steps:
            pad = max(0, steps) + 1
            mid = Image.fromarray(np.pad(arr, pad).astype(np.float32), "F")
            mid = _grow_or_shrink(mid, steps)
            arr = np.asarray(mid)
            rows = np.flatnonzero((arr > 0.2).any(1))
            cols = np.flatnonzero((arr > 0.2).any(0))
            if rows.size == 0:
                return pp._blank()
            arr = arr[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        ink = arr.astype(np.float64)
        h, w = ink.shape
    scale = 20.0 / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    if blur and scale < 0.5:
        ink = _gaussian(ink, 0.5 / scale)
    small = np.asarray(Image.fromarray(ink.astype(np.float32), "F").resize((new_w, new_h), resample), dtype=np.float64)
    small = np.clip(small, 0.0, None)
    if small.max() <= 0:
        return pp._blank()
    if renormalise:
        small = np.clip(small / small.max(), 0.0, 1.0)
    else:
        small = np.clip(small, 0.0, 1.0)
    total = small.sum()
    cy = float((small.sum(axis=1) * np.arange(new_h)).sum() / total)
    cx = float((small.sum(axis=0) * np.arange(new_w)).sum() / total)
    top = min(max(int(round(13.5 - cy)), 0), 28 - new_h)
    left = min(max(int(round(13.5 - cx)), 0), 28 - new_w)
    canvas = np.zeros((28, 28))
    canvas[top:top + new_h, left:left + new_w] = small
    return pp._result(canvas)


VARIANTS = {
    "no threshold (ink < 0.2 dropped)": dict(),
    "lanczos (no renormalise)": dict(renormalise=False),
    "bilinear": dict(resample=Image.Resampling.BILINEAR),
    "box (area)": dict(resample=Image.Resampling.BOX),
    "gaussian blur before resize": dict(blur=True),
    "threshold at 0.35": dict(threshold=0.35),
    "threshold at 0.5": dict(threshold=0.5),
    "threshold at 0.65": dict(threshold=0.65),
    "threshold (Otsu)": dict(threshold="otsu"),
    "threshold 0.5 + stroke -> 2.0": dict(threshold=0.5, stroke_target=2.0),
    "stroke width -> 1.5 px": dict(stroke_target=1.5),
    "stroke width -> 2.0 px": dict(stroke_target=2.0),
    "stroke width -> 2.5 px": dict(stroke_target=2.5),
    "stroke width -> 3.0 px": dict(stroke_target=3.0),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="mnist")
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--variants", action="store_true", help="also try alternative preprocessing")
    parser.add_argument("--save-dir", help="write the rendered images here")
    parser.add_argument("--pen-sweep", action="store_true",
                        help="also draw digits on the app's canvas at several pen widths")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    loaded = load_checkpoint(model_path(args.model))
    predictor = Predictor(loaded)
    items = make_set(args.count, args.seed)
    if args.save_dir:
        out = Path(args.save_dir)
        out.mkdir(parents=True, exist_ok=True)
        for i, (digit, data, style) in enumerate(items):
            ext = "jpg" if style.endswith("jpeg") else "png"
            (out / f"{i:03d}-true{digit}.{ext}").write_bytes(data)

    correct = 0
    by_digit = defaultdict(lambda: [0, 0])
    by_source = defaultdict(lambda: [0, 0])
    greys = []
    for digit, data, style in items:
        _pre, prediction = classify(loaded, data, predictor)  # exactly `lenet-gui predict`'s path
        ok = prediction is not None and prediction.index == digit
        correct += ok
        by_digit[digit][0] += ok
        by_digit[digit][1] += 1
        source = "font" if style.startswith("font") else "strokes"
        by_source[source][0] += ok
        by_source[source][1] += 1
        if args.variants:
            greys.append((digit, pp.to_grey_array(pp.open_image(data))))
    print(f"model: {loaded.title} ({loaded.path})")
    print(f"handwriting-like digits: {correct}/{len(items)} correct = {correct / len(items):.3f}")
    print("  by source: " + ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in sorted(by_source.items())))
    print("  by digit:  " + ", ".join(f"{d}:{v[0]}/{v[1]}" for d, v in sorted(by_digit.items())))
    if args.variants:
        print("alternative digit preprocessing on the same images:")
        for name, knobs in VARIANTS.items():
            hits = 0
            for digit, grey in greys:
                pre = digit_variant(grey, **knobs)
                hits += (not pre.blank) and predictor.predict(pre.tensor).index == digit
            print(f"  {name:<30} {hits}/{len(greys)} = {hits / len(greys):.3f}")
    if args.pen_sweep:
        pen_sweep(predictor, args.seed)
    return 0


def pen_sweep(predictor: Predictor, seed: int) -> None:
    """Digits drawn on the app's own canvas (its raster, its pipeline) at each pen width, sized
    as people draw them (55-85% of the canvas), against MNIST's stroke width."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QPointF
    from PySide6.QtWidgets import QApplication

    from handwriting import SKELETONS, _chaikin
    from lenet_gui.core.data import load_dataset
    from lenet_gui.ui.classify.canvas import DrawingCanvas, Stroke

    app = QApplication.instance() or QApplication([])  # noqa: F841 - painting needs one
    root = os.environ.get("LENET_DATA_ROOT")
    if root:
        mnist = load_dataset("mnist", root, download=False).test.images[:2000].numpy() / 255.0
        widths = [_estimate_width(img > 0.5) for img in mnist]
        print(f"MNIST test digits: stroke width {np.median(widths):.2f} px (median of 2 x area / perimeter)")
    print("digits drawn on the canvas, by pen width (fraction of the canvas side):")
    for pen in (0.03, 0.045, 0.06, 0.08, 0.1, 0.13):
        rng = random.Random(seed)
        hits, total, widths = 0, 0, []
        for trial in range(8):
            for digit, variants in SKELETONS.items():
                canvas = DrawingCanvas()
                size = rng.uniform(0.55, 0.85)
                ox, oy = rng.uniform(0.08, 0.92 - size), rng.uniform(0.08, 0.92 - size)
                for stroke in rng.choice(variants):
                    pts = np.array(stroke) + np.array([[rng.gauss(0, 0.02), rng.gauss(0, 0.02)] for _ in stroke])
                    pts = _chaikin(pts, rounds=3)
                    canvas.strokes.append(Stroke(pen, [QPointF(ox + size * x, oy + size * y) for x, y in pts]))
                pre = pp.preprocess_array(canvas.ink_array(), pp.DIGIT)
                widths.append(_estimate_width(pre.tensor[0].numpy() > 0.5))
                hits += predictor.predict(pre.tensor).index == digit
                total += 1
        print(f"  pen {pen:.3f}: {hits}/{total} right, stroke width in the 28 x 28 input {np.median(widths):.2f} px")


if __name__ == "__main__":
    sys.exit(main())
