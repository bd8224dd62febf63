"""The run history in the window: runs from the CLI and from earlier windows are listed after a
restart with the curves they had; damaged records are named and skipped; runs are renamed,
annotated, deleted and brought back, compared by the settings that differ, trained again."""

from __future__ import annotations

import csv
import re
import shutil

import pytest
import torch

from tests.support import prerequisites

prerequisites.module("pytestqt")
from PySide6.QtCore import QSettings, Qt  # noqa: E402

from lenet_gui.__main__ import main  # noqa: E402
from lenet_gui.core import history  # noqa: E402
from lenet_gui.core.checkpoint import load_checkpoint  # noqa: E402
from lenet_gui.ui.main_window import MainWindow  # noqa: E402

RUN_TIMEOUT_MS = 60_000
LINE = re.compile(r"^epoch (\d+), loss (\d+\.\d{4}), train acc (\d\.\d{3}), test acc (\d\.\d{3}), time")


@pytest.fixture
def settings_file(tmp_path):
    return str(tmp_path / "settings.ini")


def _window(qtbot, settings_file, data_root) -> MainWindow:
    """A new window on the same settings: what a restart of the app gives."""
    win = MainWindow(data_root=str(data_root), settings=QSettings(settings_file, QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    return win


def _cli_train(capsys, data_root, *args) -> list[tuple[str, ...]]:
    """A `lenet-gui train` run; the figures of each epoch line it printed."""
    assert main(["train", "--data-root", str(data_root), "--threads", "1", "--batch-size", "64", *map(str, args)]) == 0
    return [LINE.match(line).groups() for line in capsys.readouterr().out.splitlines() if LINE.match(line)]


def _train_in_window(qtbot, tab, epochs=2, lr="0.01", preset="classic"):
    tab.recipe.preset_combo.setCurrentIndex(tab.recipe.preset_combo.findData(preset))
    tab.recipe.epochs_spin.setValue(epochs)
    tab.recipe.batch_spin.setValue(64)
    tab.recipe.lr_edit.setText(lr)
    assert tab.start_training()
    qtbot.waitUntil(lambda: not tab.running, timeout=RUN_TIMEOUT_MS)
    return tab.runs.records()[-1]


def _curve(tab, run_id, key):
    x, y = tab.chart.runs[run_id].curves[key].getData()
    return [] if x is None else list(zip(x.tolist(), y.tolist()))


def test_a_cli_run_appears_in_the_window_after_a_restart_with_the_same_curves(qtbot, settings_file, fake_data_root,
                                                                           capsys):
    printed = _cli_train(capsys, fake_data_root, "--epochs", 3)
    tab = _window(qtbot, settings_file, fake_data_root).train_tab
    [run] = tab.runs.records()
    assert run.from_history and run.epochs_done == 3
    assert tab.runs_panel.run_texts() == [
        f"Fashion-MNIST · classic · {run.started_at[:10]} {run.started_at[11:16]}: test acc {printed[-1][3]}"]
    # Hidden until ticked; then the chart draws what the command line printed.
    assert tab.chart.acc_plot.listDataItems() == [] and tab.chart.loss_plot.listDataItems() == []
    tab.runs.setData(tab.runs.index(0), Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    assert tab.chart.runs[run.run_id].curves["test_acc"].isVisible()
    assert [(int(x), f"{y:.3f}") for x, y in _curve(tab, run.run_id, "test_acc")] == [
        (int(e), acc) for e, _loss, _train, acc in printed]
    assert [(int(x), f"{y:.4f}") for x, y in _curve(tab, run.run_id, "epoch_loss")] == [
        (int(e), loss) for e, loss, _train, _acc in printed]
    # Every batch of the run is on the loss curve (200 images in batches of 64: 4 a epoch).
    assert len(_curve(tab, run.run_id, "batch")) == 3 * 4
    assert _curve(tab, run.run_id, "batch")[-1][0] == pytest.approx(3.0)


def test_a_cli_runs_diagnostics_show_in_the_window_after_a_restart(qtbot, settings_file, fake_data_root, capsys):
    _cli_train(capsys, fake_data_root, "--epochs", 2)
    window = _window(qtbot, settings_file, fake_data_root)
    window.show()
    qtbot.waitExposed(window)
    tab = window.train_tab
    [run] = tab.runs.records()
    # What the recorder kept: a sample every few steps and each epoch's last, and a histogram an epoch.
    assert run.diagnostics and len(run.histograms) == 2
    assert {sample.epoch for sample in run.diagnostics} == {1, 2}
    assert set(run.diagnostics[0].layers) == {"conv1", "conv2", "fc1", "fc2", "logits"}
    tab.chart_tabs.setCurrentWidget(tab.diagnostics_view)
    tab.runs_panel.select_run(run.run_id)
    view = tab.diagnostics_view
    assert view.run_id == run.run_id
    drawn = view.curves[("grad_norm", "conv1")].yData
    assert drawn is not None and len(drawn) == len(run.diagnostics)
    assert view.curves[("pre_activations", "fc1")].yData is not None


def test_a_window_run_is_listed_by_the_next_window_and_its_model_opens(qtbot, settings_file, fake_data_root):
    first = _window(qtbot, settings_file, fake_data_root)
    trained = _train_in_window(qtbot, first.train_tab, epochs=2)
    assert trained.record_dir is not None
    epochs = list(trained.epochs)
    name_in_its_session = first.train_tab.runs.name(trained)
    first.train_tab.runs_panel.select_run(trained.run_id)
    assert first.train_tab.use_in_classify()  # the model picker names it as the runs list does
    assert first.session.current_model.title.startswith(f"Trained: {name_in_its_session}, test acc ")
    first.close()

    win = _window(qtbot, settings_file, fake_data_root)
    tab = win.train_tab
    [run] = tab.runs.records()
    assert run.from_history and run.epochs == epochs and run.config == trained.config
    # Named alike in both sessions: data set, recipe and the minute it started.
    started = history.list_runs(run.record_dir.parent)[0].started_at
    assert tab.runs.name(run) == name_in_its_session == f"MNIST · classic · {started[:10]} {started[11:16]}"
    tab.runs_panel.select_run(run.run_id)
    assert tab.use_action.isEnabled() and tab.inspect_action.isEnabled()
    assert tab.open_in_inspect()
    assert win.tabs.currentWidget() is win.inspect_tab
    model = win.session.current_model
    saved = load_checkpoint(run.record_dir / history.WEIGHTS_FILE)
    for key, value in saved.model.state_dict().items():
        assert torch.equal(model.model.state_dict()[key], value)
    assert model.title == f"Trained: {name_in_its_session}, test acc {epochs[-1].test_acc:.3f}"
    assert tab.use_in_classify() and win.tabs.currentWidget() is win.classify_tab
    assert any(entry is model for _title, entry in win.session.model_entries())


def test_a_damaged_record_is_reported_and_skipped(qtbot, settings_file, fake_data_root, runs_dir, capsys):
    _cli_train(capsys, fake_data_root, "--epochs", 1)
    truncated = runs_dir / "20000101-000000-0bad"
    shutil.copytree(history.list_runs(runs_dir)[0].folder, truncated)
    text = (truncated / history.RUN_FILE).read_bytes()
    (truncated / history.RUN_FILE).write_bytes(text[: len(text) // 2])
    garbage = runs_dir / "20000101-000001-0bad"
    garbage.mkdir()
    (garbage / history.RUN_FILE).write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    messages = []
    win = _window(qtbot, settings_file, fake_data_root)
    win.train_tab.status_message.connect(messages.append)
    tab = win.train_tab
    assert len(tab.runs) == 1 and len(tab.runs.damaged) == 2
    log = tab.log.toPlainText()
    assert f"Run history: {truncated.name} cannot be read (run.json is damaged or truncated" in log
    assert f"Run history: {garbage.name} cannot be read" in log
    tab.load_history()
    assert messages == ["2 runs in the history cannot be read: see the log"]


def test_rename_note_delete_and_undo_last_past_a_restart(qtbot, settings_file, fake_data_root, capsys):
    _cli_train(capsys, fake_data_root, "--epochs", 1)
    _cli_train(capsys, fake_data_root, "--epochs", 1, "--lr", "0.01")
    tab = _window(qtbot, settings_file, fake_data_root).train_tab
    first, second = tab.runs.records()
    assert tab.rename_run(first.run_id, "baseline")
    assert tab.annotate_run(first.run_id, "sigmoids, lr 0.001")
    assert tab.runs_panel.run_texts()[0].startswith("baseline: test acc ")
    assert "Note: sigmoids, lr 0.001" in tab.runs.index(0).data(Qt.ItemDataRole.ToolTipRole)
    tab.runs_panel.select_run(second.run_id)
    tab.runs_panel.remove_button.click()
    assert len(tab.runs) == 1 and tab.runs_panel.undo_button.isEnabled()

    tab = _window(qtbot, settings_file, fake_data_root).train_tab
    [run] = tab.runs.records()
    assert run.name == "baseline" and run.note == "sigmoids, lr 0.001"
    # A deletion undone in a later session cannot be (the trash empties at start), but within one:
    tab.runs_panel.select_run(run.run_id)
    tab.runs_panel.remove_button.click()
    assert len(tab.runs) == 0 and history.list_runs(tab.session.runs_folder()) == []
    tab.runs_panel.undo_button.click()
    assert [r.name for r in tab.runs.records()] == ["baseline"]
    assert not tab.runs_panel.undo_button.isEnabled()
    assert [r.name for r in history.list_runs(tab.session.runs_folder())] == ["baseline"]


def test_compare_shows_exactly_the_differing_settings_sorts_and_exports(qtbot, settings_file, fake_data_root,
                                                                        capsys, tmp_path):
    _cli_train(capsys, fake_data_root, "--epochs", 1)
    _cli_train(capsys, fake_data_root, "--epochs", 2, "--lr", "0.01")
    _cli_train(capsys, fake_data_root, "--epochs", 1, "--lr", "0.003")
    tab = _window(qtbot, settings_file, fake_data_root).train_tab
    runs = tab.runs.records()
    tab.runs_panel.select_runs([r.run_id for r in runs])
    dialog = tab.compare_dialog()
    qtbot.addWidget(dialog)
    headers = [dialog.table.horizontalHeaderItem(c).text() for c in range(dialog.table.columnCount())]
    assert headers == ["Run", "Epochs done", "Final loss", "Final train acc", "Final test acc", "Time (s)",
                       "Epochs", "Learning rate"]
    assert "2 settings differ between these runs: Epochs, Learning rate;" in dialog.summary.text()
    # the final figures as the epoch's line writes them; the whole dialog wide enough to show every column
    for key, digits in (("Final loss", 4), ("Final train acc", 3), ("Final test acc", 3), ("Time (s)", 1)):
        column = headers.index(key)
        for row in range(3):
            value = dialog.table.item(row, column).data(Qt.ItemDataRole.DisplayRole)
            assert value == round(value, digits), (key, value)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.table.horizontalScrollBar().maximum() == 0, "columns cut off"
    lr = headers.index("Learning rate")
    dialog.table.sortItems(lr, Qt.SortOrder.AscendingOrder)
    assert [dialog.table.item(r, lr).data(Qt.ItemDataRole.DisplayRole) for r in range(3)] == [0.001, 0.003, 0.01]
    path = tmp_path / "compared.csv"
    assert dialog.export_csv(str(path))
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["id", *history.METRICS, "epochs", "lr"]
    assert [row[-2:] for row in rows[1:]] == [["1", "0.001"], ["2", "0.01"], ["1", "0.003"]]
    # With fewer than two selected, the ticked runs are compared.
    tab.runs_panel.select_run(runs[0].run_id)
    assert tab.compare_runs() == []
    for row in (0, 2):
        tab.runs.setData(tab.runs.index(row), Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    assert tab.compare_runs() == [runs[0], runs[2]]


def test_train_again_puts_the_runs_settings_into_the_form(qtbot, settings_file, fake_data_root, capsys):
    _cli_train(capsys, fake_data_root, "--dataset", "mnist", "--preset", "modern", "--epochs", 2, "--lr", "0.02",
               "--seed", 7, "--optimizer", "sgd")
    tab = _window(qtbot, settings_file, fake_data_root).train_tab
    [run] = tab.runs.records()
    tab.recipe.epochs_spin.setValue(9)
    tab.runs_panel.select_run(run.run_id)
    tab.runs_panel.again_button.click()
    config = tab.current_config()
    assert (config.dataset, config.preset, config.epochs, config.batch_size, config.lr, config.optimizer,
            config.seed) == ("mnist", "modern", 2, 64, 0.02, "sgd", 7)


def test_the_runs_folder_setting_moves_the_history(qtbot, settings_file, fake_data_root, capsys, tmp_path,
                                                   monkeypatch):
    monkeypatch.delenv(history.RUNS_DIR_ENV)
    elsewhere = tmp_path / "elsewhere"
    _cli_train(capsys, fake_data_root, "--epochs", 1, "--runs-dir", elsewhere)
    tab = _window(qtbot, settings_file, fake_data_root).train_tab
    assert len(tab.runs) == 0
    tab.set_runs_folder(str(elsewhere))
    assert len(tab.runs) == 1 and str(elsewhere) in tab.runs_panel.folder_label.text()
    # Remembered: the next start uses it.
    tab = _window(qtbot, settings_file, fake_data_root).train_tab
    assert tab.session.runs_folder() == elsewhere and len(tab.runs) == 1


def test_a_run_that_cannot_be_recorded_trains_on_and_says_why(qtbot, settings_file, fake_data_root, tmp_path,
                                                              monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the run history should be")
    monkeypatch.setenv(history.RUNS_DIR_ENV, str(blocker))
    messages = []
    tab = _window(qtbot, settings_file, fake_data_root).train_tab
    tab.status_message.connect(messages.append)
    run = _train_in_window(qtbot, tab, epochs=2)
    assert run.epochs_done == 2 and run.has_results and run.record_dir is None
    assert f"Cannot record the run in {blocker}" in tab.log.toPlainText()
    assert "The run cannot be recorded in the run history (see the log)" in messages
