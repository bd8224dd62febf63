"""The layers' training diagnostics: figures equal to a direct computation on the same step, the
classic run's vanishing conv1 gradient on real data, and a run that is the same with them off."""

from __future__ import annotations

import json
import math
import statistics

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lenet_gui.core.diagnostics import (
    LAYERS, LOG_GRADIENT_EDGES, PRE_ACTIVATION_EDGES, SATURATION_THRESHOLD, DiagnosticsHistogram,
    DiagnosticsSample, event_from_dict,
)
from lenet_gui.core.engine import BatchProgress, Trainer
from lenet_gui.core.presets import preset_config

UNITS = {"conv1": 6 * 12 * 12, "conv2": 16 * 4 * 4, "fc1": 120, "fc2": 84, "logits": 10}
PARAMS = {"conv1": "conv1", "conv2": "conv2", "fc1": "fc1", "fc2": "fc2", "logits": "fc3"}


def _config(activation="sigmoid", **overrides):
    values = dict(epochs=1, batch_size=32, device="cpu", threads=1, activation=activation)
    values.update(overrides)
    return preset_config("classic", "fashion-mnist", **values)


class StepRecorder:
    """Independently of the diagnostics: each training step's input batch, the weights and
    gradients the optimizer found, and the weights it left."""

    def __init__(self, trainer: Trainer):
        self.steps: list[dict] = []
        model = trainer.model
        self._inputs = None
        model.register_forward_pre_hook(self._record_input)
        named = dict(model.named_parameters())
        recorded = {}

        def before_step(optimizer, args, kwargs):
            recorded["before"] = {n: p.detach().clone() for n, p in named.items()}
            recorded["grads"] = {n: p.grad.detach().clone() for n, p in named.items()}

        def after_step(optimizer, args, kwargs):
            after = {n: p.detach().clone() for n, p in named.items()}
            self.steps.append(dict(x=self._inputs, after=after, **recorded))

        trainer.optimizer.register_step_pre_hook(before_step)
        trainer.optimizer.register_step_post_hook(after_step)

    def _record_input(self, module, inputs):
        if module.training:
            self._inputs = inputs[0].detach().clone()


def _norm(tensors) -> float:
    return math.sqrt(sum(float(t.double().square().sum()) for t in tensors))


def _layer(params: dict, layer: str) -> list[torch.Tensor]:
    return [v for n, v in params.items() if n.split(".")[0] == PARAMS[layer]]


def _textbook_layers(x, w, activation: str) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """(pre-activations, activations) per layer, computed layer by layer from the weights in
    double precision: convolution, max-pooling, then the activation (which commutes with the
    pooling), as the units the next layer reads. The output layer's are its logits."""
    act = torch.sigmoid if activation == "sigmoid" else torch.relu
    w = {k: v.double() for k, v in w.items()}
    pre, out = {}, {}
    pre["conv1"] = F.max_pool2d(F.conv2d(x.double(), w["conv1.weight"], w["conv1.bias"]), 2)
    out["conv1"] = act(pre["conv1"])
    pre["conv2"] = F.max_pool2d(F.conv2d(out["conv1"], w["conv2.weight"], w["conv2.bias"]), 2)
    out["conv2"] = act(pre["conv2"])
    pre["fc1"] = F.linear(out["conv2"].flatten(1), w["fc1.weight"], w["fc1.bias"])
    out["fc1"] = act(pre["fc1"])
    pre["fc2"] = F.linear(out["fc1"], w["fc2.weight"], w["fc2.bias"])
    out["fc2"] = act(pre["fc2"])
    pre["logits"] = out["logits"] = F.linear(out["fc2"], w["fc3.weight"], w["fc3.bias"])
    return pre, out


def _histogram(values: torch.Tensor, edges) -> tuple[int, ...]:
    clamped = values.reshape(-1).double().clamp(edges[0], edges[-1]).numpy()
    return tuple(int(c) for c in np.histogram(clamped, bins=np.array(edges))[0])


@pytest.mark.parametrize("activation, lr", [("sigmoid", 0.05), ("relu", 0.05)])
def test_each_sampled_step_matches_a_direct_computation(fake_dataset, activation, lr):
    trainer = Trainer(_config(activation, lr=lr, epochs=2), fake_dataset, diagnostics_every=3)
    recorder = StepRecorder(trainer)
    samples = [e for e in trainer.run() if isinstance(e, DiagnosticsSample)]
    steps_per_epoch = trainer.batches_per_epoch  # 200 images / 32: 7, the last one of 8
    expected_steps = sorted({s for s in range(1, 2 * steps_per_epoch + 1)
                             if s % 3 == 0 or s % steps_per_epoch == 0})
    assert [s.step for s in samples] == expected_steps
    saw_inactive = False
    for sample in samples:
        step = recorder.steps[sample.step - 1]
        assert sample.activation == activation
        assert list(sample.layers) == list(LAYERS)
        expected_inactive = {}
        for name, a in _textbook_layers(step["x"], step["before"], activation)[1].items():
            if name == "logits":
                continue
            if activation == "sigmoid":
                expected_inactive[name] = float((a * (1 - a) < SATURATION_THRESHOLD).double().mean())
            else:
                expected_inactive[name] = float((a == 0).all(0).double().mean())
        for name, figures in sample.layers.items():
            grads, before, after = (_layer(step[k], name) for k in ("grads", "before", "after"))
            assert figures.grad_norm == pytest.approx(_norm(grads), rel=1e-4), name
            assert figures.weight_norm == pytest.approx(_norm(after), rel=1e-5), name
            update = _norm([a - b for a, b in zip(after, before)]) / _norm(before)
            assert figures.update_ratio == pytest.approx(update, rel=1e-3, abs=1e-9), name
            if name == "logits":
                assert figures.inactive is None
            else:
                # float rounding of another summation order may move a unit across the line
                assert figures.inactive == pytest.approx(expected_inactive[name], abs=2e-3), (name, sample.step)
                saw_inactive |= expected_inactive[name] > 0.01
    assert saw_inactive, "the check needs some saturated or dead units to tell shares apart"


def test_an_epoch_ends_with_histograms_of_its_last_batch(fake_dataset):
    trainer = Trainer(_config(epochs=2), fake_dataset, diagnostics_every=4)
    recorder = StepRecorder(trainer)
    events = list(trainer.run())
    histograms = [e for e in events if isinstance(e, DiagnosticsHistogram)]
    assert [h.epoch for h in histograms] == [1, 2]
    for histogram, epoch in zip(histograms, (1, 2)):
        last = recorder.steps[epoch * trainer.batches_per_epoch - 1]
        batch = len(last["x"])  # the last batch of an epoch is the short one
        assert histogram.step == epoch * trainer.batches_per_epoch
        pre_activations, _ = _textbook_layers(last["x"], last["before"], "sigmoid")
        for name in LAYERS:
            pre = histogram.pre_activations[name]
            assert pre.edges == PRE_ACTIVATION_EDGES
            expected = _histogram(pre_activations[name], PRE_ACTIVATION_EDGES)
            assert sum(pre.counts) == sum(expected) == pre_activations[name].numel() == batch * UNITS[name]
            # a value on a bin's edge may land on either side in another summation order
            assert sum(abs(a - b) for a, b in zip(pre.counts, expected)) <= 4, name
            grads = histogram.log_gradients[name]
            assert grads.edges == LOG_GRADIENT_EDGES
            expected = _histogram(torch.cat([g.reshape(-1) for g in _layer(last["grads"], name)]).abs().log10(),
                                  LOG_GRADIENT_EDGES)
            assert sum(abs(a - b) for a, b in zip(grads.counts, expected)) <= 4, name


def test_diagnostics_leave_the_training_exactly_as_it_was(fake_dataset):
    def run(every):
        trainer = Trainer(_config(epochs=2), fake_dataset, diagnostics_every=every)
        events = list(trainer.run())
        return [e.loss for e in events if isinstance(e, BatchProgress)], trainer.state_dict_snapshot(), events

    losses_off, state_off, events_off = run(0)
    losses_on, state_on, events_on = run(1)
    assert losses_on == losses_off
    for key, value in state_off.items():
        assert torch.equal(value, state_on[key]), key
    assert not [e for e in events_off if isinstance(e, (DiagnosticsSample, DiagnosticsHistogram))]
    assert len([e for e in events_on if isinstance(e, DiagnosticsSample)]) == len(losses_on)


def test_a_samples_event_follows_its_batchs_and_the_histogram_precedes_the_test_pass(fake_dataset):
    trainer = Trainer(_config(epochs=2), fake_dataset, diagnostics_every=2, report_seconds=0.0)
    events = list(trainer.run())
    reported_steps = set()
    for event in events:
        if isinstance(event, BatchProgress):
            reported_steps.add(event.step)
        elif isinstance(event, DiagnosticsSample):
            assert event.step in reported_steps
            batch = next(e for e in events if isinstance(e, BatchProgress) and e.step == event.step)
            assert (event.epoch, event.batch, event.batches) == (batch.epoch, batch.batch, batch.batches)
    kinds = [type(e).__name__ for e in events]
    for epoch_end in [i for i, kind in enumerate(kinds) if kind == "EvaluationStarted"]:
        assert kinds[epoch_end - 1] == "DiagnosticsHistogram"


def test_turned_off_there_are_no_diagnostics(fake_dataset):
    for every in (0, None):
        trainer = Trainer(_config(), fake_dataset, diagnostics_every=every)
        assert trainer.diagnostics is None
        assert not [e for e in trainer.run() if isinstance(e, (DiagnosticsSample, DiagnosticsHistogram))]


def test_only_sampled_steps_run_with_hooks(fake_dataset):
    trainer = Trainer(_config(epochs=1), fake_dataset, diagnostics_every=3)
    watched = []  # per training forward pass: whether the diagnostics watch conv1's activation
    trainer.model.fc3.register_forward_hook(
        lambda module, i, o: watched.append(bool(trainer.model.act1._forward_hooks)) if module.training else None)
    list(trainer.run())
    steps = trainer.batches_per_epoch
    assert watched == [step % 3 == 0 or step == steps for step in range(1, steps + 1)]


def test_no_hook_stays_on_the_model_after_a_run_or_a_failure(fake_dataset):
    def hooks(model):
        return sum(len(m._forward_hooks) for m in model.modules())

    trainer = Trainer(_config(), fake_dataset, diagnostics_every=1)
    list(trainer.run())
    assert hooks(trainer.model) == 0
    # a step that fails half-way through its forward pass, after the diagnostics' hooks went on
    failing = Trainer(_config(), fake_dataset, diagnostics_every=1)
    calls = []

    def fail_on_the_third_step(module, inputs, output):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("a failure inside a step")

    own = failing.model.fc2.register_forward_hook(fail_on_the_third_step)
    with pytest.raises(RuntimeError, match="inside a step"):
        list(failing.run())
    own.remove()
    assert hooks(failing.model) == 0


def test_events_survive_json_and_back(fake_dataset):
    trainer = Trainer(_config(), fake_dataset, diagnostics_every=2)
    events = [e for e in trainer.run() if isinstance(e, (DiagnosticsSample, DiagnosticsHistogram))]
    assert any(isinstance(e, DiagnosticsHistogram) for e in events)
    for event in events:
        data = json.loads(json.dumps(event.to_dict(), allow_nan=False))
        assert event_from_dict(data) == event
    assert trainer.diagnostics.samples == [e for e in events if isinstance(e, DiagnosticsSample)]
    # a figure that is not a number (a diverging step) is stored as null and read back as nan
    sample = trainer.diagnostics.samples[0]
    data = sample.to_dict()
    data["layers"]["conv1"]["grad_norm"] = None
    assert math.isnan(DiagnosticsSample.from_dict(json.loads(json.dumps(data))).layers["conv1"].grad_norm)


# -- real data ----------------------------------------------------------------------------------


def _gradient_ratios(dataset, preset: str, limit: int) -> list[float]:
    config = preset_config(preset, dataset.info.key, epochs=1, device="cpu", threads=1, seed=0)
    trainer = Trainer(config, dataset, train_limit=limit, test_limit=100)
    for _ in trainer.run():
        pass
    return [s.layers["conv1"].grad_norm / s.layers["logits"].grad_norm for s in trainer.diagnostics.samples]


@pytest.mark.slow
def test_the_classic_runs_conv1_gradient_vanishes_and_the_modern_ones_does_not(fashion_mnist):
    # The first 30 000 images: 118 classic steps, 235 modern ones. Measured (seed 0 and 1):
    # the median conv1 / output gradient-norm ratio is about 0.01 classic and 0.85 modern.
    classic = statistics.median(_gradient_ratios(fashion_mnist, "classic", 30000))
    modern = statistics.median(_gradient_ratios(fashion_mnist, "modern", 30000))
    assert classic < 0.05, classic
    assert modern > 0.3, modern
