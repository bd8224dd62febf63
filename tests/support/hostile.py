"""Hostile inputs, written to a folder on demand: images, checkpoints and data set files that a
real user (or a real disk) can hand the app. Plain module, no pytest fixtures, so that core
tests, CLI tests and GUI tests (drop, open, paste) can all reuse the same files.

Every image case says what a correct app does with it (``expect``):

* ``"result"``: a prediction must come out (the file is a legitimate, if unusual, image);
* ``"blank"``: the image is readable but there is nothing to classify (a clear "blank" message);
* ``"error"``: the file cannot be classified; the app must say why in one line and go on.

``same_as`` names the reference drawing the result must match (for rotations, bit depths and
colour models that must not change what the network sees).
"""

from __future__ import annotations

import io
import os
import pickle
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, ImageDraw

# ---------------------------------------------------------------------------------------------
# Reference drawings


def draw_seven(size: int = 280, ink: int = 0, paper: int = 255, width: int = 24) -> Image.Image:
    """A thick "7", dark ink on light paper, like a photo of a digit written on paper. Not
    symmetric under rotation, so a rotation that was not undone changes what the model sees."""
    image = Image.new("L", (size, size), paper)
    draw = ImageDraw.Draw(image)
    s = size / 280
    draw.line([(60 * s, 60 * s), (220 * s, 60 * s)], fill=ink, width=int(width * s))
    draw.line([(220 * s, 60 * s), (110 * s, 240 * s)], fill=ink, width=int(width * s))
    return image


def draw_zero(size: int = 280, ink: int = 0, paper: int = 255, width: int = 24) -> Image.Image:
    image = Image.new("L", (size, size), paper)
    s = size / 280
    ImageDraw.Draw(image).ellipse([80 * s, 40 * s, 200 * s, 240 * s], outline=ink, width=int(width * s))
    return image


def png_bytes(image: Image.Image, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **params)
    return buffer.getvalue()


def jpeg_bytes(image: Image.Image, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95, **params)
    return buffer.getvalue()


def _fresh(folder: Path, name: str) -> Path:
    """``folder/name``, with whatever an earlier run left there removed."""
    path = Path(folder) / name
    if path.is_dir() and not path.is_symlink():
        path.rmdir()
    elif path.exists() or path.is_symlink():
        path.unlink()
    return path


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = _fresh(folder, name)
    path.write_bytes(data)
    return path


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def crafted_png(width: int, height: int, rows: int = 16, colour_type: int = 0) -> bytes:
    """A PNG whose header declares ``width`` x ``height`` pixels, followed by only ``rows`` rows
    of compressed zeros: a few hundred bytes that claim to be gigabytes."""
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour_type]
    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + width * channels)
    body = b"".join(compressor.compress(row) for _ in range(rows)) + compressor.flush()
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", body)
            + _png_chunk(b"IEND", b""))


def zeros_png(width: int, height: int) -> bytes:
    """A complete, valid PNG of ``width`` x ``height`` black pixels: compresses about 1000:1, so
    a file of tens of kilobytes decodes to tens of megabytes."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + width)
    chunks = []
    for _ in range(height):
        piece = compressor.compress(row)
        if piece:
            chunks.append(piece)
    chunks.append(compressor.flush())
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", b"".join(chunks))
            + _png_chunk(b"IEND", b""))


# ---------------------------------------------------------------------------------------------
# Image cases


@dataclass
class HostileImage:
    name: str
    make: Callable[[Path], Path]  # writes the case into a folder, returns the path to hand over
    expect: str  # "result", "blank" or "error"
    same_as: str | None = None  # "seven": must preprocess and classify like the upright 7
    kind: str = "digit"
    notes: str = ""
    needs: set = field(default_factory=set)  # "non-root" etc.


def _make_upright(folder: Path) -> Path:
    return _write(folder, "seven_upright.png", png_bytes(draw_seven()))


def _make_zero_bytes(folder: Path) -> Path:
    return _write(folder, "empty.png", b"")


def _make_truncated_png(folder: Path) -> Path:
    data = png_bytes(draw_seven())
    return _write(folder, "truncated.png", data[: len(data) // 2])


def _make_truncated_png_header(folder: Path) -> Path:
    return _write(folder, "truncated_header.png", png_bytes(draw_seven())[:20])


def _make_truncated_jpeg(folder: Path) -> Path:
    data = jpeg_bytes(draw_seven().convert("RGB"))
    return _write(folder, "truncated.jpg", data[: len(data) // 3])


def _make_truncated_tiff(folder: Path) -> Path:
    """Cut inside its first directory of tags: Pillow also prints "Corrupt EXIF data" warnings."""
    buffer = io.BytesIO()
    draw_seven().save(buffer, "TIFF")
    return _write(folder, "truncated.tif", buffer.getvalue()[:48])


def _make_bad_crc_png(folder: Path) -> Path:
    data = bytearray(png_bytes(draw_seven()))
    data[29] ^= 0xFF  # inside IHDR's CRC
    return _write(folder, "bad_crc.png", bytes(data))


def _make_random_png(folder: Path) -> Path:
    return _write(folder, "random.png", np.random.default_rng(1).bytes(4096))


def _make_random_jpg(folder: Path) -> Path:
    # Starts like a JPEG, so the decoder, not the format sniffing, meets the garbage.
    return _write(folder, "random.jpg", b"\xff\xd8\xff\xe0" + np.random.default_rng(2).bytes(4096))


def _make_text_png(folder: Path) -> Path:
    return _write(folder, "notes.png", "Meeting notes\nnot an image at all\n".encode() * 20)


def _make_bomb_png(folder: Path) -> Path:
    return _write(folder, "bomb.png", crafted_png(100_000, 100_000))


def _make_bomb_rgba_png(folder: Path) -> Path:
    # Just over Pillow's "warning" threshold and under its "error" one: only our limit stops it.
    return _write(folder, "bomb_rgba.png", crafted_png(9000, 9000, colour_type=6))


def _make_bomb_gif(folder: Path) -> Path:
    # GIF header: logical screen 65535 x 65535, one 1x1 frame.
    data = (b"GIF89a" + struct.pack("<HH", 65535, 65535) + b"\x80\x00\x00" + b"\x00\x00\x00\xff\xff\xff"
            + b"\x2c" + struct.pack("<HHHH", 0, 0, 65535, 65535) + b"\x00" + b"\x02\x02\x44\x01\x00" + b"\x3b")
    return _write(folder, "bomb.gif", data)


def _make_big_sparse_png(folder: Path) -> Path:
    """7900 x 7900 (62 MP, inside the pixel limit), mostly black, with a white 7: about 60 KB on
    disk. Legitimate, so it must classify, without memory growing by gigabytes on the way."""
    seven = draw_seven(size=2000, ink=255, paper=0)
    image = Image.new("L", (7900, 7900), 0)
    image.paste(seven, (2950, 2950))
    return _write(folder, "huge_sparse.png", png_bytes(image, compress_level=9))


def _make_oversized_file(folder: Path) -> Path:
    path = _fresh(folder, "oversized.png")
    with open(path, "wb") as f:  # sparse: costs no disk space
        f.write(png_bytes(draw_seven()))
        f.truncate(300 * 1024 * 1024)
    return path


def _make_one_pixel(folder: Path) -> Path:
    return _write(folder, "one_pixel.png", png_bytes(Image.new("L", (1, 1), 0)))


def _make_long_strip(folder: Path) -> Path:
    image = Image.new("L", (20000, 10), 255)
    ImageDraw.Draw(image).rectangle([9000, 2, 11000, 7], fill=0)
    return _write(folder, "strip_20000x10.png", png_bytes(image))


def _make_tall_strip(folder: Path) -> Path:
    image = Image.new("L", (10, 20000), 255)
    ImageDraw.Draw(image).rectangle([3, 9000, 6, 11000], fill=0)
    return _write(folder, "strip_10x20000.png", png_bytes(image))


def _make_grey16(folder: Path) -> Path:
    arr = (np.asarray(draw_seven(), dtype=np.uint32) * 257).astype(np.uint16)
    image = Image.fromarray(arr)
    assert image.mode == "I;16"
    return _write(folder, "seven_16bit.png", png_bytes(image))


def _make_cmyk_jpeg(folder: Path) -> Path:
    return _write(folder, "seven_cmyk.jpg", jpeg_bytes(draw_seven().convert("RGB").convert("CMYK")))


def _make_palette_transparent(folder: Path) -> Path:
    seven = np.asarray(draw_seven())
    indices = np.where(seven < 128, 1, 0).astype(np.uint8)  # 0: transparent paper, 1: black ink
    image = Image.fromarray(indices, "P")
    image.putpalette([255, 0, 0, 0, 0, 0] + [0] * (254 * 3))  # the hidden paper colour is red
    return _write(folder, "seven_palette_transparent.png", png_bytes(image, transparency=0))


def _make_fully_transparent(folder: Path) -> Path:
    image = draw_seven().convert("RGBA")
    image.putalpha(0)  # the 7 is there in the colour channels, but nothing is visible
    return _write(folder, "fully_transparent.png", png_bytes(image))


def _make_animated_gif(folder: Path) -> Path:
    frames = [draw_seven().convert("P"), draw_zero().convert("P"), draw_zero(width=40).convert("P")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return _write(folder, "animated.gif", buffer.getvalue())


def exif_rotated(image: Image.Image, fmt: str = "JPEG") -> bytes:
    """The pixels stored turned 90 degrees counter-clockwise with EXIF orientation 6 ("turn 90
    degrees clockwise to display"), as phone cameras write portrait photos."""
    stored = image.convert("RGB").transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    stored.save(buffer, fmt, exif=exif, **({"quality": 95} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def _make_exif_rotated_jpeg(folder: Path) -> Path:
    return _write(folder, "seven_exif_rotated.jpg", exif_rotated(draw_seven(), "JPEG"))


def _make_exif_rotated_png(folder: Path) -> Path:
    return _write(folder, "seven_exif_rotated.png", exif_rotated(draw_seven(), "PNG"))


def _make_broken_exif(folder: Path) -> Path:
    exif = Image.Exif()
    exif[0x0112] = 77  # no such orientation
    return _write(folder, "seven_bad_exif.jpg", jpeg_bytes(draw_seven().convert("RGB"), exif=exif))


def _make_all_white(folder: Path) -> Path:
    return _write(folder, "all_white.png", png_bytes(Image.new("RGB", (200, 200), (255, 255, 255))))


def _make_all_black(folder: Path) -> Path:
    return _write(folder, "all_black.jpg", jpeg_bytes(Image.new("RGB", (200, 200), (0, 0, 0))))


def _make_deleted(folder: Path) -> Path:
    path = _write(folder, "deleted_after_drop.png", png_bytes(draw_seven()))
    path.unlink()  # listed (dropped, named on the command line), gone by the time it is read
    return path


def _make_broken_symlink(folder: Path) -> Path:
    path = _fresh(folder, "dangling_link.png")
    path.symlink_to(Path(folder) / "no_such_target.png")
    return path


def _make_directory(folder: Path) -> Path:
    path = _fresh(folder, "actually_a_folder.png")
    path.mkdir()
    return path


def _make_fifo(folder: Path) -> Path:
    """A named pipe: opening it for reading blocks until a writer appears, i.e. forever."""
    path = _fresh(folder, "pipe.png")
    os.mkfifo(path)
    return path


def _make_dev_zero_link(folder: Path) -> Path:
    """Reads as an endless stream of zeros: reading it whole never finishes and eats memory."""
    path = _fresh(folder, "endless.png")
    path.symlink_to("/dev/zero")
    return path


def _make_unreadable(folder: Path) -> Path:
    path = _write(folder, "unreadable.png", png_bytes(draw_seven()))
    path.chmod(0)
    return path


def _make_non_ascii(folder: Path) -> Path:
    return _write(folder, "ziffer_äöü_数字.png", png_bytes(draw_seven()))


def _make_undecodable_name(folder: Path) -> Path:
    """A file name that is not valid UTF-8 (a Latin-1 name from an old archive): Python hands it
    over as a str with surrogate escapes, which crash a naive print()."""
    raw = os.fsencode(folder) + b"/ziffer_\xe4\xf6\xfc.png"
    with open(raw, "wb") as f:
        f.write(png_bytes(draw_seven()))
    return Path(os.fsdecode(raw))


IMAGE_CASES: list[HostileImage] = [
    HostileImage("upright", _make_upright, "result", same_as="seven", notes="the reference"),
    HostileImage("zero_bytes", _make_zero_bytes, "error"),
    HostileImage("truncated_png", _make_truncated_png, "error"),
    HostileImage("truncated_png_header", _make_truncated_png_header, "error"),
    HostileImage("truncated_jpeg", _make_truncated_jpeg, "error"),
    HostileImage("truncated_tiff", _make_truncated_tiff, "error", notes="must not add warnings to stderr"),
    HostileImage("bad_crc_png", _make_bad_crc_png, "error"),
    HostileImage("random_bytes_png", _make_random_png, "error"),
    HostileImage("random_bytes_jpg", _make_random_jpg, "error"),
    HostileImage("text_as_png", _make_text_png, "error"),
    HostileImage("bomb_png_100000x100000", _make_bomb_png, "error"),
    HostileImage("bomb_rgba_png_9000x9000", _make_bomb_rgba_png, "error"),
    HostileImage("bomb_gif_65535x65535", _make_bomb_gif, "error"),
    HostileImage("huge_sparse_png_7900x7900", _make_big_sparse_png, "result", same_as="seven",
                 notes="inside the pixel limit: must classify with bounded memory"),
    HostileImage("oversized_file_300MB", _make_oversized_file, "error"),
    HostileImage("one_pixel", _make_one_pixel, "blank"),
    HostileImage("strip_20000x10", _make_long_strip, "result"),
    HostileImage("strip_10x20000", _make_tall_strip, "result"),
    HostileImage("grey_16bit_png", _make_grey16, "result", same_as="seven"),
    HostileImage("cmyk_jpeg", _make_cmyk_jpeg, "result", same_as="seven"),
    HostileImage("palette_transparent_png", _make_palette_transparent, "result", same_as="seven"),
    HostileImage("fully_transparent_png", _make_fully_transparent, "blank"),
    HostileImage("animated_gif", _make_animated_gif, "result", same_as="seven", notes="first frame"),
    HostileImage("exif_rotated_jpeg", _make_exif_rotated_jpeg, "result", same_as="seven"),
    HostileImage("exif_rotated_png", _make_exif_rotated_png, "result", same_as="seven"),
    HostileImage("broken_exif_orientation", _make_broken_exif, "result", same_as="seven"),
    HostileImage("all_white", _make_all_white, "blank"),
    HostileImage("all_black", _make_all_black, "blank"),
    HostileImage("deleted_before_read", _make_deleted, "error"),
    HostileImage("broken_symlink", _make_broken_symlink, "error"),
    HostileImage("folder_named_png", _make_directory, "error"),
    HostileImage("fifo_named_png", _make_fifo, "error", notes="must not block"),
    HostileImage("symlink_to_dev_zero", _make_dev_zero_link, "error", notes="must not read forever"),
    HostileImage("unreadable_chmod_000", _make_unreadable, "error", needs={"non-root"}),
    HostileImage("non_ascii_path", _make_non_ascii, "result", same_as="seven"),
    HostileImage("undecodable_file_name", _make_undecodable_name, "result", same_as="seven"),
]
IMAGE_CASES_BY_NAME = {case.name: case for case in IMAGE_CASES}


def running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def applicable_image_cases() -> list[HostileImage]:
    """The cases that mean something for this user (chmod 000 does not stop root)."""
    return [c for c in IMAGE_CASES if not ("non-root" in c.needs and running_as_root())]


def write_image_cases(folder: Path, cases: list[HostileImage] | None = None) -> dict[str, Path]:
    """Write every case (or the given ones) into ``folder``, each in its own subfolder so that
    names never clash; returns case name -> path to hand to the app."""
    paths = {}
    for case in cases or applicable_image_cases():
        sub = Path(folder) / case.name
        sub.mkdir(parents=True, exist_ok=True)
        paths[case.name] = case.make(sub)
    return paths


# ---------------------------------------------------------------------------------------------
# Checkpoints


class CodeRunner:
    """Unpickling this creates ``marker``: what a malicious "model" would do (with os.system or
    worse). The file must be refused, the marker never created."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@dataclass
class HostileCheckpoint:
    name: str
    make: Callable[[Path, Path], Path]  # (folder, good checkpoint) -> path to load
    message: str  # what the error message must contain (case-insensitive); "" when it loads


def _ck_truncated(folder: Path, good: Path) -> Path:
    data = good.read_bytes()
    return _write(folder, "truncated.pt", data[: len(data) // 2])


def _ck_truncated_tail(folder: Path, good: Path) -> Path:
    data = good.read_bytes()
    return _write(folder, "truncated_tail.pt", data[:-100])


def _ck_random(folder: Path, good: Path) -> Path:
    return _write(folder, "random.pt", np.random.default_rng(3).bytes(50_000))


def _ck_empty(folder: Path, good: Path) -> Path:
    return _write(folder, "empty.pt", b"")


def _ck_png(folder: Path, good: Path) -> Path:
    return _write(folder, "picture.pt", png_bytes(draw_seven()))


def _ck_folder(folder: Path, good: Path) -> Path:
    path = _fresh(folder, "model.pt")
    path.mkdir()
    return path


def _ck_fifo(folder: Path, good: Path) -> Path:
    path = _fresh(folder, "pipe.pt")
    os.mkfifo(path)
    return path


def marker_path(folder: Path) -> Path:
    return Path(folder) / "CODE_RAN"


def _ck_pickle_plain(folder: Path, good: Path) -> Path:
    """A plain (pre-zip) pickle stream, what ``torch.save(_use_new_zipfile_serialization=False)``
    and many hand-made files look like."""
    return _write(folder, "evil_plain.pt", pickle.dumps({"state_dict": CodeRunner(str(marker_path(folder)))}))


def _ck_pickle_plain_protocol2(folder: Path, good: Path) -> Path:
    """The same with pickle protocol 2, the one torch's legacy format uses: here the refusal must
    come from the forbidden global itself, not from an unsupported opcode."""
    data = pickle.dumps({"state_dict": CodeRunner(str(marker_path(folder)))}, protocol=2)
    return _write(folder, "evil_plain_p2.pt", data)


def _ck_pickle_torch(folder: Path, good: Path) -> Path:
    """A real torch.save zip whose pickle hides the payload next to genuine weights."""
    import torch

    payload = torch.load(good, weights_only=True)
    payload["metadata"]["extra"] = CodeRunner(str(marker_path(folder)))
    path = Path(folder) / "evil_torch.pt"
    torch.save(payload, path)
    return path


def _ck_other_architecture(folder: Path, good: Path) -> Path:
    import torch

    payload = torch.load(good, weights_only=True)
    payload["state_dict"] = torch.nn.Sequential(torch.nn.Linear(784, 10)).state_dict()
    path = Path(folder) / "other_arch.pt"
    torch.save(payload, path)
    return path


def _ck_bare_state_dict(folder: Path, good: Path) -> Path:
    """What ``torch.save(model.state_dict())`` of some other project writes."""
    import torch

    path = Path(folder) / "bare_state_dict.pt"
    torch.save(torch.nn.Sequential(torch.nn.Conv2d(1, 6, 5)).state_dict(), path)
    return path


def _ck_newer_version(folder: Path, good: Path) -> Path:
    import torch

    payload = torch.load(good, weights_only=True)
    payload["format_version"] = 99
    path = Path(folder) / "from_the_future.pt"
    torch.save(payload, path)
    return path


def _ck_nan_weights(folder: Path, good: Path) -> Path:
    import torch

    payload = torch.load(good, weights_only=True)
    payload["state_dict"]["fc3.weight"][0, 0] = float("nan")
    path = Path(folder) / "nan_weights.pt"
    torch.save(payload, path)
    return path


def _payload_variant(name: str, change: Callable[[dict], None]):
    def make(folder: Path, good: Path) -> Path:
        import torch

        payload = torch.load(good, weights_only=True)
        change(payload)
        path = Path(folder) / f"{name}.pt"
        torch.save(payload, path)
        return path

    return make


# Each message is the part of the refusal that only this kind of file gets: a file refused for
# the wrong reason (a damaged file called "another architecture") fails the test.
UNREADABLE = "is not a readable checkpoint: the file is damaged, truncated, or not a PyTorch file"
RUNS_CODE = "was refused: it contains objects other than weights and plain values, which could run code"
NOT_OURS = "is a PyTorch file but not a LeNet Studio checkpoint"
CANNOT_BUILD = "describes a model this app cannot build: "
OTHER_ARCHITECTURE = "holds weights of another architecture than this LeNet ("

CHECKPOINT_CASES: list[HostileCheckpoint] = [
    HostileCheckpoint("truncated_half", _ck_truncated, UNREADABLE),
    HostileCheckpoint("truncated_tail", _ck_truncated_tail, UNREADABLE),
    HostileCheckpoint("random_bytes", _ck_random, UNREADABLE + "."),
    HostileCheckpoint("empty_file", _ck_empty, "is empty (0 bytes): it is not a checkpoint"),
    HostileCheckpoint("png_renamed_pt", _ck_png, UNREADABLE + " (it looks like a PNG image)"),
    HostileCheckpoint("folder", _ck_folder, "is a folder, not a checkpoint file"),
    HostileCheckpoint("fifo", _ck_fifo, "is not a regular file (a pipe, device or socket)"),
    # Protocol 4: the weights-only unpickler stops at an opcode it does not know, before the
    # forbidden object; refused as unreadable.
    HostileCheckpoint("pickle_runs_code_plain", _ck_pickle_plain, UNREADABLE),
    HostileCheckpoint("pickle_runs_code_plain_protocol2", _ck_pickle_plain_protocol2, RUNS_CODE),
    HostileCheckpoint("pickle_runs_code_torch_zip", _ck_pickle_torch, RUNS_CODE),
    HostileCheckpoint("other_architecture", _ck_other_architecture, OTHER_ARCHITECTURE + "Missing key(s)"),
    HostileCheckpoint("bare_state_dict", _ck_bare_state_dict, NOT_OURS),
    HostileCheckpoint("newer_format_version", _ck_newer_version,
                      "was written by a newer LeNet Studio (checkpoint format 99; this version reads up to 1)"),
    HostileCheckpoint("nan_weights", _ck_nan_weights, "holds weights that are not finite numbers"),
    HostileCheckpoint("format_version_string",
                      _payload_variant("format_version_string", lambda p: p.update(format_version="2")),
                      "has an invalid format version ('2')"),
    HostileCheckpoint("model_config_list",
                      _payload_variant("model_config_list", lambda p: p.update(model_config=[1, 2])),
                      CANNOT_BUILD + "its model settings are a list"),
    HostileCheckpoint("model_config_unknown_activation",
                      _payload_variant("model_config_unknown_activation",
                                       lambda p: p["model_config"].update(activation="gelu")),
                      CANNOT_BUILD + "unknown activation 'gelu'"),
    HostileCheckpoint("model_config_num_classes_string",
                      _payload_variant("model_config_num_classes_string",
                                       lambda p: p["model_config"].update(num_classes="10")),
                      CANNOT_BUILD + "num_classes should be an int, not '10'"),
    HostileCheckpoint("model_config_dropout_string",
                      _payload_variant("model_config_dropout_string",
                                       lambda p: p["model_config"].update(dropout="lots")),
                      CANNOT_BUILD + "dropout should be a float, not 'lots'"),
    HostileCheckpoint("model_config_batch_norm_string",
                      _payload_variant("model_config_batch_norm_string",
                                       lambda p: p["model_config"].update(batch_norm="no")),
                      CANNOT_BUILD + "batch_norm should be a bool, not 'no'"),
    HostileCheckpoint("state_dict_strings",
                      _payload_variant("state_dict_strings",
                                       lambda p: p.update(state_dict={k: "x" for k in p["state_dict"]})),
                      "holds something other than weights under 'input_mean' (a str)"),
    HostileCheckpoint("state_dict_wrong_shapes",
                      _payload_variant("state_dict_wrong_shapes",
                                       lambda p: p["state_dict"].update({"fc3.weight": p["state_dict"]["fc3.weight"][:, :5]})),
                      OTHER_ARCHITECTURE + "size mismatch for fc3.weight"),
    HostileCheckpoint("metadata_not_a_dict",
                      _payload_variant("metadata_not_a_dict", lambda p: p.update(metadata=[1, 2, 3])),
                      ""),  # harmless: loads with default classes
    HostileCheckpoint("payload_is_a_list", lambda folder, good: _torch_save(folder, "list.pt", [1, 2, 3]),
                      NOT_OURS),
]


def _torch_save(folder: Path, name: str, obj) -> Path:
    import torch

    path = Path(folder) / name
    torch.save(obj, path)
    return path


def write_checkpoint_cases(folder: Path, good: Path) -> dict[str, Path]:
    paths = {}
    for case in CHECKPOINT_CASES:
        sub = Path(folder) / case.name
        sub.mkdir(parents=True, exist_ok=True)
        paths[case.name] = case.make(sub, good)
    return paths


# ---------------------------------------------------------------------------------------------
# Data sets (IDX files in torchvision's layout)


def idx_bytes(array: np.ndarray) -> bytes:
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.tobytes()


def write_idx_dataset(root: Path, folder: str = "MNIST", train: int = 64, test: int = 32,
                      seed: int = 0) -> Path:
    """A small, valid data set (random pixels, labels 0-9) under ``root/folder/raw``."""
    rng = np.random.default_rng(seed)
    raw = Path(root) / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, count in (("train", train), ("t10k", test)):
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(idx_bytes(rng.integers(0, 256, (count, 28, 28))))
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(idx_bytes(rng.integers(0, 10, count)))
    return raw


# ---------------------------------------------------------------------------------------------
# A small trained model, for tests that need predictions worth comparing


def train_tiny_checkpoint(path: Path, data_root: str | os.PathLike | None = None,
                          dataset: str = "mnist") -> Path:
    """About 90 % test accuracy on MNIST in a few seconds (4000 images, 3 epochs, ReLU, one
    thread). Without real data, an untrained model of the same shape: good enough for "does not
    crash", not for comparing predictions (callers check ``metadata['history']``)."""
    import torch

    from lenet_gui.core.checkpoint import save_checkpoint
    from lenet_gui.core.data import DATASETS, DatasetError, load_dataset
    from lenet_gui.core.engine import Trainer
    from lenet_gui.core.presets import preset_config
    from lenet_gui.core.model import LeNet, ModelConfig

    threads = torch.get_num_threads()
    try:
        try:
            data = load_dataset(dataset, data_root, download=False) if data_root else None
        except DatasetError:
            data = None
        if data is None:
            info = DATASETS[dataset]
            meta = {"dataset": dataset, "classes": list(info.classes), "input_kind": info.input_kind,
                    "history": []}
            torch.manual_seed(0)
            return save_checkpoint(path, LeNet(ModelConfig(activation="relu")), meta)
        config = preset_config("classic", dataset, epochs=3, lr=0.01, threads=1, activation="relu")
        trainer = Trainer(config, data, train_limit=4000, test_limit=1000)
        for _ in trainer.run():
            pass
        return save_checkpoint(path, trainer.model, trainer.metadata())
    finally:
        torch.set_num_threads(threads)


def session_tiny_checkpoint(tmp_path_factory) -> Path:
    """A digit model for the session: the bundled MNIST checkpoint when this checkout has a
    loadable one, else one tiny model trained once per session (shared by every module)."""
    from lenet_gui.core.checkpoint import CheckpointError, load_checkpoint
    from lenet_gui.core.resources import model_path

    bundled = model_path("mnist")
    try:
        if bundled.is_file() and load_checkpoint(bundled).input_kind == "digit":
            return bundled
    except CheckpointError:
        pass
    path = Path(tmp_path_factory.getbasetemp()) / "hostile-tiny-model" / "tiny-mnist.pt"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        train_tiny_checkpoint(path, os.environ.get("LENET_DATA_ROOT"))
    return path


def model_is_trained(path: Path) -> bool:
    from lenet_gui.core.checkpoint import load_checkpoint

    return bool(load_checkpoint(path).metadata.get("history"))


# ---------------------------------------------------------------------------------------------
# Running things that might hang


REPO_ROOT = Path(__file__).resolve().parents[2]


class Hung(AssertionError):
    pass


def call_with_timeout(function: Callable, seconds: float):
    """``function()``'s result or exception, or :class:`Hung` after ``seconds``. The call runs
    in a daemon thread, so a call that blocks forever (a pipe's open()) fails the test instead
    of hanging the run."""
    import threading

    outcome: dict = {}

    def target():
        try:
            outcome["value"] = function()
        except BaseException as exc:  # handed to the caller
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise Hung(f"still running after {seconds} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def cli_command(*args) -> list:
    import sys

    return [sys.executable, "-m", "lenet_gui", *map(str, args)]


def cli_env(**extra) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_cli_many(commands: list[list], timeout: float = 120, env: dict | None = None) -> list:
    """Start every ``lenet-gui`` command at once (each pays Python and torch start-up; in
    parallel they overlap) and return their CompletedProcess results, stdout/stderr as text
    with undecodable bytes escaped. A command still running after ``timeout`` is killed and
    reported as :class:`Hung`."""
    import subprocess
    import time

    procs = [subprocess.Popen(c, cwd=REPO_ROOT, env=env or cli_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for c in commands]
    deadline = time.monotonic() + timeout
    results = []
    for command, proc in zip(commands, procs):
        try:
            out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            for p in procs:
                p.kill()
            raise Hung(f"{command} still running after {timeout} s") from None
        results.append(subprocess.CompletedProcess(
            command, proc.returncode, out.decode("utf-8", "backslashreplace"),
            err.decode("utf-8", "backslashreplace")))
    return results


def run_cli(*args, timeout: float = 120, env: dict | None = None):
    return run_cli_many([cli_command(*args)], timeout, env)[0]


def assert_clean_failure(result, expect_lines: int | None = 1) -> str:
    """A failed command as a user wants it: non-zero exit, no traceback, a short stderr."""
    assert result.returncode != 0, f"exit 0 for {result.args}: {result.stdout}"
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    if expect_lines is not None:
        assert len(lines) == expect_lines, result.stderr
    return result.stderr
