"""The training engine: events, determinism, control from another thread, failures.

These tests train on the tiny data set from conftest (200 train / 100 test images), on one
thread, so each takes a fraction of a second.
"""

from __future__ import annotations

import dataclasses
import math
import queue
import re
import threading
import time

import pytest
import torch

from lenet_gui.core import engine, evaluation
from lenet_gui.core.engine import BatchProgress, EpochResult, EvaluationStarted, Finished, NonFiniteLossError, TrainConfig, Trainer, TrainingError, resolve_device
from lenet_gui.core.presets import preset_config

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
    events = _run(trainer)
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


def test_training_learns_the_tiny_data_set(fake_dataset):
    trainer = Trainer(_config(preset="modern", epochs=3, batch_size=32), fake_dataset)
    _run(trainer)
    assert trainer.history[-1].test_acc >= 0.5  # chance is 0.1


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


class _Driver:
    """Runs the trainer's loop in a worker thread, as the app does, collecting its events."""

    def __init__(self, trainer: Trainer):
        self.trainer = trainer
        self.events: queue.Queue = queue.Queue()
        self.error = None
        self.thread = threading.Thread(target=self._work, daemon=True)
        self.thread.start()

    def _work(self):
        try:
            for event in self.trainer.run():
                self.events.put(event)
        except BaseException as exc:  # surfaced by the test
            self.error = exc
        self.events.put(None)

    def next(self, timeout=10.0):
        event = self.events.get(timeout=timeout)
        assert event is not None, f"the run ended early ({self.error!r})"
        return event

    def drain(self, timeout=10.0) -> list:
        out = []
        while True:
            event = self.events.get(timeout=timeout)
            if event is None:
                return out
            out.append(event)


def _long_trainer(dataset) -> Trainer:
    # 50 batches an epoch for 40 epochs: far longer than any test waits
    return Trainer(_config(epochs=40, batch_size=4), dataset)


def test_pause_holds_between_batches_and_resume_goes_on(fake_dataset):
    trainer = _long_trainer(fake_dataset)
    driver = _Driver(trainer)
    first = driver.next()
    assert isinstance(first, BatchProgress)
    trainer.pause()
    assert trainer.paused
    time.sleep(0.2)  # the batch in flight, if any, finishes
    held = driver.events.qsize()
    time.sleep(0.4)
    assert driver.events.qsize() == held, "batches ran while paused"
    assert driver.thread.is_alive()
    trainer.resume()
    assert not trainer.paused
    for _ in range(held + 3):
        event = driver.next()
    assert isinstance(event, BatchProgress) and event.step > first.step
    trainer.request_stop()
    rest = driver.drain()
    assert isinstance(rest[-1], Finished) and rest[-1].stopped
    driver.thread.join(5)
    assert not driver.thread.is_alive()


def test_stop_while_paused_ends_the_run(fake_dataset):
    trainer = _long_trainer(fake_dataset)
    driver = _Driver(trainer)
    driver.next()
    trainer.pause()
    time.sleep(0.2)
    held = driver.events.qsize()  # batches done before the pause took hold
    started = time.monotonic()
    trainer.request_stop()
    rest = driver.drain(timeout=5)
    assert time.monotonic() - started < 2
    assert isinstance(rest[-1], Finished) and rest[-1].stopped
    assert trainer.stopped and trainer.stop_requested
    assert len(rest) == held + 1, "a batch ran after stop was requested"
    driver.thread.join(5)
    assert not driver.thread.is_alive()


def test_stop_keeps_finished_epochs(fake_dataset):
    trainer = _long_trainer(fake_dataset)
    driver = _Driver(trainer)
    while not isinstance(driver.next(), EpochResult):
        pass
    trainer.request_stop()
    rest = driver.drain()
    finished = rest[-1]
    assert finished.stopped and len(finished.history) >= 1
    assert finished.history == tuple(trainer.history)


def test_stop_during_evaluation_ends_without_an_epoch_result(fake_dataset):
    # One image per evaluation batch: the stop flag is checked 100 times during evaluation.
    trainer = Trainer(_config(epochs=3, batch_size=64, eval_batch_size=1), fake_dataset)
    events = []
    for event in trainer.run():
        events.append(event)
        if isinstance(event, EvaluationStarted):
            trainer.request_stop()
    assert [type(e) for e in events[-2:]] == [EvaluationStarted, Finished]
    assert events[-1].stopped and events[-1].history == ()
    assert not any(isinstance(e, EpochResult) for e in events)


def test_stop_from_another_thread_during_evaluation(fake_dataset):
    trainer = Trainer(_config(epochs=3, batch_size=64, eval_batch_size=1), fake_dataset)
    in_evaluation = threading.Event()
    slow_down = engine.evaluate_accuracy

    def evaluate_slowly(model, split, device, batch_size, should_stop):
        def check():
            time.sleep(0.01)  # 100 checks: about a second of evaluation
            return should_stop()

        in_evaluation.set()
        return slow_down(model, split, device, batch_size, check)

    stopper = threading.Thread(target=lambda: (in_evaluation.wait(10), trainer.request_stop()))
    stopper.start()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine, "evaluate_accuracy", evaluate_slowly)
        events = list(trainer.run())
    stopper.join()
    assert isinstance(events[-1], Finished) and events[-1].stopped
    assert not any(isinstance(e, EpochResult) for e in events)


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


def test_augmentation_moves_and_flips_without_changing_content():
    gen = torch.Generator().manual_seed(0)
    x = torch.zeros(64, 28, 28, dtype=torch.uint8)
    x[:, 10:18, 5:9] = 200
    out = engine._shift_and_flip(x, 2, True, gen)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert torch.equal(out.sum((1, 2)), x.sum((1, 2)))  # a 2-pixel shift keeps this blob inside
    assert not torch.equal(out, x)
    assert torch.equal(engine._shift_and_flip(x, 0, False, gen), x)


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


def test_model_is_handed_back_in_the_usual_layout(fake_dataset):
    # The engine may train in another memory layout (channels-last on the CPU); whoever reads
    # the weights afterwards (inspector, checkpoint, export) gets ordinary contiguous tensors.
    trainer = Trainer(_config(epochs=1), fake_dataset)
    for event in trainer.run():
        if isinstance(event, BatchProgress):
            assert all(t.is_contiguous() for t in trainer.state_dict_snapshot().values())
    assert all(p.is_contiguous() for p in trainer.model.parameters())
    stopped = Trainer(_config(epochs=3), fake_dataset)
    for event in stopped.run():
        stopped.request_stop()
    assert all(p.is_contiguous() for p in stopped.model.parameters())
    abandoned = Trainer(_config(epochs=3), fake_dataset)
    run = abandoned.run()
    next(run)
    run.close()  # a consumer that walks away mid-run
    assert all(p.is_contiguous() for p in abandoned.model.parameters())
    assert torch.equal(trainer.model.conv2.weight.view(16, -1), trainer.model.conv2.weight.reshape(16, -1))
