"""`lenet-gui predict` and `lenet-gui evaluate`, run as a user runs them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lenet_gui.core.resources import sample_path
from tests.support import prerequisites

ROOT = Path(__file__).resolve().parents[2]
SEVEN = sample_path("digit-7-chalk.png")


def run(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "lenet_gui", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_predict_reports_a_bad_file_and_goes_on(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"nope")
    blank = tmp_path / "blank.png"
    from PIL import Image

    Image.new("L", (50, 50), 255).save(blank)
    out = run("predict", str(bad), str(SEVEN), str(tmp_path / "gone.png"), str(blank))
    assert out.returncode != 0
    assert out.stdout.splitlines() == [line for line in out.stdout.splitlines() if line.startswith(str(SEVEN))]
    assert re.fullmatch(rf"{re.escape(str(SEVEN))}: 7 \(\d+\.\d%\)", out.stdout.strip())
    for name, words in (("bad.png", "not an image"), ("gone.png", "does not exist"), ("blank.png", "blank")):
        lines = [line for line in out.stderr.splitlines() if name in line]
        assert len(lines) == 1 and words in lines[0], out.stderr


def test_evaluate_the_bundled_mnist_model():
    root = str(prerequisites.real_data_root(holding="mnist"))
    out = run("evaluate", "--model", "mnist", "--data-root", root)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    match = re.fullmatch(r"test acc (0\.\d{4})", lines[0])
    assert match and float(match.group(1)) >= 0.992
    per_class = [line for line in lines[1:] if re.match(r"\s+\d\s", line)]
    assert len(per_class) == 10


@pytest.mark.parametrize("model, floor", [("mnist", 0.993), ("fashion-mnist", 0.9127)])
def test_evaluate_reports_honest_percentages_for_a_calibrated_bundled_model(model, floor):
    """On the official test set: the accuracy aimed at (digits) or that of the model it replaced
    (garments), a 15-bin ECE of at most 0.02 and a mean top-1 probability within 0.03 of the
    accuracy."""
    root = str(prerequisites.real_data_root(holding=model))
    out = run("evaluate", "--model", model, "--data-root", root)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    accuracy = float(re.fullmatch(r"test acc (0\.\d{4})", lines[0]).group(1))
    match = re.fullmatch(r"mean top-1 probability (0\.\d{4}), expected calibration error (0\.\d{4}) "
                         r"\(15 equal-width bins\), temperature (\d+\.\d{3})"
                         r"(, each image read with its mirror image)?", lines[1])
    assert match, lines[1]
    confidence, ece, temperature = map(float, match.groups()[:3])
    assert bool(match.group(4)) is (model == "fashion-mnist")  # garments, not digits
    assert accuracy >= floor
    assert ece <= 0.02 and abs(confidence - accuracy) <= 0.03
    assert temperature != 1.0
    assert re.fullmatch(r"called unfamiliar: 0\.00\d\d of the test images", lines[2]), lines[2]
