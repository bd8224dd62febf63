"""The run history (core/history.py): what a recorder writes is what a reader reads back, after
a crash too; damaged records are named, never fatal; runs compare by the settings that differ."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from lenet_gui.core import history
from lenet_gui.core.checkpoint import load_checkpoint
from lenet_gui.core.engine import BatchProgress, EpochResult, Finished, TrainConfig, Trainer


def _train_and_record(runs_dir: Path, dataset, epochs: int = 3, **config_changes):
    """A real (tiny) run fed to a recorder; returns the recorder and every event the engine
    yielded, the reference the record is checked against."""
    config = replace(TrainConfig(epochs=epochs, batch_size=64, threads=1), **config_changes)
    trainer = Trainer(config, dataset)
    recorder = history.RunRecorder(runs_dir, config, source="test", command="pytest", title="a test run")
    recorder.run_started(str(trainer.device), train_samples=len(trainer.train_split))
    events = []
    for event in trainer.run():
        recorder.record(event, trainer)
        events.append(event)
    return recorder, events


def test_a_recorded_run_reads_back_with_every_epoch_batch_and_setting(tmp_path, fake_dataset):
    recorder, events = _train_and_record(tmp_path / "runs", fake_dataset, epochs=3, lr=0.01)
    assert recorder.ok, recorder.problem
    [record] = history.list_runs(tmp_path / "runs")
    assert not record.damaged and record.warnings == []
    assert record.id == recorder.id and record.status == history.FINISHED
    assert record.source == "test" and record.command == "pytest" and record.device == "cpu"
    assert record.settings["lr"] == 0.01 and record.config.epochs == 3
    assert record.versions["torch"] == torch.__version__
    assert record.started_at and record.ended_at
    engine_epochs = [e for e in events if isinstance(e, EpochResult)]
    assert record.epochs == engine_epochs
    assert record.log_lines == [e.line() for e in engine_epochs]
    batches = [e for e in events if isinstance(e, BatchProgress)]
    assert record.batch_loss == [e.loss for e in batches]
    assert record.batch_x == pytest.approx([e.epoch - 1 + e.batch / e.batches for e in batches])
    assert record.final_test_acc == engine_epochs[-1].test_acc


def test_the_record_holds_the_weights_of_its_last_epoch_as_a_checkpoint(tmp_path, fake_dataset):
    recorder, events = _train_and_record(tmp_path / "runs", fake_dataset, epochs=2)
    record = history.read_run(recorder.folder)
    loaded = load_checkpoint(record.weights_path)
    assert loaded.dataset == "fashion-mnist"
    assert loaded.metadata["test_acc"] == record.final_test_acc
    assert loaded.metadata["run_id"] == record.id
    # The weights are those the last epoch was measured with: they classify the test set as it said.
    x = fake_dataset.test.images.float().div(255).unsqueeze(1)
    accuracy = (loaded.model(x).argmax(1) == fake_dataset.test.labels).float().mean().item()
    assert accuracy == pytest.approx(record.final_test_acc)


def test_a_stopped_run_and_a_failed_one_say_so(tmp_path, fake_dataset):
    config = TrainConfig(epochs=3, batch_size=64, threads=1)
    recorder = history.RunRecorder(tmp_path, config, source="test")
    recorder.record(Finished((), stopped=True))
    assert history.read_run(recorder.folder).status == history.STOPPED
    recorder = history.RunRecorder(tmp_path, config, source="test")
    recorder.finish(history.FAILED, "The loss became nan")
    record = history.read_run(recorder.folder)
    assert record.status == history.FAILED and record.failure == "The loss became nan"


def test_a_run_whose_process_died_reads_as_interrupted(tmp_path, fake_dataset):
    config = TrainConfig(epochs=3)
    recorder = history.RunRecorder(tmp_path, config, source="test")
    assert history.read_run(recorder.folder).status == history.RUNNING  # this process: alive
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    meta = json.loads((recorder.folder / history.RUN_FILE).read_text())
    meta["pid"] = gone.pid
    (recorder.folder / history.RUN_FILE).write_text(json.dumps(meta))
    assert history.read_run(recorder.folder).status == history.INTERRUPTED


def _epoch(n: int, acc: float = 0.5) -> EpochResult:
    return EpochResult(epoch=n, epochs=5, loss=1.0 / n, train_acc=acc, test_acc=acc, seconds=1.0,
                       samples_per_sec=100.0, lr=0.001)


def test_a_torn_last_line_is_skipped_quietly_and_garbage_lines_are_reported(tmp_path):
    recorder = history.RunRecorder(tmp_path, TrainConfig(), source="test")
    for n in (1, 2, 3):
        recorder.epoch(_epoch(n))
    path = recorder.folder / history.EPOCHS_FILE
    lines = path.read_bytes().splitlines(keepends=True)
    # A process killed mid-line leaves part of its last line: every whole line before it stands.
    path.write_bytes(b"".join(lines[:2]) + lines[2][:20])
    record = history.read_run(recorder.folder)
    assert [e.epoch for e in record.epochs] == [1, 2] and record.warnings == []
    # A line altered in the middle (one flipped digit) fails its checksum and is named.
    altered = lines[1].replace(b'"epoch":2', b'"epoch":7')
    assert altered != lines[1]
    path.write_bytes(lines[0] + altered + b"not a line at all\n" + lines[2])
    record = history.read_run(recorder.folder)
    assert [e.epoch for e in record.epochs] == [1, 3]
    assert record.warnings == [f"2 damaged line(s) of {history.EPOCHS_FILE} skipped"]


@pytest.mark.parametrize("content, words", [
    (None, "run.json is missing"),
    (b"", "damaged or truncated"),
    (b'{"format": "lenet-studio-run", "format_version": 1, "sett', "damaged or truncated"),
    (b"\x00\xff\x00garbage", "damaged or truncated"),
    (b'{"some": "other json"}', "not a LeNet Studio run record"),
    (b'["format"]', "not a LeNet Studio run record"),
    (b'{"format": "lenet-studio-run", "format_version": 99, "settings": {}}', "newer LeNet Studio"),
    (b'{"format": "lenet-studio-run", "format_version": 1, "settings": [1, 2]}', "holds no settings"),
])
def test_damaged_records_are_listed_with_the_reason_and_the_others_still_read(tmp_path, content, words):
    good = history.RunRecorder(tmp_path, TrainConfig(), source="test")
    good.epoch(_epoch(1))
    bad = tmp_path / "20000101-000000-dead"
    bad.mkdir()
    if content is not None:
        (bad / history.RUN_FILE).write_bytes(content)
    (bad / history.EPOCHS_FILE).write_bytes(os.urandom(300))
    records = {r.id: r for r in history.list_runs(tmp_path)}
    assert records[bad.name].damaged and words in records[bad.name].problem
    assert records[bad.name].to_dict() == {"id": bad.name, "folder": str(bad), "damaged": True,
                                            "problem": records[bad.name].problem}
    assert not records[good.id].damaged and len(records[good.id].epochs) == 1


def test_a_missing_runs_folder_lists_nothing(tmp_path):
    assert history.list_runs(tmp_path / "nowhere") == []


def test_rename_note_delete_and_restore_change_the_record_on_disk(tmp_path):
    recorder = history.RunRecorder(tmp_path, TrainConfig(), source="test")
    history.rename_run(recorder.folder, "  sigmoid baseline ")
    history.set_note(recorder.folder, "before batch norm\nsecond line")
    record = history.read_run(recorder.folder)
    assert record.name == "sigmoid baseline" and record.note == "before batch norm\nsecond line"
    # The recorder, finishing later, keeps what the user wrote meanwhile.
    recorder.finish(history.FINISHED)
    record = history.read_run(recorder.folder)
    assert record.name == "sigmoid baseline" and record.status == history.FINISHED
    trashed = history.delete_run(recorder.folder)
    assert history.list_runs(tmp_path) == [] and trashed.is_dir()
    back = history.restore_run(trashed)
    assert back == recorder.folder and history.read_run(back).name == "sigmoid baseline"
    history.delete_run(back)
    history.empty_trash(tmp_path)
    assert not (tmp_path / history.TRASH_FOLDER).exists()


def test_changing_a_damaged_record_is_a_clear_error(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / history.RUN_FILE).write_text("{trunc")
    with pytest.raises(history.HistoryError, match="damaged"):
        history.rename_run(folder, "x")


def test_a_recorder_that_cannot_write_lets_the_run_go_on_and_says_why(tmp_path, fake_dataset):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    recorder, events = _train_and_record(blocker, fake_dataset, epochs=2)
    assert isinstance(events[-1], Finished) and not events[-1].stopped  # trained to the end
    assert not recorder.ok and str(blocker) in recorder.problem and "unrecorded" in recorder.problem


def test_diagnostics_of_any_kind_are_stored_and_read_back(tmp_path):
    class DiagnosticsSample:  # the shape of the engine's diagnostics events: a to_dict()
        def to_dict(self):
            return {"step": 7, "layers": {"conv1": {"grad_norm": 1e-4}}}

    recorder = history.RunRecorder(tmp_path, TrainConfig(), source="test")
    recorder.record(DiagnosticsSample())
    recorder.record_diagnostics("DiagnosticsHistogram", {"layer": "fc1", "counts": [1, 2, 3]})
    record = history.read_run(recorder.folder)
    assert record.diagnostics == [
        {"kind": "DiagnosticsSample", "data": {"step": 7, "layers": {"conv1": {"grad_norm": 1e-4}}}},
        {"kind": "DiagnosticsHistogram", "data": {"layer": "fc1", "counts": [1, 2, 3]}},
    ]
    assert record.to_dict()["diagnostics"] == record.diagnostics


def _record_with(tmp_path, **changes) -> history.RunRecord:
    recorder = history.RunRecorder(tmp_path, replace(TrainConfig(), **changes), source="test")
    recorder.epoch(_epoch(1, acc=0.25 + len(changes) / 10))
    return history.read_run(recorder.folder)


def test_the_comparison_shows_exactly_the_settings_that_differ(tmp_path):
    a = _record_with(tmp_path)
    b = _record_with(tmp_path, lr=0.1)
    c = _record_with(tmp_path, lr=0.1, activation="relu", batch_norm=True)
    assert history.differing_settings([a, b]) == ["lr"]
    columns, rows = history.comparison([a, b, c])
    assert columns == ["id", *history.METRICS, "lr", "activation", "batch_norm"]
    assert rows[2][0] == c.id and rows[2][-3:] == [0.1, "relu", True]
    assert rows[0][columns.index("test_acc")] == 0.25 and rows[2][columns.index("test_acc")] == pytest.approx(0.55)
    assert history.comparison([a, a])[0] == ["id", *history.METRICS]


def test_the_runs_folder_follows_the_option_then_the_environment_then_the_setting(tmp_path):
    env = {"XDG_DATA_HOME": str(tmp_path / "data")}
    assert history.resolve_runs_dir(None, None, environ=env) == tmp_path / "data" / "lenet-studio" / "runs"
    assert history.resolve_runs_dir(None, "/chosen", environ=env) == Path("/chosen")
    env[history.RUNS_DIR_ENV] = "/from-env"
    assert history.resolve_runs_dir(None, "/chosen", environ=env) == Path("/from-env")
    assert history.resolve_runs_dir("/option", "/chosen", environ=env) == Path("/option")
    assert history.default_runs_dir({"XDG_DATA_HOME": "relative"}, "linux") == \
        Path.home() / ".local" / "share" / "lenet-studio" / "runs"
    assert history.default_runs_dir({"APPDATA": "C:/Users/a/AppData/Roaming"}, "win32") == \
        Path("C:/Users/a/AppData/Roaming") / "LeNet Studio" / "runs"
    assert history.default_runs_dir({}, "darwin") == \
        Path.home() / "Library" / "Application Support" / "LeNet Studio" / "runs"


def test_the_tests_never_record_into_the_real_user_folder(runs_dir):
    assert os.environ[history.RUNS_DIR_ENV] == str(runs_dir)
    assert history.resolve_runs_dir() == runs_dir
    assert not str(history.default_runs_dir()).startswith(str(Path.home() / ".local"))
