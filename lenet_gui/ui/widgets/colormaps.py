"""Colour look-up tables and numpy -> QImage conversion for the inspector's image grids.

Every map is coloured by indexing a precomputed 256-entry table of 32-bit ARGB values with the
quantised data, so a whole layer is coloured by two numpy operations and never by a Python loop
over pixels.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QImage

LUT_SIZE = 256


def _pack(rgb: np.ndarray) -> np.ndarray:
    """(N, 3) uint8 RGB -> (N,) uint32 0xAARRGGBB, opaque; the layout of QImage.Format_ARGB32."""
    rgb = np.asarray(rgb, dtype=np.uint32)
    return (np.uint32(0xFF000000) | (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]).astype(np.uint32)


def _from_pyqtgraph(name: str) -> np.ndarray:
    table = pg.colormap.get(name).getLookupTable(0.0, 1.0, LUT_SIZE, alpha=False)
    return _pack(np.asarray(table)[:, :3])


def _grey() -> np.ndarray:
    ramp = np.arange(LUT_SIZE, dtype=np.uint32)
    return _pack(np.stack([ramp, ramp, ramp], axis=1))


# Activations: perceptually uniform, readable for colour-blind viewers and on a projector.
ACTIVATION_LUT = _from_pyqtgraph("viridis")
# The input as the model sees it: white ink on black.
INPUT_LUT = _grey()
# Weights are signed: blue negative, white zero, red positive.
WEIGHT_LUT = _from_pyqtgraph("CET-D1")
# Saliency: dark (no influence) to bright yellow (strong influence).
SALIENCY_LUT = _from_pyqtgraph("inferno")


def value_range(values: np.ndarray, symmetric: bool = False) -> tuple[float, float]:
    """The range a colour scale spans for ``values``; never empty, so it can divide."""
    finite = values[np.isfinite(values)] if values.size else values
    if finite.size == 0:
        return 0.0, 1.0
    if symmetric:
        top = float(np.abs(finite).max())
        return (-top, top) if top > 0 else (-1.0, 1.0)
    lo, hi = float(finite.min()), float(finite.max())
    if not hi > lo:
        return lo - 0.5, hi + 0.5
    return lo, hi


def quantize(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Values -> LUT indices 0..255 (uint8), clipping what lies outside [lo, hi]."""
    scaled = (np.asarray(values, dtype=np.float32) - np.float32(lo)) * np.float32((LUT_SIZE - 1) / (hi - lo))
    np.nan_to_num(scaled, copy=False, nan=0.0)
    return np.clip(np.rint(scaled), 0, LUT_SIZE - 1).astype(np.uint8)


def colorize(values: np.ndarray, lut: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Values of any shape -> ARGB uint32 of the same shape."""
    return lut[quantize(values, lo, hi)]


def argb_image(argb: np.ndarray) -> QImage:
    """A 2-D uint32 ARGB array -> a QImage that owns its own copy of the pixels."""
    argb = np.ascontiguousarray(argb, dtype=np.uint32)
    height, width = argb.shape
    # Opaque colours: RGB32 is drawn without the per-pixel alpha conversion ARGB32 costs.
    image = QImage(argb.data, width, height, width * 4, QImage.Format.Format_RGB32)
    return image.copy()  # detach from the numpy buffer, which may be freed or reused


def lut_image(lut: np.ndarray, vertical: bool = False) -> QImage:
    """The colour scale itself, as a 256 x 1 (or 1 x 256, bottom = low) image for legends."""
    strip = lut[None, :] if not vertical else lut[::-1, None]
    return argb_image(strip)

