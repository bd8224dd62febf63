"""The Inspect tab: what each layer of LeNet does to the current input, and where the model fails.

Top: the feature maps of every layer for the session's current input, left to right like the
network. Bottom left: saliency over the input. Bottom right: the test set under the current
model (accuracy, confusion matrix, misclassified images) and the learned filters.

Work is done only while the tab is visible: an input that arrives while it is hidden (the
Classify tab emits one per throttled stroke) only marks the view stale, and showing the tab
brings it up to date.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.checkpoint import LoadedModel
from ...core.inference import Prediction, Predictor
from ..session import CurrentInput, Session
from ..settings import Settings
from ..widgets.deferred import WhenVisible
from ..widgets.file_dialogs import ask_save_path
from ..widgets.text import Retranslating, display_class_name, display_model_title, fill
from ..widgets.text_line import TextLine
from .feature_maps import FeatureMapView
from .filters import FilterView
from .map_zoom import MapZoomDialog
from .saliency import SaliencyPanel
from .test_set import TestSetPanel

EXPORT_SIZE = (1600, 520)


class InspectTab(Retranslating, QWidget):
    def __init__(self, session: Session, settings: Settings | QSettings | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("inspectTab")
        self.session = session
        self.settings = Settings.wrap(settings) if settings is not None else session.settings
        self.predictor: Predictor | None = None
        self.prediction: Prediction | None = None
        # The input the maps were last computed for (None: a message is shown instead).
        self.shown_input: CurrentInput | None = None
        self.zoom_dialog: MapZoomDialog | None = None
        self._live_weights: dict | None = None
        self._live_time = 0.0

        # Header: what is shown, and the export.
        self.input_label = TextLine()
        self.input_label.setObjectName("inspectInputLabel")
        self.export_button = QPushButton()
        self.export_button.setObjectName("exportFeatureMaps")
        self.export_button.clicked.connect(self.export_dialog)
        # The window's File menu offers it from any tab; it brings this tab (and its maps) up first.
        self.export_action = QAction(self)
        self.export_action.setShortcut(QKeySequence("Ctrl+E"))
        self.export_action.triggered.connect(self._export_from_anywhere)
        header = QHBoxLayout()
        header.addWidget(self.input_label, 1)
        header.addWidget(self.export_button)

        # The layers.
        self.maps = FeatureMapView()
        self.maps.hovered.connect(self._maps_hovered)
        self.maps.map_clicked.connect(self.open_zoom)
        self.hover_label = TextLine()
        self.hover_label.setObjectName("inspectHoverLabel")
        maps_box = QWidget()
        maps_layout = QVBoxLayout(maps_box)
        maps_layout.setContentsMargins(0, 0, 0, 0)
        maps_layout.addLayout(header)
        maps_layout.addWidget(self.maps, 1)
        maps_layout.addWidget(self.hover_label)

        # Saliency: computed for a new input once the maps and probabilities are on screen.
        self.saliency = SaliencyPanel()
        self.saliency.hold_new_inputs = True
        self.maps.painted.connect(self.saliency.release)

        # Filters.
        self.filters = FilterView()
        self.filters_source = QLabel()
        self.filters_source.setObjectName("filtersSource")
        self.filters_hover = QLabel(" ")
        self.filters.hovered.connect(lambda text: self.filters_hover.setText(text or " "))
        filters_page = QWidget()
        filters_layout = QVBoxLayout(filters_page)
        filters_layout.addWidget(self.filters_source)
        filters_layout.addWidget(self.filters, 1)
        filters_layout.addWidget(self.filters_hover)

        # Test set.
        self.test_set = TestSetPanel(session)

        self.lower_tabs = QTabWidget()
        self.lower_tabs.setObjectName("inspectLowerTabs")
        self.lower_tabs.addTab(self.test_set, "")
        self.lower_tabs.addTab(filters_page, "")
        self.filters_page = filters_page

        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(self.saliency)
        lower.addWidget(self.lower_tabs)
        lower.setStretchFactor(0, 0)
        lower.setStretchFactor(1, 1)
        lower.setSizes([230, 1050])
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(maps_box)
        self.splitter.addWidget(lower)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([380, 420])
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter)

        # Recomputed only while on screen: the maps when the tab is shown, the filters when
        # their page is.
        self._input_update = WhenVisible(self, self.refresh_input)
        self._filters_update = WhenVisible(self.filters, self.update_filters)
        session.model_changed.connect(self._model_changed)
        session.input_changed.connect(self._input_changed)
        session.live_weights.connect(self._live_weights_arrived)
        session.training_state_changed.connect(self._training_state_changed)
        self.retranslate()
        self._model_changed(session.current_model)

    def retranslate(self) -> None:
        self.export_button.setText(self.tr("Export feature maps as PNG…"))
        self.export_action.setText(self.tr("Export &feature maps (PNG)…"))
        self.hover_label.setText(self.hover_hint())
        self.lower_tabs.setTabText(self.lower_tabs.indexOf(self.test_set), self.tr("Test set"))
        self.lower_tabs.setTabText(self.lower_tabs.indexOf(self.filters_page), self.tr("Filters"))
        # The messages and captions that depend on the input and the model: made again (at once
        # while on screen, else when the tab is next shown).
        self._input_update.request()
        self._filters_update.request()

    def hover_hint(self) -> str:
        return self.tr("Each layer has one colour scale (its range is under it). "
                       "Hover over a map to read a value; click a map to enlarge it.")

    # -- session -------------------------------------------------------------------------------

    def _model_changed(self, loaded: LoadedModel | None) -> None:
        self.predictor = Predictor(loaded) if loaded is not None else None
        if loaded is not None:
            self.saliency.set_classes(loaded.classes)
        self.test_set.set_model(loaded)
        self._filters_update.request()
        self._input_update.request()

    def _input_changed(self, current: CurrentInput | None) -> None:
        self._input_update.request()

    def _live_weights_arrived(self, weights: dict) -> None:
        self._live_weights = weights
        self._live_time = time.time()
        self._filters_update.request()

    def _training_state_changed(self, active: bool) -> None:
        # A run that starts or ends makes earlier live weights stale either way.
        self._live_weights = None
        self._filters_update.request()

    # -- the current input ---------------------------------------------------------------------

    def refresh_input(self) -> None:
        """Recompute and redraw everything that depends on the current input."""
        current = self.session.current_input
        loaded = self.session.current_model
        self.prediction = None
        self.shown_input = None
        if loaded is None or self.predictor is None:
            self._no_input(self.tr("No model loaded: choose one in the Classify tab, open a checkpoint "
                                   "(File ▸ Open), or train one in the Train tab."))
            return
        if current is None:
            self._no_input(self.tr("No input yet: draw a digit or drop an image in the Classify tab, "
                                   "or click a test image below."))
            return
        if current.preprocessed.blank:
            self._no_input(self.tr("The input is blank: there is nothing to classify."))
            return
        tensor = current.preprocessed.tensor
        prediction = current.prediction if current.model is loaded else None
        if prediction is None:  # the publisher used another model, or did not predict
            try:
                prediction = self.predictor.predict(tensor)
            except (RuntimeError, ValueError) as exc:  # a malformed input must not break the tab
                self._no_input(fill(self.tr("This input cannot be shown: %1"), exc))
                return
        self.prediction = prediction
        self.shown_input = current
        self.hover_label.setText(self.hover_hint())  # a read-out of the previous input is no longer true
        self.maps.set_data(tensor.reshape(28, 28).numpy(), prediction.activations,
                           prediction.probabilities, loaded.classes,
                           prediction.logits if loaded.calibration.average_mirror else None)
        self.saliency.set_input(self.predictor, tensor, prediction)
        if prediction.unfamiliar:  # the model's out-of-distribution check, as in the Classify tab
            template = self.tr("Input: %1 · model: %2 · unlike its training images (nearest class: %3, %4)")
        else:
            template = self.tr("Input: %1 · model: %2 · prediction: %3 (%4)")
        self.input_label.setText(fill(template, current.description, display_model_title(loaded),
                                      display_class_name(prediction.label), f"{100 * prediction.confidence:.1f}%"))
        self.export_button.setEnabled(True)
        if self.zoom_dialog is not None and self.zoom_dialog.isVisible():
            self.zoom_dialog.refresh()

    def _no_input(self, message: str) -> None:
        self.hover_label.setText(self.hover_hint())
        self.maps.set_message(message)
        self.saliency.set_input(None, None, None, message)
        self.input_label.setText(message)
        self.export_button.setEnabled(False)
        if self.zoom_dialog is not None and self.zoom_dialog.isVisible():
            self.zoom_dialog.refresh()

    def _maps_hovered(self, text: str) -> None:
        self.hover_label.setText(text or self.hover_hint())

    def open_zoom(self, key: str, channel: int) -> None:
        if self.zoom_dialog is None:
            self.zoom_dialog = MapZoomDialog(self.maps, self)
        self.zoom_dialog.show_map(key, channel)
        self.zoom_dialog.show()
        self.zoom_dialog.raise_()

    # -- filters -------------------------------------------------------------------------------

    @property
    def showing_live_weights(self) -> bool:
        return self._live_weights is not None

    def update_filters(self) -> None:
        if self.showing_live_weights:
            weights = self._live_weights
            try:
                conv1 = weights["conv1.weight"].detach().cpu().numpy()
                conv2 = weights["conv2.weight"].detach().cpu().numpy()
            except (KeyError, AttributeError):
                return
            self.filters.set_weights(conv1, conv2)
            self.filters_source.setText(fill(self.tr(
                "<b style='color:#c05000'>Weights of the model being trained</b> — live, refreshed as "
                "training changes them (last update %1)."), time.strftime("%H:%M:%S", time.localtime(self._live_time))))
            return
        loaded = self.session.current_model
        if loaded is None:
            self.filters.set_message(self.tr("No model loaded."))
            self.filters_source.setText("")
            self.filters_hover.setText(" ")
            return
        if not self.filters.underMouse():
            self.filters_hover.setText(" ")  # other weights: what was read out is gone
        model = loaded.model
        self.filters.set_weights(model.conv1.weight.detach().numpy(), model.conv2.weight.detach().numpy())
        self.filters_source.setText(fill(self.tr("<b>Weights of the current model</b>: %1"),
                                         display_model_title(loaded).replace("<", "&lt;")))

    # -- export --------------------------------------------------------------------------------

    def export_title(self) -> str:
        current = self.session.current_input
        loaded = self.session.current_model
        if current is None or loaded is None or self.prediction is None:
            return ""
        return fill(self.tr("LeNet Studio · %1 · model: %2 · prediction: %3 (%4)"), current.description,
                    display_model_title(loaded), display_class_name(self.prediction.label),
                    f"{100 * self.prediction.confidence:.1f}%")

    def export_png(self, path: str | Path) -> bool:
        """Render the feature maps of the current input to ``path``; False (and a message) on failure."""
        if not self.maps.has_data:
            QMessageBox.information(self, self.tr("Nothing to export"),
                                    self.tr("There are no feature maps to export: choose an input first."))
            return False
        image = self.maps.render_image(*EXPORT_SIZE, title=self.export_title())
        if not image.save(str(path), "PNG"):
            QMessageBox.warning(self, self.tr("Cannot export"),
                                fill(self.tr("Cannot write %1: check that the folder exists and is writable."), path))
            return False
        return True

    def _export_from_anywhere(self) -> None:
        self.session.request_tab("inspect")
        self.export_dialog()

    def export_dialog(self) -> None:
        path = ask_save_path(self, self.settings, "exports_folder", self.tr("Export feature maps"),
                             "feature-maps.png", self.tr("PNG images (*.png)"), ".png")
        if path is not None and self.export_png(path):
            self.session.show_status(fill(self.tr("Feature maps saved to %1"), path), 5000)

    def shutdown(self) -> None:
        self.test_set.shutdown()
