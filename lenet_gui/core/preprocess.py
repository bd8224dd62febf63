"""Any image -> the 1 x 28 x 28 tensor in [0, 1] that LeNet expects.

Two pipelines, each copying how its data set was made:

* digits (MNIST): ink white on black, cropped to the ink, fitted into 20 x 20 keeping the aspect
  ratio, placed in 28 x 28 so that its centre of mass is the centre;
* garments (Fashion-MNIST): background trimmed, longest side fitted to 28, centred, inverted when
  the background is light, greyscale.

Decoding is defensive: Pillow's decompression-bomb limit is an error here, not a warning, EXIF
orientation is applied, and palette, alpha, 16-bit, CMYK and animated images are normalised to
one greyscale frame before either pipeline sees them.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

# Far larger than any photo a user would classify, far smaller than what exhausts memory.
MAX_IMAGE_PIXELS = 64_000_000
MAX_FILE_BYTES = 200 * 1024 * 1024
WORKING_MAX_SIDE = 1024  # pixels on the long side that preprocessing works at
# Bigger images are box-averaged down to this before any float conversion: the float arrays
# take 8 bytes a pixel per channel, so a 60-megapixel image would otherwise cost gigabytes.
MAX_DECODED_SIDE = 2 * WORKING_MAX_SIDE

DIGIT = "digit"
GARMENT = "garment"
INPUT_KINDS = (DIGIT, GARMENT)
# What Pillow's decoders raise on damaged data, beyond its own error types.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError,
                  struct.error, zlib.error, MemoryError)


class ImageError(ValueError):
    """An image cannot be classified; the message says why, in one line."""


@dataclass
class Preprocessed:
    tensor: torch.Tensor  # 1 x 28 x 28, float32 in [0, 1]
    blank: bool  # nothing to classify (empty canvas, uniform image)

    @property
    def image28(self) -> np.ndarray:
        """The model's input as an 8-bit 28 x 28 picture (white ink on black)."""
        return (self.tensor[0].numpy() * 255).round().astype(np.uint8)


def open_image(source) -> Image.Image:
    """Decode a path, bytes or PIL image into one loaded frame with EXIF orientation applied."""
    if isinstance(source, Image.Image):
        image = source
    else:
        try:
            if isinstance(source, (bytes, bytearray, memoryview)):
                data = bytes(source)
                label = "The image"
            else:
                path = Path(source)
                label = path.name
                data = _read_image_file(path, label)
        except ImageError:
            raise
        except FileNotFoundError:
            raise ImageError(f"{Path(source).name} does not exist.") from None
        except PermissionError:
            raise ImageError(f"{Path(source).name} cannot be read: permission denied.") from None
        except OSError as exc:
            raise ImageError(f"{Path(source).name} cannot be read: {exc.strerror or exc}.") from None
        except ValueError:  # a NUL byte in the name (pasted text): no file can have it
            raise ImageError(f"{Path(source).name!r} is not a valid file name.") from None
        if not data:
            raise ImageError(f"{label} is empty (0 bytes).")
        try:
            with warnings.catch_warnings():
                # Pillow warns about damaged files (a TIFF tag "larger than file") on stderr;
                # the outcome reaches the user as one ImageError line or a result instead.
                warnings.simplefilter("ignore")
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                previous = Image.MAX_IMAGE_PIXELS
                Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
                try:
                    image = Image.open(io.BytesIO(data))
                    image.seek(0)  # the first frame of an animation
                    if image.format == "JPEG":
                        # Decode a big photo at a fraction of its size (still >= WORKING_MAX_SIDE):
                        # the 28 x 28 result cannot tell, and a 12 MP photo decodes 5x faster.
                        image.draft(None, (WORKING_MAX_SIDE, WORKING_MAX_SIDE))
                    image.load()
                finally:
                    Image.MAX_IMAGE_PIXELS = previous
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageError(
                f"{label} declares a huge size (over {MAX_IMAGE_PIXELS // 1_000_000} megapixels) "
                "and was refused as a possible decompression bomb."
            ) from None
        except UnidentifiedImageError:
            raise ImageError(f"{label} is not an image in a format LeNet Studio can read.") from None
        except MemoryError:
            raise ImageError(f"{label} is too large to decode with the memory available.") from None
        except _DECODE_ERRORS as exc:
            raise ImageError(f"{label} is a damaged or truncated image ({_short(exc)}).") from None
    if image.width < 1 or image.height < 1:
        raise ImageError("The image has no pixels.")
    try:
        image = ImageOps.exif_transpose(image) or image
    except Exception:  # a broken EXIF block must not make a good picture unreadable
        pass
    try:
        return _shrink_to_working_size(image)
    except MemoryError:
        raise ImageError("The image is too large to process with the memory available.") from None


def _read_image_file(path: Path, label: str) -> bytes:
    """The whole file, refusing what is not a regular file before reading a byte: a named pipe
    blocks ``open()`` forever and a device such as /dev/zero never ends. The checks run on the
    opened descriptor, so a file swapped for something else after a listing cannot slip by."""
    if path.is_dir():
        raise ImageError(f"{label} is a folder, not an image.")
    # O_NONBLOCK: opening a pipe with no writer returns at once instead of waiting for one.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ImageError(f"{label} is not a regular file (a pipe, device or socket), so it cannot be an image.")
        if info.st_size > MAX_FILE_BYTES:
            raise ImageError(f"{label} is too large ({info.st_size // (1024 * 1024)} MB) to be an image worth classifying.")
        # Bounded even if the file grows while it is read.
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ImageError(f"{label} is too large (over {MAX_FILE_BYTES // (1024 * 1024)} MB) to be an image worth classifying.")
    return data


def _shrink_to_working_size(image: Image.Image) -> Image.Image:
    """Box-average a huge image down to at most MAX_DECODED_SIDE pixels a side, still in 8 or
    16 bits. Both pipelines end at 28 x 28, and the float arrays they work on take 8 bytes a
    pixel per channel: a 60-megapixel photo would otherwise cost gigabytes."""
    longest = max(image.size)
    if longest <= MAX_DECODED_SIDE:
        return image
    factor = -(-longest // MAX_DECODED_SIDE)
    mode = image.mode
    if mode.startswith("I;16"):
        # Keep the 16-bit scale that to_grey_array expects; 8 bits are plenty for 28 x 28.
        image = Image.fromarray((np.asarray(image) >> 8).astype(np.uint8))
    elif mode == "1":
        image = image.convert("L")
    elif mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    try:
        return image.reduce(factor)
    except ValueError:  # a mode reduce() does not handle
        has_alpha = "A" in image.mode or "a" in image.mode
        return image.convert("RGBA" if has_alpha else "RGB").reduce(factor)


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:120] if text else type(exc).__name__


def to_grey_array(image: Image.Image) -> np.ndarray:
    """Greyscale float array in [0, 1], whatever the mode; transparent pixels take the colour
    that contrasts with the opaque content (so dark ink and light ink on a transparent
    background both stay visible)."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # A signalling NaN in a float image (a damaged TIFF holds one easily) raises the
        # 'invalid' flag when widened; it arrives as a quiet NaN, which is handled below.
        with np.errstate(invalid="ignore"):
            arr = np.asarray(image, dtype=np.float64)
        if mode.startswith("I;16"):
            arr = arr / 65535.0
        else:
            # Scale to the finite values' range: NaN counts as black, +/-inf as the extremes.
            finite = np.isfinite(arr)
            if not finite.any():
                return np.zeros(arr.shape)
            positive_infinity = np.isposinf(arr)
            lo, hi = float(arr[finite].min()), float(arr[finite].max())
            span = hi - lo
            if span > 0 and np.isfinite(span):
                arr = (np.where(finite, arr, lo) - lo) / span
            else:
                arr = np.zeros(arr.shape)
            arr[positive_infinity] = 1.0
        return np.clip(np.nan_to_num(arr), 0.0, 1.0)
    if mode == "La":  # premultiplied alpha, which Pillow converts to LA only (not to RGBA or L)
        image, mode = image.convert("LA"), "LA"
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa") or (mode == "P" and "transparency" in image.info)
    if has_alpha:
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float64) / 255.0
        alpha = rgba[..., 3]
        grey = rgba[..., 0] * 0.299 + rgba[..., 1] * 0.587 + rgba[..., 2] * 0.114
        if alpha.max() <= 0.0:
            return np.zeros(alpha.shape)
        opaque_mean = float((grey * alpha).sum() / alpha.sum())
        backdrop = 0.0 if opaque_mean > 0.5 else 1.0
        return grey * alpha + backdrop * (1.0 - alpha)
    if mode not in ("L", "RGB"):
        image = image.convert("RGB")
    return np.asarray(image.convert("L"), dtype=np.float64) / 255.0


def _border_level(grey: np.ndarray) -> float:
    border = np.concatenate([grey[0, :], grey[-1, :], grey[:, 0], grey[:, -1]])
    return float(np.median(border))


def _resize(arr: np.ndarray, width: int, height: int) -> np.ndarray:
    """Anti-aliased resize of a [0, 1] float array."""
    image = Image.fromarray(arr.astype(np.float32), mode="F")
    return np.asarray(image.resize((max(1, width), max(1, height)), Image.Resampling.LANCZOS), dtype=np.float64)


def _ink_bbox(ink: np.ndarray, threshold: float):
    rows = np.flatnonzero((ink > threshold).any(axis=1))
    cols = np.flatnonzero((ink > threshold).any(axis=0))
    if rows.size == 0:
        return None
    return rows[0], rows[-1] + 1, cols[0], cols[-1] + 1


def _crop_and_fit(ink: np.ndarray, threshold: float, size: int) -> np.ndarray | None:
    """Crop to the pixels above ``threshold`` and resize so that the longer side is ``size``,
    keeping the aspect ratio; None when nothing is above the threshold."""
    box = _ink_bbox(ink, threshold)
    if box is None:
        return None
    top, bottom, left, right = box
    ink = ink[top:bottom, left:right]
    h, w = ink.shape
    scale = size / max(h, w)
    return np.clip(_resize(ink, max(1, round(w * scale)), max(1, round(h * scale))), 0.0, None)


def _blank() -> Preprocessed:
    return Preprocessed(tensor=torch.zeros(1, 28, 28), blank=True)


def _result(canvas: np.ndarray) -> Preprocessed:
    canvas = np.clip(np.nan_to_num(canvas), 0.0, 1.0).astype(np.float32)
    return Preprocessed(tensor=torch.from_numpy(canvas).unsqueeze(0), blank=False)


# Where ink starts, as a share of the way from paper to the darkest ink: a ramp from 0.3 to 0.5
# of it. Below halfway, because blur and low resolution keep a thin stroke from ever reaching
# the darkest ink (that is reached where strokes cross or are thick).
INK_LEVEL = 0.4
INK_RAMP = 0.2


# A 1 drawn upright with a thin pen, fitted into the 20-pixel box, comes out as a column one pixel
# wide: thinner than all but a few of MNIST's own (their strokes are two pixels wide at the median,
# under one in 0.5% of the test set), and the model finds it unfamiliar. Such a narrow glyph with
# strokes under MIN_STROKE_WIDTH is widened by about a pixel. Only a narrow one: widening every
# thin input made noise and text look more like digits to the out-of-distribution check.
MIN_STROKE_WIDTH = 1.0
NARROW_GLYPH = 4  # pixels across, of 28


def stroke_width(ink: np.ndarray) -> float:
    """The mean width in pixels of the strokes in ``ink`` (values in [0, 1]): the area of the
    pixels over half ink, divided by half the length of their outline."""
    solid = np.pad(ink > 0.5, 1).astype(np.int8)
    outline = np.count_nonzero(np.diff(solid, axis=0)) + np.count_nonzero(np.diff(solid, axis=1))
    return 2.0 * float(solid.sum()) / outline if outline else 0.0


def _widened(canvas: np.ndarray) -> np.ndarray:
    """The strokes about one pixel wider, half a pixel on each side: their centre stays put."""
    padded = np.pad(canvas, 1)
    sides = np.maximum.reduce([padded[:-2, 1:-1], padded[2:, 1:-1], padded[1:-1, :-2], padded[1:-1, 2:]])
    return np.maximum(canvas, 0.5 * sides)


def preprocess_digit(grey: np.ndarray) -> Preprocessed:
    """MNIST's own recipe, for anything from a canvas to a photo of paper.

    On light paper the light fitted to the border is divided out first
    (:func:`background_plane`): a shadow across the sheet must not become ink."""
    background = _border_level(grey)
    if background > 0.5:
        ink = np.clip(1.0 - grey / np.maximum(background_plane(grey), 1e-3), 0.0, 1.0)
        floor = 0.0
    else:
        ink = grey.copy()
        floor = background
    peak = float(np.percentile(ink, 99.9)) if ink.size > 1000 else float(ink.max())
    if peak - floor < 0.15:
        return _blank()
    # Paper is rarely uniform and a photo is noisy: a steep ramp around INK_LEVEL decides what
    # is ink (nearly binarising; the resize below antialiases again), so that paper texture and
    # faint shading stay black while blurred strokes keep their width.
    ink = np.clip((ink - floor) / (peak - floor), 0.0, 1.0)
    ink = np.clip((ink - INK_LEVEL) / INK_RAMP + 0.5, 0.0, 1.0)
    small = _crop_and_fit(ink, 0.5, 20)
    if small is None or small.max() <= 0:
        return _blank()
    new_h, new_w = small.shape
    # MNIST's strokes are saturated in their centre; thin pens or big downscales are not.
    small = np.clip(small / small.max(), 0.0, 1.0)
    total = small.sum()
    cy = float((small.sum(axis=1) * np.arange(new_h)).sum() / total)
    cx = float((small.sum(axis=0) * np.arange(new_w)).sum() / total)
    top = int(round(13.5 - cy))
    left = int(round(13.5 - cx))
    top = min(max(top, 0), 28 - new_h)
    left = min(max(left, 0), 28 - new_w)
    canvas = np.zeros((28, 28))
    canvas[top : top + new_h, left : left + new_w] = small
    if new_w <= NARROW_GLYPH and stroke_width(canvas) < MIN_STROKE_WIDTH:
        canvas = _widened(canvas)
    return _result(canvas)


def background_plane(grey: np.ndarray) -> np.ndarray:
    """The light falling on the backdrop, as a plane a + b x + c y fitted to the image's border
    band, refitted twice without the pixels that are far off it (a sleeve or a shadow touching
    the edge). A photo's light is rarely even; a plane is the most a border can tell about the
    middle without guessing."""
    h, w = grey.shape
    band = max(1, min(h, w) // 40)
    on_border = np.zeros((h, w), dtype=bool)
    on_border[:band] = on_border[-band:] = True
    on_border[:, :band] = on_border[:, -band:] = True
    ys, xs = np.nonzero(on_border)
    design = np.stack([np.ones(ys.size), xs / w, ys / h], axis=1)
    values = grey[on_border]
    coef = np.array([float(np.median(values)), 0.0, 0.0])
    for _ in range(3):
        if values.size < 3:
            break
        coef, *_ = np.linalg.lstsq(design, values, rcond=None)
        residual = np.abs(values - design @ coef)
        keep = residual < max(0.02, 2.5 * float(np.median(residual)))
        design, values = design[keep], values[keep]
    yy, xx = np.mgrid[0:h, 0:w]
    return coef[0] + coef[1] * xx / w + coef[2] * yy / h


# After dividing out the light, what is left of an empty backdrop (paper texture, JPEG ringing,
# the soft shadow a garment casts) stays below this; the garment's own faint parts lose little.
GARMENT_BACKDROP_FLOOR = 0.05
# Less ink than this anywhere (as a share of the light) is an empty picture.
GARMENT_INK_LEVEL = 0.06


def preprocess_garment(grey: np.ndarray) -> Preprocessed:
    """Fashion-MNIST's recipe: trim, fit the longest side to 28, centre, invert a light background.

    Fashion-MNIST's pixels are the negated luminance of product photos on white. A user's photo
    is lit unevenly, so on a light background the garment's luminance is divided by the light
    fitted to the border (:func:`background_plane`) before negating, which undoes gradients and
    a dim exposure alike."""
    background = _border_level(grey)
    if background > 0.5:
        light = np.maximum(background_plane(grey), 1e-3)
        ink = np.clip(1.0 - grey / light, 0.0, 1.0)
        if float(ink.max()) < GARMENT_INK_LEVEL:
            return _blank()
        ink = np.clip((ink - GARMENT_BACKDROP_FLOOR) / (1.0 - GARMENT_BACKDROP_FLOOR), 0.0, 1.0)
        small = _crop_and_fit(ink, GARMENT_INK_LEVEL, 28)
        if small is None:
            # Nothing stands out once the floor is off, but something did before it: a pale
            # garment (a white shirt on a white sheet), found at the level it had then.
            small = _crop_and_fit(ink, (GARMENT_INK_LEVEL - GARMENT_BACKDROP_FLOOR) / (1.0 - GARMENT_BACKDROP_FLOOR), 28)
    else:
        if float(np.abs(grey - background).max()) < GARMENT_INK_LEVEL:
            return _blank()
        ink = np.clip((grey - background) / max(1e-6, 1.0 - background), 0.0, 1.0)
        small = _crop_and_fit(ink, GARMENT_INK_LEVEL, 28)
    if small is None:
        return _blank()
    small = np.minimum(small, 1.0)
    new_h, new_w = small.shape
    canvas = np.zeros((28, 28))
    top, left = (28 - new_h) // 2, (28 - new_w) // 2
    canvas[top : top + new_h, left : left + new_w] = small
    return _result(canvas)


def preprocess_array(grey: np.ndarray, kind: str) -> Preprocessed:
    grey = np.asarray(grey, dtype=np.float64)
    if grey.ndim != 2 or grey.size == 0:
        raise ImageError("The image has no pixels.")
    if kind == DIGIT:
        return preprocess_digit(grey)
    if kind == GARMENT:
        return preprocess_garment(grey)
    raise ValueError(f"unknown input kind {kind!r}")


def working_grey(image: Image.Image) -> np.ndarray:
    """The greyscale array both pipelines start from, at most WORKING_MAX_SIDE pixels on its long
    side: a 28 x 28 result needs no more, and preprocessing a 12 MP photo at full size takes
    about a second, which a window must not freeze for."""
    try:
        grey = to_grey_array(image)
        h, w = grey.shape
        if max(h, w) > WORKING_MAX_SIDE:
            scale = WORKING_MAX_SIDE / max(h, w)
            grey = np.clip(_resize(grey, round(w * scale), round(h * scale)), 0.0, 1.0)
        return grey
    except ImageError:
        raise
    except (OSError, ValueError) as exc:
        raise ImageError(f"The image cannot be converted to greyscale ({_short(exc)}).") from None
    except MemoryError:
        raise ImageError("The image is too large to process with the memory available.") from None


def preprocess_image(source, kind: str) -> Preprocessed:
    """Path, bytes or PIL image -> the model's input. Raises ImageError for unusable images."""
    return preprocess_array(working_grey(open_image(source)), kind)


def image_file_filter() -> list[str]:
    return ["*.png", "*.jpg", "*.jpeg", "*.bmp", "*.gif", "*.webp", "*.tif", "*.tiff", "*.pgm", "*.ppm"]
