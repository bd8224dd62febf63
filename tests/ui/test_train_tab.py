"""The Train tab, driven through the real window on small subsets of the real data sets."""

from __future__ import annotations

import csv
import os
import re
import threading
import time
from pathlib import Path

import pytest
import torch

from tests.support import prerequisites  # noqa: E402

prerequisites.module("pytestqt")
from PySide6.QtCore import QPoint, QSettings, Qt  # noqa: E402
from PySide6.QtGui import QImage, QKeySequence  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from lenet_gui.core.checkpoint import LoadedModel, load_checkpoint  # noqa: E402
from lenet_gui.core.engine import BatchProgress, EpochResult, NonFiniteLossError, Trainer  # noqa: E402
from lenet_gui.core.presets import preset_config  # noqa: E402
from lenet_gui.ui.train import worker as training_worker  # noqa: E402
from lenet_gui.ui import workers  # noqa: E402
from lenet_gui.ui.widgets import data_dialog  # noqa: E402
from lenet_gui.ui.main_window import MainWindow  # noqa: E402
from lenet_gui.ui.train.worker import TrainingRequest, TrainingThread  # noqa: E402
from lenet_gui.core import history, runs  # noqa: E402
from lenet_gui.core.runs import describe_failure  # noqa: E402

RUN_TIMEOUT_MS = 60_000
HOLD_S = 60  # how long a probed training thread waits for the test at most (a hang guard)

# Every training thread a test here starts is stopped and joined when it ends, pass or fail.


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def _small_run_window(qtbot, settings) -> MainWindow:
    """A shown window whose Train tab trains 2 epochs on 2000 images (500 test images)."""
    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    win.show()
    tab = win.train_tab
    tab.train_limit, tab.test_limit = 2000, 500
    _recipe(tab, epochs=2, batch=256)
    return win


@pytest.fixture
def window(qtbot, settings, data_root):
    return _small_run_window(qtbot, settings)


class TrainerProbe:
    """What the engine does, seen from inside the training thread."""

    def __init__(self):
        self.trainers: list[Trainer] = []
        self.events: list[list] = []  # per run: every event the engine yielded, in order
        # Per run: torch's intra-op thread count in the training thread once the worker had
        # handled each batch, i.e. the count the next batch trains with.
        self.threads: list[list[int]] = []
        self.thread_ids: set[int] = set()
        # Called in the training thread, after the worker handled each batch: (trainer, event).
        self.after_batch = None
        # Set once the engine has been told to pause and has handed over its last batch: it
        # waits before the next one.
        self.pause_reached = threading.Event()

    def batches(self, run: int = 0) -> list[BatchProgress]:
        return [e for e in self.events[run] if isinstance(e, BatchProgress)] if len(self.events) > run else []


@pytest.fixture
def probe(monkeypatch):
    probe = TrainerProbe()

    class ProbedTrainer(Trainer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            probe.trainers.append(self)
            # A pause that lands just after the engine reported its batches yields no further
            # batch: the run is paused once it waits here.
            wait = self.control.wait_while_paused

            def wait_while_paused(*a, **k):
                if self.control.paused:
                    probe.pause_reached.set()
                return wait(*a, **k)

            self.control.wait_while_paused = wait_while_paused

        def run(self):
            events, threads = [], []
            probe.events.append(events)
            probe.threads.append(threads)
            for event in super().run():
                events.append(event)
                yield event
                # The worker has handled the event and asks for the next one.
                if isinstance(event, BatchProgress):
                    threads.append(torch.get_num_threads())
                    probe.thread_ids.add(threading.get_ident())
                    if probe.after_batch is not None:
                        probe.after_batch(self, event)
                    if self.paused:
                        probe.pause_reached.set()

    monkeypatch.setattr(training_worker, "Trainer", ProbedTrainer)
    return probe


def _hold(gate: threading.Event, trainer: Trainer) -> None:
    """In the training thread: wait for the test to open ``gate`` (or to stop the run)."""
    deadline = time.monotonic() + HOLD_S
    while not gate.wait(0.02):
        if trainer.stop_requested or time.monotonic() > deadline:
            return


def _recipe(tab, epochs=2, batch=256, lr="0.001", dataset="mnist", preset="classic", optimizer=None):
    tab.recipe.dataset_combo.setCurrentIndex(tab.recipe.dataset_combo.findData(dataset))
    tab.recipe.preset_combo.setCurrentIndex(tab.recipe.preset_combo.findData(preset))
    tab.recipe.epochs_spin.setValue(epochs)
    tab.recipe.batch_spin.setValue(batch)
    tab.recipe.lr_edit.setText(lr)
    if optimizer:
        tab.recipe.optimizer_combo.setCurrentIndex(tab.recipe.optimizer_combo.findData(optimizer))


def _wait_done(qtbot, tab):
    qtbot.waitUntil(lambda: not tab.running, timeout=RUN_TIMEOUT_MS)


def _batch_count(tab, run_id):
    series = tab.chart.runs.get(run_id)
    return len(series.batch_loss) if series else 0


def test_a_run_shows_every_batch_and_epoch_the_engine_produced(qtbot, window, probe):
    tab = window.train_tab
    session = window.session
    states, weights, batch_signals, statuses = [], [], [], []
    session.training_state_changed.connect(states.append)
    session.live_weights.connect(weights.append)
    tab.status_message.connect(statuses.append)

    assert tab.start_training()
    tab.thread.batches.connect(batch_signals.append)
    assert not tab.recipe.epochs_spin.isEnabled() and not tab.train_action.isEnabled()
    _wait_done(qtbot, tab)

    assert tab.error_text == ""
    events = probe.events[0]
    batches = [e for e in events if isinstance(e, BatchProgress)]
    epochs = [e for e in events if isinstance(e, EpochResult)]
    assert len(batches) == 2 * 8 and len(epochs) == 2  # 2000 images, batch 256: 8 batches per epoch
    series = tab.chart.runs[1]
    # The chart holds exactly the engine's points: every batch loss, at its fractional epoch...
    assert series.batch_loss == [e.loss for e in batches]
    assert series.batch_x == pytest.approx([e.epoch - 1 + e.batch / e.batches for e in batches])
    x, y = series.curves["batch"].getData()
    assert list(x) == pytest.approx(series.batch_x) and list(y) == pytest.approx(series.batch_loss_ema)
    # ...and every epoch's loss and accuracies.
    assert series.epochs == epochs
    x, y = series.curves["test_acc"].getData()
    assert list(x) == [1, 2] and list(y) == pytest.approx([e.test_acc for e in epochs])
    x, y = series.curves["epoch_loss"].getData()
    assert list(y) == pytest.approx([e.loss for e in epochs])
    # Nothing drawn falls outside the axes.
    (x_low, x_high), (y_low, y_high) = tab.chart.loss_plot.viewRange()
    assert x_low <= 0 and x_high >= 2
    assert y_low <= 0 and y_high >= max(series.batch_loss_ema + [e.loss for e in epochs])
    # Per-batch updates came in chunks that cover every batch once.
    assert batch_signals and sum(len(chunk) for chunk in batch_signals) == len(batches)
    # The log has the tutorial's line for each epoch.
    log = tab.log.toPlainText()
    for result in epochs:
        assert result.line() in log
    assert "epoch 2, loss" in log
    # The session knew a run was going on and saw the filters change.
    assert states == [True, False]
    assert weights and weights[-1]["conv1.weight"].shape == (6, 1, 5, 5)
    assert weights[-1]["conv2.weight"].device.type == "cpu"
    # After the run: controls are back, the results can be used.
    assert tab.recipe.epochs_spin.isEnabled() and tab.train_action.isEnabled()
    assert tab.save_action.isEnabled() and tab.use_action.isEnabled()
    assert "test acc" in tab.runs_panel.run_texts()[0]
    # The log and the status bar call the run by the name the runs list gives it.
    name = tab.runs_panel.run_texts()[0].split(": test acc")[0]
    assert re.fullmatch(r"MNIST · classic · \d{4}-\d\d-\d\d \d\d:\d\d", name), name
    assert f"— {name}: 2 epochs, batch 256, adam lr 0.001 —" in log
    assert f"Training {name} on cpu…" in statuses
    assert window.run_state_label.text() == "Idle"
    assert window.statusBar().currentMessage().startswith("Training finished")


def test_pause_resume_stop_then_train_again(qtbot, window, probe, runs_dir):
    tab = window.train_tab
    tab.train_limit = 20000
    _recipe(tab, epochs=3, batch=32)
    assert tab.start_training()
    qtbot.waitUntil(lambda: _batch_count(tab, 1) > 0, timeout=RUN_TIMEOUT_MS)

    tab.pause_action.trigger()
    assert tab.pause_action.text().replace("&", "") == "Resume"
    assert window.run_state_label.text().startswith("Paused: epoch")
    qtbot.waitUntil(probe.pause_reached.is_set, timeout=RUN_TIMEOUT_MS)  # the batch in flight is done
    engine_at, paused_at = len(probe.batches()), _batch_count(tab, 1)
    assert paused_at <= engine_at
    # Not a wait for something to happen: a time in which a pause that did not hold would
    # train on. A paused run adds nothing, however long this is.
    qtbot.wait(500)
    assert len(probe.batches()) == engine_at, "training went on while paused"
    assert _batch_count(tab, 1) == paused_at
    assert tab.running and tab.progress.format().startswith("Paused")

    tab.pause_action.trigger()
    assert tab.pause_action.text().replace("&", "") == "Pause"
    qtbot.waitUntil(lambda: _batch_count(tab, 1) > paused_at + 2, timeout=RUN_TIMEOUT_MS)

    tab.stop_action.trigger()
    _wait_done(qtbot, tab)
    first = tab.runs[1]
    assert first.outcome is not None and first.outcome.stopped
    assert _batch_count(tab, 1) < 3 * 625
    assert window.statusBar().currentMessage() == "Training stopped"
    stopped_line = f"stopped after {len(first.outcome.history)} of 3 epochs"
    assert stopped_line in tab.log.toPlainText()
    (record,) = history.list_runs(runs_dir)
    assert stopped_line in record.log_lines  # the run's own record says so too

    tab.train_limit = 2000
    _recipe(tab, epochs=1, batch=256)
    assert tab.start_training()
    _wait_done(qtbot, tab)
    second = tab.runs[2]
    assert second.outcome is not None and not second.outcome.stopped and len(second.outcome.history) == 1
    assert tab.runs.rowCount() == 2
    assert tab.chart.current == 2  # the earlier run stays, dimmed
    assert tab.chart.runs[1].curves["batch"].isVisible()


def _start_a_long_run(qtbot, tab):
    """Start a run far longer than the test and return its thread once batches are flowing."""
    tab.train_limit = 60000
    _recipe(tab, epochs=5, batch=64)
    assert tab.start_training()
    thread = tab.thread
    qtbot.waitUntil(lambda: _batch_count(tab, 1) > 0, timeout=RUN_TIMEOUT_MS)
    return thread


def test_closing_the_window_mid_run_stops_the_thread(qtbot, window):
    tab = window.train_tab
    thread = _start_a_long_run(qtbot, tab)
    window.close()
    assert thread.isFinished() and not thread.isRunning()
    qtbot.waitUntil(lambda: not window.session.training_active, timeout=2000)
    assert tab.thread is None


def test_closing_the_window_while_paused_stops_the_thread(qtbot, window, probe):
    tab = window.train_tab
    thread = _start_a_long_run(qtbot, tab)
    tab.toggle_pause()
    qtbot.waitUntil(probe.pause_reached.is_set, timeout=RUN_TIMEOUT_MS)
    window.close()
    assert thread.isFinished()
    assert probe.events[0][-1].stopped


def test_results_can_be_saved_exported_and_used_in_classify(qtbot, window, tmp_path):
    tab = window.train_tab
    classify = window.classify_tab
    models_before = len(window.session.model_entries())
    assert not tab.save_action.isEnabled()
    assert tab.start_training()
    _wait_done(qtbot, tab)
    run = tab.runs[1]
    # Offered in the Classify tab's picker as soon as the run has ended, before "Use in Classify".
    assert len(window.session.model_entries()) == models_before + 1
    titles = [classify.model_combo.itemText(i) for i in range(classify.model_combo.count())]
    offered = f"Trained: {tab.runs.name(run)}"
    assert any(t.startswith(offered) for t in titles), titles
    assert not classify.model_combo.currentText().startswith(offered)  # offered, not imposed

    assert tab.use_in_classify()
    assert len(window.session.model_entries()) == models_before + 1  # the same entry, not a second
    loaded = window.session.current_model
    assert isinstance(loaded, LoadedModel)
    assert loaded.classes == [str(d) for d in range(10)] and loaded.input_kind == "digit"
    assert loaded.dataset == "mnist" and not loaded.model.training
    assert torch.equal(loaded.model.state_dict()["conv1.weight"], run.outcome.state_dict["conv1.weight"])
    assert loaded.metadata["history"][-1]["test_acc"] == run.outcome.history[-1].test_acc
    assert window.tabs.currentWidget() is classify
    # The Classify tab offers the new model, selected, and classifies with it.
    entries = window.session.model_entries()
    assert classify.model_combo.currentIndex() == len(entries) - 1
    assert classify.model_combo.currentText() == entries[-1][0]

    path = tmp_path / "model.pt"
    assert tab.files.save_checkpoint(str(path))
    reloaded = load_checkpoint(path)
    assert reloaded.dataset == "mnist" and len(reloaded.metadata["history"]) == 2
    x = torch.rand(3, 1, 28, 28)
    assert torch.allclose(reloaded.model(x), loaded.model(x))

    csv_path = tmp_path / "metrics.csv"
    assert tab.files.export_metrics(str(csv_path))
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert float(rows[1]["test_acc"]) == pytest.approx(run.outcome.history[1].test_acc)

    png = tmp_path / "chart.png"
    assert tab.files.export_chart(str(png))
    image = QImage(str(png))
    assert not image.isNull() and image.width() >= 1000

    # A save that cannot happen says so, and loses nothing.
    assert not tab.files.save_checkpoint(str(tmp_path / "model.pt" / "inside-a-file.pt"))
    assert "Cannot save" in tab.error_text
    assert path.is_file()


def test_runs_can_be_hidden_and_removed(qtbot, window):
    tab = window.train_tab
    _recipe(tab, epochs=1)
    for _ in range(2):
        assert tab.start_training()
        _wait_done(qtbot, tab)
    first = tab.runs.index(0)
    tab.runs.setData(first, Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    assert not tab.chart.runs[1].curves["test_acc"].isVisible()
    tab.runs.setData(first, Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    assert tab.chart.runs[1].curves["test_acc"].isVisible()
    tab.runs_panel.select_run(1)
    tab.runs_panel.remove_button.click()
    assert 1 not in tab.chart.runs and 1 not in tab.runs
    assert tab.runs.rowCount() == 1
    assert tab.chart.runs[2].curves["test_acc"] in tab.chart.acc_plot.listDataItems()
    assert len(tab.chart.acc_plot.listDataItems()) == 2  # the removed run's curves are gone


def test_non_finite_loss_shows_a_message_and_the_app_stays_usable(qtbot, window):
    tab = window.train_tab
    _recipe(tab, epochs=1, preset="modern", batch=128, lr="1e6", optimizer="sgd")
    assert tab.start_training()
    _wait_done(qtbot, tab)
    assert "Training diverged" in tab.error_text
    assert "Lower the learning rate" in tab.error_text
    assert "Training diverged" in tab.log.toPlainText()
    assert not tab.save_action.isEnabled()
    assert window.statusBar().currentMessage() == "Training failed"

    _recipe(tab, epochs=1, preset="classic", batch=256, lr="0.001")
    assert tab.start_training()
    assert tab.error_text == ""
    _wait_done(qtbot, tab)
    assert tab.runs[2].outcome is not None and len(tab.runs[2].outcome.history) == 1


def test_unexpected_errors_in_the_worker_reach_the_window(qtbot, window, monkeypatch):
    class BrokenTrainer(Trainer):
        def run(self):
            yield from ()
            raise ValueError("something odd")

    monkeypatch.setattr(training_worker, "Trainer", BrokenTrainer)
    tab = window.train_tab
    assert tab.start_training()
    _wait_done(qtbot, tab)
    assert "unexpected error" in tab.error_text and "ValueError: something odd" in tab.error_text
    assert tab.train_action.isEnabled()


def test_a_run_that_fails_mid_epoch_still_shows_every_batch_it_trained(qtbot, window, probe, monkeypatch):
    """The chart, the progress bar and the run's record show the run up to the batch that
    failed, also for batches the worker was still gathering to send together."""
    # Not one batch signal before an epoch ends: every batch waits in the worker.
    monkeypatch.setattr(training_worker, "BATCH_SIGNALS_PER_SEC", 1e-9)
    fail_at = 6  # of 8 batches in the epoch
    calls = []

    def fault(module, _inputs):
        if module.training:
            calls.append(1)
            if len(calls) == fail_at:
                raise RuntimeError(f"simulated fault in batch {fail_at}")

    class FaultyModelTrainer(training_worker.Trainer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.model.register_forward_pre_hook(fault)

    monkeypatch.setattr(training_worker, "Trainer", FaultyModelTrainer)  # a subclass of the probed one
    tab = window.train_tab
    assert tab.start_training()
    _wait_done(qtbot, tab)
    trained = probe.batches()
    assert [e.batch for e in trained] == list(range(1, fail_at))
    run = tab.runs[1]
    assert run.failure is not None and f"simulated fault in batch {fail_at}" in tab.error_text
    assert tab.chart.runs[1].batch_loss == [e.loss for e in trained]
    assert "failed" in tab.runs.title(run)
    assert window.statusBar().currentMessage() == "Training failed"
    assert tab.train_action.isEnabled() and not tab.save_action.isEnabled()


def test_pause_pressed_while_the_data_set_loads_holds_the_run_until_resume(qtbot, window, probe, monkeypatch):
    loading, loaded = threading.Event(), threading.Event()
    real_load = training_worker.load_dataset

    def slow_load(*args, **kwargs):
        loading.set()
        loaded.wait(HOLD_S)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(training_worker, "load_dataset", slow_load)
    tab = window.train_tab
    assert tab.start_training()
    qtbot.waitUntil(loading.is_set, timeout=RUN_TIMEOUT_MS)
    assert window.run_state_label.text() == "Loading data…"
    tab.pause_action.trigger()
    assert tab.pause_action.text().replace("&", "") == "Resume"
    loaded.set()
    qtbot.waitUntil(lambda: tab.runs[1].started is not None, timeout=RUN_TIMEOUT_MS)
    # The trainer starts paused: it was told before its first batch, and has trained none.
    trainer = probe.trainers[0]
    assert trainer.paused and probe.batches() == []
    assert window.run_state_label.text() == "Paused: epoch 1/2"
    assert tab.pause_action.text().replace("&", "") == "Resume"
    qtbot.wait(300)  # a time in which a lost pause would train: a paused run adds nothing
    assert probe.batches() == [] and _batch_count(tab, 1) == 0

    tab.pause_action.trigger()
    assert tab.pause_action.text().replace("&", "") == "Pause"
    _wait_done(qtbot, tab)
    run = tab.runs[1]
    assert run.failure is None and not run.outcome.stopped and len(run.outcome.history) == 2
    assert _batch_count(tab, 1) == 16


def test_a_bad_learning_rate_is_refused_with_a_message(qtbot, window):
    tab = window.train_tab
    tab.recipe.lr_edit.setText("fast")
    assert not tab.start_training()
    assert "not a number" in tab.error_text and not tab.running
    tab.recipe.lr_edit.setText("0")
    assert not tab.start_training()
    assert "learning rate must be a positive number" in tab.error_text


def test_failures_are_described_for_people():
    oom = describe_failure(torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert oom.kind == runs.OUT_OF_MEMORY and "smaller batch size" in oom.message
    diverged = describe_failure(NonFiniteLossError("The loss became nan"))
    assert diverged.kind == runs.DIVERGED
    other = describe_failure(KeyError("x"))
    assert other.kind == runs.UNEXPECTED and "KeyError" in other.message and other.details


def test_missing_data_set_offers_a_download_then_a_folder(qtbot, window, tmp_path, monkeypatch, data_root):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("LENET_DATA_ROOT", str(empty))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("LENET_MIRRORS", "http://127.0.0.1:9/")
    tab = window.train_tab
    assert not tab.start_training()
    dialog = tab.data_dialog
    assert dialog is not None and dialog.isVisible() and not tab.running
    assert str(empty) in dialog.message.text()

    dialog.download_button.click()
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=20_000)
    assert "could not be reached" in dialog.error.text()
    assert "could not be downloaded" in dialog.details.toPlainText()
    assert "--data-root" in dialog.details.toPlainText()
    assert dialog.download_button.isEnabled()

    assert not dialog.use_folder(tmp_path)
    assert "does not hold" in dialog.error.text()
    assert dialog.use_folder(data_root / "MNIST" / "raw")  # the raw folder itself is fine too
    qtbot.waitUntil(lambda: tab.running or bool(tab.runs), timeout=5000)
    _wait_done(qtbot, tab)
    assert tab.error_text == ""
    assert len(tab.runs[1].outcome.history) == 2
    assert Path(window.settings.data_root) == data_root


@pytest.fixture(scope="module")
def mnist_mirror(data_root, tmp_path_factory):
    """A mirror on 127.0.0.1 serving the real MNIST as the four .gz files a download fetches.
    Yields (its URL, the .gz files' MD5s, the paths it was asked for)."""
    import gzip
    import hashlib
    import http.server

    from lenet_gui.core.data import dataset_info, download_resources

    folder = tmp_path_factory.mktemp("mirror")
    resources = []
    for name, _published_md5 in download_resources(dataset_info("mnist")):
        raw = (data_root / "MNIST" / "raw" / name.removesuffix(".gz")).read_bytes()
        packed = gzip.compress(raw, compresslevel=1)
        (folder / name).write_bytes(packed)
        resources.append((name, hashlib.md5(packed).hexdigest()))
    requested: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def do_GET(self):
            requested.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    serving = threading.Thread(target=server.serve_forever, name="test-mirror", daemon=True)
    serving.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", resources, requested
    finally:
        server.shutdown()
        server.server_close()
        serving.join(timeout=10)


def test_a_download_through_the_data_dialog_then_trains(qtbot, window, tmp_path, monkeypatch, data_root,
                                                       mnist_mirror):
    from lenet_gui.core import data

    url, resources, requested = mnist_mirror
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("LENET_DATA_ROOT", str(empty))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("LENET_MIRRORS", url)
    # Our .gz files are compressed anew, so their checksums are not the published ones.
    monkeypatch.setattr(data, "download_resources", lambda info: list(resources))
    requested.clear()
    tab = window.train_tab
    assert not tab.start_training()
    dialog = tab.data_dialog
    assert dialog is not None and dialog.isVisible()
    finished = []
    dialog.finished.connect(finished.append)
    dialog.download_button.click()
    assert not dialog.download_button.isEnabled() and dialog.progress.isVisible()
    qtbot.waitUntil(lambda: bool(finished) or (tab.data_dialog is not None and tab.data_dialog.error.isVisible()),
                    timeout=RUN_TIMEOUT_MS)
    assert finished, tab.data_dialog.error.text()
    # The data set is where the dialog said it would go, the same bytes as the original...
    raw = empty / "MNIST" / "raw"
    for name, _ in resources:
        stem = name.removesuffix(".gz")
        assert (raw / stem).read_bytes() == (data_root / "MNIST" / "raw" / stem).read_bytes(), stem
    assert sorted(requested) == sorted("/" + name for name, _ in resources)
    assert not list(raw.glob("*.part"))
    # ...and the run the user asked for starts on it, and finishes.
    qtbot.waitUntil(lambda: bool(tab.runs), timeout=5000)
    _wait_done(qtbot, tab)
    run = tab.runs[1]
    assert tab.error_text == "" and run.failure is None and len(run.outcome.history) == 2
    assert str(empty) in run.started.data_source
    assert tab.data_dialog is None


def test_a_download_that_fails_before_the_dialog_listens_is_still_reported(qtbot, window, tmp_path, monkeypatch):
    """Offline, a download fails at once: here its thread ends before the dialog's call that
    started it has returned, as happens when the window thread is descheduled for a moment."""
    real_start = data_dialog.start_worker

    def ends_before_start_returns(worker, *args):
        real_start(worker, *args)
        worker.wait(20_000)
        return worker

    monkeypatch.setenv("LENET_DATA_ROOT", str(tmp_path / "empty"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("LENET_MIRRORS", "http://127.0.0.1:9/")
    monkeypatch.setattr(data_dialog, "start_worker", ends_before_start_returns)
    tab = window.train_tab
    assert not tab.start_training()
    dialog = tab.data_dialog
    dialog.download_button.click()
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=20_000)
    assert "could not be reached" in dialog.error.text()
    assert dialog.download_button.isEnabled() and not dialog.progress.isVisible()


def test_closing_the_data_dialog_mid_download_touches_nothing(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setenv("LENET_DATA_ROOT", str(tmp_path / "empty"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("LENET_MIRRORS", "http://127.0.0.1:9/")
    tab = window.train_tab
    tab.start_training()
    dialog = tab.data_dialog
    dialog.download_button.click()
    dialog.reject()  # closes (and deletes) the dialog while the download thread may still run
    qtbot.waitUntil(lambda: tab.data_dialog is None, timeout=5000)
    # The download, left to end in the background, fails (nothing listens) without a word.
    qtbot.waitUntil(lambda: not any(isinstance(w, data_dialog.DownloadWorker) for w in workers.running_workers()),
                    timeout=30_000)
    assert not tab.running and tab.error_text == ""
    assert tab.data_dialog is None and not tab.runs


def test_preset_fills_the_fields_and_settings_persist(qtbot, settings, data_root):
    first = MainWindow(settings=settings)
    qtbot.addWidget(first)
    tab = first.train_tab
    tab.recipe.dataset_combo.setCurrentIndex(tab.recipe.dataset_combo.findData("fashion-mnist"))
    tab.recipe.preset_combo.setCurrentIndex(tab.recipe.preset_combo.findData("modern"))
    modern = preset_config("modern", "fashion-mnist")
    assert tab.recipe.epochs_spin.value() == modern.epochs == 15
    assert tab.recipe.batch_spin.value() == modern.batch_size
    assert float(tab.recipe.lr_edit.text()) == modern.lr
    assert tab.recipe.optimizer_combo.currentData() == "sgd"
    # The note under the preset says what the recipe does for this data set.
    assert "flips" in tab.recipe.preset_note.text() and "shifts" not in tab.recipe.preset_note.text()
    tab.recipe.dataset_combo.setCurrentIndex(tab.recipe.dataset_combo.findData("mnist"))
    assert "shifts of up to 2 px" in tab.recipe.preset_note.text() and "flips" not in tab.recipe.preset_note.text()
    tab.recipe.dataset_combo.setCurrentIndex(tab.recipe.dataset_combo.findData("fashion-mnist"))
    tab.recipe.epochs_spin.setValue(3)  # fields stay editable after a preset
    tab.recipe.seed_spin.setValue(42)
    assert tab.current_config().epochs == 3 and tab.current_config().batch_norm
    first.close()

    second = MainWindow(settings=settings)
    qtbot.addWidget(second)
    tab = second.train_tab
    assert tab.recipe.dataset_combo.currentData() == "fashion-mnist"
    assert tab.recipe.preset_combo.currentData() == "modern"
    assert tab.recipe.epochs_spin.value() == 3 and tab.recipe.seed_spin.value() == 42
    assert tab.recipe.optimizer_combo.currentData() == "sgd"
    assert tab.recipe.device_combo.currentData() == tab.recipe.device_combo.itemData(0)  # the best device
    tab.recipe.preset_combo.setCurrentIndex(tab.recipe.preset_combo.findData("classic"))
    assert tab.recipe.epochs_spin.value() == 5 and tab.recipe.batch_spin.value() == 256 and tab.recipe.lr_edit.text() == "0.001"
    second.close()


def test_shortcuts_are_set_and_shown_in_tooltips(qtbot, window):
    tab = window.train_tab
    assert tab.train_action.shortcut() == QKeySequence("Ctrl+Return")
    assert tab.stop_action.shortcut() == QKeySequence("Ctrl+.")
    for action in (tab.train_action, tab.pause_action, tab.stop_action):
        text = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        assert text and text in action.toolTip()
    assert tab.save_action in window.file_menu.actions()
    assert tab.export_csv_action in window.file_menu.actions()
    assert tab.export_png_action in window.file_menu.actions()


def test_keyboard_shortcuts_drive_a_run_from_another_tab(qtbot, window):
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)
    tab = window.train_tab
    tab.train_limit = 20000
    _recipe(tab, epochs=3, batch=32)
    ctrl = Qt.KeyboardModifier.ControlModifier

    window.tabs.setCurrentWidget(window.inspect_tab)
    qtbot.keyClick(window.inspect_tab, Qt.Key.Key_Return, ctrl)
    assert tab.running  # the Training menu holds the keys: they work from any tab

    window.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: _batch_count(tab, 1) > 0, timeout=RUN_TIMEOUT_MS)
    qtbot.keyClick(tab.log, Qt.Key.Key_P, ctrl)
    assert tab.pause_action.text().replace("&", "") == "Resume"
    qtbot.keyClick(tab.log, Qt.Key.Key_P, ctrl)
    assert tab.pause_action.text().replace("&", "") == "Pause"
    qtbot.keyClick(tab.log, Qt.Key.Key_Period, ctrl)
    _wait_done(qtbot, tab)
    assert tab.runs[1].outcome.stopped


def test_worker_throttles_batch_signals_but_delivers_every_batch(qtbot, data_root):
    from lenet_gui.core.data import load_dataset

    dataset = load_dataset("mnist", data_root)
    config = preset_config("classic", "mnist", epochs=2, batch_size=16, threads=1)
    thread = TrainingThread(TrainingRequest(config, str(data_root), train_limit=2400, test_limit=200, dataset=dataset))
    chunks, outcomes = [], []
    thread.batches.connect(chunks.append)
    thread.run_finished.connect(outcomes.append)
    started = time.monotonic()
    with qtbot.waitSignal(thread.finished, timeout=RUN_TIMEOUT_MS):
        thread.start()
    elapsed = time.monotonic() - started
    qtbot.waitUntil(lambda: bool(outcomes))
    events = [e for chunk in chunks for e in chunk]
    assert [(e.epoch, e.batch) for e in events] == [(ep, b) for ep in (1, 2) for b in range(1, 151)]
    # At most BATCH_SIGNALS_PER_SEC signals a second, plus one at the end of each epoch.
    assert len(chunks) <= elapsed * training_worker.BATCH_SIGNALS_PER_SEC + 2 + 1
    assert len(chunks) < len(events)
    ends = [chunk[-1] for chunk in chunks]
    assert any(e.epoch == 1 and e.batch == 150 for e in ends)  # the end of an epoch is always sent
    assert outcomes[0].state_dict["conv1.weight"].shape == (6, 1, 5, 5)


@pytest.mark.parametrize("drawing", [False, True])
def test_training_gives_the_window_a_core_while_the_user_draws(qtbot, data_root, probe, drawing):
    from lenet_gui.core.data import load_dataset

    dataset = load_dataset("mnist", data_root)
    config = preset_config("classic", "mnist", epochs=1, batch_size=64, threads=2)
    last_stroke = (lambda: time.monotonic()) if drawing else (lambda: float("-inf"))
    thread = TrainingThread(TrainingRequest(config, str(data_root), train_limit=640, test_limit=100,
                                            dataset=dataset, busy_threads=1, last_interaction=last_stroke))
    outcomes = []
    thread.run_finished.connect(outcomes.append)
    with qtbot.waitSignal(thread.finished, timeout=RUN_TIMEOUT_MS):
        thread.start()
    qtbot.waitUntil(lambda: bool(outcomes))
    expected = 1 if drawing else 2
    assert thread.threads_in_use == expected
    # What torch itself uses in the training thread, batch after batch.
    assert probe.threads[0] == [expected] * 10
    assert threading.get_ident() not in probe.thread_ids


@pytest.mark.parametrize("cores, idle, busy", [(1, 1, 1), (2, 2, 1), (3, 3, 2), (4, 4, 3), (5, 4, 4), (16, 4, 4)])
def test_training_threads_are_every_core_and_one_fewer_while_the_user_draws(qtbot, settings, monkeypatch,
                                                                              cores, idle, busy):
    """Every core (up to 4: LeNet's small tensors gain nothing beyond) while the window is idle;
    while the user draws, a core left free for the window, and never no thread at all."""
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    tab = win.train_tab
    assert (tab.threads, tab.busy_threads) == (idle, busy)
    assert tab.current_config().threads == idle


def _stroke(qtbot, canvas) -> None:
    centre = canvas.rect().center()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseMove(canvas, centre + QPoint(5, 20))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=centre + QPoint(5, 20))


def test_drawing_during_a_run_moves_the_training_thread_to_one_core_fewer(qtbot, settings, data_root, probe,
                                                                          monkeypatch):
    """Strokes on the Classify canvas while a run trains: the training thread's torch runs on
    one thread fewer until the strokes end, then on every core again."""
    monkeypatch.setattr(os, "cpu_count", lambda: 2)  # the policy gives 2 and 1 threads, on any machine
    window = _small_run_window(qtbot, settings)
    tab = window.train_tab
    idle, busy = tab.threads, tab.busy_threads
    assert (idle, busy) == (2, 1)
    # A stroke counts as recent until the test says otherwise, however slowly the batches run.
    monkeypatch.setattr(training_worker, "INTERACTION_HOLD_SECONDS", 1e9)
    at, go = {3: threading.Event(), 6: threading.Event()}, {3: threading.Event(), 6: threading.Event()}

    def after_batch(trainer, event):
        if event.epoch == 1 and event.batch in at:
            at[event.batch].set()
            _hold(go[event.batch], trainer)

    probe.after_batch = after_batch
    assert tab.start_training()
    qtbot.waitUntil(at[3].is_set, timeout=RUN_TIMEOUT_MS)
    window.tabs.setCurrentWidget(window.classify_tab)
    _stroke(qtbot, window.classify_tab.canvas)
    go[3].set()
    qtbot.waitUntil(at[6].is_set, timeout=RUN_TIMEOUT_MS)
    monkeypatch.setattr(training_worker, "INTERACTION_HOLD_SECONDS", 0.0)  # the strokes are over
    go[6].set()
    _wait_done(qtbot, tab)
    assert tab.error_text == "" and len(tab.runs[1].outcome.history) == 2
    # 8 batches an epoch: 3 before the stroke, 3 while it counts, then the rest without.
    assert probe.threads[0] == [idle] * 3 + [busy] * 3 + [idle] * 10


def test_drawing_on_the_canvas_is_noted_for_the_training_thread(qtbot, window):
    before = time.monotonic()
    canvas = window.classify_tab.canvas
    window.tabs.setCurrentWidget(window.classify_tab)
    _stroke(qtbot, canvas)
    assert before <= window.session.last_interaction <= time.monotonic()


def test_an_open_window_imports_the_optimizers_machinery_before_the_first_run(qtbot, settings, monkeypatch):
    """torch's optimizers import torch._dynamo when built; the window does it in the background
    once it shows, so that the first Train click does not freeze it while that happens."""
    monkeypatch.setattr(training_worker, "_warm_up_thread", None)  # as in a fresh process
    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    assert training_worker._warm_up_thread is None  # not before the window shows
    win.show()
    qtbot.waitUntil(lambda: training_worker._warm_up_thread is not None, timeout=5000)
    warm_up = training_worker.warm_up_training_imports()
    assert warm_up is training_worker._warm_up_thread  # once per process
    warm_up.join(timeout=60)
    assert not warm_up.is_alive()


def test_the_window_thread_leaves_the_cores_to_training(qtbot, settings):
    """libgomp lets its threads sleep between operations once its pools hold more threads than
    there are cores: the window thread computes on one torch thread, the training thread on its
    own pool of them."""
    torch.set_num_threads(2)
    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    assert torch.get_num_threads() == 1


def test_the_robust_preset_is_offered_and_fills_in_its_recipe(qtbot):
    from lenet_gui.ui.train.recipe_form import RecipeForm

    form = RecipeForm()
    qtbot.addWidget(form)
    index = form.preset_combo.findData("robust")
    assert index >= 0 and form.preset_combo.itemText(index) == "robust (real inputs, calibrated)"
    form.dataset_combo.setCurrentIndex(form.dataset_combo.findData("mnist"))
    form.preset_combo.setCurrentIndex(index)
    assert form.epochs_spin.value() == 22 and form.batch_spin.value() == 128
    assert float(form.lr_edit.text()) == 0.1 and form.optimizer_combo.currentData() == "sgd"
    note = form.preset_note.text()
    assert "inputs like users' own" in note and "the last 5,000 training images held out" in note, note
    assert "outlier exposure 0.5" in note
    config = form.current_config(threads=1)
    assert (config.preset, config.augment, config.holdout, config.outlier_exposure) == ("robust", "real-inputs", 5000, 0.5)


def test_a_recipe_that_differs_per_data_set_follows_the_data_set_but_keeps_the_users_edits(qtbot):
    # The robust recipe trains garments for 40 epochs and digits for 22 (the bundled models'
    # commands); the form shows the recipe of the data set on screen.
    from lenet_gui.ui.train.recipe_form import RecipeForm

    form = RecipeForm()
    qtbot.addWidget(form)
    form.dataset_combo.setCurrentIndex(form.dataset_combo.findData("mnist"))
    form.preset_combo.setCurrentIndex(form.preset_combo.findData("robust"))
    assert form.epochs_spin.value() == 22
    form.dataset_combo.setCurrentIndex(form.dataset_combo.findData("fashion-mnist"))
    assert form.epochs_spin.value() == 40
    assert form.current_config(threads=1).epochs == 40
    form.dataset_combo.setCurrentIndex(form.dataset_combo.findData("mnist"))
    assert form.epochs_spin.value() == 22
    form.epochs_spin.setValue(7)
    form.lr_edit.setText("0.05")
    form.dataset_combo.setCurrentIndex(form.dataset_combo.findData("fashion-mnist"))
    assert form.epochs_spin.value() == 7 and form.lr_edit.text() == "0.05"  # the user's, kept
    assert form.batch_spin.value() == 128 and form.optimizer_combo.currentData() == "sgd"
