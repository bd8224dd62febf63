"""Calibration: reliability bins, expected calibration error, temperature scaling, and the
calibration block a checkpoint carries (old checkpoints without one still load)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lenet_gui.core.calibration import (
    ECE_BINS, Calibration, expected_calibration_error, fit_temperature, reliability_bins,
)
from lenet_gui.core.checkpoint import CheckpointError, LoadedModel, load_checkpoint, save_checkpoint
from lenet_gui.core.inference import Predictor
from lenet_gui.core.model import LeNet, ModelConfig
from lenet_gui.core.ood import OodDetector


def two_class(confidence: float, right: int, total: int) -> tuple[np.ndarray, np.ndarray]:
    """``total`` predictions of class 0 with top-1 probability ``confidence``, ``right`` of
    them correct."""
    probs = np.tile([confidence, 1 - confidence], (total, 1))
    labels = np.array([0] * right + [1] * (total - right))
    return probs, labels


def test_ece_is_zero_when_every_bin_is_right_as_often_as_it_says():
    a = two_class(0.8, 80, 100)
    b = two_class(0.6, 30, 50)
    probs, labels = np.concatenate([a[0], b[0]]), np.concatenate([a[1], b[1]])
    assert expected_calibration_error(probs, labels) == pytest.approx(0.0, abs=1e-12)


def test_ece_of_an_overconfident_model_is_its_gap():
    # Says 90%, right 60% of the time: 0.3, whatever the bins.
    probs, labels = two_class(0.9, 60, 100)
    assert expected_calibration_error(probs, labels) == pytest.approx(0.3)
    # Two groups: (50 at 0.9, 45 right) and (50 at 0.7, 25 right): 0.5 * 0 + 0.5 * 0.2.
    a, b = two_class(0.9, 45, 50), two_class(0.7, 25, 50)
    probs, labels = np.concatenate([a[0], b[0]]), np.concatenate([a[1], b[1]])
    assert expected_calibration_error(probs, labels) == pytest.approx(0.1)


def test_reliability_bins_are_fifteen_equal_widths_with_counts_confidence_and_accuracy():
    a, b = two_class(0.95, 9, 10), two_class(0.55, 2, 4)
    bins = reliability_bins(np.concatenate([a[0], b[0]]), np.concatenate([a[1], b[1]]))
    assert len(bins) == ECE_BINS == 15
    assert [round(x.lower, 6) for x in bins] == [round(i / 15, 6) for i in range(15)]
    assert bins[-1].upper == 1.0
    full = [x for x in bins if x.count]
    # 0.55 is in (8/15, 9/15] = (0.533, 0.6]: bin 8; 0.95 in (14/15, 1]: bin 14.
    assert [(bins.index(x), x.count) for x in full] == [(8, 4), (14, 10)]
    assert full[0].confidence == pytest.approx(0.55) and full[0].accuracy == pytest.approx(0.5)
    assert full[1].accuracy == pytest.approx(0.9) and full[1].gap == pytest.approx(0.05)
    assert all(math.isnan(x.accuracy) for x in bins if not x.count)
    # A bin holds (lower, upper]: exactly 60% and exactly 100% go with the bins they end.
    edges = reliability_bins(np.array([[0.6, 0.4], [1.0, 0.0]]), np.array([0, 0]))
    assert [edges.index(x) for x in edges if x.count] == [8, 14]


def test_fit_temperature_recovers_the_temperature_that_generated_the_labels():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, (20000, 10))
    true_t = 2.5
    p = np.exp(logits / true_t)
    p /= p.sum(1, keepdims=True)
    labels = np.array([rng.choice(10, p=row) for row in p])
    assert fit_temperature(logits, labels) == pytest.approx(true_t, rel=0.04)
    # Labels drawn from sharper probabilities than the logits give: a temperature below 1.
    q = np.exp(logits / 0.5)
    q /= q.sum(1, keepdims=True)
    sharp = np.array([rng.choice(10, p=row) for row in q])
    assert fit_temperature(logits, sharp) == pytest.approx(0.5, rel=0.04)


# -- the block in a checkpoint ------------------------------------------------------------------

def _detector(threshold=-5.0) -> OodDetector:
    return OodDetector(threshold=threshold, quantile=0.99)


def _model() -> LeNet:
    torch.manual_seed(0)
    return LeNet(ModelConfig(activation="relu")).eval()


def test_a_checkpoint_keeps_its_temperature_and_detector(tmp_path):
    calibration = Calibration(temperature=0.7, ood=_detector(), details={"fitted_on": "somewhere"})
    path = save_checkpoint(tmp_path / "m.pt", _model(), {"dataset": "mnist", "calibration": calibration.to_metadata()})
    loaded = load_checkpoint(path)
    assert loaded.calibration.temperature == pytest.approx(0.7)
    assert loaded.calibration.ood.threshold == pytest.approx(-5.0)
    assert loaded.calibration.ood.method == "energy" and loaded.calibration.ood.quantile == 0.99


def test_a_detector_of_a_newer_kind_is_left_out_and_the_model_still_loads(tmp_path):
    block = {"temperature": 0.8, "ood": {"method": "something-newer", "threshold": 1.0}}
    loaded = load_checkpoint(save_checkpoint(tmp_path / "new.pt", _model(), {"dataset": "mnist", "calibration": block}))
    assert loaded.calibration.temperature == pytest.approx(0.8) and loaded.calibration.ood is None
    prediction = Predictor(loaded).predict(torch.rand(1, 28, 28))
    assert prediction.unfamiliar is False and prediction.novelty is None


def test_inference_divides_the_logits_by_the_checkpoints_temperature(tmp_path):
    model = _model()
    x = torch.rand(1, 28, 28)
    with torch.no_grad():
        logits = model(x.reshape(1, 1, 28, 28))[0].double().numpy()
    for temperature in (1.0, 0.5, 3.0):
        meta = {"dataset": "mnist", "calibration": {"temperature": temperature}}
        loaded = load_checkpoint(save_checkpoint(tmp_path / f"t{temperature}.pt", model, meta))
        expected = np.exp(logits / temperature - (logits / temperature).max())
        expected /= expected.sum()
        prediction = Predictor(loaded).predict(x)
        np.testing.assert_allclose(prediction.probabilities, expected, rtol=1e-6)
        assert prediction.index == int(np.argmax(logits))  # a temperature never changes the class


def old_format_checkpoint(path, model: LeNet) -> None:
    """A checkpoint exactly as LeNet Studio wrote them before calibration existed."""
    torch.save({
        "format": "lenet-studio-checkpoint", "format_version": 1,
        "model_config": model.config.to_dict(),
        "state_dict": {k: v.clone() for k, v in model.state_dict().items()},
        "metadata": {"dataset": "mnist", "classes": [str(i) for i in range(10)], "input_kind": "digit",
                     "preset": "modern", "history": [], "test_acc": 0.99},
    }, path)


def test_an_old_checkpoint_loads_with_temperature_one_and_no_detector(tmp_path):
    model = _model()
    old_format_checkpoint(tmp_path / "old.pt", model)
    loaded = load_checkpoint(tmp_path / "old.pt")
    assert loaded.calibration == Calibration()
    assert loaded.calibration.temperature == 1.0 and loaded.calibration.ood is None
    x = torch.rand(1, 28, 28)
    prediction = Predictor(loaded).predict(x)
    with torch.no_grad():
        reference = torch.softmax(model(x.reshape(1, 1, 28, 28))[0].double(), 0).numpy()
    np.testing.assert_allclose(prediction.probabilities, reference, rtol=1e-6)
    assert prediction.novelty is None and prediction.unfamiliar is False


@pytest.mark.parametrize("block, words", [
    ({"temperature": 0.0}, "temperature"),
    ({"temperature": float("nan")}, "temperature"),
    ({"temperature": "1.0"}, "temperature"),
    ("warm", "not a table"),
    ({"temperature": 1.0, "ood": {"method": 3, "threshold": 1.0}}, "method"),
    ({"temperature": 1.0, "ood": {"method": "energy", "threshold": float("inf")}}, "threshold"),
    ({"temperature": 1.0, "ood": {"method": "energy", "threshold": "low"}}, "threshold"),
    ({"temperature": 1.0, "ood": ["energy"]}, "not a table"),
])
def test_a_damaged_calibration_block_is_refused_with_a_reason(tmp_path, block, words):
    path = save_checkpoint(tmp_path / "bad.pt", _model(), {"dataset": "mnist", "calibration": block})
    with pytest.raises(CheckpointError, match="calibration") as info:
        load_checkpoint(path)
    assert words in str(info.value)


def test_evaluate_split_applies_the_temperature_and_counts_what_the_engine_counts(fake_dataset):
    from lenet_gui.core.evaluation import evaluate_accuracy, evaluate_split

    model = _model()
    split = fake_dataset.test
    result = evaluate_split(model, split, "mnist", calibration=Calibration(temperature=2.0, ood=_detector(threshold=-2.2)))
    assert result.accuracy == pytest.approx(evaluate_accuracy(model, split))
    with torch.no_grad():
        logits = model(split.images.float().div(255).unsqueeze(1)).double()
    np.testing.assert_allclose(result.probabilities, torch.softmax(logits / 2.0, 1).numpy(), rtol=1e-5, atol=1e-7)
    assert result.class_counts.tolist() == np.bincount(split.labels.numpy(), minlength=10).tolist()
    energies = -torch.logsumexp(logits, 1).numpy()
    np.testing.assert_array_equal(result.unfamiliar, energies > -2.2)
    assert result.unfamiliar_share == pytest.approx((energies > -2.2).mean())
    assert result.ece == pytest.approx(expected_calibration_error(result.probabilities, split.labels.numpy()))


def test_evaluate_split_takes_the_checkpoints_temperature_by_default(tmp_path, fake_dataset):
    from lenet_gui.core.evaluation import evaluate_split

    model = _model()
    loaded = load_checkpoint(save_checkpoint(tmp_path / "t.pt", model, {"dataset": "mnist", "calibration": {"temperature": 3.0}}))
    result = evaluate_split(loaded.model, fake_dataset.test, "mnist", loaded)
    with torch.no_grad():
        logits = model(fake_dataset.test.images.float().div(255).unsqueeze(1)).double()
    np.testing.assert_allclose(result.probabilities, torch.softmax(logits / 3.0, 1).numpy(), rtol=1e-5, atol=1e-7)
    assert result.temperature == 3.0 and result.unfamiliar is None and result.unfamiliar_share is None


# -- reading a model by an image and its mirror image ----------------------------------------

def test_a_mirror_averaging_checkpoint_reads_each_input_by_the_mean_of_it_and_its_mirror(tmp_path):
    model = _model()
    x = torch.rand(1, 28, 28, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        own = model(x.reshape(1, 1, 28, 28))[0].double()
        mirrored = model(torch.fliplr(x[0]).reshape(1, 1, 28, 28))[0].double()
    assert not torch.allclose(own, mirrored)  # else the test could not tell the two readings apart
    block = Calibration(temperature=0.5, ood=_detector(threshold=-2.2), average_mirror=True).to_metadata()
    loaded = load_checkpoint(save_checkpoint(tmp_path / "m.pt", model, {"dataset": "fashion-mnist", "calibration": block}))
    assert loaded.calibration.average_mirror is True
    prediction = Predictor(loaded).predict(x)
    mean = (own + mirrored) / 2
    np.testing.assert_allclose(prediction.probabilities, torch.softmax(mean / 0.5, 0).numpy(), rtol=1e-6)
    np.testing.assert_allclose(prediction.logits, mean.numpy(), rtol=1e-6)
    assert prediction.novelty == pytest.approx(float(-torch.logsumexp(mean, 0)))
    # The views show the network's own pass on the image itself, not on its mirror.
    np.testing.assert_allclose(prediction.activations["logits"], own.float().numpy(), rtol=1e-5)


def test_a_checkpoint_without_the_flag_reads_the_image_alone(tmp_path):
    loaded = load_checkpoint(save_checkpoint(tmp_path / "m.pt", _model(), {"dataset": "mnist",
                                                                             "calibration": {"temperature": 1.0}}))
    assert loaded.calibration.average_mirror is False
    prediction = Predictor(loaded).predict(torch.rand(1, 28, 28))
    np.testing.assert_allclose(prediction.logits, prediction.activations["logits"], rtol=1e-6)


def test_a_damaged_mirror_flag_is_refused(tmp_path):
    path = save_checkpoint(tmp_path / "bad.pt", _model(), {"dataset": "mnist",
                                                           "calibration": {"temperature": 1.0, "average_mirror": "yes"}})
    with pytest.raises(CheckpointError, match="average_mirror"):
        load_checkpoint(path)


def test_evaluate_split_reads_a_mirror_averaging_model_as_the_predictor_does(fake_dataset):
    from lenet_gui.core.evaluation import evaluate_split

    model = _model()
    split = fake_dataset.test
    calibration = Calibration(temperature=2.0, average_mirror=True)
    result = evaluate_split(model, split, "fashion-mnist", calibration=calibration)
    x = split.images.float().div(255).unsqueeze(1)
    with torch.no_grad():
        mean = (model(x).double() + model(torch.flip(x, dims=[3])).double()) / 2
    np.testing.assert_allclose(result.probabilities, torch.softmax(mean / 2.0, 1).numpy(), rtol=1e-5, atol=1e-7)
    loaded = LoadedModel(model=model, classes=[str(i) for i in range(10)], dataset=None, input_kind="garment",
                         metadata={"calibration": calibration.to_metadata()})
    one = Predictor(loaded).predict(x[5])
    np.testing.assert_allclose(one.probabilities, result.probabilities[5], rtol=1e-4, atol=1e-6)


def test_the_trainer_reads_its_garment_model_by_mirror_images_and_its_digit_model_not(fake_data_root):
    from lenet_gui.core.data import load_dataset
    from lenet_gui.core.engine import Trainer
    from lenet_gui.core.presets import preset_config

    for key, mirrored in (("fashion-mnist", True), ("mnist", False)):
        config = preset_config("robust", key, epochs=1, holdout=100, threads=1)
        trainer = Trainer(config, load_dataset(key, fake_data_root, download=False),
                          train_limit=200, test_limit=50, diagnostics_every=0)
        for _ in trainer.run():
            pass
        _, metadata = trainer.checkpoint_state()
        assert Calibration.from_metadata(metadata).average_mirror is mirrored, key
