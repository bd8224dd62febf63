"""The main window: tabs, menus, status bar; settings that persist between runs."""

from __future__ import annotations

import copy
import dataclasses
import re
from pathlib import Path

from PySide6.QtCore import QRect, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMessageBox, QTabWidget

from .. import app_version
from . import i18n
from ..core.checkpoint import CheckpointError, LoadedModel
from ..core.export import EXPORT_FORMATS, ExportError, export
from .classify.tab import ClassifyTab
from .inspect.tab import InspectTab
from .network.tab import NetworkTab
from .projector.tab import ProjectorTab
from . import theme
from .session import Session
from .settings import Settings
from .train.tab import TrainTab
from .train.worker import keep_window_thread_off_the_training_cores, warm_up_training_imports
from .widgets.file_dialogs import ask_save_path_as
from .widgets.shortcuts_dialog import ShortcutsDialog
from .widgets.text import Retranslating, button_text, fill
from .workers import Worker, start_worker


WARM_UP_DELAY_MS = 300
STATUS_MESSAGE_MS = 10_000
PREFERRED_SIZE = QSize(1280, 820)
# Room left around the window for what a window manager adds: borders, and a title bar above
# the window's own geometry.
FRAME_ALLOWANCE = QSize(16, 48)


class _ExportWorker(Worker):
    """Writes one export off the window thread: tracing a model for ONNX takes seconds."""

    done = Signal(str, str)  # path, error message ("" when the file was written)

    def __init__(self, loaded: LoadedModel, path: str):
        super().__init__()
        self.loaded, self.path = loaded, path

    def run(self) -> None:
        try:
            export(self.loaded, self.path)
        except ExportError as exc:
            self.done.emit(self.path, str(exc))
        except OSError as exc:
            self.done.emit(self.path, exc.strerror or str(exc))
        except Exception as exc:  # an exporter's own failure: say it instead of losing it in the thread
            self.done.emit(self.path, f"{type(exc).__name__}: {exc}")
        else:
            self.done.emit(self.path, "")


class MainWindow(Retranslating, QMainWindow):
    # File > Export model… has finished: the path, and the reason it failed ("" when written).
    export_finished = Signal(str, str)

    def __init__(self, data_root: str | None = None, settings: Settings | QSettings | None = None,
                 runs_dir: str | None = None):
        super().__init__()
        keep_window_thread_off_the_training_cores()
        self.settings = Settings.wrap(settings)
        self.session = Session(data_root=data_root, parent=self, settings=self.settings, runs_dir=runs_dir)
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.setCentralWidget(self.tabs)
        self._build_tabs()
        self._build_menus()
        self.statusBar().showMessage(self.tr("Ready"))
        # Messages report events and fade after a while (a "Training finished" would otherwise
        # outlive its truth); the run's lasting state sits in its own corner, where menu hints
        # (which clear the message area) cannot wipe it.
        self.train_tab.status_message.connect(lambda text: self.statusBar().showMessage(text, STATUS_MESSAGE_MS))
        self.run_state_label = QLabel(self.train_tab.run_state_text())
        self.run_state_label.setObjectName("runState")
        self.statusBar().addPermanentWidget(self.run_state_label)
        self.train_tab.run_state.connect(self.run_state_label.setText)
        self.session.tab_requested.connect(self.show_tab)
        self.session.open_checkpoint_requested.connect(self.open_checkpoint_dialog)
        self.session.status_requested.connect(lambda text, ms: self.statusBar().showMessage(text, ms))
        self.retranslate()
        self._restore_settings()

    # -- construction ----------------------------------------------------------------------------

    def _build_tabs(self) -> None:
        self.train_tab = TrainTab(self.session, self.settings, parent=self)
        self.tabs.addTab(self.train_tab, "")
        self.classify_tab = ClassifyTab(self.session, self.settings, self)
        self.tabs.addTab(self.classify_tab, "")
        self.inspect_tab = InspectTab(self.session, self.settings, self)
        self.tabs.addTab(self.inspect_tab, "")
        self.network_tab = NetworkTab(self.session, self.settings, self)
        self.tabs.addTab(self.network_tab, "")
        self.projector_tab = ProjectorTab(self.session, self.settings, self)
        self.tabs.addTab(self.projector_tab, "")

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.file_menu = bar.addMenu("")
        self.open_action = QAction(self)
        self.open_action.setShortcut(QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self.open_checkpoint_dialog)
        self.file_menu.addAction(self.open_action)
        # The tabs own their actions (they know when each can run); the menus make them reachable,
        # keys included, from any tab.
        self.file_menu.addAction(self.train_tab.save_action)
        self.file_menu.addSeparator()
        self.export_model_action = QAction(self)
        self.export_model_action.triggered.connect(self.export_model_dialog)
        self.file_menu.addAction(self.export_model_action)
        self._export_worker: _ExportWorker | None = None
        self.session.model_changed.connect(lambda _model: self._update_export_action())
        self._update_export_action()
        self.file_menu.addAction(self.train_tab.export_csv_action)
        self.file_menu.addAction(self.train_tab.export_png_action)
        self.file_menu.addAction(self.inspect_tab.export_action)
        self.file_menu.addSeparator()
        self.quit_action = QAction(self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.triggered.connect(self.close)
        self.file_menu.addAction(self.quit_action)

        # Mnemonics chosen to differ from the tabs' (T, C, I) and the Train form's labels.
        self.training_menu = bar.addMenu("")
        for action in (self.train_tab.train_action, self.train_tab.pause_action, self.train_tab.stop_action):
            self.training_menu.addAction(action)
        self.training_menu.addSeparator()
        self.training_menu.addAction(self.train_tab.use_action)
        self.training_menu.addAction(self.train_tab.export_script_action)
        self.training_menu.addAction(self.train_tab.inspect_action)

        self.image_menu = bar.addMenu("")
        for action in (self.classify_tab.open_image_action, self.classify_tab.paste_action):
            self.image_menu.addAction(action)
        self.image_menu.addSeparator()
        for action in (self.classify_tab.undo_action, self.classify_tab.clear_action):
            self.image_menu.addAction(action)

        self.view_menu = bar.addMenu("")
        self.tab_actions: list[QAction] = []
        for index in range(self.tabs.count()):
            action = QAction(self)
            action.setShortcut(QKeySequence(f"Ctrl+{index + 1}"))
            action.triggered.connect(lambda _=False, i=index: self.tabs.setCurrentIndex(i))
            self.view_menu.addAction(action)
            self.tab_actions.append(action)
        self.view_menu.addSeparator()
        self.language_menu = self.view_menu.addMenu("")
        self.language_group = QActionGroup(self)
        self.language_actions: dict[str, QAction] = {}
        for code, name in i18n.LANGUAGES.items():
            action = QAction(name, self.language_group)  # in its own language, never translated
            action.setCheckable(True)
            action.setChecked(code == i18n.current_language())
            action.triggered.connect(lambda _=False, c=code: self.set_language(c))
            self.language_menu.addAction(action)
            self.language_actions[code] = action
        self.view_menu.addSeparator()
        self.theme_group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        for choice in (theme.SYSTEM, theme.LIGHT, theme.DARK):
            action = QAction(self.theme_group)
            action.setCheckable(True)
            action.triggered.connect(lambda _=False, c=choice: self.set_theme(c))
            self.view_menu.addAction(action)
            self.theme_actions[choice] = action

        self.help_menu = bar.addMenu("")
        self.shortcuts_action = QAction(self)
        self.shortcuts_action.setShortcut(QKeySequence(QKeySequence.StandardKey.HelpContents))
        self.shortcuts_action.triggered.connect(self.show_shortcuts)
        self.help_menu.addAction(self.shortcuts_action)
        self.about_action = QAction(self)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.triggered.connect(self.show_about)
        self.help_menu.addAction(self.about_action)

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("LeNet Studio"))
        # Alt+T, Alt+C, Alt+I, Alt+K, Alt+J: letters that no menu or label of any tab uses.
        for tab, text in ((self.train_tab, self.tr("&Train")), (self.classify_tab, self.tr("&Classify")),
                          (self.inspect_tab, self.tr("&Inspect")), (self.network_tab, self.tr("Networ&k")),
                          (self.projector_tab, self.tr("Pro&jector"))):
            self.tabs.setTabText(self.tabs.indexOf(tab), text)
        for index, action in enumerate(self.tab_actions):
            action.setText(fill(self.tr("%1 tab"), button_text(self.tabs.tabText(index))))
        self.file_menu.setTitle(self.tr("&File"))
        self.open_action.setText(self.tr("&Open checkpoint…"))
        self.export_model_action.setText(self.tr("&Export model…"))
        self.export_model_action.setStatusTip(
            self.tr("Save the current model for other tools: ONNX, a PyTorch program, or its metrics"))
        self.quit_action.setText(self.tr("&Quit"))
        self.training_menu.setTitle(self.tr("Trai&ning"))
        self.image_menu.setTitle(self.tr("I&mage"))
        self.view_menu.setTitle(self.tr("Vie&w"))
        self.language_menu.setTitle(self.tr("&Language"))
        for choice, text in ((theme.SYSTEM, self.tr("Colours of the &system")), (theme.LIGHT, self.tr("&Light")),
                             (theme.DARK, self.tr("&Dark"))):
            self.theme_actions[choice].setText(text)
        self.help_menu.setTitle(self.tr("&Help"))
        self.shortcuts_action.setText(self.tr("&Keyboard shortcuts"))
        self.about_action.setText(self.tr("&About LeNet Studio"))
        self.run_state_label.setText(self.train_tab.run_state_text())
        for code, action in self.language_actions.items():
            action.setChecked(code == i18n.current_language())

    def set_language(self, language: str) -> None:
        """Switch every text of the window to ``language`` now, and remember the choice."""
        self.settings.language = language
        i18n.set_language(language)

    # -- actions ---------------------------------------------------------------------------------

    def show_tab(self, name: str) -> None:
        """Bring tab ``name`` (one of Session.TABS) to the front."""
        tab = {"train": self.train_tab, "classify": self.classify_tab, "inspect": self.inspect_tab,
               "network": self.network_tab, "projector": self.projector_tab}.get(name)
        if tab is not None:
            self.tabs.setCurrentWidget(tab)

    def open_checkpoint_dialog(self) -> None:
        start = self.settings.checkpoints_folder
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Open checkpoint"), start, self.tr("LeNet Studio checkpoints (*.pt *.pth);;All files (*)")
        )
        if path:
            self.open_checkpoint(path)

    def open_checkpoint(self, path: str) -> bool:
        try:
            self.session.open_checkpoint(path)
        except CheckpointError as exc:
            QMessageBox.warning(self, self.tr("Cannot open checkpoint"), str(exc))
            return False
        self.settings.checkpoints_folder = str(Path(path).parent)
        self.statusBar().showMessage(fill(self.tr("Opened %1"), path), 5000)
        return True

    def set_theme(self, choice: str) -> None:
        """Light, dark, or the system's scheme (followed as it changes); remembered."""
        if choice not in theme.CHOICES:
            choice = theme.SYSTEM
        self.settings.theme = choice
        self.theme_actions[choice].setChecked(True)
        theme.apply(choice)

    def _system_scheme_changed(self, *_args) -> None:
        if self.settings.theme == theme.SYSTEM:
            theme.apply(theme.SYSTEM)

    def show_shortcuts(self) -> ShortcutsDialog:
        dialog = ShortcutsDialog(self.menuBar(), self.tabs, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def export_format_labels(self) -> dict[str, str]:
        """The file dialog's name for each format of core.export's table (its own description
        for a format this window does not know by name yet)."""
        known = {
            ".onnx": self.tr("ONNX model"),
            ".pt2": self.tr("PyTorch exported program"),
            ".csv": self.tr("Per-epoch metrics (CSV)"),
        }
        return {suffix: known.get(suffix, fmt.description) for suffix, fmt in EXPORT_FORMATS.items()}

    def _update_export_action(self) -> None:
        self.export_model_action.setEnabled(self.session.current_model is not None and self._export_worker is None)

    def export_model_dialog(self) -> None:
        loaded = self.session.current_model
        if loaded is None:
            return
        stem = loaded.path.stem if loaded.path else re.sub(r"[^\w.-]+", "-", loaded.title).strip("-") or "lenet"
        path = ask_save_path_as(self, self.settings, "exports_folder", self.tr("Export model"), stem,
                                list((label, suffix) for suffix, label in self.export_format_labels().items()))
        if path:
            self.export_model(path)

    def export_model(self, path: str, loaded: LoadedModel | None = None) -> bool:
        """Export the current model (or ``loaded``) to ``path`` in the background; the format
        comes from the suffix. Returns False when there is nothing to export or an export is
        already under way; :attr:`export_finished` tells the outcome."""
        loaded = loaded or self.session.current_model
        if loaded is None or self._export_worker is not None:
            return False
        # The worker gets its own copy: the window keeps running the model meanwhile.
        snapshot = dataclasses.replace(loaded, model=copy.deepcopy(loaded.model),
                                       metadata=copy.deepcopy(loaded.metadata))
        worker = _ExportWorker(snapshot, path)
        worker.done.connect(self._export_done)
        self._export_worker = worker
        self._update_export_action()
        self.statusBar().showMessage(fill(self.tr("Exporting %1…"), path))
        start_worker(worker)
        return True

    def _export_done(self, path: str, error: str) -> None:
        self._export_worker = None
        self._update_export_action()
        if error:
            self.statusBar().showMessage(fill(self.tr("Cannot export %1"), path), 5000)
            QMessageBox.warning(self, self.tr("Cannot export the model"),
                                fill(self.tr("Cannot export to %1: %2"), path, error))
        else:
            self.statusBar().showMessage(fill(self.tr("Exported %1"), path), 5000)
        self.export_finished.emit(path, error)

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            self.tr("About LeNet Studio"),
            fill(self.tr(
                "<h3>LeNet Studio %1</h3><p>Train LeNet on MNIST and Fashion-MNIST, watch it learn, "
                "classify your own drawings and photos, and look inside the network layer by layer.</p>"
                "<p>Data sets: MNIST (Y. LeCun, C. Cortes, C. Burges); Fashion-MNIST (Zalando Research, MIT).</p>"
            ), app_version()),
        )

    # -- settings --------------------------------------------------------------------------------

    def _restore_settings(self) -> None:
        geometry = self.settings.window_geometry
        # restoreGeometry brings a geometry saved on other screens inside the current ones.
        if geometry is None or not self.restoreGeometry(geometry):
            self._first_size()
        tab = self.settings.window_tab
        if 0 <= tab < self.tabs.count():
            self.tabs.setCurrentIndex(tab)
        self.set_theme(self.settings.theme)
        hints = QGuiApplication.styleHints()
        if hasattr(hints, "colorSchemeChanged"):  # Qt 6.5+
            hints.colorSchemeChanged.connect(self._system_scheme_changed)

    def _first_size(self) -> None:
        """The preferred size where the screen has room for it, else the screen's free area
        (what panels and docks leave), leaving room for the title bar; centred there."""
        area = self._available_area(self.geometry().center())
        minimum = self.minimumSizeHint()
        width = max(minimum.width(), min(PREFERRED_SIZE.width(), area.width() - FRAME_ALLOWANCE.width()))
        height = max(minimum.height(), min(PREFERRED_SIZE.height(), area.height() - FRAME_ALLOWANCE.height()))
        self.resize(width, height)
        spare = QSize(area.width() - FRAME_ALLOWANCE.width() - width, area.height() - FRAME_ALLOWANCE.height() - height)
        # move() places the frame's corner (title bar included), not the contents'.
        self.move(area.x() + max(0, spare.width() // 2), area.y() + max(0, spare.height() // 2))

    def _available_area(self, point) -> QRect:
        screen = QGuiApplication.screenAt(point) or self.screen() or QGuiApplication.primaryScreen()
        return screen.availableGeometry()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        # Once the window has painted, while the user takes it in.
        QTimer.singleShot(WARM_UP_DELAY_MS, warm_up_training_imports)

    def closeEvent(self, event) -> None:
        for index in range(self.tabs.count()):
            shutdown = getattr(self.tabs.widget(index), "shutdown", None)
            if shutdown is not None:
                shutdown()
        self.settings.window_geometry = self.saveGeometry()
        self.settings.window_tab = self.tabs.currentIndex()
        super().closeEvent(event)
