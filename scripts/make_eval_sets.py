#!/usr/bin/env python
"""Evaluation sets of the inputs users really bring, made from the training images only.

Each image is a file, as a user would hand it to ``lenet-gui predict`` or drop it on the window:

digit model (MNIST)
  ``scan``    low-resolution scans: dark ink on paper, a few pixels tall, blurred, noisy, often
              JPEG, then enlarged by the user (nearest, bilinear or bicubic);
  ``canvas``  the app's drawing canvas: the digit's centre line redrawn with the canvas's round
              pen (its widths, antialiased, white ink on black, at its 140-pixel raster) at any
              size, place and slant, small digits with a thick pen included;
  ``png``     MNIST digits saved as dark-on-white pictures: gamma, colour ink, transparency,
              16-bit, enlarged or not;
garment model (Fashion-MNIST)
  ``photo``   colour "shop photos": the garment tinted, on a light background with a gradient
              and a soft shadow, enlarged like a small photo, mostly JPEG;
neither model knows (out-of-distribution, label -1)
  ``garment`` (for the digit model: the garment photos), ``digit`` (for the garment model:
              digit scans and pictures), ``noise``, ``scene`` (shapes and colours: a photo of
              something else), ``text`` (words), ``blank`` (empty paper, gradients).

Sources are the training images the bundled models never train on (``holdout_ranges`` in
lenet_gui/core/data.py): the "tune" split comes from the calibration part, the "heldout" split
from the reserved part, which nothing in training, calibration or the choices made from these
sets ever looked at. The official test sets are not used.

    python scripts/make_eval_sets.py --out /tmp/lenet-eval [--per-kind 600] [--data-root DIR]

writes the images and ``manifest.csv`` (file, model, kind, split, label, source index).
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import random
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from handwriting import SKELETONS, _chaikin, font_files  # noqa: E402

from lenet_gui.core.data import holdout_ranges, load_dataset  # noqa: E402

HOLDOUT = 5000  # the bundled models' preset holds out the last 5000 training images
CANVAS_RASTER = 140  # the drawing canvas's raster for the model (ui canvas RASTER)
PEN_RANGE = (0.02, 0.16)  # the canvas's pen slider, as fractions of the canvas side
DEFAULT_PEN = 0.08
SUPERSAMPLE = 4


# -- helpers -----------------------------------------------------------------------------------

def _save(image: Image.Image, rng: random.Random, jpeg_share: float) -> tuple[bytes, str]:
    buffer = io.BytesIO()
    if image.mode in ("RGB", "L") and rng.random() < jpeg_share:
        image.save(buffer, "JPEG", quality=rng.choice([50, 65, 80, 90, 95]))
        return buffer.getvalue(), "jpg"
    image.save(buffer, "PNG")
    return buffer.getvalue(), "png"


def _resample(rng: random.Random):
    return rng.choice([Image.Resampling.NEAREST, Image.Resampling.BILINEAR, Image.Resampling.BICUBIC])


def _gradient(h: int, w: int, rng: random.Random, strength: float) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    angle = rng.uniform(0, 2 * math.pi)
    t = (np.cos(angle) * xx / max(1, w) + np.sin(angle) * yy / max(1, h))
    t = t - t.mean()
    return strength * t / max(1e-6, np.abs(t).max())


def thin(binary: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning: the one-pixel centre line of a binary shape."""
    img = np.pad(binary.astype(bool), 1)
    while True:
        changed = False
        for step in (0, 1):
            p2, p3, p4 = img[:-2, 1:-1], img[:-2, 2:], img[1:-1, 2:]
            p5, p6, p7 = img[2:, 2:], img[2:, 1:-1], img[2:, :-2]
            p8, p9 = img[1:-1, :-2], img[:-2, :-2]
            ring = [p2, p3, p4, p5, p6, p7, p8, p9, p2]
            count = sum(p.astype(int) for p in ring[:-1])
            transitions = sum((~a & b).astype(int) for a, b in zip(ring[:-1], ring[1:]))
            remove = img[1:-1, 1:-1] & (count >= 2) & (count <= 6) & (transitions == 1)
            if step == 0:
                remove &= ~(p2 & p4 & p6) & ~(p4 & p6 & p8)
            else:
                remove &= ~(p2 & p4 & p8) & ~(p2 & p6 & p8)
            if remove.any():
                img[1:-1, 1:-1][remove] = False
                changed = True
        if not changed:
            return img[1:-1, 1:-1]


def skeleton_segments(digit28: np.ndarray) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """The centre line of an MNIST digit as segments between neighbouring skeleton pixels, in
    units of the digit's height, centred on its box."""
    big = np.asarray(Image.fromarray(digit28).resize((112, 112), Image.Resampling.BILINEAR), dtype=float) / 255.0
    skeleton = thin(big > 0.5)
    ys, xs = np.nonzero(skeleton)
    if len(ys) == 0:
        return []
    top, bottom, left, right = ys.min(), ys.max(), xs.min(), xs.max()
    height = max(1.0, float(bottom - top))
    cy, cx = (top + bottom) / 2, (left + right) / 2
    on = set(zip(ys.tolist(), xs.tolist()))
    segments = []
    for y, x in on:
        for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
            if (y + dy, x + dx) in on:
                segments.append((((x - cx) / height, (y - cy) / height),
                                 ((x + dx - cx) / height, (y + dy - cy) / height)))
    if not segments:  # a single dot
        segments.append((((xs[0] - cx) / height, 0.0), ((xs[0] - cx) / height, 0.0)))
    return segments


def polyline_segments(digit: int, rng: random.Random):
    """handwriting.py's skeleton strokes, smoothed, as segments (unit height, centred)."""
    segments = []
    for stroke in rng.choice(SKELETONS[digit]):
        pts = np.array(stroke, dtype=float) + np.array([[rng.gauss(0, 0.02), rng.gauss(0, 0.02)] for _ in stroke])
        pts = _chaikin(pts, rounds=3)
        pts -= 0.5
        pts /= 0.9
        segments += [((float(a[0]), float(a[1])), (float(b[0]), float(b[1]))) for a, b in zip(pts[:-1], pts[1:])]
    return segments


def draw_canvas(segments, rng: random.Random, height: float, pen: float, slant: float, angle: float,
                aspect: float) -> Image.Image:
    """The canvas raster as the app hands it over: white ink on black, antialiased."""
    ca, sa = math.cos(angle), math.sin(angle)

    def transform(p):
        x, y = p
        x = (x + slant * y) * aspect
        return ca * x - sa * y, sa * x + ca * y

    pts = [(transform(a), transform(b)) for a, b in segments]
    xs = [c[0] for seg in pts for c in seg]
    ys = [c[1] for seg in pts for c in seg]
    span_y = max(1e-3, max(ys) - min(ys))
    scale = height * CANVAS_RASTER / span_y  # the drawn height, in raster pixels
    pen_px = pen * CANVAS_RASTER
    w = (max(xs) - min(xs)) * scale + pen_px
    h = (max(ys) - min(ys)) * scale + pen_px
    room_x, room_y = max(0.0, CANVAS_RASTER - w), max(0.0, CANVAS_RASTER - h)
    ox = rng.uniform(0, room_x) + pen_px / 2 - min(xs) * scale
    oy = rng.uniform(0, room_y) + pen_px / 2 - min(ys) * scale
    side = CANVAS_RASTER * SUPERSAMPLE
    image = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(image)
    width = max(1, int(round(pen_px * SUPERSAMPLE)))
    r = pen_px * SUPERSAMPLE / 2
    for (ax, ay), (bx, by) in pts:
        a = ((ox + ax * scale) * SUPERSAMPLE, (oy + ay * scale) * SUPERSAMPLE)
        b = ((ox + bx * scale) * SUPERSAMPLE, (oy + by * scale) * SUPERSAMPLE)
        draw.line([a, b], fill=255, width=width)
        for px, py in (a, b):  # the round pen's caps and joins
            draw.ellipse((px - r, py - r, px + r, py + r), fill=255)
    return image.resize((CANVAS_RASTER, CANVAS_RASTER), Image.Resampling.BOX)


# -- the kinds ---------------------------------------------------------------------------------

def make_scan(digit28: np.ndarray, rng: random.Random) -> tuple[Image.Image, str]:
    ink = digit28.astype(float) / 255.0
    digit_px = rng.uniform(8, 22)  # the digit's height in the scan (MNIST's box is 20 of 28)
    side = max(6, int(round(28 * digit_px / 20)))
    small = np.asarray(Image.fromarray(ink.astype(np.float32), "F").resize((side, side), Image.Resampling.BOX))
    small = np.clip(small, 0, 1)
    pad = [int(side * rng.uniform(0.1, 0.8)) for _ in range(4)]
    ink_full = np.pad(small, ((pad[0], pad[1]), (pad[2], pad[3])))
    h, w = ink_full.shape
    paper = rng.uniform(0.78, 1.0) + _gradient(h, w, rng, rng.uniform(0, 0.08))
    ink_level = rng.uniform(0.0, 0.45)
    grey = paper - (paper - ink_level) * ink_full
    colour = rng.random() < 0.4
    if colour:
        tint_ink = np.array([rng.uniform(0.0, 0.35), rng.uniform(0.0, 0.35), rng.uniform(0.2, 0.6)])
        tint_paper = np.array([1.0, rng.uniform(0.95, 1.0), rng.uniform(0.85, 1.0)])
        rgb = paper[..., None] * tint_paper * (1 - ink_full[..., None]) + tint_ink * ink_full[..., None]
        arr = rgb
    else:
        arr = grey
    image = Image.fromarray((np.clip(arr, 0, 1) * 255).astype(np.uint8), "RGB" if colour else "L")
    blur = rng.uniform(0.3, 1.2)
    image = image.filter(ImageFilter.GaussianBlur(blur))
    noisy = np.asarray(image, dtype=float) + np.random.default_rng(rng.randrange(1 << 30)).normal(
        0, rng.uniform(0, 8), np.asarray(image).shape)
    image = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), image.mode)
    if rng.random() < 0.5:  # the scanner's own JPEG
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=rng.choice([40, 60, 75, 90]))
        image = Image.open(io.BytesIO(buffer.getvalue()))
        image.load()
    factor = rng.randint(3, 10)
    image = image.resize((image.width * factor, image.height * factor), _resample(rng))
    return image, f"h{digit_px:.0f}px blur{blur:.1f} x{factor}"


def make_canvas(digit28: np.ndarray, label: int, rng: random.Random) -> tuple[Image.Image, str]:
    if rng.random() < 0.75:
        segments, source = skeleton_segments(digit28), "mnist"
    else:
        segments, source = polyline_segments(label, rng), "strokes"
    # Every size a user draws at, and any pen of the slider; a pen thicker than a quarter of the
    # digit's height closes its loops (bolder than MNIST's boldest), so a user would redraw.
    if rng.random() < 0.3:
        height = rng.uniform(0.2, 0.4)  # small, often in a corner
        pen = DEFAULT_PEN if rng.random() < 0.5 else rng.uniform(*PEN_RANGE)
    else:
        height = rng.uniform(0.3, 0.95)
        pen = rng.uniform(*PEN_RANGE)
    pen = min(pen, 0.25 * height)
    pen = max(pen, PEN_RANGE[0])
    slant = rng.uniform(-0.35, 0.35)
    angle = math.radians(rng.uniform(-12, 12))
    aspect = rng.uniform(0.75, 1.25)
    image = draw_canvas(segments, rng, height, pen, slant, angle, aspect)
    return image, f"{source} height{height:.2f} pen{pen:.3f}"


def make_png(digit28: np.ndarray, rng: random.Random) -> tuple[Image.Image, str]:
    v = digit28.astype(float) / 255.0
    gamma = math.exp(rng.uniform(math.log(0.45), math.log(2.2)))
    factor = rng.choice([1, 1, 2, 3, 4, 8, 10])
    if factor > 1:
        v = np.asarray(Image.fromarray(v.astype(np.float32), "F").resize((28 * factor, 28 * factor), _resample(rng)))
        v = np.clip(v, 0, 1)
    style = rng.choice(["L", "RGB", "RGBA", "LA", "I;16"])
    if style == "L":
        grey = (1.0 - v) ** gamma
        image = Image.fromarray((grey * 255).round().astype(np.uint8), "L")
    elif style == "I;16":
        grey = (1.0 - v) ** gamma
        image = Image.fromarray((grey * 65535).round().astype(np.uint16))
    elif style == "RGB":
        ink = np.array([rng.uniform(0, 0.3), rng.uniform(0, 0.3), rng.uniform(0, 0.5)])
        cover = 1.0 - (1.0 - v) ** gamma
        rgb = (1 - cover[..., None]) + cover[..., None] * ink
        image = Image.fromarray((rgb * 255).round().astype(np.uint8), "RGB")
    else:
        # Transparent background: the ink's coverage is the alpha; what colour the transparent
        # pixels carry is arbitrary (often black or white).
        alpha = 1.0 - (1.0 - v) ** gamma
        colour = rng.uniform(0, 0.25)
        hidden = rng.choice([0.0, 1.0])
        grey = np.where(alpha > 0, colour, hidden)
        if style == "LA":
            image = Image.fromarray(np.stack([grey * 255, alpha * 255], -1).round().astype(np.uint8), "LA")
        else:
            rgba = np.concatenate([np.repeat(grey[..., None], 3, -1), alpha[..., None]], -1)
            image = Image.fromarray((rgba * 255).round().astype(np.uint8), "RGBA")
    return image, f"{style} gamma{gamma:.2f} x{factor}"


def _luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def make_photo(garment28: np.ndarray, rng: random.Random) -> tuple[Image.Image, str]:
    """Fashion-MNIST pixels are the negated luminance of product photos on white; undo that,
    tint the garment, lay it on a light backdrop, and light the scene unevenly (the light falls
    on garment and backdrop alike), with a soft shadow."""
    v = garment28.astype(float) / 255.0
    size = rng.randint(80, 420)
    big_v = np.clip(np.asarray(Image.fromarray(v.astype(np.float32), "F").resize((size, size), Image.Resampling.BICUBIC)), 0, 1)
    mask = np.clip(np.asarray(Image.fromarray((v > 0.02).astype(np.float32), "F").resize((size, size), Image.Resampling.BILINEAR)), 0, 1)
    reflectance = 1.0 - big_v
    hue = np.array([rng.uniform(0.2, 1.0) for _ in range(3)])
    hue = hue / _luminance(hue)
    saturation = rng.uniform(0.0, 0.8)
    tint = (1 - saturation) + saturation * hue
    garment = np.clip(reflectance[..., None] * tint, 0, 1)
    pad = [int(size * rng.uniform(0.03, 0.25)) for _ in range(4)]
    h, w = size + pad[0] + pad[1], size + pad[2] + pad[3]
    backdrop = rng.uniform(0.88, 1.0) * np.array([1.0, rng.uniform(0.96, 1.0), rng.uniform(0.9, 1.0)])
    canvas_mask = np.zeros((h, w))
    canvas_mask[pad[0]:pad[0] + size, pad[2]:pad[2] + size] = mask
    scene = np.ones((h, w, 3)) * backdrop
    g = np.zeros((h, w, 3))
    g[pad[0]:pad[0] + size, pad[2]:pad[2] + size] = garment
    scene = scene * (1 - canvas_mask[..., None]) + g * canvas_mask[..., None]
    light = rng.uniform(0.8, 1.05) + _gradient(h, w, rng, rng.uniform(0, 0.12))
    # A soft shadow cast by the garment onto the backdrop, below and to one side.
    shadow_img = Image.fromarray((canvas_mask * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(size * 0.04))
    shift = (int(size * rng.uniform(-0.04, 0.04)), int(size * rng.uniform(0.0, 0.05)))
    shadow = np.roll(np.asarray(shadow_img, dtype=float) / 255.0, shift, axis=(1, 0)) * (1 - canvas_mask)
    light = light * (1 - rng.uniform(0.0, 0.15) * shadow)
    rgb = scene * light[..., None]
    noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, rng.uniform(0, 0.02), rgb.shape)
    image = Image.fromarray((np.clip(rgb + noise, 0, 1) * 255).astype(np.uint8), "RGB")
    return image, f"size{size} light{float(light.mean()):.2f} sat{saturation:.2f}"


# -- out-of-distribution ---------------------------------------------------------------------

def make_noise(rng: random.Random) -> tuple[Image.Image, str]:
    size = rng.randint(28, 400)
    nrng = np.random.default_rng(rng.randrange(1 << 30))
    style = rng.choice(["uniform", "gaussian-colour", "salt-pepper", "blobs"])
    if style == "uniform":
        arr = nrng.uniform(0, 255, (size, size))
    elif style == "gaussian-colour":
        arr = nrng.normal(128, rng.uniform(20, 80), (size, size, 3))
    elif style == "salt-pepper":
        arr = np.where(nrng.random((size, size)) < rng.uniform(0.02, 0.3), 0.0, 255.0)
        if rng.random() < 0.5:
            arr = 255 - arr
    else:
        low = nrng.uniform(0, 255, (rng.randint(3, 12),) * 2)
        arr = np.asarray(Image.fromarray(low.astype(np.float32), "F").resize((size, size), Image.Resampling.BICUBIC))
    arr = np.clip(arr, 0, 255).astype(np.uint8)
    return Image.fromarray(arr, "RGB" if arr.ndim == 3 else "L"), style


def make_scene(rng: random.Random) -> tuple[Image.Image, str]:
    w, h = rng.randint(60, 400), rng.randint(60, 400)
    def colour():
        return tuple(rng.randint(0, 255) for _ in range(3))
    image = Image.new("RGB", (w, h), colour())
    draw = ImageDraw.Draw(image)
    shapes = rng.randint(3, 12)
    for _ in range(shapes):
        x0, y0 = rng.uniform(-0.2, 1.0) * w, rng.uniform(-0.2, 1.0) * h
        x1, y1 = x0 + rng.uniform(0.1, 0.7) * w, y0 + rng.uniform(0.1, 0.7) * h
        kind = rng.choice(["rect", "ellipse", "polygon", "line"])
        if kind == "rect":
            draw.rectangle((x0, y0, x1, y1), fill=colour())
        elif kind == "ellipse":
            draw.ellipse((x0, y0, x1, y1), fill=colour())
        elif kind == "polygon":
            draw.polygon([(rng.uniform(0, w), rng.uniform(0, h)) for _ in range(rng.randint(3, 7))], fill=colour())
        else:
            draw.line((x0, y0, x1, y1), fill=colour(), width=rng.randint(1, max(2, w // 15)))
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0, 2)))
    return image, f"{shapes} shapes"


LETTERS = "abcdefghijkmnpqrtuvwxyzACDEFGHJKLMNPQRTUVWXY"  # no digit look-alikes (l, o, s, z, B, I, O, S, Z)


def make_text(rng: random.Random, fonts: list[str]) -> tuple[Image.Image, str]:
    word = "".join(rng.choice(LETTERS) for _ in range(rng.randint(3, 8)))
    font = ImageFont.truetype(rng.choice(fonts), rng.randint(16, 60)) if fonts else ImageFont.load_default()
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    box = probe.textbbox((0, 0), word, font=font)
    w, h = box[2] - box[0] + 20, box[3] - box[1] + 20
    paper = rng.randint(200, 255)
    image = Image.new("L", (w, h), paper)
    ImageDraw.Draw(image).text((10 - box[0], 10 - box[1]), word, fill=rng.randint(0, 90), font=font)
    return image, word


def make_blank(rng: random.Random) -> tuple[Image.Image, str]:
    w, h = rng.randint(28, 400), rng.randint(28, 400)
    level = rng.uniform(0.0, 1.0)
    arr = level + _gradient(h, w, rng, rng.uniform(0, 0.1))
    arr = arr + np.random.default_rng(rng.randrange(1 << 30)).normal(0, rng.uniform(0, 0.02), arr.shape)
    return Image.fromarray((np.clip(arr, 0, 1) * 255).astype(np.uint8), "L"), f"level{level:.2f}"


# -- the sets ----------------------------------------------------------------------------------

def build(out: Path, data_root: str | None, per_kind: int, per_ood_kind: int, seed: int) -> int:
    mnist = load_dataset("mnist", data_root, download=False).train
    fashion = load_dataset("fashion-mnist", data_root, download=False).train
    fonts = font_files()
    out.mkdir(parents=True, exist_ok=True)
    rows = []

    def emit(model, kind, split, label, index, image, note, rng, jpeg_share):
        data, ext = _save(image, rng, jpeg_share)
        name = f"{model}/{kind}/{split}/{len(rows):05d}-{label if label >= 0 else 'x'}.{ext}"
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        rows.append(dict(file=name, model=model, kind=kind, split=split, label=label, source=index, note=note))

    _, calibration, reserved = holdout_ranges(len(mnist), HOLDOUT)
    for split, indices in (("tune", calibration), ("heldout", reserved)):
        rng = random.Random(f"{seed}-{split}")
        for kind in ("scan", "canvas", "png"):
            for index in rng.sample(list(indices), per_kind):
                digit28 = mnist.images[index].numpy()
                label = int(mnist.labels[index])
                if kind == "scan":
                    image, note = make_scan(digit28, rng)
                elif kind == "canvas":
                    image, note = make_canvas(digit28, label, rng)
                else:
                    image, note = make_png(digit28, rng)
                emit("mnist", kind, split, label, index, image, note, rng,
                     jpeg_share={"scan": 0.5, "canvas": 0.0, "png": 0.0}[kind])
        for index in rng.sample(list(indices), per_kind):
            image, note = make_photo(fashion.images[index].numpy(), rng)
            emit("fashion-mnist", "photo", split, int(fashion.labels[index]), index, image, note, rng, 0.8)
        # Out-of-distribution: what the other model knows, and things neither knows.
        for index in rng.sample(list(indices), per_ood_kind):
            image, note = make_photo(fashion.images[index].numpy(), rng)
            emit("mnist", "garment", split, -1, index, image, note, rng, 0.8)
        for index in rng.sample(list(indices), per_ood_kind):
            maker = make_scan if rng.random() < 0.5 else make_png
            image, note = maker(mnist.images[index].numpy(), rng)
            emit("fashion-mnist", "digit", split, -1, index, image, note, rng, 0.5)
        for kind, maker in (("noise", make_noise), ("scene", make_scene),
                            ("text", lambda r: make_text(r, fonts)), ("blank", make_blank)):
            count = per_ood_kind if kind != "blank" else max(1, per_ood_kind // 3)
            for _ in range(count):
                image, note = maker(rng)
                emit("any", kind, split, -1, -1, image, note, rng, 0.3)
    with open(out / "manifest.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["file", "model", "kind", "split", "label", "source", "note"])
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="folder to write the sets into (outside the repository)")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--per-kind", type=int, default=600, help="images per in-distribution kind and split")
    parser.add_argument("--per-ood-kind", type=int, default=300, help="images per out-of-distribution kind and split")
    parser.add_argument("--seed", default="2025")
    args = parser.parse_args()
    count = build(Path(args.out), args.data_root, args.per_kind, args.per_ood_kind, args.seed)
    print(f"wrote {count} images and manifest.csv to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
