"""What a run leaves behind: its final weights as a model a user can classify with."""

from __future__ import annotations

import torch

from lenet_gui.core.engine import Finished, Trainer
from lenet_gui.core.presets import preset_config
from lenet_gui.core.runs import RunOutcome


def _outcome(trainer: Trainer, finished: Finished) -> RunOutcome:
    # As the window's training thread makes it.
    state_dict, metadata = trainer.checkpoint_state()
    return RunOutcome(history=finished.history, stopped=finished.stopped, state_dict=state_dict,
                      model_config=trainer.model.config.to_dict(), metadata=metadata)


def test_a_finished_run_gives_the_model_it_trained_under_the_title_given(fake_dataset):
    config = preset_config("modern", "fashion-mnist", epochs=1, batch_size=50, threads=1, device="cpu")
    trainer = Trainer(config, fake_dataset)
    finished = [event for event in trainer.run() if isinstance(event, Finished)][0]
    outcome = _outcome(trainer, finished)
    assert outcome.has_model
    loaded = outcome.loaded_model("my run")
    assert loaded.title == "my run" and loaded.metadata["title"] == "my run"
    assert loaded.dataset == "fashion-mnist" and loaded.input_kind == "garment"
    assert loaded.classes == list(fake_dataset.info.classes)
    assert not loaded.model.training  # ready to classify: batch norm uses its running statistics
    images = fake_dataset.test.images[:8].float().div(255).unsqueeze(1)
    trainer.model.eval()
    with torch.no_grad():
        expected = trainer.model.to(memory_format=torch.contiguous_format)(images)
        assert torch.allclose(loaded.model(images), expected, atol=1e-5)


def test_a_run_stopped_before_its_first_epoch_has_no_model(fake_dataset):
    config = preset_config("classic", "fashion-mnist", epochs=2, batch_size=50, threads=1, device="cpu")
    trainer = Trainer(config, fake_dataset)
    trainer.request_stop()
    finished = [event for event in trainer.run() if isinstance(event, Finished)][0]
    outcome = _outcome(trainer, finished)
    assert outcome.history == () and not outcome.has_model
