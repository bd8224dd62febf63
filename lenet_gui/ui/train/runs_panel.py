"""The runs list with what can be done with the selected run (save, use, export, remove)."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractItemView, QGridLayout, QGroupBox, QListView, QPushButton, QVBoxLayout

from ..widgets.text import Retranslating
from .runs_model import RunRecord, RunsModel
from .buttons import action_button


class RunsPanel(Retranslating, QGroupBox):
    selection_changed = Signal()  # the selected run changed (or its state did)
    remove_requested = Signal(int)  # run_id

    def __init__(self, model: RunsModel, result_actions: list[QAction], parent=None):
        super().__init__(parent)
        self.model = model
        self.list = QListView()
        self.list.setObjectName("runsList")
        self.list.setModel(model)
        self.list.setWordWrap(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.selectionModel().currentChanged.connect(lambda *_: self.selection_changed.emit())
        model.dataChanged.connect(lambda *_: self.selection_changed.emit())
        model.rowsRemoved.connect(lambda *_: self.selection_changed.emit())
        self.remove_button = QPushButton()
        self.remove_button.clicked.connect(self._remove_clicked)
        results = QGridLayout()
        for index, action in enumerate(result_actions):
            results.addWidget(action_button(action), index // 2, index % 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addLayout(results)
        self.retranslate()

    def retranslate(self) -> None:
        self.setTitle(self.tr("Runs"))
        self.list.setToolTip(self.tr("Runs of this session: untick to hide one on the chart"))
        self.remove_button.setText(self.tr("&Remove run"))
        self.remove_button.setToolTip(self.tr("Remove the selected run from the chart and the list"))
        self.model.retranslate()

    def selected_run(self) -> RunRecord | None:
        return self.model.run_at(self.list.currentIndex())

    def select_run(self, run_id: int) -> None:
        row = self.model.row_of(run_id)
        if row >= 0:
            self.list.selectionModel().setCurrentIndex(self.model.index(row),
                                                       QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def run_texts(self) -> list[str]:
        """The lines of the list, as the user reads them."""
        return [self.model.index(row).data() for row in range(self.model.rowCount())]

    def _remove_clicked(self) -> None:
        run = self.selected_run()
        if run is not None:
            self.remove_requested.emit(run.run_id)
