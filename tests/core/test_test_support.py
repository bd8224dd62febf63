"""The test suite's own safety nets: what a missing prerequisite does, and the guard that stops
the training a test leaves running (tests/support/prerequisites.py, tests/support/training_threads.py)."""

from __future__ import annotations

import queue
import threading

import pytest

from lenet_gui.core.engine import BatchProgress, Finished, Trainer
from lenet_gui.core.presets import preset_config
from tests.support import prerequisites, training_threads


# -- missing prerequisites ---------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", "0", "false", "no"])
def test_outside_ci_a_missing_prerequisite_skips_and_says_why(monkeypatch, value):
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.skip.Exception) as caught:
        prerequisites.missing("The widget is not there.", "Put one there")
    assert str(caught.value) == "The widget is not there. Put one there."


@pytest.mark.parametrize("value", ["true", "1", "yes"])
def test_under_ci_a_missing_prerequisite_fails_the_run(monkeypatch, value):
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception) as caught:
        prerequisites.missing("The widget is not there", "Put one there")
    assert "CI is set" in str(caught.value) and "The widget is not there. Put one there." in str(caught.value)


def test_unset_data_root_says_how_to_set_it(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("LENET_DATA_ROOT", raising=False)
    with pytest.raises(pytest.skip.Exception) as caught:
        prerequisites.real_data_root()
    message = str(caught.value)
    assert "LENET_DATA_ROOT is not set" in message
    assert "MNIST/raw/" in message and "LENET_DATA_ROOT=/path/to/datasets" in message


def test_a_data_root_without_the_data_set_names_the_folder_looked_in(monkeypatch, tmp_path, make_fake_dataset):
    monkeypatch.delenv("CI", raising=False)
    make_fake_dataset(tmp_path, "fashion-mnist")  # Fashion-MNIST only
    monkeypatch.setenv("LENET_DATA_ROOT", str(tmp_path))
    assert prerequisites.real_data_root(holding="fashion-mnist") == tmp_path
    with pytest.raises(pytest.skip.Exception) as caught:
        prerequisites.real_dataset("mnist")
    assert str(tmp_path / "MNIST" / "raw") in str(caught.value)
    monkeypatch.setenv("LENET_DATA_ROOT", str(tmp_path / "absent"))
    with pytest.raises(pytest.skip.Exception, match="absent is not a folder"):
        prerequisites.real_data_root()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="absent is not a folder"):
        prerequisites.real_data_root()


def test_a_readable_data_root_gives_the_data_set(monkeypatch, fake_data_root):
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("LENET_DATA_ROOT", str(fake_data_root))
    assert len(prerequisites.real_dataset("mnist").train) == 200


# -- training left running -----------------------------------------------------------------------


def _long_trainer(dataset) -> Trainer:
    # 50 batches an epoch for 40 epochs: it runs until someone stops it
    return Trainer(preset_config("classic", "fashion-mnist", epochs=40, batch_size=4, threads=1), dataset)


def _drive_in_a_thread(trainer: Trainer, hold: threading.Event | None = None):
    """Start a thread that drives the run, as the app's worker does, and forgets it; with
    ``hold``, the thread blocks after the first event until ``hold`` is set (a stuck thread)."""
    events: queue.Queue = queue.Queue()
    first = threading.Event()

    def work():
        for event in trainer.run():
            events.put(event)
            first.set()
            if hold is not None:
                hold.wait()

    thread = threading.Thread(target=work, name="forgotten-trainer", daemon=True)
    thread.start()
    assert first.wait(60), "the run never produced its first event"
    return thread, events


def test_a_run_the_test_forgot_is_stopped_and_joined(fake_dataset):
    with training_threads.tracking() as tracker:
        trainer = _long_trainer(fake_dataset)
        thread, events = _drive_in_a_thread(trainer)
        assert tracker.stop_and_join() == ""
    assert not thread.is_alive()
    assert trainer.stop_requested
    drained = []
    while not events.empty():
        drained.append(events.get())
    assert isinstance(drained[-1], Finished) and drained[-1].stopped
    assert [run.thread for run in tracker.runs] == [thread]


def test_a_thread_that_does_not_stop_is_reported_by_name(fake_dataset):
    hold = threading.Event()
    try:
        with training_threads.tracking() as tracker:
            thread, _ = _drive_in_a_thread(_long_trainer(fake_dataset), hold)
            tracker.join_seconds = 0.2
            report = tracker.stop_and_join()
        assert "forgotten-trainer" in report and "still running" in report
    finally:
        hold.set()
        thread.join(60)
    assert not thread.is_alive()


def test_a_run_the_test_drives_itself_is_not_waited_for(fake_dataset):
    with training_threads.tracking() as tracker:
        trainer = _long_trainer(fake_dataset)
        run = trainer.run()
        assert isinstance(next(run), BatchProgress)
        tracker.join_seconds = 0.0
        assert tracker.stop_and_join() == ""
        assert isinstance(next(run), Finished)  # the stop it asked for holds


def test_the_patches_are_undone_when_the_block_ends():
    before = Trainer.run
    with pytest.raises(KeyError):
        with training_threads.tracking():
            assert Trainer.run is not before
            raise KeyError("a failing test")
    assert Trainer.run is before
