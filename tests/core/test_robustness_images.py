"""Hostile images through the core (preprocess + inference) and through `lenet-gui predict`.

Each case from tests/support/hostile.py must give a correct prediction, a "blank" verdict or one clear
ImageError line, never another exception, a hang or a traceback. How fast the refusals are
is measured by benchmarks/refusal_speed.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

import pytest
import torch
from PIL import Image

from lenet_gui.core.checkpoint import load_checkpoint
from lenet_gui.core.inference import Predictor, classify
from lenet_gui.core.preprocess import ImageError, preprocess_array, preprocess_image, to_grey_array
from tests.support import hostile, prerequisites

CASES = hostile.applicable_image_cases()
# Same drawing, different container: the network must see (nearly) the same 28 x 28 input.
SAME_INPUT_MEAN_ABS = 0.02


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    return hostile.session_tiny_checkpoint(tmp_path_factory)


@pytest.fixture(scope="module")
def model(tiny_checkpoint):
    return load_checkpoint(tiny_checkpoint)


@pytest.fixture(scope="module")
def image_paths(tmp_path_factory):
    return hostile.write_image_cases(tmp_path_factory.mktemp("hostile-images"))


@pytest.fixture(scope="module")
def reference(model, image_paths):
    pre, prediction = classify(model, image_paths["upright"])
    return pre.tensor, prediction.index


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_core_gives_a_result_blank_or_one_clear_error(case, model, image_paths, reference):
    path = image_paths[case.name]
    predictor = Predictor(model)
    try:
        pre, prediction = hostile.call_with_timeout(lambda: classify(model, path, predictor), 20)
    except ImageError as exc:
        message = str(exc)
        assert case.expect == "error", f"{case.name} should classify, but: {message}"
        assert "\n" not in message and 10 < len(message) < 300, message
        assert path.name in message, f"the message should name the file: {message}"
        return
    assert case.expect != "error", f"{case.name} should have been refused, got {prediction}"
    assert pre.tensor.shape == (1, 28, 28) and pre.tensor.dtype == torch.float32
    assert torch.isfinite(pre.tensor).all() and pre.tensor.min() >= 0 and pre.tensor.max() <= 1
    if case.expect == "blank":
        assert prediction is None and pre.blank and not pre.tensor.any()
        return
    assert prediction is not None and not pre.blank
    assert abs(prediction.probabilities.sum() - 1) < 1e-6
    if case.same_as == "seven":
        ref_tensor, ref_index = reference
        difference = float((pre.tensor - ref_tensor).abs().mean())
        assert difference < SAME_INPUT_MEAN_ABS, f"{case.name} looks different to the model ({difference:.3f})"
        assert prediction.index == ref_index


def test_the_reference_seven_is_classified_as_seven(model, reference, tiny_checkpoint):
    if not hostile.model_is_trained(tiny_checkpoint):
        prerequisites.missing("The tiny model stayed untrained: this checkout has no bundled MNIST "
                              "model and the real MNIST was not found", prerequisites.HOW_TO_PROVIDE_DATA)
    assert model.classes[reference[1]] == "7"


def test_exif_orientation_matters_for_these_files(image_paths, reference):
    """Guards the rotation cases above: without applying EXIF orientation the model would
    see a different picture, so those cases really test that it is applied."""
    for name in ("exif_rotated_jpeg", "exif_rotated_png"):
        raw = Image.open(image_paths[name])
        unrotated = preprocess_array(to_grey_array(raw.convert("L")), "digit").tensor
        assert float((unrotated - reference[0]).abs().mean()) > 5 * SAME_INPUT_MEAN_ABS


def test_reading_after_the_file_is_replaced_by_a_pipe_does_not_hang(tmp_path):
    """Dropped as an image, replaced by a FIFO before the read (or a path typed by mistake)."""
    import os

    path = tmp_path / "was_an_image.png"
    os.mkfifo(path)
    with pytest.raises(ImageError, match="not a regular file"):
        hostile.call_with_timeout(lambda: preprocess_image(path, "digit"), 5)


def test_bytes_and_pil_inputs_are_as_safe_as_paths(image_paths):
    """The window hands over pasted bytes and clipboard images, not paths."""
    with pytest.raises(ImageError):
        preprocess_image(image_paths["bomb_png_100000x100000"].read_bytes(), "digit")
    with pytest.raises(ImageError):
        preprocess_image(b"", "garment")
    with pytest.raises(ImageError):
        preprocess_image(image_paths["truncated_jpeg"].read_bytes(), "garment")
    big = Image.new("L", (9000, 30), 255)  # a pasted screenshot strip, wider than the working size
    assert preprocess_image(big, "digit").blank


_MEMORY_PROBE = textwrap.dedent("""
    import json, re, sys
    from lenet_gui.core.preprocess import ImageError, preprocess_image

    def kib(field):
        return int(re.search(field + r":\\s+(\\d+)", open("/proc/self/status").read()).group(1))

    out = {}
    for path in sys.argv[1:]:
        open("/proc/self/clear_refs", "w").write("5")  # reset the peak (VmHWM) to the current RSS
        before = kib("VmRSS")
        try:
            verdict = "blank" if preprocess_image(path, "digit").blank else "result"
        except ImageError:
            verdict = "error"
        out[path] = {"verdict": verdict, "peak_growth_mb": (kib("VmHWM") - before) / 1024}
    print(json.dumps(out))
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self")
def test_decompression_bombs_are_refused_with_little_memory(image_paths, tmp_path):
    bombs = ["bomb_png_100000x100000", "bomb_rgba_png_9000x9000", "bomb_gif_65535x65535"]
    legit = "huge_sparse_png_7900x7900"
    photo = tmp_path / "photo_6000x4000.jpg"  # a 24-megapixel camera photo: 72 MB of RGB decoded
    big = Image.new("RGB", (6000, 4000), "white")
    big.paste((20, 20, 20), (2800, 500, 3200, 3500))
    big.save(photo, "JPEG", quality=90)
    del big
    paths = [str(image_paths[name]) for name in bombs + [legit]] + [str(photo)]
    result = subprocess.run([sys.executable, "-c", _MEMORY_PROBE, *paths], cwd=hostile.REPO_ROOT,
                            env=hostile.cli_env(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    for name in bombs:
        figure = figures[str(image_paths[name])]
        assert figure["verdict"] == "error"
        assert figure["peak_growth_mb"] < 20, figure  # refused before the pixels are decoded
    # A legitimate 62-megapixel image: decoded once (62 MB), then worked on at 2048 px a side.
    figure = figures[str(image_paths[legit])]
    assert figure["verdict"] == "result"
    assert figure["peak_growth_mb"] < 250, figure
    # A JPEG is decoded straight at a fraction of its size (still above the working size).
    figure = figures[str(photo)]
    assert figure["verdict"] == "result"
    assert figure["peak_growth_mb"] < 100, figure


def _case_line(lines: list[str], case_name: str) -> list[str]:
    # Every case sits in a folder named after it: ASCII, unique, whatever its file is called.
    return [line for line in lines if f"/{case_name}/" in line]


def test_cli_predict_survives_every_hostile_image_at_once(image_paths, tiny_checkpoint):
    """One run over all the files, on a console that can only show ASCII (the harshest for
    non-ASCII and undecodable names): one line per file, on stdout or stderr, then exit 1."""
    names = [c.name for c in CASES] + ["upright"]  # still working after all the bad ones
    files = [image_paths[n] for n in names]
    result = hostile.run_cli("predict", "--json", "--model", tiny_checkpoint, *files, timeout=120,
                             env=hostile.cli_env(PYTHONIOENCODING="ascii"))
    hostile.assert_clean_failure(result, expect_lines=None)
    out_lines = result.stdout.splitlines()
    err_lines = result.stderr.splitlines()
    failing = [c for c in CASES if c.expect != "result"]
    assert err_lines[-1] == f"{len(failing)} of {len(files)} file(s) could not be classified"
    assert len(err_lines) == len(failing) + 1
    trained = hostile.model_is_trained(tiny_checkpoint)
    for case in CASES:
        out, err = _case_line(out_lines, case.name), _case_line(err_lines, case.name)
        if case.expect == "result":
            assert len(out) == (2 if case.name == "upright" else 1) and not err, (case.name, out, err)
            record = json.loads(out[0])  # valid JSON even for names the console cannot show
            assert abs(sum(record["probabilities"]) - 1) < 1e-3
            if case.same_as == "seven" and trained:
                assert record["label"] == "7", (case.name, record)
        else:
            assert len(err) == 1 and not out, (case.name, out, err)
            if case.expect == "blank":
                assert "blank" in err[0]


def test_cli_predict_plain_output_for_a_non_ascii_path(image_paths, tiny_checkpoint):
    """The everyday case after all the hostile ones: exit 0, one line, nothing on stderr."""
    ok = hostile.run_cli("predict", "--model", tiny_checkpoint, image_paths["non_ascii_path"])
    assert ok.returncode == 0, ok.stderr
    assert ok.stderr == ""
    assert re.fullmatch(r".*ziffer_äöü_数字\.png: \S+ \(\d+\.\d%\)\n", ok.stdout)


def test_a_name_with_a_nul_byte_is_an_image_error():
    """Text pasted as a path can hold anything; os.open raises ValueError for a NUL byte."""
    with pytest.raises(ImageError, match="not a valid file name"):
        preprocess_image("seven\0.png", "digit")


def test_a_float_image_holding_a_signalling_nan_is_preprocessed():
    """Found by the fuzz test: a flipped byte in a float TIFF made a signalling NaN, and widening
    it to float64 raised numpy's 'invalid value' warning (an error under the test settings)."""
    import io
    import warnings

    import numpy as np
    from PIL import Image

    from lenet_gui.core.preprocess import preprocess_image

    values = np.linspace(0, 1, 28 * 28, dtype=np.float32).reshape(28, 28)
    values.view(np.uint32)[3, 3] = 0x7F800001  # a signalling NaN
    buffer = io.BytesIO()
    Image.fromarray(values, mode="F").save(buffer, format="TIFF")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # as the fuzz test runs: no warning may escape
        pre = preprocess_image(buffer.getvalue(), "digit")
    assert pre.tensor.shape[-2:] == (28, 28)
    assert bool(torch.isfinite(pre.tensor).all())
