"""Fuzzing the preprocessing: any size, mode and pixel data gives a finite 1 x 28 x 28 tensor
in [0, 1] (all zeros when blank) or an ImageError, never another exception.

The default run tries 150 images per test (a few seconds); a long run:

    LENET_FUZZ_EXAMPLES=5000 pytest tests/core/test_robustness_fuzz.py
"""

from __future__ import annotations

import io
import os
import warnings

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from lenet_gui.core.preprocess import ImageError, preprocess_image

EXAMPLES = int(os.environ.get("LENET_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

MODES = ["L", "RGB", "RGBA", "LA", "P", "PA", "I;16", "I", "F", "CMYK", "1", "YCbCr", "RGBX", "La", "RGBa"]
PATTERNS = ["random", "constant", "sparse", "stroke", "extreme"]
KINDS = ["digit", "garment"]
# Sizes: mostly ordinary, some extreme aspect ratios and some beyond the 2048 px working size.
SIZES = st.one_of(
    st.tuples(st.integers(1, 300), st.integers(1, 300)),
    st.sampled_from([(1, 1), (1, 300), (300, 1), (2, 2500), (2500, 2), (1, 5000), (5000, 3), (2100, 40)]),
)


def _values(rng: np.random.Generator, shape, pattern: str, dtype, low, high):
    if pattern == "random":
        return rng.integers(low, high, shape, endpoint=True).astype(dtype)
    if pattern == "constant":
        return np.full(shape, rng.integers(low, high, endpoint=True), dtype=dtype)
    if pattern == "extreme":  # only the two ends of the range
        return np.where(rng.random(shape) < 0.5, low, high).astype(dtype)
    base = np.full(shape, low if rng.random() < 0.5 else high, dtype=dtype)
    if pattern == "sparse":  # a handful of pixels
        flat = base.reshape(-1)
        idx = rng.integers(0, flat.size, max(1, flat.size // 500))
        flat[idx] = rng.integers(low, high, idx.size, endpoint=True)
        return base
    # "stroke": a band of the other extreme, like ink
    other = high if base.flat[0] == low else low
    h = shape[0]
    band = slice(h // 3, max(h // 3 + 1, 2 * h // 3))
    base[band] = other
    return base


def make_image(mode: str, size: tuple[int, int], pattern: str, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    width, height = size
    if mode == "F":
        arr = _values(rng, (height, width), pattern, np.float32, 0, 255)
        if rng.random() < 0.5:  # scientific images: any scale, NaN and infinities
            arr = arr * np.float32(10.0 ** rng.integers(-30, 30))
            specials = rng.random((height, width))
            arr[specials < 0.05] = np.nan
            arr[(specials >= 0.05) & (specials < 0.08)] = np.inf
            arr[(specials >= 0.08) & (specials < 0.1)] = -np.inf
        return Image.fromarray(arr)
    if mode == "I":
        return Image.fromarray(_values(rng, (height, width), pattern, np.int32, -2**31, 2**31 - 1))
    if mode == "I;16":
        return Image.fromarray(_values(rng, (height, width), pattern, np.uint16, 0, 65535))
    if mode == "1":
        return Image.fromarray(_values(rng, (height, width), pattern, np.uint8, 0, 1).astype(bool))
    bands = Image.getmodebands(mode)
    data = _values(rng, (height, width, bands), pattern, np.uint8, 0, 255)
    image = Image.frombytes(mode, size, data.tobytes())
    if mode in ("P", "PA"):
        image.putpalette(rng.integers(0, 256, 768).astype(np.uint8).tobytes())
        if mode == "P" and rng.random() < 0.5:
            image.info["transparency"] = int(rng.integers(0, 256))
    return image


def check(result_or_error):
    """The contract: a finite 1 x 28 x 28 float tensor in [0, 1] (zeros when blank)."""
    pre = result_or_error
    t = pre.tensor
    assert isinstance(t, torch.Tensor) and t.shape == (1, 28, 28) and t.dtype == torch.float32
    assert torch.isfinite(t).all()
    assert float(t.min()) >= 0.0 and float(t.max()) <= 1.0
    if pre.blank:
        assert not t.any()
    else:
        assert t.any()


@FUZZ
@given(mode=st.sampled_from(MODES), size=SIZES, pattern=st.sampled_from(PATTERNS),
       seed=st.integers(0, 2**32 - 1), kind=st.sampled_from(KINDS))
def test_any_in_memory_image_preprocesses_or_is_refused_clearly(mode, size, pattern, seed, kind):
    image = make_image(mode, size, pattern, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning (NaN maths) is a bug here too
        try:
            pre = preprocess_image(image, kind)
        except ImageError as exc:
            assert str(exc) and "\n" not in str(exc)
            return
    check(pre)


# Formats a user's file could come in, with the modes each can store.
ENCODINGS = {
    "PNG": ["L", "RGB", "RGBA", "LA", "P", "I;16", "1"],
    "TIFF": ["L", "RGB", "RGBA", "LA", "P", "I;16", "I", "F", "CMYK", "1", "YCbCr"],
    "JPEG": ["L", "RGB", "CMYK"],
    "GIF": ["L", "P"],
    "BMP": ["L", "RGB", "RGBA", "P", "1"],
    "WEBP": ["RGB", "RGBA"],
}


@FUZZ
@given(data=st.data(), size=SIZES, pattern=st.sampled_from(PATTERNS), seed=st.integers(0, 2**32 - 1),
       kind=st.sampled_from(KINDS), damage=st.sampled_from(["none", "none", "truncate", "flip"]))
def test_any_encoded_image_file_preprocesses_or_is_refused_clearly(data, size, pattern, seed, kind, damage):
    fmt = data.draw(st.sampled_from(sorted(ENCODINGS)))
    mode = data.draw(st.sampled_from(ENCODINGS[fmt]))
    if fmt == "WEBP" and max(size) > 16383:
        return
    buffer = io.BytesIO()
    make_image(mode, size, pattern, seed).save(buffer, fmt)
    encoded = bytearray(buffer.getvalue())
    rng = np.random.default_rng(seed)
    if damage == "truncate":
        encoded = encoded[: int(rng.integers(0, len(encoded)))]
    elif damage == "flip":
        for index in rng.integers(0, len(encoded), 1 + len(encoded) // 200):
            encoded[index] ^= int(rng.integers(1, 256))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning is extra lines on the CLI's stderr
        try:
            pre = preprocess_image(bytes(encoded), kind)
        except ImageError as exc:
            assert str(exc) and "\n" not in str(exc)
            return
    check(pre)
