"""Preprocessing of real inputs into LeNet's 28 x 28 input (no Qt)."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from lenet_gui.core.preprocess import (
    DIGIT, GARMENT, ImageError, Preprocessed, image_file_filter, open_image, preprocess_array,
    preprocess_image, stroke_width, to_grey_array,
)
from tests.support import growing_files


def centre_of_mass(img: np.ndarray) -> tuple[float, float]:
    total = img.sum()
    ys, xs = np.mgrid[0 : img.shape[0], 0 : img.shape[1]]
    return float((img * ys).sum() / total), float((img * xs).sum() / total)


def ink_box(img: np.ndarray, level: float = 0.05) -> tuple[int, int]:
    rows = np.flatnonzero((img > level).any(1))
    cols = np.flatnonzero((img > level).any(0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def seven(size: int = 200, dark_on_light: bool = True, offset=(0, 0)) -> Image.Image:
    """A lopsided shape (a '7'): its centre of mass is far from its bounding box's centre."""
    paper, ink = (255, 0) if dark_on_light else (0, 255)
    image = Image.new("L", (size, size), paper)
    draw = ImageDraw.Draw(image)
    ox, oy = offset
    draw.line([(40 + ox, 40 + oy), (150 + ox, 40 + oy), (80 + ox, 170 + oy)], fill=ink, width=14, joint="curve")
    return image


def test_digit_is_centred_by_centre_of_mass_not_by_box():
    pre = preprocess_image(seven(offset=(25, 10)), DIGIT)
    img = pre.tensor[0].numpy()
    cy, cx = centre_of_mass(img)
    assert abs(cy - 13.5) <= 0.75 and abs(cx - 13.5) <= 0.75
    # The '7' is top-heavy: box-centring would put its centre of mass above the middle.
    rows = np.flatnonzero((img > 0.05).any(1))
    assert (rows[0] + rows[-1]) / 2 > 13.5 + 1


def test_digit_fits_20x20_keeping_aspect_ratio():
    image = Image.new("L", (300, 300), 0)
    ImageDraw.Draw(image).rectangle((20, 100, 219, 199), fill=255)  # 200 x 100, wide
    img = preprocess_image(image, DIGIT).tensor[0].numpy()
    height, width = ink_box(img, 0.5)
    assert width == 20
    assert height == 10


def test_tall_digit_is_20_high():
    image = Image.new("L", (100, 400), 0)
    ImageDraw.Draw(image).rectangle((40, 10, 59, 389), fill=255)
    height, width = ink_box(preprocess_image(image, DIGIT).tensor[0].numpy(), 0.5)
    assert height == 20 and width <= 3


def test_stroke_width_is_the_ink_area_over_half_its_outline():
    column = np.zeros((28, 28))
    column[4:24, 13] = 1.0  # 20 x 1: area 20, outline 2 * (20 + 1)
    bar = np.zeros((28, 28))
    bar[4:24, 12:15] = 1.0  # 20 x 3: area 60, outline 2 * (20 + 3)
    assert stroke_width(column) == pytest.approx(20 / 21)
    assert stroke_width(bar) == pytest.approx(60 / 23)
    assert stroke_width(np.zeros((28, 28))) == 0.0


def _upright_one(pen: int) -> np.ndarray:
    """A straight upright stroke on the 280-pixel canvas, as a new user draws a 1."""
    canvas = Image.new("L", (280, 280), 0)
    ImageDraw.Draw(canvas).line([(140, 30), (140, 250)], fill=255, width=pen)
    return preprocess_array(np.asarray(canvas, dtype=np.float64) / 255.0, DIGIT).tensor[0].numpy()


def test_a_thin_upright_stroke_is_widened_to_a_width_mnist_s_ones_have():
    img = _upright_one(pen=5)  # the canvas's thinnest pen: under a pixel once fitted into the box
    assert ink_box(img, 0.5)[0] == 20
    middle = img[6:22]
    assert np.all(middle.sum(1) >= 1.9)  # about two pixels of ink across, not one
    assert abs(centre_of_mass(img)[1] - 13.5) <= 0.75  # widened on both sides: still centred


def test_a_thin_wide_glyph_is_not_widened():
    # Widening every thin input made scribbles and text look more like digits; only a narrow
    # glyph (a 1) is widened.
    canvas = Image.new("L", (280, 280), 0)
    ImageDraw.Draw(canvas).line([(30, 60), (250, 60), (120, 250)], fill=255, width=5)  # a thin 7
    img = preprocess_array(np.asarray(canvas, dtype=np.float64) / 255.0, DIGIT).tensor[0].numpy()
    assert ink_box(img, 0.05)[1] == 20
    assert stroke_width(img) < 1.0


def test_dark_ink_on_light_paper_is_inverted():
    dark = preprocess_image(seven(dark_on_light=True), DIGIT).tensor
    light = preprocess_image(seven(dark_on_light=False), DIGIT).tensor
    assert float(dark.mean()) < 0.35  # ink white on black, as in MNIST
    assert float(dark[0, 0, 0]) == 0.0 and float(dark[0, 13, :].max()) > 0.9
    assert np.abs((dark - light).numpy()).max() < 1e-6


def test_shaded_noisy_paper_keeps_background_black():
    rng = np.random.default_rng(0)
    grey = np.asarray(seven(), dtype=np.float64) / 255.0
    ramp = np.linspace(0.0, 0.35, grey.shape[1])[None, :]  # a shadow across the sheet
    photo = np.clip(grey * (1 - ramp) + rng.normal(0, 0.04, grey.shape), 0, 1)
    img = preprocess_array(photo, DIGIT).tensor[0].numpy()
    clean = preprocess_array(grey, DIGIT).tensor[0].numpy()
    assert (img[:, :3] == 0).all() and (img[:, -3:] == 0).all()
    assert np.abs(img - clean).mean() < 0.05


def test_a_deep_shadow_across_the_sheet_is_divided_out_not_read_as_ink():
    grey = np.asarray(seven(), dtype=np.float64) / 255.0
    h, w = grey.shape
    yy, xx = np.mgrid[0:h, 0:w] / w
    light = 1.0 - 0.75 * (0.6 * xx + 0.4 * yy)  # a phone's shadow: the far corner at 25% light
    img = preprocess_array(grey * light, DIGIT).tensor[0].numpy()
    clean = preprocess_array(grey, DIGIT).tensor[0].numpy()
    assert img[:, :3].max() < 0.02 and img[:, -3:].max() < 0.02
    assert np.abs(img - clean).mean() < 0.02


def test_a_faint_blurred_stroke_beside_a_dark_one_is_still_ink():
    # A 'T' scanned at low resolution: a dark, thick bar, and a thin upright that the blur
    # leaves at 45% of the bar's darkness. Both are the digit; a threshold halfway to the
    # darkest ink would keep the bar only.
    paper = np.ones((60, 60))
    paper[10:16, 10:50] = 0.0  # the bar, fully dark
    paper[16:50, 29:31] = 1 - 0.45  # the upright, faint
    img = preprocess_array(paper, DIGIT).tensor[0].numpy()
    height, width = ink_box(img, 0.3)
    assert width == 20 and height >= 15  # the upright is there: the shape is as tall as wide
    assert img[20, 13:15].max() > 0.3  # ink in the middle column, well below the bar


def _rgb_seven() -> Image.Image:
    return seven().convert("RGB")


def _modes() -> dict[str, Image.Image]:
    base = seven()
    arr = np.asarray(base)
    rgba = np.zeros(arr.shape + (4,), np.uint8)
    rgba[..., 3] = 255 - arr  # dark ink on a transparent background
    la = Image.fromarray(np.stack([np.zeros_like(arr), 255 - arr], -1), "LA")
    palette = Image.new("P", base.size, 0)
    palette.putpalette([255, 255, 255, 0, 0, 0] + [0] * 762)
    palette.paste(1, mask=Image.fromarray(255 - arr))
    palette.info["transparency"] = 0
    i16 = Image.fromarray(arr.astype(np.uint16) * 257)
    assert i16.mode == "I;16"
    return {
        "L": base,
        "RGB": _rgb_seven(),
        "RGBA": Image.fromarray(rgba, "RGBA"),
        "LA": la,
        "P+transparency": palette,
        "I;16": i16,
        "CMYK": _rgb_seven().convert("CMYK"),
    }


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "LA", "P+transparency", "I;16", "CMYK"])
def test_every_image_mode_gives_the_same_input(mode):
    reference = preprocess_image(seven(), DIGIT).tensor.numpy()
    image = _modes()[mode]
    # Through encoded bytes too, as a file would arrive.
    buffer = io.BytesIO()
    image.save(buffer, "TIFF" if mode in ("CMYK", "I;16") else "PNG")
    for source in (image, buffer.getvalue()):
        pre = preprocess_image(source, DIGIT)
        assert not pre.blank
        assert np.abs(pre.tensor.numpy() - reference).max() < 0.02, mode


def test_exif_orientation_is_applied():
    upright = Image.new("RGB", (120, 200), "white")
    ImageDraw.Draw(upright).rectangle((20, 20, 100, 60), fill="black")  # a bar at the top
    # Stored rotated, with EXIF saying "rotate 90 degrees clockwise to display" (orientation 6).
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    stored.save(buffer, "JPEG", exif=exif.tobytes(), quality=95)
    opened = open_image(buffer.getvalue())
    assert opened.size == (120, 200)
    grey = to_grey_array(opened)
    assert grey[:70].mean() < grey[130:].mean()  # the bar is at the top again


def test_gif_first_frame():
    frames = [Image.new("L", (60, 60), 0), Image.new("L", (60, 60), 255)]
    ImageDraw.Draw(frames[0]).ellipse((10, 10, 50, 50), outline=255, width=6)
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    pre = preprocess_image(buffer.getvalue(), DIGIT)
    assert not pre.blank
    assert float(pre.tensor[0, 13, 13]) < 0.2  # the ring's hole, not the white second frame


@pytest.mark.parametrize("value", [0, 128, 255])
@pytest.mark.parametrize("kind", [DIGIT, GARMENT])
def test_uniform_image_is_blank(value, kind):
    pre = preprocess_image(Image.new("L", (64, 64), value), kind)
    assert pre.blank
    assert float(pre.tensor.abs().sum()) == 0.0


def test_faint_noise_is_blank():
    rng = np.random.default_rng(1)
    assert preprocess_array(0.9 + rng.normal(0, 0.01, (100, 100)), DIGIT).blank


def test_garment_on_light_background_is_trimmed_inverted_and_centred():
    image = Image.new("RGB", (400, 300), (245, 245, 240))
    ImageDraw.Draw(image).rectangle((40, 60, 139, 259), fill=(150, 30, 30))  # 100 x 200 garment
    img = preprocess_image(image, GARMENT).tensor[0].numpy()
    height, width = ink_box(img, 0.2)
    assert height == 28 and width == 14
    assert img[0, 0] == 0.0 and img[14, 14] > 0.3  # light background became black
    cy, cx = centre_of_mass(img)
    assert abs(cx - 13.5) < 1 and abs(cy - 13.5) < 1


def garment_reflectance(width: int = 300, height: int = 300) -> np.ndarray:
    """A pullover-like shape with a darker pattern, as reflectance on a white backdrop (1 is
    white), and the Fashion-MNIST-style picture it should give (the negated reflectance)."""
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    draw.polygon([(90, 30), (210, 30), (280, 120), (250, 140), (220, 110), (220, 280), (80, 280),
                  (80, 110), (50, 140), (20, 120)], fill=110)
    draw.rectangle((110, 120, 190, 150), fill=40)
    return np.asarray(image, dtype=np.float64) / 255.0


@pytest.mark.parametrize("light", ["dim", "left-to-right", "top-to-bottom", "corner"])
def test_uneven_light_on_a_garment_photo_is_divided_out(light):
    reflectance = garment_reflectance()
    h, w = reflectance.shape
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    field = {"dim": np.full((h, w), 0.7), "left-to-right": 0.6 + 0.4 * xx, "top-to-bottom": 1.0 - 0.35 * yy,
             "corner": 0.55 + 0.25 * xx + 0.2 * yy}[light]
    evenly_lit = preprocess_array(reflectance, GARMENT).tensor[0].numpy()
    photo = preprocess_array(reflectance * field, GARMENT).tensor[0].numpy()
    # What the pullover is, whatever the light: its body reads 1 - 110/255 = 0.57 and its
    # pattern 1 - 40/255 = 0.84, less the backdrop floor, and the photo gives the same picture.
    body, pattern = evenly_lit[22, 14], evenly_lit[11, 14]
    floor = 0.05
    assert body == pytest.approx((1 - 110 / 255 - floor) / (1 - floor), abs=0.03)
    assert pattern == pytest.approx((1 - 40 / 255 - floor) / (1 - floor), abs=0.03)
    assert np.abs(photo - evenly_lit).mean() < 0.02
    assert photo[0, 0] == 0.0 and photo[0, -1] == 0.0 and photo[-1, 0] == 0.0  # the backdrop is black


def test_a_backdrop_lit_unevenly_with_nothing_on_it_is_blank():
    h, w = 200, 300
    yy, xx = np.mgrid[0:h, 0:w] / w
    assert preprocess_array(0.95 - 0.3 * xx - 0.1 * yy, GARMENT).blank


@pytest.mark.parametrize("data, words", [
    (b"", "empty"),
    (b"not an image at all", "not an image"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "image"),
])
def test_unreadable_bytes_give_a_clear_error(data, words):
    with pytest.raises(ImageError, match=words):
        preprocess_image(data, DIGIT)


def test_missing_file_and_truncated_png(tmp_path):
    with pytest.raises(ImageError, match="does not exist"):
        preprocess_image(tmp_path / "nothing.png", DIGIT)
    buffer = io.BytesIO()
    seven().save(buffer, "PNG")
    cut = tmp_path / "cut.png"
    cut.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ImageError, match="cut.png"):
        preprocess_image(cut, DIGIT)


def test_decompression_bomb_is_refused():
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")
    with pytest.raises(ImageError, match="decompression bomb"):
        preprocess_image(png, DIGIT)


def test_a_big_photo_gives_what_the_same_picture_small_gives():
    small = seven(size=200)
    big = small.resize((3000, 3000), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    big.convert("RGB").save(buffer, "JPEG", quality=92)
    for source in (big, buffer.getvalue()):
        pre = preprocess_image(source, DIGIT)
        reference = preprocess_image(small, DIGIT)
        assert np.abs(pre.tensor.numpy() - reference.tensor.numpy()).mean() < 0.03


# -- odd inputs ----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(0, 0), (0, 12), (12, 0), (0, 5000), (5000, 0)])
def test_an_image_without_pixels_is_refused(size):
    with pytest.raises(ImageError, match="^The image has no pixels.$"):
        preprocess_image(Image.new("L", size), DIGIT)


@pytest.mark.parametrize("array", [np.zeros((0, 0)), np.zeros((0, 5)), np.zeros(28), np.zeros((2, 28, 28))],
                         ids=["0x0", "0x5", "1-d", "3-d"])
def test_an_array_that_is_not_a_picture_is_refused(array):
    with pytest.raises(ImageError, match="^The image has no pixels.$"):
        preprocess_array(array, GARMENT)


def test_an_unknown_input_kind_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown input kind 'letter'"):
        preprocess_array(np.zeros((28, 28)), "letter")


@pytest.mark.parametrize("kind", [DIGIT, GARMENT])
def test_a_single_pixel_is_blank(kind):
    assert preprocess_image(Image.new("L", (1, 1), 255), kind).blank


def test_float_images_scale_to_their_finite_range_nan_black_infinities_at_the_ends():
    values = np.array([[0.0, 4.0, np.nan], [np.inf, -np.inf, 2.0]], dtype=np.float32)
    grey = to_grey_array(Image.fromarray(values, "F"))
    np.testing.assert_allclose(grey, [[0.0, 1.0, 0.0], [1.0, 0.0, 0.5]])


def test_32_bit_integer_images_scale_to_their_range():
    grey = to_grey_array(Image.fromarray(np.array([[-5, 5], [0, 15]], dtype=np.int32), "I"))
    np.testing.assert_allclose(grey, [[0.0, 0.5], [0.25, 1.0]])


@pytest.mark.parametrize("values", [[[np.nan, np.nan]], [[3.0, 3.0]], [[np.inf, -np.inf]]],
                         ids=["all-nan", "constant", "only-infinities"])
def test_float_images_without_a_range_are_black(values):
    grey = to_grey_array(Image.fromarray(np.array(values, dtype=np.float32), "F"))
    np.testing.assert_array_equal(grey, np.zeros((1, 2)))


@pytest.mark.parametrize("mode, dtype", [("I;16", "<u2"), ("I;16L", "<u2"), ("I;16B", ">u2")])
def test_16_bit_images_use_the_whole_16_bit_scale(mode, dtype):
    # Not stretched to the values' own range: a dim 16-bit scan stays dim.
    values = np.array([[6553, 13107, 0]], dtype=dtype)
    image = Image.frombytes(mode, (3, 1), values.tobytes())
    np.testing.assert_allclose(to_grey_array(image), [[6553 / 65535, 13107 / 65535, 0.0]])


def test_transparency_becomes_the_colour_that_contrasts_with_the_ink():
    # dark ink: opaque black, half-transparent black, fully transparent
    dark = Image.fromarray(np.array([[[0, 255], [0, 128], [0, 0]]], dtype=np.uint8), "LA")
    np.testing.assert_allclose(to_grey_array(dark), [[0.0, 1 - 128 / 255, 1.0]])
    # light ink: opaque white, fully transparent
    light = Image.fromarray(np.array([[[255, 255, 255, 255], [0, 0, 0, 0]]], dtype=np.uint8), "RGBA")
    np.testing.assert_allclose(to_grey_array(light), [[1.0, 0.0]])
    nothing = Image.new("RGBA", (4, 3), (255, 255, 255, 0))
    np.testing.assert_array_equal(to_grey_array(nothing), np.zeros((3, 4)))
    assert preprocess_image(nothing, DIGIT).blank


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_colours_become_grey_with_the_usual_weights(mode):
    pixels = np.array([[[255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255]]], dtype=np.uint8)
    image = Image.fromarray(pixels[..., : len(mode)], mode)
    # ITU-R 601 luma: 0.299 R + 0.587 G + 0.114 B
    np.testing.assert_allclose(to_grey_array(image) * 255, [[76.2, 149.7, 29.1]], atol=0.6)


@pytest.mark.parametrize("mode", ["La", "RGBa", "PA"])
def test_every_mode_with_alpha_keeps_the_ink_visible(mode):
    if mode == "PA":
        image = Image.fromarray(np.array([[[255, 255], [0, 0]]], dtype=np.uint8), "LA").convert("PA")
    else:  # premultiplied alpha: opaque white ink, then a fully transparent pixel
        bands = len(mode)
        image = Image.frombytes(mode, (2, 1), bytes([255] * bands + [0] * bands))
    assert image.mode == mode
    np.testing.assert_allclose(to_grey_array(image), [[1.0, 0.0]])
    if mode != "PA":  # and dark ink: opaque black, then transparent
        dark = Image.frombytes(mode, (2, 1), bytes([0] * (bands - 1) + [255] + [0] * bands))
        np.testing.assert_allclose(to_grey_array(dark), [[0.0, 1.0]])


def test_a_big_palette_image_with_a_transparent_background_keeps_it():
    # Black ink on a transparent black background: only the transparency tells them apart.
    small = Image.new("P", (300, 300), 0)
    small.putpalette([0, 0, 0, 0, 0, 0] + [0] * 762)
    small.info["transparency"] = 0
    ImageDraw.Draw(small).line([(60, 60), (240, 60), (120, 250)], fill=1, width=20)
    big = small.resize((3000, 3000), Image.Resampling.NEAREST)  # beyond the working size
    big.info["transparency"] = 0
    reference = preprocess_image(small, DIGIT)
    assert not reference.blank
    assert preprocess_image(small.convert("RGB"), DIGIT).blank  # without its transparency: all black
    pre = preprocess_image(big, DIGIT)
    assert not pre.blank
    assert np.abs(pre.tensor.numpy() - reference.tensor.numpy()).mean() < 0.03


def test_image28_is_the_models_input_as_8_bit_pixels():
    tensor = torch.tensor([0.0, 0.2, 0.5, 1.0]).repeat(196).reshape(1, 28, 28)
    pre = Preprocessed(tensor=tensor, blank=False)
    assert pre.image28.dtype == np.uint8 and pre.image28.shape == (28, 28)
    assert pre.image28[0, :4].tolist() == [0, 51, 128, 255]


def test_the_open_dialog_offers_every_image_format_that_is_read():
    for extension in ("png", "jpg", "jpeg", "bmp", "gif", "webp", "tif", "tiff", "pgm", "ppm"):
        assert f"*.{extension}" in image_file_filter()


@pytest.mark.parametrize("heavy", ["bottom", "top", "right", "left"])
def test_a_lopsided_digit_is_moved_only_as_far_as_the_frame_allows(heavy):
    """Centring by mass would push a digit that is heavy at one end past the 28 x 28 frame: it
    stops at the frame's edge instead, whole."""
    image = Image.new("L", (200, 200), 0)
    draw = ImageDraw.Draw(image)
    vertical = heavy in ("bottom", "top")
    draw.rectangle((95, 0, 104, 199) if vertical else (0, 95, 199, 104), fill=255)  # a stem across
    bar = {"bottom": (0, 150, 199, 199), "top": (0, 0, 199, 49),
           "right": (150, 0, 199, 199), "left": (0, 0, 49, 199)}[heavy]
    draw.rectangle(bar, fill=255)
    img = preprocess_image(image, DIGIT).tensor[0].numpy()
    rows = np.flatnonzero((img > 0.05).any(1))
    cols = np.flatnonzero((img > 0.05).any(0))
    assert rows[-1] - rows[0] + 1 == 20 and cols[-1] - cols[0] + 1 == 20  # whole: 20 x 20
    edge = {"bottom": rows[0] == 0, "top": rows[-1] == 27, "right": cols[0] == 0, "left": cols[-1] == 27}
    assert edge[heavy], (rows[[0, -1]], cols[[0, -1]])


def test_a_file_far_too_large_is_refused_by_its_size_without_being_read(tmp_path):
    path = tmp_path / "huge.png"
    with open(path, "wb") as f:  # 300 MB that take no disk space
        f.write(b"\x89PNG\r\n\x1a\n")
        f.truncate(300 << 20)
    with pytest.raises(ImageError) as err:
        preprocess_image(path, DIGIT)
    assert str(err.value) == "huge.png is too large (300 MB) to be an image worth classifying."


def test_a_folder_is_not_an_image(tmp_path):
    folder = tmp_path / "scans.png"
    folder.mkdir()
    with pytest.raises(ImageError) as err:
        preprocess_image(folder, DIGIT)
    assert str(err.value) == "scans.png is a folder, not an image."


def test_a_damaged_image_opened_lazily_by_the_caller_is_one_clear_error():
    """A PIL image handed over unread (as Image.open returns it) fails when its pixels are read."""
    buffer = io.BytesIO()
    seven().save(buffer, "PNG")
    lazy = Image.open(io.BytesIO(buffer.getvalue()[: len(buffer.getvalue()) // 2]))
    with pytest.raises(ImageError) as err:
        preprocess_image(lazy, DIGIT)
    assert str(err.value) == "The image cannot be converted to greyscale (image file is truncated)."


def test_the_working_picture_of_a_big_image_stays_within_black_and_white():
    """Shrinking with Lanczos overshoots at sharp edges; the pipelines expect [0, 1]."""
    from lenet_gui.core.preprocess import working_grey

    page = np.zeros((1500, 3000), dtype=np.uint8)
    page[500:1000, 1000:2000] = 255  # a white card on black: sharp edges all round
    grey = working_grey(Image.fromarray(page))
    assert max(grey.shape) == 1024
    assert grey.min() >= 0.0 and grey.max() <= 1.0


@pytest.mark.parametrize("mode", ["LA", "RGBa", "L"])
def test_a_big_image_in_a_mode_the_shrinking_cannot_take_is_shrunk_as_colour(monkeypatch, mode):
    """Fault injection: should Pillow's reduce() refuse a mode (as it refuses palette and 16-bit
    ones), the image is shrunk as RGB, or as RGBA when it has alpha, and still reads the same."""
    ink = seven(300, dark_on_light=False)  # white on black
    black = Image.new("L", ink.size, 0)
    # With alpha: black ink whose shape is only in the alpha (dropping it leaves a black page).
    seven_small = {"LA": lambda: Image.merge("LA", [black, ink]),
                   "RGBa": lambda: Image.merge("RGBa", [black, black, black, ink]),
                   "L": lambda: ink}[mode]()
    big = seven_small.resize((3000, 3000), Image.Resampling.NEAREST)
    real_reduce = Image.Image.reduce
    refused = []

    def refuse(self, factor, box=None):
        if self.mode == mode and not refused:  # once: Pillow's own RGBA reduce goes through RGBa
            refused.append(mode)
            raise ValueError("image has wrong mode")
        return real_reduce(self, factor, box)

    monkeypatch.setattr(Image.Image, "reduce", refuse)
    reference = preprocess_image(seven_small, DIGIT).tensor.numpy()
    pre = preprocess_image(big, DIGIT)
    assert refused == [mode] and not pre.blank
    assert np.abs(pre.tensor.numpy() - reference).mean() < 0.03


def test_a_file_that_grows_past_the_limit_while_read_is_refused(tmp_path, monkeypatch):
    from lenet_gui.core import preprocess

    path = tmp_path / "growing.png"
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.truncate(preprocess.MAX_FILE_BYTES + 10)
    growing_files.report_an_earlier_size(monkeypatch)
    with pytest.raises(ImageError) as err:
        preprocess_image(path, DIGIT)
    assert str(err.value) == "growing.png is too large (over 200 MB) to be an image worth classifying."


def test_a_big_16_bit_photo_reads_like_the_same_photo_small():
    grey = np.full((300, 300), 60000, dtype=np.uint16)  # a light background
    grey[60:240, 90:210] = 15000  # a dark garment
    small = Image.fromarray(grey)
    big = small.resize((3000, 3000), Image.Resampling.NEAREST)
    assert big.mode == "I;16"
    for kind in (GARMENT, DIGIT):
        reference = preprocess_image(small, kind).tensor.numpy()
        assert np.abs(preprocess_image(big, kind).tensor.numpy() - reference).mean() < 0.03, kind


def test_grey_ink_on_transparency_gets_the_backdrop_that_contrasts_with_it():
    # Ink at 30 % grey, opaque, beside a transparent pixel: darker than half, so a white backdrop.
    dark_grey = Image.fromarray(np.array([[[77, 255]] * 50 + [[0, 0]]], dtype=np.uint8).reshape(1, 51, 2), "LA")
    grey = to_grey_array(dark_grey)
    np.testing.assert_allclose(grey[0, :50], 77 / 255)
    assert grey[0, 50] == 1.0
    light_grey = Image.fromarray(np.array([[[180, 255]] * 50 + [[0, 0]]], dtype=np.uint8).reshape(1, 51, 2), "LA")
    assert to_grey_array(light_grey)[0, 50] == 0.0


def test_a_thin_pen_stroke_is_saturated_like_mnists():
    """MNIST's strokes reach full white in their middle; a hairline shrunk to 20 x 20 would not."""
    image = Image.new("L", (1000, 1000), 255)
    ImageDraw.Draw(image).line([(200, 150), (800, 150), (400, 850)], fill=0, width=3)
    img = preprocess_image(image, DIGIT).tensor[0].numpy()
    assert img.max() == 1.0


def test_pillows_own_size_limit_is_left_as_it_was():
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = 12_345_678  # what another part of a program may have chosen
    try:
        buffer = io.BytesIO()
        seven().save(buffer, "PNG")
        preprocess_image(buffer.getvalue(), DIGIT)
        with pytest.raises(ImageError):
            preprocess_image(b"not an image", DIGIT)
        assert Image.MAX_IMAGE_PIXELS == 12_345_678
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def test_a_float_image_with_a_narrow_range_is_stretched_to_it():
    values = np.array([[0.25, 0.5, 0.375]], dtype=np.float32)  # a range of 0.25
    np.testing.assert_allclose(to_grey_array(Image.fromarray(values, "F")), [[0.0, 1.0, 0.5]])


def test_a_pale_garment_is_seen_and_faint_noise_is_not():
    pale = Image.new("L", (200, 200), 250)
    ImageDraw.Draw(pale).rectangle((60, 30, 139, 169), fill=225)  # 10 % darker than the paper
    assert not preprocess_image(pale, GARMENT).blank
    rng = np.random.default_rng(2)
    noise = np.clip(0.95 + rng.normal(0, 0.008, (200, 200)), 0, 1)
    assert preprocess_array(noise, GARMENT).blank


def test_a_garment_darker_than_a_dark_background_is_blank():
    """On a dark background only what is lighter counts as the garment; a darker patch is
    nothing to classify (and no error)."""
    image = Image.new("L", (200, 200), 100)
    ImageDraw.Draw(image).rectangle((60, 30, 139, 169), fill=40)
    pre = preprocess_image(image, GARMENT)
    assert pre.blank and not pre.tensor.any()
