"""Training faults at the core level: Stop, Pause and Resume from another thread at chosen
moments (inside a training batch, inside an evaluation batch), a diverging learning rate, and
checkpoints saved after a stop.

Small and fast: 2000 real MNIST training images, 1000 test images, one thread. The moments are
chosen at random per seed but reached deterministically: the trainer's thread is held inside the
chosen batch (see ``tests/controls.py``) until the other thread has acted, so what must follow
is exact, on a fast machine or a slow one.
"""

from __future__ import annotations

import random
import threading

import pytest
import torch

from lenet_gui.core.checkpoint import load_checkpoint, save_checkpoint
from lenet_gui.core.data import load_dataset
from lenet_gui.core.engine import BatchProgress, EpochResult, EvaluationStarted, Finished, NonFiniteLossError, Trainer
from lenet_gui.core.evaluation import evaluate_accuracy
from lenet_gui.core.presets import preset_config
from tests.support.controls import Driver, Rendezvous

BATCHES_PER_EPOCH = 8  # 2000 images in batches of 256
EVALUATION_BATCHES = 10  # 1000 test images in batches of 100


@pytest.fixture(scope="module")
def dataset(data_root):
    # The real digits: these tests also check that every epoch they keep has learnt something.
    return load_dataset("mnist", data_root, download=False)


def make_trainer(dataset, epochs=3, **overrides) -> Trainer:
    overrides.setdefault("eval_batch_size", 100)  # ten evaluation steps: room to stop inside one
    overrides.setdefault("lr", 0.01)
    overrides.setdefault("activation", "relu")
    config = preset_config("classic", "mnist", epochs=epochs, threads=1, **overrides)
    return Trainer(config, dataset, train_limit=2000, test_limit=1000)


def assert_history_is_whole(trainer: Trainer, events: list) -> None:
    """Only completed epochs, each once, in order, and exactly those the run reported; and each
    one learnt: chance is 0.1, and a model that does not learn stays near it."""
    reported = [e for e in events if isinstance(e, EpochResult)]
    assert trainer.history == reported
    assert [e.epoch for e in trainer.history] == list(range(1, len(trainer.history) + 1))
    for result in trainer.history:
        assert 0.0 <= result.train_acc <= 1.0 and 0.0 <= result.test_acc <= 1.0
        assert result.test_acc >= (0.3 if result.epoch == 1 else 0.6), result.line()
    assert isinstance(events[-1], Finished)
    assert events[-1].history == tuple(trainer.history)


def run_with_controller(trainer: Trainer, controller, *, steps=(), evaluation_batches=()) -> tuple[list, Rendezvous]:
    """Run the trainer in a worker thread (as the GUI does) while ``controller(trainer, hold)``
    acts from this one; the trainer waits inside each of ``steps`` / ``evaluation_batches`` until
    the controller calls ``hold.release()``. The trainer is stopped and its thread joined
    whatever happens; a deadlock fails the test instead of hanging it."""
    hold = Rendezvous(trainer.model, steps=steps, evaluation_batches=evaluation_batches)
    driver = Driver(trainer)
    try:
        controller(trainer, hold)
        events = driver.drain()
    finally:
        hold.remove()
        driver.close()
    if driver.error is not None:
        raise driver.error
    return events, hold


def stop_inside(trainer: Trainer, hold: Rendezvous) -> None:
    hold.wait_inside()
    trainer.request_stop()
    hold.release()


# The edges of an epoch (its last batch, the next one's first, the run's first and last), and
# three random steps.
STOP_STEPS = [1, 8, 9, 16, 4 * BATCHES_PER_EPOCH, *random.Random(0).sample(range(2, 4 * BATCHES_PER_EPOCH), 3)]


@pytest.mark.parametrize("step", STOP_STEPS)
def test_stop_at_a_random_moment_keeps_only_completed_epochs(dataset, step):
    trainer = make_trainer(dataset, epochs=4)
    events, hold = run_with_controller(trainer, stop_inside, steps=[step])
    assert_history_is_whole(trainer, events)
    assert events[-1].stopped and trainer.stopped
    # The stop lands between batches: the batch in flight completes, no other starts, and the
    # epoch it belongs to is not reported.
    assert [e.step for e in events if isinstance(e, BatchProgress)] == list(range(1, step + 1))
    assert hold.training_passes == step
    assert len(trainer.history) == (step - 1) // BATCHES_PER_EPOCH


@pytest.mark.parametrize("seed", range(4))
def test_stop_during_the_evaluation_drops_that_epoch(dataset, seed):
    rng = random.Random(seed)
    epoch = rng.randint(1, 3)
    batch = rng.randint(1, EVALUATION_BATCHES - 1)  # inside the evaluation, before its last batch
    trainer = make_trainer(dataset, epochs=3)
    events, hold = run_with_controller(
        trainer, stop_inside, evaluation_batches=[(epoch - 1) * EVALUATION_BATCHES + batch]
    )
    assert_history_is_whole(trainer, events)
    assert events[-1].stopped
    assert len(trainer.history) == epoch - 1
    assert [type(e) for e in events[-2:]] == [EvaluationStarted, Finished]
    assert events[-2].epoch == epoch
    assert hold.evaluation_passes == (epoch - 1) * EVALUATION_BATCHES + batch, "evaluation went on after the stop"
    # No epoch is reported without its evaluation: an EpochResult always follows an EvaluationStarted.
    for index, event in enumerate(events):
        if isinstance(event, EpochResult):
            assert isinstance(events[index - 1], EvaluationStarted)


@pytest.mark.parametrize("seed", range(3))
def test_pause_and_resume_at_random_moments_lose_nothing(dataset, seed):
    rng = random.Random(seed)
    total = 2 * BATCHES_PER_EPOCH
    steps = sorted(rng.sample(range(1, total + 1), 5))
    evaluations = [rng.randint(1, 2 * EVALUATION_BATCHES)]
    ran_while_paused = []

    def controller(trainer, hold):
        for _ in range(len(steps) + len(evaluations)):
            kind, number = hold.wait_inside()
            trainer.pause()
            hold.release()
            # The batch in flight completes; none may start before the resume (how long the
            # pause lasts is the random part, not what it must do).
            passes = (hold.training_passes, hold.evaluation_passes)
            threading.Event().wait(rng.uniform(0.0, 0.05))
            if (hold.training_passes, hold.evaluation_passes) != passes:
                ran_while_paused.append((kind, number))
            trainer.resume()

    trainer = make_trainer(dataset, epochs=2)
    events, hold = run_with_controller(trainer, controller, steps=steps, evaluation_batches=evaluations)
    assert ran_while_paused == []
    assert_history_is_whole(trainer, events)
    assert not events[-1].stopped and len(trainer.history) == 2
    batch_steps = [e.step for e in events if isinstance(e, BatchProgress)]
    assert batch_steps == list(range(1, total + 1))  # no batch lost or repeated
    assert (hold.training_passes, hold.evaluation_passes) == (total, 2 * EVALUATION_BATCHES)


def test_a_paused_run_makes_no_progress_and_stops_without_a_resume(dataset):
    observations = {}

    def controller(trainer, hold):
        hold.wait_inside()
        trainer.pause()
        hold.release()
        # An absence can only be watched for a while; the count it checks is exact.
        threading.Event().wait(0.3)
        observations["passes while paused"] = hold.training_passes
        trainer.request_stop()  # Stop while paused must not wait for a Resume

    trainer = make_trainer(dataset, epochs=3)
    events, _ = run_with_controller(trainer, controller, steps=[5])
    assert observations["passes while paused"] == 5
    assert events[-1].stopped
    assert [e.step for e in events if isinstance(e, BatchProgress)] == [1, 2, 3, 4, 5]
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
