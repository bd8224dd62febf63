"""The runs list with what can be done with the selected runs: save, use, export; rename,
annotate, delete (and undo), compare, train again; and where the run history is kept."""

from __future__ import annotations

from PySide6.QtCore import QSize, QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QListView, QPushButton, QVBoxLayout,
)

from ..widgets.text import Retranslating, fill
from .runs_model import RunRecord, RunsModel
from .buttons import action_button


class _RunsList(QListView):
    """Prefers the height of three runs (two lines each) over QListView's 192 pixels: on a
    screen of 800 pixels or less the form scrolls at its preferred height, and the buttons under
    the list (Use in Classify among them) would start below the fold. Given room, it grows."""

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(hint.width(), 6 * self.fontMetrics().lineSpacing() + 2 * self.frameWidth() + 8)


class RunsPanel(Retranslating, QGroupBox):
    selection_changed = Signal()  # the selected runs changed (or their state did)
    remove_requested = Signal(int)  # run_id
    rename_requested = Signal(int)  # run_id
    note_requested = Signal(int)  # run_id
    again_requested = Signal(int)  # run_id: its settings into the form
    undo_requested = Signal()
    compare_requested = Signal()
    folder_change_requested = Signal()

    def __init__(self, model: RunsModel, result_actions: list[QAction], parent=None):
        super().__init__(parent)
        self.model = model
        self.list = _RunsList()
        self.list.setObjectName("runsList")
        self.list.setModel(model)
        self.list.setWordWrap(True)
        # Several at once, to compare them (Ctrl/Shift+click); the current one is the one acted on.
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.selectionModel().currentChanged.connect(lambda *_: self.selection_changed.emit())
        self.list.selectionModel().selectionChanged.connect(lambda *_: self.selection_changed.emit())
        model.dataChanged.connect(lambda *_: self.selection_changed.emit())
        model.rowsRemoved.connect(lambda *_: self.selection_changed.emit())
        model.rowsInserted.connect(lambda *_: self.selection_changed.emit())

        def button(name: str, slot) -> QPushButton:
            widget = QPushButton()
            widget.setObjectName(name)
            widget.clicked.connect(slot)
            return widget

        self.rename_button = button("renameRun", lambda: self._emit_for_current(self.rename_requested))
        self.note_button = button("noteRun", lambda: self._emit_for_current(self.note_requested))
        self.remove_button = button("deleteRun", lambda: self._emit_for_current(self.remove_requested))
        self.undo_button = button("undoDelete", self.undo_requested.emit)
        self.undo_button.setEnabled(model.can_undo)
        model.undo_available.connect(self.undo_button.setEnabled)
        self.compare_button = button("compareRuns", self.compare_requested.emit)
        self.again_button = button("trainAgain", lambda: self._emit_for_current(self.again_requested))
        edits = QGridLayout()
        edits.setSpacing(4)
        for index, widget in enumerate((self.rename_button, self.note_button, self.compare_button,
                                        self.remove_button, self.undo_button, self.again_button)):
            edits.addWidget(widget, index // 3, index % 3)
        results = QGridLayout()
        for index, action in enumerate(result_actions):
            results.addWidget(action_button(action), index // 2, index % 2)

        self.folder_label = QLabel()
        self.folder_label.setObjectName("runsFolder")
        self.folder_label.setWordWrap(True)
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.folder_label.setStyleSheet("color: palette(placeholder-text);")
        self.folder_button = button("changeRunsFolder", self.folder_change_requested.emit)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_label, 1)
        folder_row.addWidget(self.folder_button, 0, Qt.AlignmentFlag.AlignTop)
        self._folder = ""

        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addLayout(edits)
        layout.addLayout(results)
        layout.addLayout(folder_row)
        self.retranslate()

    def retranslate(self) -> None:
        self.setTitle(self.tr("Runs"))
        self.list.setToolTip(self.tr("This session's runs and the run history: tick a run to show it on the "
                                     "chart; Ctrl+click to select several and compare them"))
        for widget, text, tip in (
            (self.rename_button, self.tr("&Rename…"), self.tr("Give the selected run a name of your own")),
            (self.note_button, self.tr("Note…"), self.tr("Write a note about the selected run")),
            (self.remove_button, self.tr("Delete run"),
             self.tr("Delete the selected run from the list and the run history (Undo brings it back)")),
            (self.undo_button, self.tr("&Undo delete"), self.tr("Bring back the run deleted last")),
            (self.compare_button, self.tr("Comp&are…"),
             self.tr("Compare the selected runs (or every ticked run): the settings that differ and the final figures")),
            (self.again_button, self.tr("Train a&gain"), self.tr("Put the selected run's settings into the form")),
        ):
            widget.setText(text)
            widget.setToolTip(tip)
        # Few buttons here have an Alt+letter: the form's labels, the tabs and the menus use most.
        self.folder_button.setText(self.tr("Change…"))
        self.folder_button.setToolTip(self.tr("Keep the run history in another folder"))
        self._show_folder()
        self.model.retranslate()

    def set_folder(self, folder: str) -> None:
        self._folder = folder
        self._show_folder()

    def _show_folder(self) -> None:
        self.folder_label.setText(fill(self.tr("Run history: %1"), self._folder))

    def selected_run(self) -> RunRecord | None:
        return self.model.run_at(self.list.currentIndex())

    def selected_runs(self) -> list[RunRecord]:
        """Every selected run, in the list's order."""
        rows = sorted(index.row() for index in self.list.selectionModel().selectedIndexes())
        return [run for run in (self.model.run_at(self.model.index(row)) for row in rows) if run is not None]

    def select_run(self, run_id: int) -> None:
        row = self.model.row_of(run_id)
        if row >= 0:
            self.list.selectionModel().setCurrentIndex(self.model.index(row),
                                                       QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def select_runs(self, run_ids: list[int]) -> None:
        """Select these runs (the first becomes the current one)."""
        selection = self.list.selectionModel()
        selection.clearSelection()
        for index, run_id in enumerate(run_ids):
            row = self.model.row_of(run_id)
            if row < 0:
                continue
            flag = QItemSelectionModel.SelectionFlag.Select
            if index == 0:
                selection.setCurrentIndex(self.model.index(row), flag)
            else:
                selection.select(self.model.index(row), flag)

    def run_texts(self) -> list[str]:
        """The lines of the list, as the user reads them."""
        return [self.model.index(row).data() for row in range(self.model.rowCount())]

    def _emit_for_current(self, signal) -> None:
        run = self.selected_run()
        if run is not None:
            signal.emit(run.run_id)
