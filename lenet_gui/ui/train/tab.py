"""The Train tab: pick a data set and a recipe, click Train, watch LeNet learn.

The tab owns no training code: a :class:`TrainingThread` runs the core's ``Trainer`` and sends
snapshots back; this module only turns them into a chart, a progress bar and a log.
"""

from __future__ import annotations

import html
import math
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QLocale, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QColor, QDoubleValidator, QFontDatabase, QIcon, QKeySequence, QPixmap, QTextDocument
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core.checkpoint import CheckpointError, LoadedModel, save_checkpoint
from ...core.data import DATASETS, LoadedDataset, dataset_info
from ...core.engine import (
    OPTIMIZERS, BatchProgress, EpochResult, TrainConfig, TrainingError, available_devices, preset_config,
    write_metrics_csv,
)
from ...core.model import LeNet, ModelConfig
from .chart import TrainingChart, run_color
from ..widgets.data_dialog import DatasetDialog, locate_dataset
from .worker import RunFailure, RunOutcome, RunStarted, TrainingRequest, TrainingThread, gui_training_threads

SHUTDOWN_WAIT_MS = 3000
EXIT_WAIT_MS = 15_000  # after the window has gone: how long the process waits for such a thread

# Threads whose window closed before they ended: kept referenced so that Python never destroys
# a running QThread (Qt aborts the process when that happens).
_LINGERING_THREADS: list[TrainingThread] = []


@dataclass
class RunRecord:
    run_id: int
    config: TrainConfig
    color: QColor
    started: RunStarted | None = None
    outcome: RunOutcome | None = None
    failure: RunFailure | None = None
    epochs_done: int = 0
    last_test_acc: float | None = None
    item: QListWidgetItem | None = None

    @property
    def has_results(self) -> bool:
        return bool(self.outcome is not None and self.outcome.history and self.outcome.state_dict)


def finish_lingering_threads(timeout_ms: int = EXIT_WAIT_MS) -> bool:
    """Wait (bounded) for threads still running after their window closed; True when none is
    left. Called once the event loop has ended: a QThread destroyed while it runs aborts the
    whole process, which would turn quitting the app into a crash report."""
    deadline = time.monotonic() + timeout_ms / 1000
    for thread in list(_LINGERING_THREADS):
        thread.wait(max(0, int((deadline - time.monotonic()) * 1000)))
    return not any(thread.isRunning() for thread in _LINGERING_THREADS)


def _format_duration(seconds: float) -> str:
    if not math.isfinite(seconds) or seconds < 0:
        return "–"
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return f"{seconds // 60}:{seconds % 60:02d}"


class TrainTab(QWidget):
    status_message = Signal(str)  # for the window's status bar
    run_state = Signal(str)  # a short, lasting summary: "Training: epoch 2/5", "Paused", "Idle"
    results_changed = Signal(bool)  # whether the selected run can be saved / exported / used

    def __init__(self, session, settings: QSettings, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("trainTab")
        self.session = session
        self.settings = settings
        # Tests (and benchmarks) train on subsets; deliberately not a field a user sees.
        self.train_limit: int | None = None
        self.test_limit: int | None = None
        # Every core while the window is idle, one fewer while the user draws (see the worker).
        self.threads = gui_training_threads()
        self.busy_threads = gui_training_threads(user_active=True)
        self.runs: dict[int, RunRecord] = {}
        self.active_run: RunRecord | None = None
        self.thread: TrainingThread | None = None
        self.data_dialog: DatasetDialog | None = None
        self._next_run_id = 1
        self._paused = False
        self._state_epoch = 1
        self._last_run_state: str | None = None
        self._dataset_cache: dict[tuple[str, str], LoadedDataset] = {}
        self._build_actions()
        self._build_ui()
        self._restore_settings()
        self._set_running(False)
        self._update_result_actions()

    # -- construction -------------------------------------------------------------------------

    def _action(self, text: str, shortcut: QKeySequence | str | None, tip: str, slot) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            tip = f"{tip} ({action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})"
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        self.train_action = self._action(self.tr("&Train"), "Ctrl+Return", self.tr("Start training"), self.start_training)
        # Ctrl+P rather than Space: Space belongs to whichever button or field has the focus.
        self.pause_action = self._action(self.tr("&Pause"), "Ctrl+P", self.tr("Pause or resume training"), self.toggle_pause)
        self.stop_action = self._action(self.tr("&Stop"), "Ctrl+.", self.tr("Stop training after the current batch"), self.stop_training)
        for action in (self.train_action, self.pause_action, self.stop_action):
            # Window-wide, but Qt ignores a shortcut whose widgets are hidden: the keys work while
            # the Train tab is on screen, and other tabs may give them other jobs.
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.addAction(action)
        self.save_action = self._action(self.tr("&Save checkpoint…"), QKeySequence.StandardKey.Save,
                                        self.tr("Save the selected run's model as a checkpoint"),
                                        self.save_checkpoint_dialog)
        self.export_csv_action = self._action(self.tr("Export &metrics (CSV)…"), None,
                                              self.tr("Save the selected run's per-epoch figures as CSV"),
                                              self.export_metrics_dialog)
        self.export_png_action = self._action(self.tr("Export &chart (PNG)…"), None,
                                              self.tr("Save the chart as a PNG image"), self.export_chart_dialog)
        self.use_action = self._action(self.tr("&Use in Classify"), None,
                                       self.tr("Classify drawings and photos with the selected run's model"),
                                       self.use_in_classify)

    def _build_ui(self) -> None:
        # --- the recipe --------------------------------------------------------------------------
        self.dataset_combo = QComboBox()
        for key, info in DATASETS.items():
            self.dataset_combo.addItem(info.title, key)
        self.preset_combo = QComboBox()
        self.preset_combo.addItem(self.tr("classic (the tutorial's recipe)"), "classic")
        self.preset_combo.addItem(self.tr("modern (ReLU, batch norm)"), "modern")
        self.preset_note = QLabel()
        self.preset_note.setWordWrap(True)
        self.preset_note.setStyleSheet("color: palette(placeholder-text);")
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(1, 1000)
        self.batch_spin = QSpinBox()
        self.batch_spin.setRange(1, 60000)
        self.batch_spin.setSingleStep(32)
        self.lr_edit = QLineEdit()
        validator = QDoubleValidator(1e-7, 10.0, 7, self.lr_edit)
        validator.setNotation(QDoubleValidator.Notation.ScientificNotation)
        validator.setLocale(QLocale.c())  # 0.001 everywhere: the form the tutorial and the CLI use
        self.lr_edit.setValidator(validator)
        self.lr_edit.setToolTip(self.tr("Learning rate (the peak rate for the one-cycle schedule), e.g. 0.001 or 1e-3"))
        self.optimizer_combo = QComboBox()
        names = {"adam": "Adam", "adamw": "AdamW", "sgd": self.tr("SGD (momentum 0.9)")}
        for key in OPTIMIZERS:
            self.optimizer_combo.addItem(names.get(key, key), key)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.device_combo = QComboBox()
        for name, description in available_devices():
            self.device_combo.addItem(description, name)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(self.tr("&Data set:"), self.dataset_combo)
        form.addRow(self.tr("&Preset:"), self.preset_combo)
        form.addRow("", self.preset_note)
        form.addRow(self.tr("&Epochs:"), self.epochs_spin)
        form.addRow(self.tr("&Batch size:"), self.batch_spin)
        form.addRow(self.tr("&Learning rate:"), self.lr_edit)
        form.addRow(self.tr("&Optimizer:"), self.optimizer_combo)
        form.addRow(self.tr("See&d:"), self.seed_spin)
        form.addRow(self.tr("De&vice:"), self.device_combo)
        self.recipe_fields = (self.dataset_combo, self.preset_combo, self.epochs_spin, self.batch_spin,
                              self.lr_edit, self.optimizer_combo, self.seed_spin, self.device_combo)

        buttons = QHBoxLayout()
        self.train_button = self._tool_button(self.train_action)
        self.train_button.setObjectName("trainButton")
        self.pause_button = self._tool_button(self.pause_action)
        self.stop_button = self._tool_button(self.stop_action)
        for button in (self.train_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)
        recipe_box = QGroupBox(self.tr("Training"))
        recipe_layout = QVBoxLayout(recipe_box)
        recipe_layout.addLayout(form)
        recipe_layout.addLayout(buttons)

        # --- runs and results --------------------------------------------------------------------
        self.runs_list = QListWidget()
        self.runs_list.setObjectName("runsList")
        self.runs_list.setToolTip(self.tr("Runs of this session: untick to hide one on the chart"))
        self.runs_list.setWordWrap(True)
        self.runs_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.runs_list.itemChanged.connect(self._on_run_item_changed)
        self.runs_list.currentItemChanged.connect(lambda *_: self._update_result_actions())
        self.remove_run_button = QPushButton(self.tr("&Remove run"))
        self.remove_run_button.setToolTip(self.tr("Remove the selected run from the chart and the list"))
        self.remove_run_button.clicked.connect(self.remove_selected_run)
        results = QGridLayout()
        for index, action in enumerate((self.save_action, self.use_action, self.export_csv_action, self.export_png_action)):
            results.addWidget(self._tool_button(action), index // 2, index % 2)
        runs_box = QGroupBox(self.tr("Runs"))
        runs_layout = QVBoxLayout(runs_box)
        runs_layout.addWidget(self.runs_list, 1)
        runs_layout.addWidget(self.remove_run_button, 0, Qt.AlignmentFlag.AlignLeft)
        runs_layout.addLayout(results)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(recipe_box)
        left_layout.addWidget(runs_box, 1)
        left.setMinimumWidth(300)
        left.setMaximumWidth(380)

        # --- the live view -----------------------------------------------------------------------
        self.banner = QFrame()
        self.banner.setObjectName("errorBanner")
        self.banner.setStyleSheet("#errorBanner { background: #fdecea; border: 1px solid #e0a39e; border-radius: 4px; }"
                                  "#errorBanner QLabel { color: #611a15; }")
        self.banner_text = QLabel()
        self.banner_text.setWordWrap(True)
        self.banner_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close_banner = QToolButton()
        close_banner.setText("✕")
        close_banner.setAutoRaise(True)
        close_banner.setToolTip(self.tr("Hide this message"))
        close_banner.clicked.connect(self.hide_error)
        banner_layout = QHBoxLayout(self.banner)
        banner_layout.addWidget(self.banner_text, 1)
        banner_layout.addWidget(close_banner, 0, Qt.AlignmentFlag.AlignTop)
        self.banner.hide()

        self.chart = TrainingChart()
        self.progress = QProgressBar()
        self.progress.setObjectName("epochProgress")
        self.progress.setTextVisible(True)
        self.progress.setFormat(self.tr("Idle"))
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
        self.log.setPlaceholderText(self.tr("One line per epoch appears here: loss, train and test accuracy, time."))
        self.log.setMaximumBlockCount(5000)

        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addLayout(progress_row)
        lower_layout.addWidget(self.log, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.chart)
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
        layout.addWidget(left)
        layout.addWidget(right, 1)

        self.preset_combo.currentIndexChanged.connect(self._on_preset_changed)
        self.dataset_combo.currentIndexChanged.connect(self._update_preset_note)

    def _tool_button(self, action: QAction) -> QToolButton:
        button = QToolButton()
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        button.setMinimumHeight(30)
        return button

    # -- the recipe -------------------------------------------------------------------------------

    @property
    def dataset_key(self) -> str:
        return self.dataset_combo.currentData()

    @property
    def preset_key(self) -> str:
        return self.preset_combo.currentData()

    def _on_preset_changed(self) -> None:
        self.apply_preset(self.preset_key)

    def apply_preset(self, preset: str) -> None:
        """Fill the fields with the preset's values; the user may edit them afterwards."""
        config = preset_config(preset, self.dataset_key)
        self.epochs_spin.setValue(config.epochs)
        self.batch_spin.setValue(config.batch_size)
        self.lr_edit.setText(f"{config.lr:g}")
        self._select(self.optimizer_combo, config.optimizer)
        self._update_preset_note()

    def _update_preset_note(self) -> None:
        if self.preset_key == "classic":
            self.preset_note.setText(self.tr("Sigmoid activations, max pooling, constant learning rate, "
                                             "no augmentation: d2l's LeNet exactly."))
            return
        # Built from the preset itself, which differs per data set, so the note cannot go stale.
        config = preset_config(self.preset_key, self.dataset_key)
        parts = [self.tr("ReLU") if config.activation == "relu" else self.tr("sigmoid")]
        if config.batch_norm:
            parts.append(self.tr("batch norm"))
        if config.normalize:
            parts.append(self.tr("normalised input"))
        if config.schedule == "onecycle":
            parts.append(self.tr("one-cycle schedule"))
        elif config.schedule == "cosine":
            parts.append(self.tr("cosine schedule"))
        if config.weight_decay:
            parts.append(self.tr("weight decay %1").replace("%1", f"{config.weight_decay:g}"))
        if config.label_smoothing:
            parts.append(self.tr("label smoothing %1").replace("%1", f"{config.label_smoothing:g}"))
        if config.augment_shift:
            parts.append(self.tr("random shifts of up to %1 px").replace("%1", str(config.augment_shift)))
        if config.augment_flip:
            parts.append(self.tr("random left-right flips"))
        self.preset_note.setText(", ".join(parts) + ".")

    @staticmethod
    def _select(combo: QComboBox, data) -> bool:
        index = combo.findData(data)
        if index >= 0:
            combo.setCurrentIndex(index)
        return index >= 0

    def current_config(self) -> TrainConfig:
        """The settings on screen as a validated config (TrainingError with a clear message)."""
        text = self.lr_edit.text().strip().replace(",", ".")
        try:
            lr = float(text)
        except ValueError:
            raise TrainingError(self.tr("The learning rate %1 is not a number; write it like 0.001 or 1e-3.")
                                .replace("%1", repr(text))) from None
        config = preset_config(
            self.preset_key, self.dataset_key,
            epochs=self.epochs_spin.value(), batch_size=self.batch_spin.value(), lr=lr,
            optimizer=self.optimizer_combo.currentData(), seed=self.seed_spin.value(),
            device=self.device_combo.currentData(), threads=self.threads,
        )
        config.validate()
        return config

    # -- settings ---------------------------------------------------------------------------------

    def _restore_settings(self) -> None:
        s = self.settings
        for combo, key in ((self.dataset_combo, "train/dataset"), (self.preset_combo, "train/preset")):
            combo.blockSignals(True)
            self._select(combo, s.value(key, "", str))
            combo.blockSignals(False)
        self.apply_preset(self.preset_key)
        if s.contains("train/epochs"):
            self.epochs_spin.setValue(s.value("train/epochs", self.epochs_spin.value(), int))
            self.batch_spin.setValue(s.value("train/batch_size", self.batch_spin.value(), int))
            lr = s.value("train/lr", "", str)
            if lr:
                self.lr_edit.setText(lr)
            self._select(self.optimizer_combo, s.value("train/optimizer", "", str))
        self.seed_spin.setValue(s.value("train/seed", 0, int))
        # A device saved on another machine (or a GPU since removed) falls back to the best one.
        if not self._select(self.device_combo, s.value("train/device", "", str)):
            self.device_combo.setCurrentIndex(0)

    def save_settings(self) -> None:
        s = self.settings
        s.setValue("train/dataset", self.dataset_key)
        s.setValue("train/preset", self.preset_key)
        s.setValue("train/epochs", self.epochs_spin.value())
        s.setValue("train/batch_size", self.batch_spin.value())
        s.setValue("train/lr", self.lr_edit.text().strip())
        s.setValue("train/optimizer", self.optimizer_combo.currentData())
        s.setValue("train/seed", self.seed_spin.value())
        s.setValue("train/device", self.device_combo.currentData())

    # -- running ------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.thread is not None

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
        root = locate_dataset(config.dataset, self.session.data_root, self.settings)
        if root is None:
            self._ask_for_dataset(config.dataset)
            return False
        request = TrainingRequest(config=config, data_root=str(root), train_limit=self.train_limit,
                                  test_limit=self.test_limit,
                                  dataset=self._dataset_cache.get((config.dataset, str(root))),
                                  busy_threads=self.busy_threads,
                                  last_interaction=lambda: self.session.last_interaction)
        run = RunRecord(run_id=self._next_run_id, config=config, color=run_color(self._next_run_id - 1))
        self._next_run_id += 1
        self.runs[run.run_id] = run
        self.active_run = run
        self._add_run_item(run)
        self.chart.add_run(run.run_id, run.color, config.epochs)

        thread = TrainingThread(request, parent=self)
        thread.status.connect(self._on_worker_status)
        thread.dataset_loaded.connect(self._on_dataset_loaded)
        thread.run_started.connect(self._on_run_started)
        thread.batches.connect(self._on_batches)
        thread.evaluating.connect(self._on_evaluating)
        thread.epoch_finished.connect(self._on_epoch_finished)
        thread.live_weights.connect(self.session.live_weights)
        thread.run_finished.connect(self._on_run_finished)
        thread.run_failed.connect(self._on_run_failed)
        thread.finished.connect(self._on_thread_finished)
        self.thread = thread
        self._paused = False
        self._set_running(True)
        self.session.set_training_active(True)
        self._log(self.tr("— run %1: %2 on %3, %4 epochs, batch %5, %6 lr %7 —")
                  .replace("%1", str(run.run_id)).replace("%2", config.preset)
                  .replace("%3", dataset_info(config.dataset).title).replace("%4", str(config.epochs))
                  .replace("%5", str(config.batch_size)).replace("%6", config.optimizer)
                  .replace("%7", f"{config.lr:g}"))
        thread.start()
        return True

    def toggle_pause(self) -> None:
        if self.thread is None or self.thread.stop_requested:
            return
        if self._paused:
            self.thread.resume()
            self._paused = False
            self.status_message.emit(self.tr("Training resumed"))
        else:
            self.thread.pause()
            self._paused = True
            self.progress.setFormat(self.tr("Paused — %1").replace("%1", self.progress.format()))
            self.status_message.emit(self.tr("Training paused"))
        self._update_run_actions()

    def stop_training(self) -> None:
        if self.thread is None:
            return
        self.thread.request_stop()
        self._paused = False
        self.status_message.emit(self.tr("Stopping…"))
        self._update_run_actions()

    def shutdown(self, timeout_ms: int = SHUTDOWN_WAIT_MS) -> bool:
        """Stop a run and wait for its thread (bounded); called when the window closes."""
        self.save_settings()
        thread = self.thread
        if thread is None:
            return True
        thread.request_stop()
        if thread.wait(timeout_ms):
            return True
        # Only a single operation that takes seconds (a huge batch on a slow device) gets here.
        # The thread ends at its next check; until then it must not be destroyed.
        thread.setParent(None)
        _LINGERING_THREADS.append(thread)
        thread.finished.connect(lambda: _LINGERING_THREADS.remove(thread) if thread in _LINGERING_THREADS else None)
        return False

    def _set_running(self, running: bool) -> None:
        for widget in self.recipe_fields:
            widget.setEnabled(not running)
        self.remove_run_button.setEnabled(not running)
        self._update_run_actions()

    def _update_run_actions(self) -> None:
        running = self.thread is not None
        stopping = running and self.thread.stop_requested
        self._emit_run_state()
        self.train_action.setEnabled(not running)
        self.pause_action.setEnabled(running and not stopping)
        self.pause_action.setText(self.tr("&Resume") if self._paused else self.tr("&Pause"))
        self.stop_action.setEnabled(running and not stopping)

    def _emit_run_state(self, epoch: int | None = None) -> None:
        if epoch is not None:
            self._state_epoch = epoch
        if self.thread is None:
            text = self.tr("Idle")
        elif self.thread.stop_requested:
            text = self.tr("Stopping…")
        elif self.active_run is None or self.active_run.started is None:
            text = self.tr("Loading data…")
        else:
            text = (self.tr("Paused: epoch %1/%2") if self._paused else self.tr("Training: epoch %1/%2")) \
                .replace("%1", str(self._state_epoch)).replace("%2", str(self.active_run.config.epochs))
        if text != self._last_run_state:
            self._last_run_state = text
            self.run_state.emit(text)

    # -- from the worker ----------------------------------------------------------------------------

    def _on_worker_status(self, code: str) -> None:
        if code == "loading":
            self.progress.setRange(0, 0)
            self.progress.setFormat(self.tr("Loading the data set…"))
            self.status_message.emit(self.tr("Loading the data set…"))

    def _on_dataset_loaded(self, dataset: LoadedDataset) -> None:
        # One data set in memory is enough (about 55 MB); switching sets reloads from disk.
        self._dataset_cache = {(dataset.info.key, str(self.thread.request.data_root if self.thread else "")): dataset}

    def _on_run_started(self, info: RunStarted) -> None:
        run = self.active_run
        if run is None:
            return
        run.started = info
        self._emit_run_state(epoch=1)
        self.progress.setRange(0, info.batches_per_epoch)
        self.progress.setValue(0)
        self._log(self.tr("training on %1 (%2 thread(s)), %3 training and %4 test images from %5")
                  .replace("%1", info.device).replace("%2", str(info.threads))
                  .replace("%3", f"{info.train_samples:,}").replace("%4", f"{info.test_samples:,}")
                  .replace("%5", info.data_source))
        self.status_message.emit(self.tr("Training run %1 on %2…").replace("%1", str(run.run_id)).replace("%2", info.device))

    def _on_batches(self, events: list[BatchProgress]) -> None:
        run = self.active_run
        if run is None or not events:
            return
        self.chart.add_batches(run.run_id, events)
        last = events[-1]
        self._emit_run_state(epoch=last.epoch)
        self.progress.setRange(0, last.batches)
        self.progress.setValue(last.batch)
        prefix = self.tr("Paused — ") if self._paused else ""
        self.progress.setFormat(prefix + self.tr("Epoch %1/%2 · batch %3/%4 · loss %5")
                                .replace("%1", str(last.epoch)).replace("%2", str(last.epochs))
                                .replace("%3", str(last.batch)).replace("%4", str(last.batches))
                                .replace("%5", f"{last.loss:.4f}"))
        remaining_epochs = last.epochs - last.epoch
        epoch_seconds = last.batches * run.config.batch_size / last.samples_per_sec if last.samples_per_sec else math.nan
        run_left = last.eta_seconds + remaining_epochs * epoch_seconds
        self.speed_label.setText(self.tr("%1 samples/s · epoch %2 left · run %3 left")
                                 .replace("%1", f"{last.samples_per_sec:,.0f}")
                                 .replace("%2", _format_duration(last.eta_seconds))
                                 .replace("%3", _format_duration(run_left)))

    def _on_evaluating(self, epoch: int) -> None:
        run = self.active_run
        epochs = run.config.epochs if run else epoch
        self.progress.setFormat(self.tr("Epoch %1/%2 · testing…").replace("%1", str(epoch)).replace("%2", str(epochs)))

    def _on_epoch_finished(self, result: EpochResult) -> None:
        run = self.active_run
        if run is None:
            return
        self.chart.add_epoch(run.run_id, result)
        run.epochs_done = result.epoch
        run.last_test_acc = result.test_acc
        self._log(result.line())
        self._refresh_run_item(run)

    def _on_run_finished(self, outcome: RunOutcome) -> None:
        run = self.active_run
        if run is None:
            return
        run.outcome = outcome
        if outcome.stopped:
            self._log(self.tr("stopped after %1 of %2 epoch(s)").replace("%1", str(len(outcome.history)))
                      .replace("%2", str(run.config.epochs)))
        self._refresh_run_item(run)

    def _on_run_failed(self, failure: RunFailure) -> None:
        run = self.active_run
        if run is not None:
            run.failure = failure
            self._refresh_run_item(run)
        titles = {"Training diverged": self.tr("Training diverged"), "Data set problem": self.tr("Data set problem"),
                  "Cannot train": self.tr("Cannot train"), "Out of memory": self.tr("Out of memory"),
                  "Training failed": self.tr("Training failed")}
        self.show_error(f"<b>{html.escape(titles.get(failure.title, failure.title))}</b>: {html.escape(failure.message)}")
        self._log(f"{failure.title}: {failure.message}")
        if failure.details:
            self._log(failure.details.rstrip())

    def _on_thread_finished(self) -> None:
        thread, run = self.thread, self.active_run
        self.thread = None
        self.active_run = None
        self._paused = False
        if thread is not None:
            thread.deleteLater()
        self._set_running(False)
        self.session.set_training_active(False)
        self.progress.setRange(0, 1)
        if run is not None and run.started is None:
            # Nothing was trained (the data could not be loaded): nothing to compare later.
            self._remove_run(run.run_id)
        if run is None or run.failure is not None:
            self.progress.setValue(0)
            self.progress.setFormat(self.tr("Failed"))
            self.status_message.emit(self.tr("Training failed"))
        elif run.outcome is not None and run.outcome.stopped:
            self.progress.setFormat(self.tr("Stopped"))
            self.status_message.emit(self.tr("Training stopped"))
        else:
            self.progress.setValue(1)
            self.progress.setFormat(self.tr("Done"))
            acc = run.last_test_acc
            self.status_message.emit(self.tr("Training finished: test accuracy %1").replace("%1", f"{acc:.3f}" if acc is not None else "–"))
        self.speed_label.clear()
        self._update_result_actions()

    # -- runs list ----------------------------------------------------------------------------------

    def _run_title(self, run: RunRecord) -> str:
        return self.tr("Run %1 · %2 · %3").replace("%1", str(run.run_id)).replace(
            "%2", dataset_info(run.config.dataset).title).replace("%3", run.config.preset)

    def _add_run_item(self, run: RunRecord) -> None:
        pixmap = QPixmap(12, 12)
        pixmap.fill(run.color)
        item = QListWidgetItem(QIcon(pixmap), self._run_title(run))
        item.setData(Qt.ItemDataRole.UserRole, run.run_id)
        c = run.config
        item.setToolTip(self.tr("%1 epochs, batch %2, %3 lr %4, seed %5, %6")
                        .replace("%1", str(c.epochs)).replace("%2", str(c.batch_size)).replace("%3", c.optimizer)
                        .replace("%4", f"{c.lr:g}").replace("%5", str(c.seed)).replace("%6", c.device))
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked)
        run.item = item
        self.runs_list.blockSignals(True)
        self.runs_list.addItem(item)
        self.runs_list.blockSignals(False)
        self.runs_list.setCurrentItem(item)

    def _refresh_run_item(self, run: RunRecord) -> None:
        if run.item is None:
            return
        text = self._run_title(run)
        if run.failure is not None:
            text += self.tr(": failed")
        elif run.last_test_acc is not None:
            text += self.tr(": test acc %1").replace("%1", f"{run.last_test_acc:.3f}")
            if run.outcome is not None and run.outcome.stopped:
                text += self.tr(" (stopped)")
        self.runs_list.blockSignals(True)
        run.item.setText(text)
        self.runs_list.blockSignals(False)
        self._update_result_actions()

    def _on_run_item_changed(self, item: QListWidgetItem) -> None:
        run_id = item.data(Qt.ItemDataRole.UserRole)
        self.chart.set_run_visible(run_id, item.checkState() == Qt.CheckState.Checked)

    def selected_run(self) -> RunRecord | None:
        item = self.runs_list.currentItem()
        return self.runs.get(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def remove_selected_run(self) -> None:
        run = self.selected_run()
        if run is not None and run is not self.active_run:
            self._remove_run(run.run_id)

    def _remove_run(self, run_id: int) -> None:
        run = self.runs.pop(run_id, None)
        self.chart.remove_run(run_id)
        if run is not None and run.item is not None:
            self.runs_list.takeItem(self.runs_list.row(run.item))
        self._update_result_actions()

    def _update_result_actions(self) -> None:
        run = self.selected_run()
        available = bool(run is not None and run.has_results)
        for action in (self.save_action, self.export_csv_action, self.use_action):
            action.setEnabled(available)
        self.export_png_action.setEnabled(bool(self.chart.runs))
        self.results_changed.emit(available)

    # -- results ------------------------------------------------------------------------------------

    def loaded_model(self, run: RunRecord) -> LoadedModel:
        """The run's final weights as a model for classifying (eval mode, CPU)."""
        outcome = run.outcome
        model = LeNet(ModelConfig.from_dict(outcome.model_config))
        model.load_state_dict(outcome.state_dict)
        model.eval()
        meta = dict(outcome.metadata)
        meta["title"] = self._model_title(run)
        return LoadedModel(model=model, classes=list(meta["classes"]), dataset=meta["dataset"],
                           input_kind=meta["input_kind"], metadata=meta)

    def _model_title(self, run: RunRecord) -> str:
        acc = run.outcome.history[-1].test_acc if run.outcome and run.outcome.history else None
        title = self.tr("Trained: %1 (%2), run %3").replace("%1", dataset_info(run.config.dataset).title) \
            .replace("%2", run.config.preset).replace("%3", str(run.run_id))
        if acc is not None:
            title += self.tr(", test acc %1").replace("%1", f"{acc:.3f}")
        return title

    def use_in_classify(self) -> bool:
        run = self.selected_run()
        if run is None or not run.has_results:
            return False
        loaded = self.loaded_model(run)
        self.session.add_model(loaded, title=loaded.metadata["title"])
        self.status_message.emit(self.tr("%1 is now the model in use").replace("%1", loaded.metadata["title"]))
        tabs = self._tab_widget()
        if tabs is not None:
            for index in range(tabs.count()):
                if tabs.widget(index).objectName() == "classifyTab":
                    tabs.setCurrentIndex(index)
                    break
        return True

    def _tab_widget(self) -> QTabWidget | None:
        widget = self.parentWidget()
        while widget is not None and not isinstance(widget, QTabWidget):
            widget = widget.parentWidget()
        return widget

    def _ask_path(self, title: str, setting: str, default_name: str, filters: str, suffix: str) -> str | None:
        folder = self.settings.value(setting, "", str) or str(Path.home())
        path, _ = QFileDialog.getSaveFileName(self, title, str(Path(folder) / default_name), filters)
        if not path:
            return None
        if not Path(path).suffix:
            path += suffix
        self.settings.setValue(setting, str(Path(path).parent))
        return path

    def _default_stem(self, run: RunRecord | None) -> str:
        if run is None:
            return "lenet-training"
        return f"lenet-{run.config.dataset}-{run.config.preset}-run{run.run_id}"

    def save_checkpoint_dialog(self) -> None:
        run = self.selected_run()
        if run is None or not run.has_results:
            return
        path = self._ask_path(self.tr("Save checkpoint"), "paths/checkpoints", self._default_stem(run) + ".pt",
                              self.tr("LeNet Studio checkpoints (*.pt)"), ".pt")
        if path:
            self.save_checkpoint(path, run)

    def save_checkpoint(self, path: str, run: RunRecord | None = None) -> bool:
        run = run or self.selected_run()
        if run is None or not run.has_results:
            return False
        loaded = self.loaded_model(run)
        try:
            save_checkpoint(path, loaded.model, loaded.metadata)
        except CheckpointError as exc:
            self.show_error(html.escape(str(exc)))
            return False
        self._log(self.tr("saved %1").replace("%1", str(path)))
        self.status_message.emit(self.tr("Saved %1").replace("%1", str(path)))
        return True

    def export_metrics_dialog(self) -> None:
        run = self.selected_run()
        if run is None or not run.has_results:
            return
        path = self._ask_path(self.tr("Export metrics"), "paths/exports", self._default_stem(run) + ".csv",
                              self.tr("CSV files (*.csv)"), ".csv")
        if path:
            self.export_metrics(path, run)

    def export_metrics(self, path: str, run: RunRecord | None = None) -> bool:
        """The run's per-epoch figures, with the columns of ``lenet-gui export metrics.csv``."""
        run = run or self.selected_run()
        if run is None or not run.has_results:
            return False
        try:
            write_metrics_csv(path, (e.to_dict() for e in run.outcome.history))
        except OSError as exc:
            self.show_error(html.escape(self.tr("Cannot write %1: %2").replace("%1", str(path))
                                        .replace("%2", exc.strerror or str(exc))))
            return False
        self.status_message.emit(self.tr("Exported %1").replace("%1", str(path)))
        return True

    def export_chart_dialog(self) -> None:
        path = self._ask_path(self.tr("Export chart"), "paths/exports", self._default_stem(self.selected_run()) + ".png",
                              self.tr("PNG images (*.png)"), ".png")
        if path:
            self.export_chart(path)

    def export_chart(self, path: str) -> bool:
        if not self.chart.export_png(path):
            self.show_error(html.escape(self.tr("Cannot write the chart to %1.").replace("%1", str(path))))
            return False
        self.status_message.emit(self.tr("Exported %1").replace("%1", str(path)))
        return True

    # -- the data set -------------------------------------------------------------------------------

    def _ask_for_dataset(self, key: str) -> None:
        dialog = DatasetDialog(key, self.session.data_root, self.settings, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self._on_dataset_found)
        dialog.destroyed.connect(lambda *_: setattr(self, "data_dialog", None))
        self.data_dialog = dialog
        self.status_message.emit(self.tr("The %1 data set is missing").replace("%1", dataset_info(key).title))
        dialog.open()  # window-modal and non-blocking: the event loop (and the window) keep going

    def _on_dataset_found(self) -> None:
        self.start_training()

    # -- messages -------------------------------------------------------------------------------------

    def show_error(self, message: str) -> None:
        """``message`` is rich text: escape anything that comes from outside."""
        self.banner_text.setText(message)
        self.banner.show()

    def hide_error(self) -> None:
        self.banner.hide()
        self.banner_text.clear()

    @property
    def error_text(self) -> str:
        """The message on show, as plain text (empty when none)."""
        if not self.banner.isVisibleTo(self):
            return ""
        doc = QTextDocument()
        doc.setHtml(self.banner_text.text())
        return doc.toPlainText()

    def _log(self, line: str) -> None:
        self.log.appendPlainText(line)
