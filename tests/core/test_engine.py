"""The training engine: events, determinism, control from another thread, failures, and what
each training setting does.

These tests train on the tiny data set from conftest (200 train / 100 test images), on one
thread, so each takes a fraction of a second. The references are written out here (the update
rules, the schedules, the loss), not taken from the engine.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import queue
import re
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from lenet_gui.core import engine, evaluation
from lenet_gui.core.checkpoint import save_checkpoint
from lenet_gui.core.data import DataSplit, LoadedDataset
from lenet_gui.core.diagnostics import DiagnosticsHistogram, DiagnosticsSample
from lenet_gui.core.engine import BatchProgress, EpochResult, EvaluationStarted, Finished, NonFiniteLossError, TrainConfig, Trainer, TrainingError, resolve_device
from lenet_gui.core.presets import preset_config
from tests.support.controls import Driver, Rendezvous

LINE = re.compile(r"^epoch \d+, loss \d+\.\d{4}, train acc \d\.\d{3}, test acc \d\.\d{3}, time \d+\.\d sec$")


def _config(preset: str = "classic", **overrides) -> TrainConfig:
    values = dict(device="cpu", threads=1, epochs=2, batch_size=32)
    values.update(overrides)
    return preset_config(preset, "fashion-mnist", **values)


def _run(trainer: Trainer) -> list:
    return list(trainer.run())


# -- events ----------------------------------------------------------------------------------------


def test_events_come_in_order_per_epoch(fake_dataset):
    trainer = Trainer(_config(epochs=2, batch_size=64), fake_dataset)
    events = [e for e in _run(trainer) if not isinstance(e, (DiagnosticsSample, DiagnosticsHistogram))]
    kinds = [type(e).__name__ for e in events]
    per_epoch = ["BatchProgress"] * 4 + ["EvaluationStarted", "EpochResult"]  # 200 / 64 -> 4 batches
    assert kinds == per_epoch * 2 + ["Finished"]
    batches = [e for e in events if isinstance(e, BatchProgress)]
    assert [(b.epoch, b.batch) for b in batches] == [(e, b) for e in (1, 2) for b in (1, 2, 3, 4)]
    assert [b.step for b in batches] == list(range(1, 9))
    assert all(b.batches == 4 and b.epochs == 2 and math.isfinite(b.loss) for b in batches)
    assert all(0 <= b.accuracy <= 1 and b.samples_per_sec > 0 and b.eta_seconds >= 0 for b in batches)
    assert batches[3].eta_seconds == 0
    results = [e for e in events if isinstance(e, EpochResult)]
    assert [r.epoch for r in results] == [1, 2]
    finished = events[-1]
    assert finished.stopped is False and finished.history == tuple(results) == tuple(trainer.history)


def test_epoch_result_line_is_the_tutorials_format():
    result = EpochResult(epoch=1, epochs=5, loss=1.78324, train_acc=0.3412, test_acc=0.5949,
                         seconds=15.27, samples_per_sec=3900.0, lr=0.001)
    assert result.line() == "epoch 1, loss 1.7832, train acc 0.341, test acc 0.595, time 15.3 sec"
    assert LINE.match(result.line())


@pytest.mark.parametrize("values, line", [
    ((5, 0.61654, 0.76213, 0.76394, 15.81), "epoch 5, loss 0.6165, train acc 0.762, test acc 0.764, time 15.8 sec"),
    ((12, 12.345678, 1.0, 0.0, 0.04), "epoch 12, loss 12.3457, train acc 1.000, test acc 0.000, time 0.0 sec"),
    ((100, 0.00004, 0.99951, 0.9996, 123.44), "epoch 100, loss 0.0000, train acc 1.000, test acc 1.000, time 123.4 sec"),
    ((3, 2.30259, 0.1, 0.0999, 1.96), "epoch 3, loss 2.3026, train acc 0.100, test acc 0.100, time 2.0 sec"),
])
def test_epoch_line_rounds_each_figure_as_the_tutorial_prints_it(values, line):
    epoch, loss, train_acc, test_acc, seconds = values
    result = EpochResult(epoch=epoch, epochs=epoch, loss=loss, train_acc=train_acc, test_acc=test_acc,
                         seconds=seconds, samples_per_sec=1.0, lr=0.1)
    assert result.line() == line


def test_epoch_metrics_are_consistent(fake_dataset):
    trainer = Trainer(_config(epochs=1, batch_size=50), fake_dataset)
    events = _run(trainer)
    batches = [e for e in events if isinstance(e, BatchProgress)]
    (result,) = trainer.history
    assert LINE.match(result.line())
    # the epoch loss is the mean of the batch losses, the train accuracy their weighted mean
    assert result.loss == pytest.approx(sum(b.loss for b in batches) / len(batches), rel=1e-5)
    assert result.train_acc == pytest.approx(sum(b.accuracy * 50 for b in batches) / 200)
    assert result.seconds > 0 and result.samples_per_sec > 0
    assert result.lr == pytest.approx(0.001)
    # the reported test accuracy is the model's accuracy on the test split
    acc = engine.evaluate_accuracy(trainer.model, fake_dataset.test)
    assert result.test_acc == pytest.approx(acc)
    # counted here, through the layers one by one (eval mode), not the engine's batch route
    model = trainer.model.eval()
    with torch.no_grad():
        predicted = model(fake_dataset.test.images.float().div(255).unsqueeze(1)).argmax(1)
    assert result.test_acc == pytest.approx(float((predicted == fake_dataset.test.labels).float().mean()))
    # and the train accuracy counts every training image once, as the batches saw them
    assert result.train_acc * 200 == pytest.approx(round(result.train_acc * 200))


def test_training_learns_the_tiny_data_set(fake_dataset):
    trainer = Trainer(_config(preset="modern", epochs=3, batch_size=32), fake_dataset)
    _run(trainer)
    assert trainer.history[-1].test_acc >= 0.5  # chance is 0.1


@pytest.mark.parametrize("steps", [1, 2, 4, 5])
def test_a_one_cycle_run_of_a_handful_of_steps_trains(fake_dataset, steps):
    # 200 images in batches of 200: one step an epoch. torch's one-cycle schedule divides by zero
    # when its warm-up phase has no step, which a small --limit reached.
    trainer = Trainer(_config(preset="modern", schedule="onecycle", epochs=steps, batch_size=200), fake_dataset)
    _run(trainer)
    assert len(trainer.history) == steps
    assert all(math.isfinite(epoch.loss) for epoch in trainer.history)


# -- determinism -----------------------------------------------------------------------------------


@pytest.mark.parametrize("preset", ["classic", "modern"])
def test_same_seed_gives_identical_runs_on_cpu(fake_dataset, preset):
    def losses(seed):
        trainer = Trainer(_config(preset=preset, epochs=2, batch_size=32, seed=seed), fake_dataset)
        events = _run(trainer)
        return [e.loss for e in events if isinstance(e, BatchProgress)], trainer

    first, a = losses(0)
    second, b = losses(0)
    assert first == second
    assert [r.test_acc for r in a.history] == [r.test_acc for r in b.history]
    for key, value in a.model.state_dict().items():
        assert torch.equal(value, b.model.state_dict()[key]), key
    other, _ = losses(1)
    assert other != first


# -- control from another thread ------------------------------------------------------------------


class _Controls:
    """Trainers started in worker threads, and holds inside their batches, for one test; all are
    released, stopped and joined after it, pass or fail."""

    def __init__(self):
        self.drivers: list[Driver] = []
        self.holds: list[Rendezvous] = []

    def start(self, trainer: Trainer) -> Driver:
        driver = Driver(trainer)
        self.drivers.append(driver)
        return driver

    def hold(self, trainer: Trainer, **where) -> Rendezvous:
        rendezvous = Rendezvous(trainer.model, **where)
        self.holds.append(rendezvous)
        return rendezvous

    def close(self) -> None:
        for rendezvous in self.holds:
            rendezvous.remove()
        for driver in self.drivers:
            driver.close()


@pytest.fixture
def controls():
    c = _Controls()
    yield c
    c.close()


def _long_trainer(dataset) -> Trainer:
    # 50 batches an epoch for 40 epochs: far longer than any test waits
    return Trainer(_config(epochs=40, batch_size=4), dataset)


def _batches_of(driver: Driver, count: int) -> list:
    events = [driver.next() for _ in range(count)]
    assert all(isinstance(e, BatchProgress) for e in events), events
    return events


def test_pause_holds_between_batches_and_resume_goes_on(fake_dataset, controls):
    trainer = _long_trainer(fake_dataset)
    hold = controls.hold(trainer, steps=[3])
    driver = controls.start(trainer)
    assert hold.wait_inside() == ("step", 3)
    trainer.pause()  # while step 3 is being computed
    assert trainer.paused
    hold.release()
    assert [e.step for e in _batches_of(driver, 3)] == [1, 2, 3]  # the batch in flight completes
    # Nothing more may run until Resume. An absence can only be watched for a while; what it
    # counts is exact, whatever the machine's speed.
    with pytest.raises(queue.Empty):
        driver.events.get(timeout=0.3)
    assert hold.training_passes == 3, "a batch started while paused"
    assert driver.thread.is_alive()
    trainer.resume()
    assert not trainer.paused
    after = driver.next()
    assert isinstance(after, BatchProgress) and after.step == 4  # none lost, none repeated
    trainer.request_stop()
    rest = driver.drain()
    assert isinstance(rest[-1], Finished) and rest[-1].stopped
    driver.close()  # joins the thread; fails if it does not end


def test_stop_while_paused_ends_the_run(fake_dataset, controls):
    trainer = _long_trainer(fake_dataset)
    hold = controls.hold(trainer, steps=[3])
    driver = controls.start(trainer)
    hold.wait_inside()
    trainer.pause()
    hold.release()
    _batches_of(driver, 3)
    trainer.request_stop()  # no Resume: Stop alone must end a paused run
    rest = driver.drain()
    assert rest == [Finished((), stopped=True)], "a batch ran after stop was requested"
    assert trainer.stopped and trainer.stop_requested
    assert hold.training_passes == 3
    driver.close()


@pytest.mark.parametrize("where, held_at", [
    (dict(steps=[7]), (7, 0)),  # the epoch's last batch: the evaluation must not start
    (dict(evaluation_batches=[3]), (7, 3)),  # inside the evaluation: it must not go on
], ids=["last-batch", "evaluation"])
def test_pause_holds_the_evaluation_too(fake_dataset, controls, where, held_at):
    # 7 training batches an epoch, then 100 evaluation batches of one image
    trainer = Trainer(_config(epochs=2, batch_size=32, eval_batch_size=1), fake_dataset)
    hold = controls.hold(trainer, **where)
    driver = controls.start(trainer)
    hold.wait_inside()
    trainer.pause()
    assert (hold.training_passes, hold.evaluation_passes) == held_at
    hold.release()
    arrived = []
    while True:  # what the batch in flight still reports, until a quiet while
        try:
            arrived.append(driver.events.get(timeout=0.3))
        except queue.Empty:
            break
    assert not any(isinstance(e, EpochResult) for e in arrived), "the evaluation ran on while paused"
    assert (hold.training_passes, hold.evaluation_passes) == held_at
    trainer.resume()
    rest = driver.drain()
    assert not rest[-1].stopped and [r.epoch for r in rest[-1].history] == [1, 2]
    assert hold.evaluation_passes == 200


def test_stop_keeps_finished_epochs(fake_dataset, controls):
    trainer = _long_trainer(fake_dataset)  # 50 batches an epoch
    hold = controls.hold(trainer, steps=[52])
    driver = controls.start(trainer)
    hold.wait_inside()
    trainer.request_stop()  # inside the second batch of epoch 2
    hold.release()
    events = driver.drain()
    finished = events[-1]
    assert finished.stopped and len(finished.history) == 1
    assert finished.history == tuple(trainer.history)
    assert [e.step for e in events if isinstance(e, BatchProgress)][-1] == 52
    assert hold.training_passes == 52


def test_stop_during_evaluation_ends_without_an_epoch_result(fake_dataset):
    # One image per evaluation batch: the stop flag is checked 100 times during evaluation.
    trainer = Trainer(_config(epochs=3, batch_size=64, eval_batch_size=1), fake_dataset)
    passes = Rendezvous(trainer.model)  # counts only
    events = []
    for event in trainer.run():
        events.append(event)
        if isinstance(event, EvaluationStarted):
            trainer.request_stop()
    assert [type(e) for e in events[-2:]] == [EvaluationStarted, Finished]
    assert events[-1].stopped and events[-1].history == ()
    assert not any(isinstance(e, EpochResult) for e in events)
    assert passes.evaluation_passes == 0  # the stop was seen before the first evaluation batch


def test_stop_from_another_thread_during_evaluation(fake_dataset, controls):
    trainer = Trainer(_config(epochs=3, batch_size=64, eval_batch_size=1), fake_dataset)
    hold = controls.hold(trainer, evaluation_batches=[3])
    driver = controls.start(trainer)
    assert hold.wait_inside() == ("evaluation", 3)
    trainer.request_stop()
    hold.release()
    events = driver.drain()
    assert isinstance(events[-1], Finished) and events[-1].stopped
    assert [type(e) for e in events[-2:]] == [EvaluationStarted, Finished]
    assert not any(isinstance(e, EpochResult) for e in events)
    assert hold.evaluation_passes == 3, "evaluation went on after the stop"


def _figures(events: list) -> list:
    """What a run computed, without its timings."""
    out = []
    for e in events:
        if isinstance(e, BatchProgress):
            out.append(("batch", e.step, e.loss, e.accuracy, e.lr))
        elif isinstance(e, EpochResult):
            out.append(("epoch", e.epoch, e.loss, e.train_acc, e.test_acc, e.lr))
    return out


def test_a_run_in_a_worker_thread_gives_the_results_of_one_in_this_thread(fake_dataset, controls):
    # The app trains in a worker thread; with a seed and one torch thread, the numbers are those
    # a script gets.
    here = Trainer(_config(preset="modern", epochs=2), fake_dataset)
    events_here = _run(here)
    there = Trainer(_config(preset="modern", epochs=2), fake_dataset)
    events_there = controls.start(there).drain()
    assert _figures(events_there) == _figures(events_here)
    assert len(_figures(events_here)) == 2 * 7 + 2
    for key, value in here.model.state_dict().items():
        assert torch.equal(value, there.model.state_dict()[key]), key

# -- failures ----------------------------------------------------------------------------------


def test_non_finite_loss_stops_with_a_clear_message(fake_dataset):
    trainer = Trainer(_config(epochs=2, batch_size=32), fake_dataset)
    calls = {"n": 0}

    def poison(module, inputs, output):
        calls["n"] += 1
        return output * float("nan") if calls["n"] == 3 else output

    trainer.model.register_forward_hook(poison)
    before = None
    events = []
    with pytest.raises(NonFiniteLossError) as err:
        for event in trainer.run():
            events.append(event)
            before = trainer.state_dict_snapshot()
    message = str(err.value)
    assert "nan" in message and "epoch 1, batch 3" in message
    assert "learning rate" in message.lower()
    assert isinstance(err.value, TrainingError)
    assert len(events) == 2
    # the weights were not overwritten by the bad step
    for key, value in trainer.model.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_huge_learning_rate_diverges_into_a_clear_error(fake_dataset):
    trainer = Trainer(_config(preset="modern", epochs=3, batch_size=16, lr=1e12), fake_dataset)
    with pytest.raises(NonFiniteLossError, match="Lower the learning rate .*1e\\+12"):
        _run(trainer)


@pytest.mark.parametrize("overrides, words", [
    (dict(epochs=0), "epochs"),
    (dict(batch_size=0), "batch size"),
    (dict(lr=-0.1), "learning rate"),
    (dict(lr=float("nan")), "learning rate"),
    (dict(optimizer="rmsprop"), "optimizer"),
    (dict(schedule="step"), "schedule"),
    (dict(threads=0), "threads"),
    (dict(activation="tanh"), "activation"),
    (dict(pool="median"), "pool"),
    (dict(dropout=1.5), "dropout"),
    (dict(label_smoothing=1.0), "label smoothing"),
    (dict(augment_shift=-1), "shift"),
    (dict(augment_shift=9), "shift"),
    (dict(eval_batch_size=0), "evaluation batch size"),
    (dict(weight_decay=-1e-4), "weight decay"),
    (dict(momentum=-0.5), "momentum"),
])
def test_bad_settings_raise_training_error(fake_dataset, overrides, words):
    config = dataclasses.replace(TrainConfig(device="cpu"), **overrides)
    with pytest.raises(TrainingError, match=words):
        Trainer(config, fake_dataset)


def test_unknown_preset_names_the_choices():
    with pytest.raises(TrainingError, match="classic, modern"):
        preset_config("fancy")


def test_empty_training_set_is_refused(fake_dataset):
    with pytest.raises(TrainingError, match="empty"):
        Trainer(_config(), fake_dataset, train_limit=0)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
@pytest.mark.parametrize("name", ["cuda", "cuda:0"])
def test_cuda_without_a_gpu_says_so(name):
    with pytest.raises(TrainingError, match="no CUDA GPU") as err:
        resolve_device(name)
    assert "cpu" in str(err.value)


@pytest.mark.parametrize("name", ["tpu", "gpu", "cuda:x", "mps:0" if not torch.backends.mps.is_available() else "xla"])
def test_unknown_devices_are_refused(name):
    with pytest.raises(TrainingError, match="auto, cpu, cuda"):
        resolve_device(name)


def test_auto_device_and_cpu():
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert engine.available_devices()[-1] == ("cpu", "CPU")


# -- presets ---------------------------------------------------------------------------------------


def test_classic_preset_is_the_tutorials_recipe():
    config = preset_config("classic")
    assert (config.epochs, config.batch_size, config.lr, config.optimizer) == (5, 256, 0.001, "adam")
    assert (config.activation, config.pool, config.batch_norm, config.normalize) == ("sigmoid", "max", False, False)
    assert (config.schedule, config.augment_shift, config.augment_flip, config.label_smoothing) == ("none", 0, False, 0.0)


def test_modern_preset_flips_garments_but_never_digits():
    assert preset_config("modern", "fashion-mnist").augment_flip is True
    assert preset_config("modern", "mnist").augment_flip is False
    assert preset_config("modern", "mnist", epochs=3).epochs == 3


def test_modern_preset_augments_each_data_set_in_its_own_way():
    garments = preset_config("modern", "fashion-mnist")
    digits = preset_config("modern", "mnist")
    assert garments.batch_norm and digits.batch_norm
    # A flipped garment is the same garment; a flipped digit may be another digit.
    assert garments.augment_flip and not digits.augment_flip
    assert digits.augment_shift > 0


def test_modern_preset_with_augmentation_trains(fake_dataset):
    config = _config(preset="modern", epochs=2, batch_size=32, augment_shift=2)
    assert config.augment_shift > 0 and config.augment_flip and config.batch_norm
    trainer = Trainer(config, fake_dataset)
    events = _run(trainer)
    assert isinstance(events[-1], Finished) and not events[-1].stopped
    assert all(math.isfinite(r.loss) for r in trainer.history)
    # one-cycle: the rate rises then falls back far below its peak
    rates = [e.lr for e in events if isinstance(e, BatchProgress)]
    assert max(rates) == pytest.approx(config.lr, rel=0.05)
    assert rates[-1] < config.lr / 100


def test_snapshot_is_a_detached_cpu_copy(fake_dataset):
    trainer = Trainer(_config(epochs=1), fake_dataset)
    snapshot = trainer.state_dict_snapshot()
    _run(trainer)
    changed = [k for k, v in trainer.model.state_dict().items() if not torch.equal(v, snapshot[k])]
    assert "conv1.weight" in changed
    assert all(t.device.type == "cpu" and not t.requires_grad for t in snapshot.values())


def test_metadata_describes_the_run(fake_dataset):
    trainer = Trainer(_config(epochs=1), fake_dataset, train_limit=100, test_limit=50)
    _run(trainer)
    meta = trainer.metadata()
    assert meta["dataset"] == "fashion-mnist" and meta["classes"][9] == "Ankle boot"
    assert meta["input_kind"] == "garment" and meta["preset"] == "classic"
    assert (meta["train_samples"], meta["test_samples"]) == (100, 50)
    assert meta["hyperparameters"]["lr"] == 0.001
    assert len(meta["history"]) == 1 and meta["test_acc"] == meta["history"][0]["test_acc"]
    assert engine.train_config_from_dict(meta["hyperparameters"]) == trainer.config


def test_predict_split_gives_probabilities(fake_dataset):
    model = Trainer(_config(), fake_dataset).model
    probs = evaluation.predict_split(model, fake_dataset.test, batch_size=30)
    assert probs.shape == (100, 10)
    assert torch.allclose(probs.sum(1), torch.ones(100), atol=1e-5)
    # the softmax of what the layers one by one give, for every image in order
    with torch.no_grad():
        logits = model.eval()(fake_dataset.test.images.float().div(255).unsqueeze(1))
    torch.testing.assert_close(probs, torch.softmax(logits, 1))



# -- what each setting does ----------------------------------------------------------------------


def _training_inputs(trainer: Trainer) -> list[torch.Tensor]:
    """Records each training batch as the network receives it, back in uint8 pixels (N x 28 x 28)."""
    seen: list[torch.Tensor] = []

    def record(module, args):
        if module.training:
            seen.append((args[0].detach()[:, 0] * 255).round().to(torch.uint8))

    trainer.model.register_forward_pre_hook(record)
    return seen


def _pattern() -> torch.Tensor:
    """An "F": neither left-right nor top-bottom symmetric, 8 pixels or more from every edge."""
    image = torch.zeros(28, 28, dtype=torch.uint8)
    image[8:20, 10] = 255
    image[8, 10:18] = 200
    image[13, 11:15] = 120
    return image


def _translated(image: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """``image`` moved ``dy`` pixels down and ``dx`` right, zeros coming in."""
    out = torch.zeros_like(image)
    h, w = image.shape
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = image[
        max(-dy, 0) : h - max(dy, 0), max(-dx, 0) : w - max(dx, 0)
    ]
    return out


def _one_image_dataset(like: LoadedDataset, image: torch.Tensor, n_train: int = 256) -> LoadedDataset:
    labels = torch.arange(n_train) % 10
    train = DataSplit(image.expand(n_train, 28, 28).clone(), labels)
    test = DataSplit(image.expand(20, 28, 28).clone(), torch.arange(20) % 10)
    return LoadedDataset(info=like.info, train=train, test=test, source=Path("."))


def _transforms_seen(config: TrainConfig, dataset: LoadedDataset, max_shift: int = 3):
    """For every image the network trained on: (flipped, dy, dx), the transform of the pattern
    that gives it, searched over every flip and every shift up to ``max_shift``; and the batches."""
    trainer = Trainer(config, dataset)
    seen = _training_inputs(trainer)
    _run(trainer)
    pattern = _pattern()
    candidates = {
        (flipped, dy, dx): _translated(torch.flip(pattern, [-1]) if flipped else pattern, dy, dx)
        for flipped in (False, True)
        for dy in range(-max_shift, max_shift + 1)
        for dx in range(-max_shift, max_shift + 1)
    }
    batches = []
    for batch in seen:
        found = []
        for image in batch:
            matches = [t for t, candidate in candidates.items() if torch.equal(image, candidate)]
            assert len(matches) == 1, "a training image is not a shifted or flipped copy of the original"
            found.append(matches[0])
        batches.append(found)
    return batches


def test_flip_mirrors_about_half_the_images_and_nothing_else(fake_dataset):
    dataset = _one_image_dataset(fake_dataset, _pattern())
    batches = _transforms_seen(_config(epochs=1, augment_flip=True, augment_shift=0), dataset)
    transforms = [t for batch in batches for t in batch]
    assert len(transforms) == 256
    assert {(dy, dx) for _, dy, dx in transforms} == {(0, 0)}  # no shift asked, none made
    flipped = sum(f for f, _, _ in transforms)
    assert 64 <= flipped <= 192, f"{flipped} of 256 flipped; a fair coin flips about half"
    # per image, not per batch: a batch holds both
    assert any(len({f for f, _, _ in batch}) == 2 for batch in batches)


def test_shift_moves_images_by_up_to_the_setting_and_never_flips(fake_dataset):
    dataset = _one_image_dataset(fake_dataset, _pattern())
    batches = _transforms_seen(_config(epochs=1, augment_flip=False, augment_shift=2), dataset)
    transforms = [t for batch in batches for t in batch]
    assert not any(f for f, _, _ in transforms)
    assert max(max(abs(dy), abs(dx)) for _, dy, dx in transforms) <= 2
    # every offset of the range comes up, in both directions and both axes
    assert {dy for _, dy, _ in transforms} == {-2, -1, 0, 1, 2}
    assert {dx for _, _, dx in transforms} == {-2, -1, 0, 1, 2}
    unmoved = sum((dy, dx) == (0, 0) for _, dy, dx in transforms)
    assert unmoved < 64, f"{unmoved} of 256 unmoved; about one in 25 should be"
    assert all(len(set(batch)) > 1 for batch in batches)  # per image, not per batch


def test_shift_and_flip_together(fake_dataset):
    dataset = _one_image_dataset(fake_dataset, _pattern())
    batches = _transforms_seen(_config(epochs=1, augment_flip=True, augment_shift=1), dataset)
    transforms = [t for batch in batches for t in batch]
    assert max(max(abs(dy), abs(dx)) for _, dy, dx in transforms) <= 1
    assert {f for f, _, _ in transforms} == {False, True}
    assert any((dy, dx) != (0, 0) for f, dy, dx in transforms if f)


def test_each_epoch_trains_on_every_image_once_unchanged_in_a_new_order(fake_dataset):
    trainer = Trainer(_config(epochs=2, batch_size=50), fake_dataset)
    seen = _training_inputs(trainer)
    _run(trainer)
    index_of = {image.numpy().tobytes(): i for i, image in enumerate(fake_dataset.train.images)}
    assert len(index_of) == 200
    order = [index_of[image.numpy().tobytes()] for image in torch.cat(seen)]  # KeyError: changed
    first, second = order[:200], order[200:]
    assert sorted(first) == sorted(second) == list(range(200))
    # shuffled, and shuffled anew each epoch (the same order every epoch trains worse)
    assert first != list(range(200)) and second != first


def test_augmentation_moves_and_flips_without_changing_content():
    gen = torch.Generator().manual_seed(0)
    x = torch.zeros(64, 28, 28, dtype=torch.uint8)
    x[:, 10:18, 5:9] = 200
    out = engine._shift_and_flip(x, 2, True, gen)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert torch.equal(out.sum((1, 2)), x.sum((1, 2)))  # a 2-pixel shift keeps this blob inside
    assert not torch.equal(out, x)
    assert torch.equal(engine._shift_and_flip(x, 0, False, gen), x)


def _rates(config: TrainConfig, dataset) -> tuple[list[float], list[float]]:
    """The learning rate each training step used, and the one each epoch ended with."""
    events = _run(Trainer(config, dataset))
    return ([e.lr for e in events if isinstance(e, BatchProgress)],
            [e.lr for e in events if isinstance(e, EpochResult)])


def test_no_schedule_keeps_the_rate(fake_dataset):
    steps, epochs = _rates(_config(epochs=2, lr=0.003, schedule="none"), fake_dataset)
    assert steps == [0.003] * 14 and epochs == [0.003, 0.003]


def test_cosine_schedule_anneals_the_rate_along_a_half_cosine(fake_dataset):
    steps, epochs = _rates(_config(epochs=2, batch_size=32, lr=0.01, schedule="cosine"), fake_dataset)
    total = 2 * 7  # 200 images in batches of 32
    # step k (from 0) of T uses lr * (1 + cos(pi k / T)) / 2: from lr down to 0 at the end
    expected = [0.01 * (1 + math.cos(math.pi * k / total)) / 2 for k in range(total)]
    assert steps == pytest.approx(expected, rel=1e-6, abs=1e-12)
    assert epochs == pytest.approx([0.005, 0.0], abs=1e-9)  # halfway, then the end


def test_one_cycle_warms_up_for_a_quarter_of_the_steps_then_anneals(fake_dataset):
    config = _config(preset="modern", epochs=2, batch_size=32, lr=0.1, augment_flip=False)
    assert config.schedule == "onecycle"
    steps, _ = _rates(config, fake_dataset)
    total = len(steps)
    start, peak = 0.1 / 25, 0.1  # one-cycle starts at a 25th of the peak and ends 10^4 below that
    end = start / 1e4
    warm = 0.25 * total - 1  # the step at which the rate peaks

    def anneal(a, b, fraction):
        return b + (a - b) * (1 + math.cos(math.pi * fraction)) / 2

    expected = [
        anneal(start, peak, k / warm) if k <= warm else anneal(peak, end, (k - warm) / (total - 1 - warm))
        for k in range(total)
    ]
    assert steps == pytest.approx(expected, rel=1e-6)


OPTIMIZER_CASES = {
    # name: (optimizer, weight decay, momentum)
    "adam": ("adam", 0.0, 0.9),
    "adam-l2": ("adam", 0.1, 0.9),
    "adamw": ("adamw", 0.1, 0.9),
    "sgd-nesterov": ("sgd", 0.01, 0.9),
    "sgd-plain": ("sgd", 0.01, 0.0),
}


def _expected_first_update(optimizer: str, weight_decay: float, momentum: float, lr: float, p, g):
    """The textbook first step of each optimizer from weights p and gradient g."""
    if optimizer == "adamw":  # decay decoupled from the gradient
        return p * (1 - lr * weight_decay) - lr * g / (g.abs() + 1e-8)
    if optimizer == "adam":  # L2: the decay joins the gradient; Adam's first step is lr * g / |g|
        g = g + weight_decay * p
        return p - lr * g / (g.abs() + 1e-8)
    g = g + weight_decay * p  # SGD; the first step fills the momentum buffer with g itself
    if momentum:  # Nesterov: g + momentum * buffer
        g = g + momentum * g
    return p - lr * g


def _without_fused(cls):
    """``cls`` as on a torch that has no fused kernel for this device."""

    class NoFusedKernel(cls):
        def __init__(self, *args, fused=None, **kwargs):
            super().__init__(*args, **kwargs)  # as torch does: the parameters are taken first
            if fused:
                raise RuntimeError("`fused=True` requires all the params to be floating point Tensors of supported devices")

    return NoFusedKernel


@pytest.mark.parametrize("case, fused", [
    *((case, "fused-available") for case in OPTIMIZER_CASES),
    *((case, "fused-missing") for case in OPTIMIZER_CASES if OPTIMIZER_CASES[case][0] != "sgd"),
])
def test_each_optimizer_makes_its_textbook_first_step(fake_dataset, monkeypatch, case, fused):
    optimizer, weight_decay, momentum = OPTIMIZER_CASES[case]
    if fused == "fused-missing":  # as on a torch without the fused CPU kernel: Adam falls back
        monkeypatch.setattr(torch.optim, "Adam", _without_fused(torch.optim.Adam))
        monkeypatch.setattr(torch.optim, "AdamW", _without_fused(torch.optim.AdamW))
    lr = 0.01
    config = _config(epochs=1, lr=lr, optimizer=optimizer, weight_decay=weight_decay, momentum=momentum)
    trainer = Trainer(config, fake_dataset)
    if fused == "fused-missing":
        assert type(trainer.optimizer).__name__ == "NoFusedKernel"  # the patch was in effect
    record = {}

    def before(opt, args, kwargs):
        if "p" not in record:
            record["p"] = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
            record["g"] = {n: p.grad.detach().clone() for n, p in trainer.model.named_parameters()}

    trainer.optimizer.register_step_pre_hook(before)
    run = trainer.run()
    first = next(run)
    run.close()
    assert isinstance(first, BatchProgress) and first.lr == lr
    for name, p in trainer.model.named_parameters():
        expected = _expected_first_update(optimizer, weight_decay, momentum, lr, record["p"][name], record["g"][name])
        torch.testing.assert_close(p.detach(), expected, rtol=1e-5, atol=1e-6, msg=lambda m: f"{name}: {m}")


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd"])
def test_weight_decay_keeps_the_weights_smaller(fake_dataset, optimizer):
    def weight_norm(weight_decay):
        trainer = Trainer(_config(epochs=2, optimizer=optimizer, lr=0.01, weight_decay=weight_decay), fake_dataset)
        _run(trainer)
        return sum(float(p.detach().pow(2).sum()) for n, p in trainer.model.named_parameters() if n.endswith("weight"))

    without, with_decay = weight_norm(0.0), weight_norm(0.5)
    assert with_decay < 0.98 * without


def _labels_by_image(split: DataSplit) -> dict[bytes, int]:
    out = {image.numpy().tobytes(): int(label) for image, label in zip(split.images, split.labels)}
    assert len(out) == len(split), "the images must be distinct for this lookup"
    return out


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.3])
def test_label_smoothing_changes_the_loss_by_its_formula(fake_dataset, smoothing):
    # Three epochs of the modern recipe: the network becomes confident, where smoothing matters most.
    config = _config(preset="modern", epochs=3, augment_flip=False, label_smoothing=smoothing)
    trainer = Trainer(config, fake_dataset)
    batches = []
    trainer.model.register_forward_hook(
        lambda m, args, out: batches.append((args[0].detach().clone(), out.detach().double())) if m.training else None
    )
    losses = [e.loss for e in _run(trainer) if isinstance(e, BatchProgress)]
    labels_of = _labels_by_image(fake_dataset.train)
    assert len(batches) == len(losses) == 21
    for (x, logits), loss in zip(batches, losses):
        y = torch.tensor([labels_of[(i[0] * 255).round().to(torch.uint8).numpy().tobytes()] for i in x])
        log_p = torch.log_softmax(logits, 1)
        # (1 - e) * cross-entropy with the label + e * cross-entropy with the uniform distribution
        per_image = (1 - smoothing) * -log_p[torch.arange(len(y)), y] + smoothing * -log_p.mean(1)
        assert loss == pytest.approx(float(per_image.mean()), rel=1e-5)
    assert trainer.history[-1].test_acc >= 0.5  # it did become confident enough to matter


def test_dropout_drops_while_training_and_never_while_evaluating(fake_dataset):
    def fc2_inputs(dropout):
        # fc2's input is fc1's sigmoid output after dropout: without dropout, never zero
        trainer = Trainer(_config(epochs=1, batch_size=50, dropout=dropout), fake_dataset)
        seen = {True: [], False: []}
        trainer.model.fc2.register_forward_hook(lambda m, args, out: seen[m.training].append(args[0].detach()))
        _run(trainer)
        return torch.cat(seen[True]), torch.cat(seen[False])

    training, evaluation = fc2_inputs(0.5)
    assert evaluation.shape[0] == 100 and training.shape[0] == 200
    dropped = float((training == 0).float().mean())
    assert 0.45 <= dropped <= 0.55, dropped
    assert float(training.max()) > 1.0  # the kept ones are scaled by 1 / (1 - p)
    assert not bool((evaluation == 0).any()) and float(evaluation.max()) <= 1.0
    training, evaluation = fc2_inputs(0.0)
    assert not bool((training == 0).any()) and float(training.max()) <= 1.0


def test_evaluation_batch_size_changes_the_batches_not_the_accuracy(fake_dataset):
    outcomes = {}
    for size in (7, 30, 256):
        trainer = Trainer(_config(epochs=1, eval_batch_size=size), fake_dataset)
        sizes = []
        trainer.model.fc3.register_forward_hook(lambda m, args, out: None if m.training else sizes.append(len(out)))
        _run(trainer)
        outcomes[size] = (trainer.history[0].test_acc, sizes)
    assert outcomes[7][1] == [7] * 14 + [2]
    assert outcomes[30][1] == [30, 30, 30, 10]
    assert outcomes[256][1] == [100]
    assert outcomes[7][0] == outcomes[30][0] == outcomes[256][0]


def test_the_thread_setting_is_the_one_training_runs_with(fake_dataset):
    def threads_seen(threads):
        trainer = Trainer(_config(epochs=1, threads=threads), fake_dataset)
        seen = set()
        trainer.model.fc3.register_forward_hook(lambda *args: seen.add(torch.get_num_threads()))
        _run(trainer)
        return seen

    torch.set_num_threads(2)  # the fixture in conftest puts back what the test found
    assert threads_seen(1) == {1}
    torch.set_num_threads(2)
    assert threads_seen(None) == {2}  # None leaves the thread's setting alone


# -- the layout the model is handed back in ------------------------------------------------------


def _assert_usual_layout(model, folder: Path) -> None:
    for name, tensor in itertools.chain(model.named_parameters(), model.named_buffers()):
        assert tensor.is_contiguous(memory_format=torch.contiguous_format), f"{name} is not in NCHW"
    # as a user meets it: the feature maps the inspector shows, the tensors a saved file holds
    model.eval()
    with torch.no_grad():
        _, activations = model(torch.rand(2, 1, 28, 28), return_activations=True)
    for name, tensor in activations.items():
        assert tensor.is_contiguous(), f"the {name} maps are not in NCHW"
    path = save_checkpoint(folder / "after.pt", model, {})
    for name, tensor in torch.load(path, weights_only=True)["state_dict"].items():
        assert tensor.is_contiguous(), f"{name} is saved in another layout"


# Average pooling is off the fast CPU kernels: such a model trains channels-last on the CPU.
CHANNELS_LAST_RECIPE = dict(preset="modern", pool="avg")


def _trains_channels_last(trainer: Trainer) -> None:
    assert not trainer.model.conv2.weight.is_contiguous(), (
        "the average-pooling model no longer trains channels-last on the CPU: this test then "
        "needs another way into the layout it hands back"
    )


@pytest.mark.parametrize("recipe", [dict(preset="classic"), dict(preset="modern"), CHANNELS_LAST_RECIPE],
                         ids=["classic", "modern", "avg-pool"])
def test_model_is_handed_back_in_the_usual_layout(fake_dataset, tmp_path, recipe):
    # The engine may train in another memory layout (channels-last on the CPU off the fast
    # kernels); whoever reads the weights afterwards (inspector, checkpoint, export) gets NCHW.
    trainer = Trainer(_config(**recipe, epochs=1), fake_dataset)
    for event in trainer.run():
        if isinstance(event, BatchProgress):
            if recipe == CHANNELS_LAST_RECIPE and event.step == 1:
                _trains_channels_last(trainer)
            assert all(t.is_contiguous() for t in trainer.state_dict_snapshot().values())
    _assert_usual_layout(trainer.model, tmp_path)
    assert torch.equal(trainer.model.conv2.weight.view(16, -1), trainer.model.conv2.weight.reshape(16, -1))


@pytest.mark.parametrize("how", ["stopped", "abandoned", "failed"])
def test_model_is_handed_back_in_the_usual_layout_however_the_run_ends(fake_dataset, tmp_path, how):
    trainer = Trainer(_config(**CHANNELS_LAST_RECIPE, epochs=3), fake_dataset)
    run = trainer.run()
    first = next(run)
    assert isinstance(first, BatchProgress)
    _trains_channels_last(trainer)
    if how == "stopped":
        trainer.request_stop()
        assert list(run)[-1].stopped
    elif how == "abandoned":
        run.close()  # a consumer that walks away mid-run
    else:
        with torch.no_grad():
            trainer.model.fc3.weight.fill_(float("nan"))
        with pytest.raises(NonFiniteLossError):
            list(run)
    _assert_usual_layout(trainer.model, tmp_path)


# -- device read-backs -------------------------------------------------------------------------------


class _ReadBacks:
    """Counts the calls by which the package's code turns a tensor into host values: on a GPU
    each one waits for every step queued before it. (The fast CPU kernels' own path, which
    never runs on a GPU, is left out.)"""

    CONVERSIONS = ("__float__", "__int__", "__bool__", "__index__", "item", "tolist", "numpy", "cpu")

    def __init__(self, monkeypatch):
        self.count = 0
        for name in self.CONVERSIONS:
            monkeypatch.setattr(torch.Tensor, name, self._counting(getattr(torch.Tensor, name)))

    def _counting(self, original):
        def counted(tensor, *args, **kwargs):
            caller = sys._getframe(1).f_code
            if "lenet_gui" in caller.co_filename and caller.co_name != "_forward_fast_cpu":
                self.count += 1
            return original(tensor, *args, **kwargs)
        return counted


@pytest.mark.parametrize("diagnostics_every", [0, 1], ids=["no-diagnostics", "diagnostics-every-step"])
@pytest.mark.parametrize("optimizer", ["adam", "adamw"])
def test_the_loop_reads_figures_back_once_per_report_not_per_batch(fake_dataset, monkeypatch, optimizer,
                                                                   diagnostics_every):
    counter = _ReadBacks(monkeypatch)
    # 200 images in batches of 8: 25 batches an epoch; no time-based report within an epoch.
    # The layers' diagnostics, even of every step, come back in the batches' transfer.
    trainer = Trainer(_config(epochs=2, batch_size=8, optimizer=optimizer), fake_dataset,
                      report_seconds=math.inf, diagnostics_every=diagnostics_every)
    per_epoch = []
    for event in trainer.run():
        if isinstance(event, EpochResult):
            per_epoch.append(counter.count)
            counter.count = 0
    # per epoch, the training batches' figures in one transfer and the test pass's count in
    # another, and once more for the run's first batch, which is shown at once
    assert per_epoch == [3, 2]
    # and each batch still reports its own figures
    batches = [e for e in _run(Trainer(_config(epochs=1, batch_size=8, optimizer=optimizer), fake_dataset))
               if isinstance(e, BatchProgress)]
    assert len(batches) == 25 and all(math.isfinite(b.loss) and 0 <= b.accuracy <= 1 for b in batches)
    assert len({b.loss for b in batches}) > 20


def test_reporting_every_batch_reads_back_every_batch(fake_dataset, monkeypatch):
    """The counter sees the read-backs a per-batch report makes (what the loop did before)."""
    counter = _ReadBacks(monkeypatch)
    _run(Trainer(_config(epochs=1, batch_size=8), fake_dataset, report_seconds=0.0))
    assert counter.count >= 25


# -- held-out images and calibration ---------------------------------------------------------------


def test_held_out_images_are_never_trained_on_and_calibrate_the_saved_model(fake_dataset):
    # 200 images, the last 60 held out: 140 trained on, 30 calibrate, 30 reserved.
    config = _config("robust", epochs=1, batch_size=32, holdout=60, outlier_exposure=0.0)
    trainer = Trainer(config, fake_dataset)
    assert len(trainer.train_split) == 140
    assert torch.equal(trainer.train_split.images, fake_dataset.train.images[:140])
    seen = []
    trainer.model.register_forward_pre_hook(lambda module, args: seen.append(args[0].shape[0]) if module.training else None)
    _run(trainer)
    assert sum(seen) == 140  # one epoch saw exactly the images it may train on
    state, meta = trainer.checkpoint_state()
    assert meta["held_out"] == {"calibration": [140, 170], "reserved": [170, 200]}
    block = meta["calibration"]
    assert 0.05 <= block["temperature"] <= 20 and block["temperature"] != 1.0
    assert block["ood"]["method"] == "energy" and math.isfinite(block["ood"]["threshold"])
    assert block["details"]["fitted_on"] == "training images 140-169, held out from training"
    assert block["details"]["ece_bins"] == 15


def test_presets_without_held_out_images_save_no_calibration(fake_dataset):
    trainer = Trainer(_config("modern", epochs=1), fake_dataset)
    assert len(trainer.train_split) == 200
    _run(trainer)
    _, meta = trainer.checkpoint_state()
    assert "calibration" not in meta and meta["held_out"] is None


def test_outlier_exposure_teaches_the_model_that_outliers_fit_no_class(fake_dataset):
    from lenet_gui.core import augment
    from lenet_gui.core.calibration import softmax
    from lenet_gui.core.evaluation import model_logits

    outliers = augment.outliers(200, "garment", torch.Generator().manual_seed(99))
    top1, losses = {}, {}
    for weight in (0.0, 1.0):
        trainer = Trainer(_config("robust", epochs=4, batch_size=32, holdout=0, outlier_exposure=weight), fake_dataset)
        events = _run(trainer)
        losses[weight] = ([e.loss for e in events if isinstance(e, EpochResult)],
                          [e.loss for e in events if isinstance(e, BatchProgress)])
        top1[weight] = softmax(model_logits(trainer.model, outliers)).max(1).mean()
    # The tutorial's line and the batch read-out report the classification loss: the outliers'
    # term (at least log 10 = 2.3, reached when their probabilities are even) is not in it.
    for reported, plain in zip(losses[1.0], losses[0.0]):
        assert reported[-1] < plain[-1] + 1.0, losses
    # Without it the model names a class for outliers with confidence; with it, it spreads
    # their probability towards 10% each.
    assert top1[1.0] < 0.2 and top1[0.0] > 0.3, top1


@pytest.mark.parametrize("pause_at", ["training", "evaluation"])
def test_time_spent_paused_is_not_counted_as_the_epochs(fake_dataset, pause_at):
    # 7 batches of 32 and a test pass of 100 images: a small part of the pause's length.
    pause = 1.5
    trainer = Trainer(_config(epochs=1, batch_size=32), fake_dataset, diagnostics_every=0)
    resumer = None
    started = time.perf_counter()
    for event in trainer.run():
        if resumer is None and (isinstance(event, BatchProgress) if pause_at == "training"
                                else isinstance(event, EvaluationStarted)):
            trainer.pause()  # held at the next check, in this thread, until the timer resumes it
            resumer = threading.Timer(pause, trainer.resume)
            resumer.start()
        if isinstance(event, EpochResult):
            wall = time.perf_counter() - started  # the whole epoch, its pause included
    resumer.join()
    (result,) = trainer.history
    assert wall >= pause  # the run did wait
    assert result.seconds < wall - 0.9 * pause, result
    assert result.samples_per_sec > len(trainer.train_split) / (wall - 0.9 * pause)


def test_the_cpu_sgd_updates_weights_as_torchs_plain_sgd_does(fake_dataset):
    """The trainer's SGD runs its loop over parameters in C++; its arithmetic must stay that of
    torch's default per-parameter loop, which earlier runs' figures came from."""
    import copy

    trainer = Trainer(_config("modern", epochs=1), fake_dataset)
    model = trainer.model
    twin = copy.deepcopy(model)
    group = trainer.optimizer.param_groups[0]
    plain = torch.optim.SGD(twin.parameters(), lr=group["lr"], momentum=group["momentum"],
                            weight_decay=group["weight_decay"], nesterov=group["nesterov"])
    gen = torch.Generator().manual_seed(0)
    for _ in range(4):
        x, y = torch.rand(16, 1, 28, 28, generator=gen), torch.randint(0, 10, (16,), generator=gen)
        for net, optimizer in ((model, trainer.optimizer), (twin, plain)):
            optimizer.zero_grad()
            torch.manual_seed(0)
            torch.nn.functional.cross_entropy(net.train()(x), y).backward()
            optimizer.step()
    for (name, ours), theirs in zip(model.named_parameters(), twin.parameters()):
        assert torch.equal(ours, theirs), name
