"""Out-of-distribution: the energy score and the threshold that decides."""

from __future__ import annotations

import numpy as np
import pytest

from lenet_gui.core.ood import OodDetector, energy, fit_detector, unfamiliar_message


def test_the_score_is_the_energy_of_the_logits():
    logits = np.array([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0], [1000.0, 0.0, 0.0]])
    expected = [-np.log(np.exp(2.0) + 1.0 + np.exp(-1.0)), -np.log(3.0), -1000.0]
    np.testing.assert_allclose(energy(logits), expected)  # no overflow for large logits
    detector = OodDetector(threshold=-1.5)
    # A confident fit is low energy (familiar); even, small logits are high (unfamiliar).
    assert not detector.is_unfamiliar(detector.score(logits[0]))
    assert detector.is_unfamiliar(detector.score(logits[1]))
    assert detector.is_unfamiliar(float("nan"))


def test_the_threshold_accepts_the_chosen_share_of_held_out_inputs():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, (5000, 10))
    for quantile in (0.9, 0.995):
        detector = fit_detector(logits, quantile)
        accepted = ~np.array([detector.is_unfamiliar(s) for s in detector.scores(logits)])
        assert accepted.mean() == pytest.approx(quantile, abs=0.002)
        assert detector.quantile == quantile


def test_a_detector_survives_the_trip_through_plain_metadata():
    detector = fit_detector(np.random.default_rng(1).normal(0, 2, (100, 10)), 0.99)
    again = OodDetector.from_dict(detector.to_dict())
    assert again == detector


def test_the_message_names_what_the_model_knows():
    assert unfamiliar_message("digit") == "this does not look like a digit"
    assert unfamiliar_message("garment") == "this does not look like a garment"
