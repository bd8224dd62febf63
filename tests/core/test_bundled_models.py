"""The bundled models as users meet them: their percentages hold on training images they never
saw, and they say so for inputs unlike what they know."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from lenet_gui.core.calibration import Calibration
from lenet_gui.core.checkpoint import load_checkpoint
from lenet_gui.core.data import holdout_ranges
from lenet_gui.core.evaluation import evaluate_split
from lenet_gui.core.inference import Predictor, classify
from lenet_gui.core.resources import BUNDLED_MODELS, sample_paths
from tests.support import prerequisites

# The bundled models trained with the robust preset (held-out images, calibration, detector).
CALIBRATED = ("mnist", "fashion-mnist")


@pytest.fixture(scope="module", params=CALIBRATED)
def bundled(request):
    return load_checkpoint(BUNDLED_MODELS[request.param])


@pytest.fixture(scope="module")
def digit_model():
    loaded = load_checkpoint(BUNDLED_MODELS["mnist"])
    return loaded, Predictor(loaded)


@pytest.fixture(scope="module")
def garment_model():
    loaded = load_checkpoint(BUNDLED_MODELS["fashion-mnist"])
    return loaded, Predictor(loaded)


def test_each_bundled_model_was_calibrated_on_images_it_did_not_train_on(bundled):
    meta = bundled.metadata
    calibration = bundled.calibration
    assert calibration.temperature != 1.0 and calibration.ood is not None
    start, stop = meta["held_out"]["calibration"]
    assert meta["train_samples"] == start  # trained on everything before the held-out images
    assert calibration.details["fitted_on"] == f"training images {start}-{stop - 1}, held out from training"
    assert meta["command"].startswith("lenet-gui train ") and "--preset robust" in meta["command"]


def test_the_percentages_hold_on_reserved_training_images(bundled):
    """On the reserved held-out images (touched by nothing in training or calibration), the
    mean top-1 probability is within 0.03 of the accuracy and the 15-bin ECE at most 0.02."""
    train = prerequisites.real_dataset(bundled.dataset).train
    start, stop = bundled.metadata["held_out"]["reserved"]
    assert holdout_ranges(len(train), len(train) - bundled.metadata["train_samples"])[2] == range(start, stop)
    reserved = train.part(range(start, stop))
    report = evaluate_split(bundled.model, reserved, bundled.dataset, bundled).calibration()
    assert report.count == stop - start == 2500
    assert abs(report.mean_confidence - report.accuracy) <= 0.03, report
    assert report.ece <= 0.02, report
    # Without the temperature the same model is further off: the temperature is doing work.
    raw = evaluate_split(bundled.model, reserved, bundled.dataset, calibration=Calibration()).calibration()
    assert raw.ece > report.ece


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


def noise_images() -> list[bytes]:
    rng = np.random.default_rng(7)
    return [
        png(rng.integers(0, 256, (120, 120), dtype=np.uint8)),  # grey static
        png(np.where(rng.random((90, 90)) < 0.2, 0, 255).astype(np.uint8)),  # pepper on white
    ]


def samples(prefix: str) -> list:
    return [p for p in sample_paths() if p.name.startswith(prefix)]


@pytest.mark.parametrize("sample", samples("digit-"), ids=lambda p: p.name)
def test_the_digit_model_reads_every_digit_sample_and_accepts_it(digit_model, sample):
    loaded, predictor = digit_model
    _, prediction = classify(loaded, sample, predictor)
    assert prediction.label == sample.name.split("-")[1]
    assert not prediction.unfamiliar, prediction.novelty


@pytest.mark.parametrize("pen", [6, 10, 16, 24, 45])
def test_the_digit_model_reads_an_upright_one_of_every_pen_width_as_a_familiar_one(digit_model, pen):
    # The pen slider's range on a 280-pixel canvas (2% to 16% of its side): the thin ones were
    # called unfamiliar.
    loaded, predictor = digit_model
    canvas = Image.new("L", (280, 280), 0)
    draw = ImageDraw.Draw(canvas)
    draw.line([(140, 30), (140, 250)], fill=255, width=pen)
    for y in (30, 250):  # the canvas's pen is round
        draw.ellipse((140 - pen / 2, y - pen / 2, 140 + pen / 2, y + pen / 2), fill=255)
    _, prediction = classify(loaded, png(np.asarray(canvas)), predictor)
    assert prediction.label == "1" and not prediction.unfamiliar, (prediction.label, prediction.novelty)


def test_the_digit_model_says_most_garment_photos_and_all_noise_are_not_digits(digit_model):
    loaded, predictor = digit_model
    garments = samples("garment-")
    refused = [classify(loaded, path, predictor)[1].unfamiliar for path in garments]
    # Fitted into 20 x 20 as a digit, a dress is a bold one and trousers an upright zero: the
    # silhouettes that look like no digit are refused.
    assert sum(refused) >= 4, dict(zip([p.name for p in garments], refused))
    for data in noise_images():
        _, prediction = classify(loaded, data, predictor)
        assert prediction is None or prediction.unfamiliar, (prediction.label, prediction.novelty)


@pytest.mark.parametrize("sample", samples("garment-"), ids=lambda p: p.name)
def test_the_garment_model_accepts_every_garment_sample(garment_model, sample):
    loaded, predictor = garment_model
    _, prediction = classify(loaded, sample, predictor)
    assert not prediction.unfamiliar, prediction.novelty


def test_the_garment_model_says_digits_and_noise_are_not_garments(garment_model):
    loaded, predictor = garment_model
    inputs = [p.read_bytes() for p in samples("digit-")] + noise_images()
    verdicts = []
    for data in inputs:
        _, prediction = classify(loaded, data, predictor)
        verdicts.append(prediction is None or prediction.unfamiliar)
    assert all(verdicts), verdicts
