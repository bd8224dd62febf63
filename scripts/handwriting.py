"""Digits of our own making, for the samples and for measuring the MNIST model on non-MNIST input.

Two sources: hand-like strokes (a skeleton per digit, smoothed, jittered, drawn with a round pen
of random width, slightly rotated and sheared) and the fonts installed on this machine. Both are
put on "paper": a light, unevenly lit background with noise, dark ink, sometimes blurred like a
phone photo or a scan, at a random size and position.
"""

from __future__ import annotations

import glob
import math
import random

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

# Skeletons in a unit box (x right, y down); each digit is a list of strokes.
SKELETONS: dict[int, list[list[list[tuple[float, float]]]]] = {
    0: [[[(0.5, 0.05), (0.25, 0.18), (0.18, 0.5), (0.26, 0.84), (0.5, 0.95), (0.74, 0.84),
          (0.82, 0.5), (0.74, 0.16), (0.5, 0.05), (0.4, 0.1)]]],
    1: [[[(0.5, 0.05), (0.5, 0.95)]],
        [[(0.32, 0.2), (0.55, 0.05), (0.55, 0.95)]]],
    2: [[[(0.22, 0.28), (0.32, 0.1), (0.5, 0.05), (0.7, 0.12), (0.76, 0.3), (0.66, 0.5),
          (0.42, 0.72), (0.2, 0.93), (0.82, 0.93)]]],
    3: [[[(0.22, 0.15), (0.45, 0.05), (0.7, 0.12), (0.72, 0.3), (0.52, 0.45), (0.4, 0.47),
          (0.52, 0.49), (0.76, 0.62), (0.78, 0.8), (0.6, 0.94), (0.35, 0.95), (0.18, 0.85)]]],
    4: [[[(0.62, 0.05), (0.15, 0.66), (0.85, 0.66)], [(0.62, 0.05), (0.62, 0.95)]],
        [[(0.25, 0.05), (0.2, 0.55), (0.82, 0.55)], [(0.66, 0.1), (0.66, 0.95)]]],
    5: [[[(0.76, 0.05), (0.32, 0.05)], [(0.32, 0.05), (0.27, 0.45), (0.5, 0.4), (0.72, 0.5),
                                        (0.78, 0.72), (0.62, 0.92), (0.38, 0.95), (0.2, 0.85)]]],
    6: [[[(0.7, 0.05), (0.45, 0.2), (0.28, 0.5), (0.25, 0.75), (0.4, 0.93), (0.62, 0.92),
          (0.75, 0.75), (0.65, 0.55), (0.42, 0.52), (0.27, 0.65)]]],
    7: [[[(0.18, 0.08), (0.82, 0.08), (0.56, 0.5), (0.42, 0.95)]],
        [[(0.18, 0.08), (0.82, 0.08), (0.56, 0.5), (0.42, 0.95)], [(0.38, 0.5), (0.72, 0.5)]]],
    8: [[[(0.5, 0.48), (0.28, 0.35), (0.3, 0.12), (0.5, 0.05), (0.7, 0.12), (0.72, 0.35),
          (0.5, 0.48), (0.26, 0.65), (0.26, 0.88), (0.5, 0.95), (0.74, 0.88), (0.74, 0.65),
          (0.5, 0.48)]]],
    9: [[[(0.72, 0.3), (0.6, 0.08), (0.4, 0.05), (0.25, 0.2), (0.3, 0.42), (0.5, 0.47),
          (0.7, 0.35), (0.72, 0.3), (0.7, 0.6), (0.62, 0.95)]]],
}


def font_files() -> list[str]:
    files = sorted(glob.glob("/usr/share/fonts/**/*.ttf", recursive=True) +
                   glob.glob("/usr/share/fonts/**/*.otf", recursive=True))
    # Symbol and maths fonts draw digits like any other; nothing to exclude on a plain system.
    return files


def _chaikin(points: np.ndarray, rounds: int = 3) -> np.ndarray:
    """Corner cutting: a polyline through the skeleton becomes a smooth, pen-like curve."""
    for _ in range(rounds):
        if len(points) < 3:
            return points
        q = 0.75 * points[:-1] + 0.25 * points[1:]
        r = 0.25 * points[:-1] + 0.75 * points[1:]
        inner = np.empty((2 * len(q), 2))
        inner[0::2], inner[1::2] = q, r
        points = np.vstack([points[:1], inner, points[-1:]])
    return points


def stroke_digit(digit: int, rng: random.Random, size: int, pen: float) -> Image.Image:
    """A hand-like digit, white ink on black, in a size x size "L" image (ink fills ~80%)."""
    strokes = rng.choice(SKELETONS[digit])
    angle = math.radians(rng.uniform(-15, 15))
    shear = rng.uniform(-0.2, 0.2)
    aspect = rng.uniform(0.75, 1.15)
    ca, sa = math.cos(angle), math.sin(angle)
    image = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(image)
    width = max(1, int(round(pen * size)))
    for stroke in strokes:
        pts = np.array(stroke, dtype=float)
        pts += np.array([[rng.gauss(0, 0.025), rng.gauss(0, 0.025)] for _ in pts])
        pts = _chaikin(pts)
        x, y = pts[:, 0] - 0.5, pts[:, 1] - 0.5
        x = (x + shear * y) * aspect
        x, y = ca * x - sa * y, sa * x + ca * y
        scale = 0.8 * size
        xy = [(float(size / 2 + scale * a), float(size / 2 + scale * b)) for a, b in zip(x, y)]
        draw.line(xy, fill=255, width=width, joint="curve")
        r = width / 2
        for px, py in (xy[0], xy[-1]):  # round caps
            draw.ellipse((px - r, py - r, px + r, py + r), fill=255)
    return image


def font_digit(digit: int, rng: random.Random, size: int, font_path: str) -> Image.Image:
    """A digit in an installed font, white on black, rotated a few degrees."""
    font = ImageFont.truetype(font_path, int(size * 0.8))
    image = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(image)
    text = str(digit)
    box = draw.textbbox((0, 0), text, font=font)
    w, h = box[2] - box[0], box[3] - box[1]
    draw.text(((size - w) / 2 - box[0], (size - h) / 2 - box[1]), text, fill=255, font=font)
    return image.rotate(rng.uniform(-8, 8), resample=Image.Resampling.BICUBIC)


def on_paper(ink: Image.Image, rng: random.Random, canvas: int, digit_height: float,
             centre: tuple[float, float], blur: float, noise: float,
             ink_rgb=(25, 30, 60), paper_rgb=(240, 236, 225), shading: float = 0.12) -> Image.Image:
    """Place white-on-black ink on a lit sheet of paper as dark ink: an RGB photo or scan."""
    side = max(8, int(canvas * digit_height))
    ink = ink.resize((side, side), Image.Resampling.LANCZOS)
    alpha = np.zeros((canvas, canvas))
    cx, cy = int(centre[0] * canvas - side / 2), int(centre[1] * canvas - side / 2)
    x0, y0 = max(0, cx), max(0, cy)
    x1, y1 = min(canvas, cx + side), min(canvas, cy + side)
    alpha[y0:y1, x0:x1] = np.asarray(ink, dtype=float)[y0 - cy : y1 - cy, x0 - cx : x1 - cx] / 255.0
    yy, xx = np.mgrid[0:canvas, 0:canvas] / canvas
    gx, gy = rng.uniform(-1, 1), rng.uniform(-1, 1)
    light = 1.0 - shading * (0.5 + 0.5 * (gx * (xx - 0.5) + gy * (yy - 0.5)) * 2) / 2
    nrng = np.random.default_rng(rng.randrange(1 << 30))
    paper = np.array(paper_rgb, dtype=float)[None, None, :] * light[..., None]
    ink_c = np.array(ink_rgb, dtype=float)[None, None, :]
    rgb = paper * (1 - alpha[..., None]) + ink_c * alpha[..., None]
    rgb += nrng.normal(0, noise * 255, rgb.shape)
    image = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")
    if blur > 0:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    return image


def random_digit_photo(digit: int, rng: random.Random, fonts: list[str]) -> tuple[Image.Image, str]:
    """One test image and a short description of how it was made."""
    if fonts and rng.random() < 0.35:
        font = rng.choice(fonts)
        ink = font_digit(digit, rng, 200, font)
        style = "font:" + font.rsplit("/", 1)[-1]
    else:
        pen = rng.uniform(0.025, 0.13)
        ink = stroke_digit(digit, rng, 200, pen)
        style = f"pen:{pen:.3f}"
    canvas = rng.choice([96, 160, 240, 400])
    height = rng.uniform(0.35, 0.85)
    margin = height / 2
    centre = (rng.uniform(margin, 1 - margin), rng.uniform(margin, 1 - margin))
    ink_rgb = rng.choice([(20, 20, 20), (25, 30, 90), (60, 60, 60), (10, 40, 20), (115, 115, 120)])  # last: pencil
    paper = rng.choice([(245, 245, 245), (238, 232, 215), (225, 228, 232), (250, 250, 250)])
    image = on_paper(ink, rng, canvas, height, centre, blur=rng.choice([0, 0, 0.6, 1.2]),
                     noise=rng.uniform(0.0, 0.06), ink_rgb=ink_rgb, paper_rgb=paper,
                     shading=rng.uniform(0.0, 0.6))  # up to a phone's shadow across the sheet
    return image, style
