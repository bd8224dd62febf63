"""The Train tab: pick a data set and a recipe, click Train, watch LeNet learn.

The tab composes panels and owns no training code: the recipe form says what to train, a
:class:`TrainingThread` runs the core's ``Trainer`` and reports, the :class:`RunsModel` keeps
every run, and the runs list and the chart both show that model.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QFontDatabase, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog, QFrame, QGroupBox, QHBoxLayout, QInputDialog, QLabel, QPlainTextEdit, QProgressBar, QScrollArea,
    QSplitter, QStyle, QTabWidget, QVBoxLayout, QWidget,
)

from ...core import history
from ...core import runs as run_failures
from ...core.checkpoint import CheckpointError, LoadedModel, load_checkpoint
from ...core.data import LoadedDataset, dataset_info
from ...core.engine import BatchProgress, EpochResult, RunControl, TrainingError, training_threads
from ...core.runs import RunFailure, RunOutcome, RunStarted
from ..settings import Settings
from ..widgets.banner import ErrorBanner
from ..widgets.data_dialog import DatasetDialog
from ..widgets.text import Retranslating, button_text, fill
from ..workers import start_worker
from .buttons import action_button
from .chart import TrainingChart
from .compare_dialog import CompareDialog
from .diagnostics_view import DiagnosticsView
from .recipe_form import RecipeForm
from .runs_model import RunRecord, RunsModel
from .run_files import RunFiles
from .runs_panel import RunsPanel
from .worker import TrainingRequest, TrainingThread

SHUTDOWN_WAIT_MS = 3000


def format_duration(seconds: float) -> str:
    if not math.isfinite(seconds) or seconds < 0:
        return "–"
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return f"{seconds // 60}:{seconds % 60:02d}"


class TrainTab(Retranslating, QWidget):
    status_message = Signal(str)  # for the window's status bar
    run_state = Signal(str)  # a short, lasting summary: "Training: epoch 2/5", "Paused", "Idle"
    results_changed = Signal(bool)  # whether the selected run can be saved / exported / used

    def __init__(self, session, settings: Settings | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("trainTab")
        self.session = session
        self.settings = Settings.wrap(settings)
        # Tests (and benchmarks) train on subsets; deliberately not a field a user sees.
        self.train_limit: int | None = None
        self.test_limit: int | None = None
        # Every core while the window is idle, one fewer while the user draws (see the worker).
        self.threads = training_threads()
        self.busy_threads = training_threads(user_active=True)
        self.runs = RunsModel(self)
        self.active_run: RunRecord | None = None
        self.thread: TrainingThread | None = None
        self.control: RunControl | None = None  # the running run's stop and pause
        self.data_dialog: DatasetDialog | None = None
        self._state_epoch = 1
        self._last_run_state: str | None = None
        # What the progress bar and the speed line say, as state (kind, values): their texts are
        # made from it, so that a language switch mid-run rewrites them at once.
        self._progress_state: tuple[str, tuple] = ("idle", ())
        self._speed_values: tuple | None = None
        self._dataset_cache: dict[tuple[str, str], LoadedDataset] = {}
        self._offered: dict[int, LoadedModel] = {}  # run id -> its model, as the session offers it
        self._build_actions()
        self._build_ui()
        self.recipe.restore(self.settings)
        self.retranslate()
        self._set_running(False)
        self.compare: CompareDialog | None = None
        # What earlier sessions deleted goes for good; this session's deletions can be undone.
        history.empty_trash(self.session.runs_folder())
        self.load_history()
        self._update_result_actions()

    # -- construction -------------------------------------------------------------------------

    def _action(self, shortcut: QKeySequence | str | None, slot) -> QAction:
        action = QAction(self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        return action

    def _label_action(self, action: QAction, text: str, tip: str) -> None:
        action.setText(text)
        action.setIconText(button_text(text))  # what the buttons that show the action say
        if not action.shortcut().isEmpty():
            tip = fill(self.tr("%1 (%2)"), tip, action.shortcut().toString(QKeySequence.SequenceFormat.NativeText))
        action.setToolTip(tip)
        action.setStatusTip(tip)

    def _build_actions(self) -> None:
        self.train_action = self._action("Ctrl+Return", self.start_training)
        # Ctrl+P rather than Space: Space belongs to whichever button or field has the focus.
        self.pause_action = self._action("Ctrl+P", self.toggle_pause)
        self.stop_action = self._action("Ctrl+.", self.stop_training)
        for action in (self.train_action, self.pause_action, self.stop_action):
            # Window-wide: the window's Training menu holds them too, so the keys work from any tab.
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.addAction(action)
        self.files = RunFiles(self)
        self.save_action = self._action(QKeySequence.StandardKey.Save, self.files.save_checkpoint_dialog)
        self.export_csv_action = self._action(None, self.files.export_metrics_dialog)
        self.export_png_action = self._action(None, self.files.export_chart_dialog)
        self.use_action = self._action(None, self.use_in_classify)
        self.export_script_action = self._action(None, self.files.export_script_dialog)
        self.inspect_action = self._action(None, self.open_in_inspect)

    def retranslate(self) -> None:
        self._label_action(self.train_action, self.tr("&Train"), self.tr("Start training"))
        self._label_action(self.pause_action, self.tr("&Resume") if self.paused else self.tr("&Pause"),
                           self.tr("Pause or resume training"))
        self._label_action(self.stop_action, self.tr("&Stop"), self.tr("Stop training after the current batch"))
        self._label_action(self.save_action, self.tr("&Save checkpoint…"),
                           self.tr("Save the selected run's model as a checkpoint"))
        self._label_action(self.export_csv_action, self.tr("Export &metrics (CSV)…"),
                           self.tr("Save the selected run's per-epoch figures as CSV"))
        self._label_action(self.export_png_action, self.tr("Export &chart (PNG)…"),
                           self.tr("Save the chart as a PNG image"))
        self._label_action(self.use_action, self.tr("&Use in Classify"),
                           self.tr("Classify drawings and photos with the selected run's model"))
        self._label_action(self.export_script_action, self.tr("Export as P&ython script…"),
                           self.tr("Write the recipe on screen as a standalone PyTorch script in the tutorial's style"))
        self._label_action(self.inspect_action, self.tr("Open in &Inspect"),
                           self.tr("Look inside the selected run's model: feature maps, filters, saliency"))
        self.recipe_box.setTitle(self.tr("Training"))
        self.chart_tabs.setTabText(0, self.tr("Curves"))
        self.chart_tabs.setTabText(1, self.tr("Diagnostics"))
        self.chart_tabs.setTabToolTip(1, self.tr("Each layer's gradients, weights, updates and activations "
                                                 "for the selected run"))
        self.log.setPlaceholderText(self.tr("One line per epoch appears here: loss, train and test accuracy, time."))
        self._show_progress_text()
        self._show_speed()
        self._emit_run_state()

    def _build_ui(self) -> None:
        self.recipe = RecipeForm()
        buttons = QHBoxLayout()
        self.train_button = action_button(self.train_action)
        self.train_button.setObjectName("trainButton")
        self.pause_button = action_button(self.pause_action)
        self.stop_button = action_button(self.stop_action)
        for button in (self.train_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)
        self.recipe_box = recipe_box = QGroupBox()
        recipe_layout = QVBoxLayout(recipe_box)
        recipe_layout.addWidget(self.recipe)
        recipe_layout.addLayout(buttons)
        self.export_script_button = action_button(self.export_script_action)
        recipe_layout.addWidget(self.export_script_button)

        self.runs_panel = RunsPanel(self.runs, [self.save_action, self.use_action, self.inspect_action,
                                                self.export_csv_action, self.export_png_action])
        self.runs_panel.selection_changed.connect(self._update_result_actions)
        self.runs_panel.remove_requested.connect(self.remove_run)
        self.runs_panel.rename_requested.connect(self.rename_dialog)
        self.runs_panel.note_requested.connect(self.note_dialog)
        self.runs_panel.again_requested.connect(self.train_again)
        self.runs_panel.undo_requested.connect(self.undo_delete)
        self.runs_panel.compare_requested.connect(self.compare_dialog)
        self.runs_panel.folder_change_requested.connect(self.runs_folder_dialog)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(recipe_box)
        left_layout.addWidget(self.runs_panel, 1)
        # On a short screen the form and the runs scroll rather than push the window's bottom
        # (status bar included) off the screen.
        left_scroll = QScrollArea()
        left_scroll.setObjectName("trainFormScroll")
        left_scroll.setWidget(left)
        left_scroll.setWidgetResizable(True)
        left_scroll.setFrameShape(QFrame.Shape.NoFrame)
        left_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scrollbar = left_scroll.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        left_scroll.setMinimumWidth(max(300, left.minimumSizeHint().width()) + scrollbar)
        left_scroll.setMaximumWidth(380)

        self.banner = ErrorBanner()
        self.chart = TrainingChart(self.runs)
        self.diagnostics_view = DiagnosticsView(self.runs)
        self.runs_panel.selection_changed.connect(self._show_selected_diagnostics)
        # The curves and the layers' diagnostics share the space: on a small screen each needs all of it.
        self.chart_tabs = QTabWidget()
        self.chart_tabs.setObjectName("chartTabs")
        self.chart_tabs.setDocumentMode(True)
        self.chart_tabs.addTab(self.chart, "")
        self.chart_tabs.addTab(self.diagnostics_view, "")
        self.progress = QProgressBar()
        self.progress.setObjectName("epochProgress")
        self.progress.setTextVisible(True)
        self.progress.setValue(0)
        self.speed_label = QLabel()
        self.speed_label.setObjectName("speedLabel")
        self.speed_label.setMinimumWidth(280)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.speed_label)
        self.log = QPlainTextEdit()
        self.log.setObjectName("epochLog")
        self.log.setReadOnly(True)
        self.log.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.log.setMaximumBlockCount(5000)

        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addLayout(progress_row)
        lower_layout.addWidget(self.log, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.chart_tabs)
        splitter.addWidget(lower)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.banner)
        right_layout.addWidget(splitter, 1)

        layout = QHBoxLayout(self)
        layout.addWidget(left_scroll)
        layout.addWidget(right, 1)

    # -- running ------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.thread is not None

    @property
    def paused(self) -> bool:
        return self.control is not None and self.control.paused

    def current_config(self):
        return self.recipe.current_config(self.threads)

    def start_training(self) -> bool:
        """Start a run with the settings on screen; False (and a message) when it cannot start."""
        if self.running:
            return False
        self.hide_error()
        try:
            config = self.current_config()
        except TrainingError as exc:
            self.show_error(html.escape(str(exc)))
            return False
        self.save_settings()
        root = self.session.locate_dataset(config.dataset)
        if root is None:
            self._ask_for_dataset(config.dataset)
            return False
        self.control = RunControl()
        request = TrainingRequest(config=config, data_root=str(root), train_limit=self.train_limit,
                                  test_limit=self.test_limit,
                                  dataset=self._dataset_cache.get((config.dataset, str(root))),
                                  busy_threads=self.busy_threads,
                                  last_interaction=lambda: self.session.last_interaction,
                                  control=self.control, runs_dir=str(self.session.runs_folder()))
        run = self.runs.add_run(config)
        self.active_run = run
        self.runs_panel.select_run(run.run_id)

        thread = TrainingThread(request)
        thread.status.connect(self._on_worker_status)
        thread.dataset_loaded.connect(self._on_dataset_loaded)
        thread.run_started.connect(self._on_run_started)
        thread.batches.connect(self._on_batches)
        thread.evaluating.connect(self._on_evaluating)
        thread.epoch_finished.connect(self._on_epoch_finished)
        thread.diagnostics.connect(self._on_diagnostics)
        thread.live_weights.connect(self.session.live_weights)
        thread.run_finished.connect(self._on_run_finished)
        thread.run_failed.connect(self._on_run_failed)
        thread.recorded.connect(lambda folder, started_at, run_id=run.run_id:
                                self.runs.set_record_dir(run_id, folder, started_at))
        thread.record_problem.connect(self._on_record_problem)
        thread.finished.connect(self._on_thread_finished)
        self.thread = thread
        self._set_running(True)
        self.session.set_training_active(True)
        # The run's name (data set, recipe, start time) as the runs list shows it.
        self._log(fill(self.tr("— %1: %n epoch(s), batch %2, %3 lr %4 —", "", config.epochs),
                       self.runs.name(run), config.batch_size, config.optimizer, f"{config.lr:g}"))
        start_worker(thread)
        return True

    def toggle_pause(self) -> None:
        control = self.control
        if self.thread is None or control is None or control.stop_requested:
            return
        if control.paused:
            control.resume()
            self.status_message.emit(self.tr("Training resumed"))
        else:
            control.pause()
            self.status_message.emit(self.tr("Training paused"))
        self._show_progress_text()
        self._update_run_actions()

    def stop_training(self) -> None:
        if self.thread is None:
            return
        self.thread.stop()
        self.status_message.emit(self.tr("Stopping…"))
        self._update_run_actions()

    def shutdown(self, timeout_ms: int = SHUTDOWN_WAIT_MS) -> bool:
        """Stop a run and wait for its thread (bounded); called when the window closes. A thread
        still busy after that (a single long operation) stays in the worker registry, which the
        app waits for once more at exit."""
        self.save_settings()
        thread = self.thread
        if thread is None:
            return True
        thread.stop()
        return thread.wait(timeout_ms)

    def save_settings(self) -> None:
        self.recipe.save(self.settings)

    def _set_running(self, running: bool) -> None:
        self.recipe.set_editable(not running)
        self._update_run_actions()
        self._update_result_actions()

    def _update_run_actions(self) -> None:
        running = self.thread is not None
        stopping = running and self.thread.stop_requested
        self._emit_run_state()
        self.train_action.setEnabled(not running)
        self.pause_action.setEnabled(running and not stopping)
        pause_text = self.tr("&Resume") if self.paused else self.tr("&Pause")
        self.pause_action.setText(pause_text)
        self.pause_action.setIconText(button_text(pause_text))
        self.stop_action.setEnabled(running and not stopping)

    def _set_progress(self, kind: str, *values) -> None:
        self._progress_state = (kind, values)
        self._show_progress_text()

    def progress_text(self) -> str:
        """What the progress bar says, made from the run's state in the current language."""
        kind, values = self._progress_state
        if kind == "batch":
            text = fill(self.tr("Epoch %1/%2 · batch %3/%4 · loss %5"), *values)
        elif kind == "testing":
            text = fill(self.tr("Epoch %1/%2 · testing…"), *values)
        else:
            text = {"loading": self.tr("Loading the data set…"), "failed": self.tr("Failed"),
                    "stopped": self.tr("Stopped"), "done": self.tr("Done")}.get(kind, self.tr("Idle"))
        return fill(self.tr("Paused — %1"), text) if self.paused else text

    def _show_progress_text(self) -> None:
        self.progress.setFormat(self.progress_text())

    def _show_speed(self) -> None:
        if self._speed_values is None:
            self.speed_label.clear()
        else:
            self.speed_label.setText(fill(self.tr("%1 samples/s · epoch %2 left · run %3 left"), *self._speed_values))

    def run_state_text(self) -> str:
        """The short, lasting summary of the run (``run_state``), in the current language."""
        if self.thread is None:
            text = self.tr("Idle")
        elif self.thread.stop_requested:
            text = self.tr("Stopping…")
        elif self.active_run is None or self.active_run.started is None:
            text = self.tr("Loading data…")
        else:
            template = self.tr("Paused: epoch %1/%2") if self.paused else self.tr("Training: epoch %1/%2")
            text = fill(template, self._state_epoch, self.active_run.config.epochs)
        return text

    def _emit_run_state(self, epoch: int | None = None) -> None:
        if epoch is not None:
            self._state_epoch = epoch
        text = self.run_state_text()
        if text != self._last_run_state:
            self._last_run_state = text
            self.run_state.emit(text)

    # -- from the worker ----------------------------------------------------------------------------

    def _on_worker_status(self, code: str) -> None:
        if code == "loading":
            self.progress.setRange(0, 0)
            self._set_progress("loading")
            self.status_message.emit(self.tr("Loading the data set…"))

    def _on_dataset_loaded(self, dataset: LoadedDataset) -> None:
        # One data set in memory is enough (about 55 MB); switching sets reloads from disk.
        self._dataset_cache = {(dataset.info.key, str(self.thread.request.data_root if self.thread else "")): dataset}

    def _on_run_started(self, info: RunStarted) -> None:
        run = self.active_run
        if run is None:
            return
        self.runs.set_started(run.run_id, info)
        self._emit_run_state(epoch=1)
        self.progress.setRange(0, info.batches_per_epoch)
        self.progress.setValue(0)
        self._log(fill(self.tr("training on %1 (%n thread(s)), %2 training and %3 test images from %4", "", info.threads),
                       info.device, f"{info.train_samples:,}", f"{info.test_samples:,}", info.data_source))
        self.status_message.emit(fill(self.tr("Training %1 on %2…"), self.runs.name(run), info.device))

    def _on_batches(self, events: list[BatchProgress]) -> None:
        run = self.active_run
        if run is None or not events:
            return
        self.runs.add_batches(run.run_id, events)
        last = events[-1]
        self._emit_run_state(epoch=last.epoch)
        self.progress.setRange(0, last.batches)
        self.progress.setValue(last.batch)
        self._set_progress("batch", last.epoch, last.epochs, last.batch, last.batches, f"{last.loss:.4f}")
        remaining_epochs = last.epochs - last.epoch
        epoch_seconds = last.batches * run.config.batch_size / last.samples_per_sec if last.samples_per_sec else math.nan
        run_left = last.eta_seconds + remaining_epochs * epoch_seconds
        self._speed_values = (f"{last.samples_per_sec:,.0f}", format_duration(last.eta_seconds),
                              format_duration(run_left))
        self._show_speed()

    def _on_diagnostics(self, events: list) -> None:
        if self.active_run is not None:
            self.runs.add_diagnostics(self.active_run.run_id, events)

    def _show_selected_diagnostics(self) -> None:
        run = self.selected_run()
        self.diagnostics_view.show_run(run.run_id if run is not None else None)

    def _on_evaluating(self, epoch: int) -> None:
        run = self.active_run
        epochs = run.config.epochs if run else epoch
        self._set_progress("testing", epoch, epochs)

    def _on_epoch_finished(self, result: EpochResult) -> None:
        run = self.active_run
        if run is None:
            return
        self.runs.add_epoch(run.run_id, result)
        self._log(result.line())

    def _on_run_finished(self, outcome: RunOutcome) -> None:
        run = self.active_run
        if run is None:
            return
        self.runs.set_outcome(run.run_id, outcome)
        if outcome.stopped:
            self._log(fill(self.tr("stopped after %1 of %n epoch(s)", "", run.config.epochs), len(outcome.history)))

    def _on_record_problem(self, message: str) -> None:
        # core's English, like the other messages from core; the run itself goes on.
        self._log(message)
        self.status_message.emit(self.tr("The run cannot be recorded in the run history (see the log)"))

    def failure_title(self, failure: RunFailure) -> str:
        return {
            run_failures.DIVERGED: self.tr("Training diverged"),
            run_failures.DATA_SET: self.tr("Data set problem"),
            run_failures.INVALID_SETTINGS: self.tr("Cannot train"),
            run_failures.OUT_OF_MEMORY: self.tr("Out of memory"),
        }.get(failure.kind, self.tr("Training failed"))

    def _on_run_failed(self, failure: RunFailure) -> None:
        run = self.active_run
        if run is not None:
            self.runs.set_failure(run.run_id, failure)
        title = self.failure_title(failure)
        self.show_error(f"<b>{html.escape(title)}</b>: {html.escape(failure.message)}")
        self._log(fill(self.tr("%1: %2"), title, failure.message))
        if failure.details:
            self._log(failure.details.rstrip())

    def _on_thread_finished(self) -> None:
        run = self.active_run
        self.thread = None
        self.active_run = None
        self.control = None
        self._set_running(False)
        self.session.set_training_active(False)
        self.progress.setRange(0, 1)
        if run is not None and run.started is None:
            # Nothing was trained (the data could not be loaded): nothing to compare later.
            self.runs.remove(run.run_id)
        if run is None or run.failure is not None:
            self.progress.setValue(0)
            self._set_progress("failed")
            self.status_message.emit(self.tr("Training failed"))
        elif run.outcome is not None and run.outcome.stopped:
            self._set_progress("stopped")
            self.status_message.emit(self.tr("Training stopped"))
        else:
            self.progress.setValue(1)
            self._set_progress("done")
            acc = run.last_test_acc
            self.status_message.emit(fill(self.tr("Training finished: test accuracy %1"),
                                          f"{acc:.3f}" if acc is not None else "–"))
        if run is not None and run.has_results:
            self._offer(run)
        self._speed_values = None
        self._show_speed()
        self._update_result_actions()

    # -- runs ---------------------------------------------------------------------------------------

    def selected_run(self) -> RunRecord | None:
        return self.runs_panel.selected_run()

    def selected_runs(self) -> list[RunRecord]:
        return self.runs_panel.selected_runs()

    def remove_run(self, run_id: int) -> bool:
        """Delete a run (not the one training) from the list and the run history, undoably."""
        if self.active_run is not None and self.active_run.run_id == run_id:
            return False
        name = self.runs.name(self.runs[run_id]) if run_id in self.runs else ""
        try:
            self.runs.delete(run_id)
        except history.HistoryError as exc:
            self.show_error(html.escape(str(exc)))
            return False
        self._offered.pop(run_id, None)
        self.status_message.emit(fill(self.tr("Deleted %1 (Undo delete brings it back)"), name))
        return True

    def undo_delete(self) -> bool:
        try:
            run = self.runs.undo_delete()
        except history.HistoryError as exc:
            self.show_error(html.escape(str(exc)))
            return False
        if run is None:
            return False
        self.runs_panel.select_run(run.run_id)
        return True

    def rename_run(self, run_id: int, name: str) -> bool:
        try:
            self.runs.rename(run_id, name)
        except history.HistoryError as exc:
            self.show_error(html.escape(str(exc)))
            return False
        return True

    def annotate_run(self, run_id: int, note: str) -> bool:
        try:
            self.runs.set_note(run_id, note)
        except history.HistoryError as exc:
            self.show_error(html.escape(str(exc)))
            return False
        return True

    def rename_dialog(self, run_id: int) -> None:
        run = self.runs.get(run_id)
        if run is None:
            return
        name, ok = QInputDialog.getText(self, self.tr("Rename run"), self.tr("Name:"), text=self.runs.name(run))
        if ok:
            self.rename_run(run_id, name)

    def note_dialog(self, run_id: int) -> None:
        run = self.runs.get(run_id)
        if run is None:
            return
        note, ok = QInputDialog.getMultiLineText(self, self.tr("Note"), fill(self.tr("A note about %1:"),
                                                 self.runs.name(run)), run.note)
        if ok:
            self.annotate_run(run_id, note)

    def train_again(self, run_id: int) -> bool:
        """The run's settings into the form, ready to train (or to change first)."""
        run = self.runs.get(run_id)
        if run is None or self.running:
            return False
        self.recipe.load_config(run.config)
        self.status_message.emit(fill(self.tr("The settings of %1 are in the form: click Train"), self.runs.name(run)))
        return True

    def compare_runs(self) -> list[RunRecord]:
        """The runs a comparison shows: the selected ones, or every ticked one when fewer than
        two are selected."""
        selected = self.selected_runs()
        return selected if len(selected) >= 2 else [self.runs[r] for r in self.runs if self.runs[r].visible]

    def compare_dialog(self) -> CompareDialog | None:
        runs = self.compare_runs()
        if len(runs) < 2:
            self.status_message.emit(self.tr("Select two runs or more (Ctrl+click) to compare them"))
            return None
        records = [run.stored(self.runs.name(run)) for run in runs]
        if self.compare is not None:
            self.compare.close()
        dialog = CompareDialog(records, self.settings, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(lambda *_: setattr(self, "compare", None))
        self.compare = dialog
        dialog.show()  # not modal: the chart stays usable beside it
        return dialog

    # -- the run history ------------------------------------------------------------------------

    def load_history(self) -> None:
        """The runs of the history folder into the list (this session's stay); a damaged record
        is named in the log and skipped."""
        folder = self.session.runs_folder()
        self.runs_panel.set_folder(str(folder))
        damaged = self.runs.load_history(folder)
        for record in damaged:
            self._log(fill(self.tr("Run history: %1 cannot be read (%2); skipped"), record.id, record.problem))
        if damaged:
            self.status_message.emit(fill(self.tr("%n run(s) in the history cannot be read: see the log", "",
                                                  len(damaged))))

    def set_runs_folder(self, folder: str) -> None:
        """Keep the run history in ``folder`` from now on (a window setting), and show its runs."""
        self.settings.runs_folder = folder
        effective = self.session.runs_folder()
        if folder and effective != history.resolve_runs_dir(None, folder, environ={}):
            self.show_error(html.escape(fill(
                self.tr("The run history stays in %1: --runs-dir or LENET_RUNS_DIR chooses it for this start."),
                str(effective))))
        self.load_history()

    def runs_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Folder of the run history"),
                                                  str(self.session.runs_folder()))
        if folder:
            self.set_runs_folder(folder)

    def remove_selected_run(self) -> None:
        run = self.selected_run()
        if run is not None:
            self.remove_run(run.run_id)

    def _update_result_actions(self) -> None:
        run = self.selected_run()
        available = bool(run is not None and run.has_results)
        for action in (self.save_action, self.export_csv_action, self.use_action, self.inspect_action):
            action.setEnabled(available)
        self.export_png_action.setEnabled(len(self.runs) > 0)
        # Any run but the one training can go; with no run selected there is nothing to remove.
        training = self.active_run is not None and run is not None and run.run_id == self.active_run.run_id
        panel = self.runs_panel
        panel.remove_button.setEnabled(run is not None and not training)
        for button in (panel.rename_button, panel.note_button):
            button.setEnabled(run is not None)
        panel.again_button.setEnabled(run is not None and not self.running)
        panel.compare_button.setEnabled(len(self.runs) >= 2)
        if run is not None:
            self.chart.set_current(run.run_id)
        self.results_changed.emit(available)

    # -- results ------------------------------------------------------------------------------------

    def loaded_model(self, run: RunRecord) -> LoadedModel:
        """The run's final weights as a model for classifying (eval mode, CPU); for a run from
        the history, those of its record (CheckpointError when they cannot be read)."""
        if run.outcome is None and run.from_history:
            loaded = load_checkpoint(run.weights_path or (run.record_dir or Path()) / history.WEIGHTS_FILE)
            loaded.metadata["title"] = self._model_title(run)
            return loaded
        return run.outcome.loaded_model(self._model_title(run))

    def _model_title(self, run: RunRecord) -> str:
        title = fill(self.tr("Trained: %1"), self.runs.name(run))  # as the runs list names it
        acc = run.last_test_acc
        if acc is not None:
            title = fill(self.tr("%1, test acc %2"), title, f"{acc:.3f}")
        return title

    def _offer(self, run: RunRecord) -> LoadedModel | None:
        """Every run that leaves a model offers it to the session (the Classify tab's model
        picker lists it), without making it the current model. None (and a message) when the
        weights of a run from the history cannot be read."""
        loaded = self._offered.get(run.run_id)
        if loaded is None:
            try:
                loaded = self.loaded_model(run)
            except CheckpointError as exc:
                self.show_error(html.escape(str(exc)))
                return None
            self._offered[run.run_id] = loaded
            self.session.add_model(loaded, title=loaded.metadata["title"], make_current=False)
        return loaded

    def use_in_classify(self) -> bool:
        return self._use_in("classify")

    def open_in_inspect(self) -> bool:
        return self._use_in("inspect")

    def _use_in(self, tab: str) -> bool:
        run = self.selected_run()
        if run is None or not run.has_results:
            return False
        loaded = self._offer(run)
        if loaded is None:
            return False
        self.session.set_model(loaded)
        self.status_message.emit(fill(self.tr("%1 is now the model in use"), loaded.metadata["title"]))
        self.session.request_tab(tab)
        return True

    # -- the data set -------------------------------------------------------------------------------

    def _ask_for_dataset(self, key: str) -> None:
        self.status_message.emit(fill(self.tr("The %1 data set is missing"), dataset_info(key).title))
        DatasetDialog.open_for(self, key, self.session.data_root, self.settings, self.start_training)

    # -- messages -------------------------------------------------------------------------------------

    def show_error(self, message: str) -> None:
        """``message`` is rich text: escape anything that comes from outside."""
        self.banner.show_message(message)

    def hide_error(self) -> None:
        self.banner.dismiss()

    @property
    def error_text(self) -> str:
        """The message on show, as plain text (empty when none)."""
        return self.banner.plain_text()

    def _log(self, line: str) -> None:
        self.log.appendPlainText(line)
