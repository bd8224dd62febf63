"""Runs side by side: one row per run, a column for every setting that differs between them,
then their final figures; sortable by any column, exportable as CSV. The table comes from
core.history.comparison, which a CSV export writes unchanged."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView, QDialog, QDialogButtonBox, QHeaderView, QLabel, QPushButton, QTableWidget,
    QTableWidgetItem, QVBoxLayout,
)

from ...core import history
from ...core.engine import LINE_PLACES
from ..settings import Settings
from ..widgets.file_dialogs import ask_save_path
from ..widgets.text import Retranslating, fill


class CompareDialog(Retranslating, QDialog):
    def __init__(self, records: list[history.RunRecord], settings: Settings, parent=None):
        super().__init__(parent)
        self.setObjectName("compareDialog")
        self.settings = settings
        self.columns, self.rows = history.comparison(records)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.table = QTableWidget(len(self.rows), len(self.columns))
        self.table.setObjectName("compareTable")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        for row, values in enumerate(self.rows):
            for column, value in enumerate(values):
                item = QTableWidgetItem()
                if isinstance(value, bool):
                    item.setData(Qt.ItemDataRole.UserRole, value)  # its text: retranslate()
                elif isinstance(value, float):
                    # Numbers sort as numbers; the final figures shown as the epoch's line
                    # writes them, settings to four places (a tiny one as it is: 1e-05).
                    key = self.columns[column]
                    if key in LINE_PLACES:
                        shown = round(value, LINE_PLACES[key])
                    else:
                        shown = round(value, 4) if abs(value) >= 1e-3 else value
                    item.setData(Qt.ItemDataRole.DisplayRole, shown)
                elif isinstance(value, int) and not isinstance(value, bool):
                    item.setData(Qt.ItemDataRole.DisplayRole, value)
                else:
                    item.setText("–" if value is None else str(value))
                self.table.setItem(row, column, item)
        # Sortable by a click on a column's title; until then in the order the runs were listed.
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        self.export_button = QPushButton()
        self.export_button.clicked.connect(self.export_dialog)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.export_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.retranslate()  # the columns' titles first: the table's width depends on them
        self.table.resizeColumnsToContents()
        wanted = self.table.horizontalHeader().length() + 2 * self.table.frameWidth() + 24
        self.resize(max(520, min(1100, wanted)), 360)

    def column_label(self, key: str) -> str:
        labels = {
            "id": self.tr("Run"), "dataset": self.tr("Data set"), "preset": self.tr("Preset"),
            "epochs": self.tr("Epochs"), "batch_size": self.tr("Batch size"), "lr": self.tr("Learning rate"),
            "optimizer": self.tr("Optimizer"), "momentum": self.tr("Momentum"),
            "weight_decay": self.tr("Weight decay"), "schedule": self.tr("Schedule"),
            "label_smoothing": self.tr("Label smoothing"), "augment_shift": self.tr("Random shift"),
            "augment_flip": self.tr("Random flip"), "activation": self.tr("Activation"), "pool": self.tr("Pooling"),
            "batch_norm": self.tr("Batch norm"), "dropout": self.tr("Dropout"),
            "normalize": self.tr("Normalised input"), "device": self.tr("Device"), "seed": self.tr("Seed"),
            "threads": self.tr("Threads"), "eval_batch_size": self.tr("Test batch size"),
            "epochs_done": self.tr("Epochs done"), "loss": self.tr("Final loss"),
            "train_acc": self.tr("Final train acc"), "test_acc": self.tr("Final test acc"),
            "seconds": self.tr("Time (s)"),
        }
        return labels.get(key, key)

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Compare runs"))
        differing = self.columns[1 + len(history.METRICS):]
        if differing:
            names = self.tr(", ").join(self.column_label(key) for key in differing)
            text = fill(self.tr("%n setting(s) differ between these runs: %1; the others are the same. "
                                "Click a column's title to sort by it.", "", len(differing)), names)
        else:
            text = self.tr("These runs have the same settings. Click a column's title to sort by it.")
        self.summary.setText(text)
        self.table.setHorizontalHeaderLabels([self.column_label(key) for key in self.columns])
        for row in range(self.table.rowCount()):
            for column in range(self.table.columnCount()):
                item = self.table.item(row, column)
                value = item.data(Qt.ItemDataRole.UserRole)
                if isinstance(value, bool):
                    item.setText(self.tr("yes") if value else self.tr("no"))
        self.export_button.setText(self.tr("&Export CSV…"))

    def header_keys(self) -> list[str]:
        return list(self.columns)

    def export_dialog(self) -> None:
        path = ask_save_path(self, self.settings, "exports_folder", self.tr("Export comparison"),
                             "lenet-runs-compared.csv", self.tr("CSV files (*.csv)"), ".csv")
        if path:
            self.export_csv(path)

    def export_csv(self, path: str) -> bool:
        """The table as core.history.comparison made it (raw setting names, full precision)."""
        try:
            history.write_comparison_csv(path, self.columns, self.rows)
        except OSError as exc:
            self.summary.setText(html.escape(fill(self.tr("Cannot write %1: %2"), path, exc.strerror or str(exc))))
            return False
        return True
