"""The main window: tabs, menus, status bar; settings that persist between runs."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMessageBox, QTabWidget

from .. import __version__
from . import i18n
from ..core.checkpoint import CheckpointError
from .classify.tab import ClassifyTab
from .inspect.tab import InspectTab
from .session import Session
from .settings import Settings
from .train.tab import TrainTab
from .train.worker import keep_window_thread_off_the_training_cores, warm_up_training_imports
from .widgets.text import Retranslating, fill


WARM_UP_DELAY_MS = 300


class MainWindow(Retranslating, QMainWindow):
    def __init__(self, data_root: str | None = None, settings: Settings | QSettings | None = None):
        super().__init__()
        keep_window_thread_off_the_training_cores()
        self.settings = Settings.wrap(settings)
        self.session = Session(data_root=data_root, parent=self, settings=self.settings)
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.setCentralWidget(self.tabs)
        self._build_tabs()
        self._build_menus()
        self.statusBar().showMessage(self.tr("Ready"))
        # Messages stay until the next one; the run's state sits in its own corner, where menu
        # hints (which clear the message area) cannot wipe it.
        self.train_tab.status_message.connect(lambda text: self.statusBar().showMessage(text))
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

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.file_menu = bar.addMenu("")
        self.open_action = QAction(self)
        self.open_action.setShortcut(QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self.open_checkpoint_dialog)
        self.file_menu.addAction(self.open_action)
        # The Train tab owns these actions: it knows when there is a trained model to save.
        self.file_menu.addAction(self.train_tab.save_action)
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.train_tab.export_csv_action)
        self.file_menu.addAction(self.train_tab.export_png_action)
        self.file_menu.addSeparator()
        self.quit_action = QAction(self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.triggered.connect(self.close)
        self.file_menu.addAction(self.quit_action)
        self.view_menu = bar.addMenu("")
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
        self.help_menu = bar.addMenu("")
        self.about_action = QAction(self)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.triggered.connect(self.show_about)
        self.help_menu.addAction(self.about_action)

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("LeNet Studio"))
        for tab, text in ((self.train_tab, self.tr("Train")), (self.classify_tab, self.tr("Classify")),
                          (self.inspect_tab, self.tr("Inspect"))):
            self.tabs.setTabText(self.tabs.indexOf(tab), text)
        self.file_menu.setTitle(self.tr("&File"))
        self.open_action.setText(self.tr("&Open checkpoint…"))
        self.quit_action.setText(self.tr("&Quit"))
        self.view_menu.setTitle(self.tr("&View"))
        self.language_menu.setTitle(self.tr("&Language"))
        self.help_menu.setTitle(self.tr("&Help"))
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
        tab = {"train": self.train_tab, "classify": self.classify_tab, "inspect": self.inspect_tab}.get(name)
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

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            self.tr("About LeNet Studio"),
            fill(self.tr(
                "<h3>LeNet Studio %1</h3><p>Train LeNet on MNIST and Fashion-MNIST, watch it learn, "
                "classify your own drawings and photos, and look inside the network layer by layer.</p>"
                "<p>Data sets: MNIST (Y. LeCun, C. Cortes, C. Burges); Fashion-MNIST (Zalando Research, MIT).</p>"
            ), __version__),
        )

    # -- settings --------------------------------------------------------------------------------

    def _restore_settings(self) -> None:
        geometry = self.settings.window_geometry
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1280, 820)
        tab = self.settings.window_tab
        if 0 <= tab < self.tabs.count():
            self.tabs.setCurrentIndex(tab)

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
