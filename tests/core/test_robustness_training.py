"""Training faults at the core level: Stop, Pause and Resume from another thread at random
moments (during evaluation too), a diverging learning rate, and checkpoints saved after a stop.

Small and fast: 2000 training images, 1000 test images, one thread.
"""

from __future__ import annotations

import os
import random
import threading
import time

import pytest
import torch

from lenet_gui.core.checkpoint import load_checkpoint, save_checkpoint
from lenet_gui.core.data import DatasetError, load_dataset
from lenet_gui.core.engine import BatchProgress, EpochResult, EvaluationStarted, Finished, NonFiniteLossError, Trainer
from lenet_gui.core.evaluation import evaluate_accuracy
from lenet_gui.core.presets import preset_config
from tests.support import hostile


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = os.environ.get("LENET_DATA_ROOT")
    if root:
        try:
            return load_dataset("mnist", root, download=False)
        except DatasetError:
            pass
    # No real data: a random data set of the right shape exercises the same control paths.
    folder = tmp_path_factory.mktemp("random-mnist")
    hostile.write_idx_dataset(folder, train=2000, test=1000)
    return load_dataset("mnist", folder, download=False)


def make_trainer(dataset, epochs=3, **overrides) -> Trainer:
    overrides.setdefault("eval_batch_size", 100)  # ten evaluation steps: room to stop inside one
    overrides.setdefault("lr", 0.01)
    overrides.setdefault("activation", "relu")
    config = preset_config("classic", "mnist", epochs=epochs, threads=1, **overrides)
    return Trainer(config, dataset, train_limit=2000, test_limit=1000)


def assert_history_is_whole(trainer: Trainer, events: list) -> None:
    """Only completed epochs, each once, in order, and exactly those the run reported."""
    reported = [e for e in events if isinstance(e, EpochResult)]
    assert trainer.history == reported
    assert [e.epoch for e in trainer.history] == list(range(1, len(trainer.history) + 1))
    for result in trainer.history:
        assert 0.0 <= result.train_acc <= 1.0 and 0.0 <= result.test_acc <= 1.0
    assert isinstance(events[-1], Finished)
    assert events[-1].history == tuple(trainer.history)


def run_with_controller(trainer: Trainer, controller, timeout: float = 60) -> list:
    """Consume the run in this thread (as the GUI's worker does) while ``controller(trainer,
    events_seen)`` acts from another thread. Fails instead of hanging on a deadlock."""
    events: list = []
    seen = {"evaluation": threading.Event(), "batch": threading.Event(), "events": events}

    def consume():
        for event in trainer.run():
            events.append(event)
            if isinstance(event, EvaluationStarted):
                seen["evaluation"].set()
            elif isinstance(event, BatchProgress):
                seen["batch"].set()
        return events

    control = threading.Thread(target=controller, args=(trainer, seen), daemon=True)
    control.start()
    hostile.call_with_timeout(consume, timeout)
    control.join(timeout)
    assert not control.is_alive(), "the controller is stuck"
    return events


@pytest.mark.parametrize("seed", range(6))
def test_stop_at_a_random_moment_keeps_only_completed_epochs(dataset, seed):
    rng = random.Random(seed)
    delay = rng.uniform(0.0, 1.0)

    asked = {}

    def controller(trainer, seen):
        seen["batch"].wait(30)
        time.sleep(delay)
        asked["events_so_far"] = len(seen["events"])
        trainer.request_stop()

    trainer = make_trainer(dataset, epochs=4)
    events = run_with_controller(trainer, controller)
    assert_history_is_whole(trainer, events)
    if events[-1].stopped:
        assert trainer.stopped and len(trainer.history) < 4
        # The stop lands between batches: at most the batch in flight (and one that raced the
        # count above) completes after it was asked for.
        later = events[asked["events_so_far"]:]
        assert sum(isinstance(e, BatchProgress) for e in later) <= 2


@pytest.mark.parametrize("seed", range(4))
def test_stop_during_the_evaluation_drops_that_epoch(dataset, seed):
    rng = random.Random(seed)

    def controller(trainer, seen):
        seen["evaluation"].wait(30)  # the first epoch's evaluation has begun
        time.sleep(rng.uniform(0.0, 0.01))
        trainer.request_stop()

    trainer = make_trainer(dataset, epochs=3, eval_batch_size=50)
    events = run_with_controller(trainer, controller)
    assert_history_is_whole(trainer, events)
    assert events[-1].stopped
    assert len(trainer.history) <= 1
    # No epoch is reported without its evaluation: an EpochResult always follows an EvaluationStarted.
    for index, event in enumerate(events):
        if isinstance(event, EpochResult):
            assert isinstance(events[index - 1], EvaluationStarted)


@pytest.mark.parametrize("seed", range(3))
def test_pause_and_resume_at_random_moments_lose_nothing(dataset, seed):
    rng = random.Random(seed)
    pauses = []

    def controller(trainer, seen):
        seen["batch"].wait(30)
        while not trainer.stop_requested and len(pauses) < 12:
            time.sleep(rng.uniform(0.0, 0.08))
            trainer.pause()
            pauses.append(time.perf_counter())
            time.sleep(rng.uniform(0.0, 0.05))
            trainer.resume()

    trainer = make_trainer(dataset, epochs=2)
    events = run_with_controller(trainer, controller)
    assert_history_is_whole(trainer, events)
    assert not events[-1].stopped and len(trainer.history) == 2
    steps = [e.step for e in events if isinstance(e, BatchProgress)]
    assert steps == list(range(1, 2 * trainer.batches_per_epoch + 1))  # no batch lost or repeated


def test_a_paused_run_makes_no_progress_and_stops_promptly(dataset):
    observations = {}

    def controller(trainer, seen):
        seen["batch"].wait(30)
        trainer.pause()
        time.sleep(0.2)  # let the batch in flight finish
        before = len(events_ref)
        time.sleep(0.4)
        observations["progress_while_paused"] = len(events_ref) - before
        asked = time.perf_counter()
        trainer.request_stop()  # Stop while paused must not wait for a Resume
        observations["asked"] = asked

    trainer = make_trainer(dataset, epochs=3)
    events_ref: list = []
    original_run = trainer.run

    def recording_run():
        for event in original_run():
            events_ref.append(event)
            yield event
        observations["finished"] = time.perf_counter()

    trainer.run = recording_run
    events = run_with_controller(trainer, controller)
    assert observations["progress_while_paused"] == 0
    assert events[-1].stopped
    assert observations["finished"] - observations["asked"] < 1.0
    assert_history_is_whole(trainer, events)


def test_a_diverging_learning_rate_stops_with_a_message(dataset):
    trainer = make_trainer(dataset, epochs=2, optimizer="sgd", lr=1e4)
    events = []
    with pytest.raises(NonFiniteLossError) as caught:
        for event in trainer.run():
            events.append(event)
    message = str(caught.value)
    assert "diverged" in message and "Lower the learning rate" in message and "10000" in message
    assert "\n" not in message
    assert trainer.history == []


def test_divergence_after_a_completed_epoch_keeps_that_epoch(dataset):
    """Inject the fault: weights turn non-finite after epoch 1 (as a too-high rate does)."""
    trainer = make_trainer(dataset, epochs=3)
    events = []
    with pytest.raises(NonFiniteLossError):
        for event in trainer.run():
            events.append(event)
            if isinstance(event, EpochResult):
                with torch.no_grad():
                    trainer.model.fc3.weight.fill_(float("inf"))
    assert [e.epoch for e in trainer.history] == [1]
    assert trainer.history == [e for e in events if isinstance(e, EpochResult)]


@pytest.mark.parametrize("stop_when", ["mid_epoch_2", "during_evaluation_2", "before_any_epoch"])
def test_checkpoint_saved_after_a_stop_matches_its_history(dataset, tmp_path, stop_when):
    """What the user saves after pressing Stop: the test accuracy its metadata reports must
    be the accuracy of the weights it holds."""
    trainer = make_trainer(dataset, epochs=3)
    events = []
    for event in trainer.run():
        events.append(event)
        if stop_when == "mid_epoch_2" and isinstance(event, BatchProgress) and event.epoch == 2 and event.batch == 4:
            trainer.request_stop()
        elif stop_when == "during_evaluation_2" and isinstance(event, EvaluationStarted) and event.epoch == 2:
            trainer.request_stop()
        elif stop_when == "before_any_epoch" and isinstance(event, BatchProgress) and event.batch == 2:
            trainer.request_stop()
    assert events[-1].stopped
    state, metadata = trainer.checkpoint_state()
    path = save_checkpoint(tmp_path / "stopped.pt", trainer.model, metadata, state_dict=state)
    loaded = load_checkpoint(path)
    history = loaded.metadata["history"]
    assert [h["epoch"] for h in history] == [e.epoch for e in trainer.history]
    if stop_when == "before_any_epoch":
        assert history == [] and loaded.metadata["test_acc"] is None
        return
    assert loaded.metadata["test_acc"] == history[-1]["test_acc"]
    accuracy = evaluate_accuracy(loaded.model, trainer.test_split, batch_size=500)
    assert accuracy == pytest.approx(history[-1]["test_acc"], abs=1e-9)
