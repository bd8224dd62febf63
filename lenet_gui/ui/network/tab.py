"""The Network tab: LeNet drawn layer by layer for the current model (shapes with their
arithmetic, parameters with their formula, multiply-adds, print(net)), and a step-through of
how any value of a layer is computed on the current input.

The numbers come from core.architecture and core.stepthrough. Work that depends on the input is
done only while the tab is visible (an input that arrives while it is hidden marks it stale).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.architecture import Architecture, describe, number
from ...core.checkpoint import LoadedModel
from ...core.inference import Prediction, Predictor
from ...core.stepthrough import INPUT, STEP_LAYER_NAMES, Step, explain, positions
from ..session import CurrentInput, Session
from ..settings import Settings
from ..widgets.deferred import WhenVisible
from ..widgets.text import Retranslating, fill
from ..widgets.text_line import TextLine
from .diagram import NetworkDiagram
from .explanation import ExplanationView, index_text
from .layer_grid import LayerGrid

SWEEP_INTERVAL_MS = 120
DEFAULT_LAYER = "conv1"


class NetworkTab(Retranslating, QWidget):
    explained = Signal()  # the explanation was brought up to date (a new input, model or position)

    def __init__(self, session: Session, settings: Settings | QSettings | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("networkTab")
        self.session = session
        self.settings = Settings.wrap(settings) if settings is not None else session.settings
        self.architecture: Architecture | None = None
        self.predictor: Predictor | None = None
        self.prediction: Prediction | None = None
        self.image: np.ndarray | None = None
        self.shown_input: CurrentInput | None = None
        self.step: Step | None = None
        self.layer = DEFAULT_LAYER
        self.positions: dict[str, tuple[int, ...]] = {}  # the chosen position per layer

        self.diagram = NetworkDiagram()
        self.diagram.layer_clicked.connect(self.set_layer)

        # Step through.
        self.layer_label = QLabel()
        self.layer_box = QComboBox()
        self.layer_box.setObjectName("networkLayer")
        for name in STEP_LAYER_NAMES:
            self.layer_box.addItem(name, name)
        self.layer_box.currentIndexChanged.connect(lambda i: self.set_layer(self.layer_box.itemData(i)))
        self.layer_label.setBuddy(self.layer_box)
        self.play_button = QPushButton()
        self.play_button.setObjectName("networkPlay")
        self.play_button.setCheckable(True)
        self.play_button.toggled.connect(self._play_toggled)
        self.position_label = TextLine()
        self.position_label.setObjectName("networkPosition")
        controls = QHBoxLayout()
        controls.addWidget(self.layer_label)
        controls.addWidget(self.layer_box)
        controls.addWidget(self.play_button)
        controls.addWidget(self.position_label, 1)
        self.grid = LayerGrid()
        self.grid.position_chosen.connect(self.set_position)
        self.explanation = ExplanationView()
        body = QSplitter(Qt.Orientation.Horizontal)
        body.addWidget(self.grid)
        body.addWidget(self.explanation)
        body.setStretchFactor(0, 0)
        body.setStretchFactor(1, 1)
        body.setSizes([250, 750])
        body.setChildrenCollapsible(False)
        self.step_page = QWidget()
        step_layout = QVBoxLayout(self.step_page)
        step_layout.setContentsMargins(4, 4, 4, 4)
        step_layout.addLayout(controls)
        step_layout.addWidget(body, 1)

        # The table, and print(net).
        self.table = QTableWidget(0, 6)
        self.table.setObjectName("networkTable")
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.printed = QPlainTextEdit()
        self.printed.setObjectName("networkPrinted")
        self.printed.setReadOnly(True)
        self.printed.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.printed.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)

        self.pages = QTabWidget()
        self.pages.setObjectName("networkPages")
        self.pages.addTab(self.step_page, "")
        self.pages.addTab(self.table, "")
        self.pages.addTab(self.printed, "")
        layout = QVBoxLayout(self)
        layout.addWidget(self.diagram)
        layout.addWidget(self.pages, 1)

        self.sweep_timer = QTimer(self)
        self.sweep_timer.setInterval(SWEEP_INTERVAL_MS)
        self.sweep_timer.timeout.connect(self._sweep_step)

        self._input_update = WhenVisible(self.step_page, self.refresh_input)
        session.model_changed.connect(self._model_changed)
        session.input_changed.connect(lambda _current: self._input_update.request())
        self.retranslate()
        self._model_changed(session.current_model)

    def retranslate(self) -> None:
        self.layer_label.setText(self.tr("&Layer:"))
        self.pages.setTabText(self.pages.indexOf(self.step_page), self.tr("Step through"))
        self.pages.setTabText(self.pages.indexOf(self.table), self.tr("Layer table"))
        self.pages.setTabText(self.pages.indexOf(self.printed), self.tr("print(net)"))
        self.table.setHorizontalHeaderLabels([
            self.tr("Layer"), self.tr("Kind"), self.tr("Output shape"), self.tr("Shape arithmetic"),
            self.tr("Parameters"), self.tr("Multiply-adds")])
        self._update_play_text()
        self._fill_architecture()
        self._input_update.request()

    def _update_play_text(self) -> None:
        self.play_button.setText(self.tr("■ Stop") if self.play_button.isChecked() else self.tr("▶ Play"))
        self.play_button.setToolTip(self.tr("Sweep the window across the layer, value after value"))

    # -- the model -------------------------------------------------------------------------------

    def _model_changed(self, loaded: LoadedModel | None) -> None:
        self.stop_sweep()
        self.predictor = Predictor(loaded) if loaded is not None else None
        try:
            self.architecture = describe(loaded.model) if loaded is not None else None
        except ValueError:  # a model of another shape: the table cannot describe it
            self.architecture = None
        self._fill_architecture()
        self._input_update.request()

    def _fill_architecture(self) -> None:
        arch = self.architecture
        self.diagram.set_architecture(arch, self.no_model_text())
        self.diagram.set_selected(self.layer)
        self.printed.setPlainText(arch.printed if arch is not None else self.no_model_text())
        rows = arch.rows if arch is not None else ()
        self.table.setRowCount(len(rows) + (1 if rows else 0))
        for r, row in enumerate(rows):
            kind = row.kind + (f" + {row.activation}" if row.activation else "")
            cells = (row.name, f"{kind} ({row.detail})" if row.detail else kind, row.shape_text, row.shape_formula,
                     row.parameter_formula or "0", row.mac_formula or "0")
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(text))
        if rows:
            total = len(rows)
            self.table.setItem(total, 0, QTableWidgetItem(self.tr("total")))
            for c in range(1, 4):
                self.table.setItem(total, c, QTableWidgetItem(""))
            self.table.setItem(total, 4, QTableWidgetItem(number(arch.total_parameters)))
            self.table.setItem(total, 5, QTableWidgetItem(number(arch.total_macs)))

    def no_model_text(self) -> str:
        return self.tr("No model loaded: choose one in the Classify tab, open a checkpoint "
                       "(File ▸ Open), or train one in the Train tab.")

    # -- the input -------------------------------------------------------------------------------

    def refresh_input(self) -> None:
        """Run the model on the current input (unless its publisher already did) and explain."""
        current = self.session.current_input
        loaded = self.session.current_model
        self.prediction = self.image = self.shown_input = None
        if loaded is None or self.predictor is None:
            return self._no_step(self.no_model_text())
        if current is None:
            return self._no_step(self.tr("No input yet: draw a digit or drop an image in the Classify tab, "
                                         "or click a test image in the Inspect tab."))
        if current.preprocessed.blank:
            return self._no_step(self.tr("The input is blank: there is nothing to compute."))
        tensor = current.preprocessed.tensor
        prediction = current.prediction if current.model is loaded else None
        try:
            if prediction is None:
                prediction = self.predictor.predict(tensor)
        except (RuntimeError, ValueError) as exc:
            return self._no_step(fill(self.tr("This input cannot be shown: %1"), exc))
        self.prediction = prediction
        self.image = tensor.reshape(28, 28).numpy()
        self.shown_input = current
        self._explain(keep_channel=True)

    def _no_step(self, message: str) -> None:
        self.stop_sweep()
        self.step = None
        self.grid.set_values(self.layer, None, None)
        self.explanation.set_message(message)
        self.position_label.setText("")
        self.explained.emit()

    def set_layer(self, layer: str) -> None:
        if layer not in STEP_LAYER_NAMES:
            return
        changed = layer != self.layer
        self.layer = layer
        self.layer_box.blockSignals(True)
        self.layer_box.setCurrentIndex(STEP_LAYER_NAMES.index(layer))
        self.layer_box.blockSignals(False)
        self.diagram.set_selected(layer)
        if changed:
            self.stop_sweep()
            if self.prediction is not None:
                self._explain()

    def position(self) -> tuple[int, ...]:
        shape = positions(self.layer)
        default = (0, shape[1] // 2, shape[2] // 2) if len(shape) == 3 else (0,)
        return self.positions.get(self.layer, default)

    def set_position(self, position: tuple[int, ...]) -> None:
        self.positions[self.layer] = tuple(position)
        if self.prediction is not None:
            self._explain(keep_channel=True)

    def _explain(self, keep_channel: bool = False) -> None:
        loaded = self.session.current_model
        position = self.position()
        acts = self.prediction.activations
        self.step = explain(loaded.model, self.image, acts, self.layer, position)
        source = self.image.reshape(1, 28, 28) if self.step.source == INPUT else acts[self.step.source]
        self.grid.set_values(self.layer, acts[self.layer], position)
        self.explanation.set_step(self.step, self.image, source, keep_channel=keep_channel)
        self.position_label.setText(fill(self.tr("%1 = %2 · arrow keys: neighbours · click a value to explain it"),
                                         index_text(self.layer, position), f"{self.step.value:.4f}"))
        self.explained.emit()

    # -- the sweep -------------------------------------------------------------------------------

    def _play_toggled(self, playing: bool) -> None:
        if playing and self.prediction is None:
            self.play_button.setChecked(False)
            return
        if playing:
            if self._next_position() is None:  # at the end: sweep again from the start
                shape = positions(self.layer)
                self.set_position((self.position()[0], 0, 0) if len(shape) == 3 else (0,))
            self.sweep_timer.start()
        else:
            self.sweep_timer.stop()
        self._update_play_text()

    def start_sweep(self) -> None:
        self.play_button.setChecked(True)

    def stop_sweep(self) -> None:
        self.play_button.setChecked(False)

    @property
    def sweeping(self) -> bool:
        return self.sweep_timer.isActive()

    def _next_position(self) -> tuple[int, ...] | None:
        """The next position in reading order within the channel (the next unit for fc
        layers); None after the last."""
        shape = positions(self.layer)
        position = self.position()
        if len(shape) == 3:
            channel, row, col = position
            flat = row * shape[2] + col + 1
            return (channel, *divmod(flat, shape[2])) if flat < shape[1] * shape[2] else None
        return (position[0] + 1,) if position[0] + 1 < shape[0] else None

    def _sweep_step(self) -> None:
        following = self._next_position()
        if self.prediction is None or not self.isVisible() or following is None:
            self.stop_sweep()
            return
        self.set_position(following)

    def shutdown(self) -> None:
        self.stop_sweep()
