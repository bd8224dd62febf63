"""The Classify tab's model picker: the session's models, and "Open checkpoint file…" at the end.

Choosing a model makes it the session's current model; the last entry asks the window for a
checkpoint file (``Session.request_open_checkpoint``), which then joins the list.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from ...core.checkpoint import CheckpointError
from ..session import Session
from ..widgets.text import Retranslating, fill

OPEN_CHECKPOINT = "open-checkpoint"


class ModelPicker(Retranslating, QWidget):
    load_failed = Signal(str)  # why the model chosen cannot be used; the current one stays

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.combo = QComboBox()
        self.combo.setObjectName("classifyModelCombo")
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.combo.activated.connect(self._activated)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        self.label.setBuddy(self.combo)
        layout.addWidget(self.label)
        layout.addWidget(self.combo)
        session.models_changed.connect(self._rebuild)
        session.model_changed.connect(lambda _loaded: self._sync())
        self.retranslate()

    def retranslate(self) -> None:
        self.label.setText(self.tr("Model:"))
        self._rebuild()  # the bundled models' titles are in the current language too

    def choose(self, index: int) -> bool:
        """Make entry ``index`` the session's current model (loading it on first use)."""
        entries = self.session.model_entries()
        if not 0 <= index < len(entries):
            return False
        try:
            loaded = self.session.load_entry(index)
        except CheckpointError as exc:
            self.load_failed.emit(fill(self.tr("Cannot load “%1”: %2"), entries[index][0], exc))
            self._sync()
            return False
        self.session.set_model(loaded)
        return True

    def _rebuild(self) -> None:
        combo = self.combo
        combo.blockSignals(True)
        combo.clear()
        for title, _entry in self.session.model_entries():
            combo.addItem(title)
        combo.insertSeparator(combo.count())
        combo.addItem(self.tr("Open checkpoint file…"), OPEN_CHECKPOINT)
        combo.blockSignals(False)
        self._sync()

    def _current_entry_index(self) -> int:
        current = self.session.current_model
        for index, (_title, entry) in enumerate(self.session.model_entries()):
            if current is not None and entry is current:
                return index
        return -1

    def _sync(self) -> None:
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(self._current_entry_index())
        self.combo.blockSignals(False)

    def _activated(self, index: int) -> None:
        if self.combo.itemData(index) == OPEN_CHECKPOINT:
            self._sync()  # until a file is chosen, the current model stays selected
            self.session.request_open_checkpoint()
            return
        self.choose(index)
