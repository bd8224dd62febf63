"""The Projector tab: the test set as the current model sees it, one point per image.

A layer's outputs for every test image (fc2's 84 values unless another layer is chosen),
projected to 2-D by PCA or t-SNE (core/projection.py), coloured by true class, mistakes as
rings. Hovering a point shows its image and what the model said; clicking makes it the
session's current input; the current input (the user's drawing as the pen moves) is the
diamond, placed by the same projection.

The projection is computed in a background thread on a copy of the model, with a progress bar
and a Cancel button, and cached per model, layer and method (in memory and in the user's cache
folder). Work waits until the tab is on screen.
"""

from __future__ import annotations

import copy
import os

import numpy as np
import torch
from PySide6.QtCore import QSettings, Qt, QThread, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ...core.checkpoint import LoadedModel
from ...core.data import (
    TEST_ONLY, DataSplit, DatasetError, dataset_info, load_split,
)
from ...core.inference import Predictor
from ...core.projection import (
    LAYERS,
    METHODS,
    Projection,
    ProjectionCache,
    ProjectionCancelled,
    ProjectionError,
    layer_size,
    project,
    tsne_sample,
)
from ..session import CurrentInput, Session
from ..settings import Settings
from ..widgets.data_dialog import DatasetDialog
from ..widgets.dataset_input import dataset_image_input
from ..widgets.deferred import WhenVisible
from ..widgets.image_view import ImageView
from ..widgets.text import Retranslating, display_class_name, display_model_title, fill
from ..workers import Worker, start_worker
from .scatter import CLASS_COLOURS, ScatterView

PROGRESS_STEPS = 1000


class ProjectionWorker(Worker):
    """Loads the test split (unless given) and projects it with a private copy of the model."""

    progress = Signal(float)
    succeeded = Signal(object, object, object, str)  # request, Projection, DataSplit, root
    failed = Signal(object, str)  # request, message
    cancelled = Signal(object)  # request

    def __init__(self, request: tuple, loaded: LoadedModel, root: str, split: DataSplit | None,
                 cache: ProjectionCache, threads: int):
        super().__init__()
        self.request = request  # (LoadedModel, layer, method): what the tab asked for
        self.model = copy.deepcopy(loaded.model).eval()  # the window's model is never touched here
        self.key = loaded.dataset
        self.average_mirror = loaded.calibration.average_mirror
        self.root, self.split, self.cache, self.threads = root, split, cache, threads

    def run(self) -> None:
        _, layer, method = self.request
        torch.set_num_threads(self.threads)  # this thread's own setting
        try:
            split = self.split
            if split is None:
                split = load_split(self.key, "test", self.root, download=False)
            result = project(self.model, split, layer, method, cache=self.cache, progress=self.progress.emit,
                             should_stop=lambda: self.stop_requested, threads=self.threads,
                             average_mirror=self.average_mirror)
        except ProjectionCancelled:
            self.cancelled.emit(self.request)
            return
        except (DatasetError, ProjectionError) as exc:
            self.failed.emit(self.request, str(exc))
            return
        except Exception as exc:  # a model that cannot run on this data must not kill the app
            self.failed.emit(self.request, f"{type(exc).__name__}: {exc}")
            return
        self.succeeded.emit(self.request, result, split, self.root)


class Legend(Retranslating, QWidget):
    """The class colours, and what a dot, a ring and the diamond mean."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.classes: list[str] = []
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(6)
        self.grid.setVerticalSpacing(1)
        self.labels: list[QLabel] = []
        self.retranslate()

    def set_classes(self, classes: list[str]) -> None:
        self.classes = list(classes)
        self.retranslate()

    def retranslate(self) -> None:
        for label in self.labels:
            label.deleteLater()
        self.labels = []
        rows = [(f"<span style='color:{CLASS_COLOURS[k % 10]}; font-size:large'>●</span>", display_class_name(name))
                for k, name in enumerate(self.classes)]
        rows += [("○", self.tr("misclassified (colour: true class)")),
                 ("◆", self.tr("the current input"))]
        for row, (mark, text) in enumerate(rows):
            for column, content in enumerate((mark, text)):
                label = QLabel(content)
                label.setTextFormat(Qt.TextFormat.RichText if column == 0 else Qt.TextFormat.PlainText)
                self.grid.addWidget(label, row, column)
                self.labels.append(label)
        self.grid.setColumnStretch(1, 1)


class ProjectorTab(Retranslating, QWidget):
    projected = Signal(object)  # Projection, once shown

    def __init__(self, session: Session, settings: Settings | QSettings | None = None,
                 parent: QWidget | None = None, cache: ProjectionCache | None = None):
        super().__init__(parent)
        self.setObjectName("projectorTab")
        self.session = session
        self.settings = Settings.wrap(settings) if settings is not None else session.settings
        self.cache = cache if cache is not None else ProjectionCache()
        self.projection: Projection | None = None
        self.shown_request: tuple | None = None  # (LoadedModel, layer, method) of the map shown
        self.split: DataSplit | None = None  # the test split the map's indices point into
        self._splits: dict[tuple[str, str], DataSplit] = {}
        self._worker: ProjectionWorker | None = None
        self._pending = False
        self._predictor: tuple[LoadedModel, Predictor] | None = None
        self._state_texts = lambda: ("", None)
        self._computing = False
        self._action = "retry"  # what the action button does: "retry" | "locate"
        self._action_dataset: str | None = None
        self.data_dialog: DatasetDialog | None = None
        self.marker_description = ""

        self.layer_label = QLabel()
        self.layer_box = QComboBox()
        self.layer_box.setObjectName("projectorLayer")
        self.method_label = QLabel()
        self.method_box = QComboBox()
        self.method_box.setObjectName("projectorMethod")
        for _ in LAYERS:
            self.layer_box.addItem("")
        for _ in METHODS:
            self.method_box.addItem("")
        self.layer_label.setBuddy(self.layer_box)
        self.method_label.setBuddy(self.method_box)
        self.layer_box.currentIndexChanged.connect(lambda _i: self._choice_changed())
        self.method_box.currentIndexChanged.connect(lambda _i: self._choice_changed())
        self.summary = QLabel()
        self.summary.setObjectName("projectorSummary")
        self.summary.setWordWrap(True)
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.progress = QProgressBar()
        self.progress.setObjectName("projectorProgress")
        self.progress.setRange(0, PROGRESS_STEPS)
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(False)  # the bar says enough; Qt's "%p%" would be one more text to translate
        self.progress.setVisible(False)
        self.cancel_button = QPushButton()
        self.cancel_button.setObjectName("projectorCancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setVisible(False)
        self.action_button = QPushButton()
        self.action_button.setObjectName("projectorAction")
        self.action_button.clicked.connect(self._action_clicked)
        self.action_button.setVisible(False)
        choices = QHBoxLayout()
        choices.addWidget(self.layer_label)
        choices.addWidget(self.layer_box)
        choices.addSpacing(12)
        choices.addWidget(self.method_label)
        choices.addWidget(self.method_box)
        choices.addSpacing(12)
        choices.addWidget(self.summary, 1)
        choices.addWidget(self.progress)
        choices.addWidget(self.cancel_button)
        choices.addWidget(self.action_button)

        self.scatter = ScatterView()
        self.scatter.hovered.connect(self._show_hovered)
        self.scatter.clicked.connect(self.choose)
        self.legend = Legend()
        self.hover_image = ImageView(smooth=False)
        self.hover_image.setObjectName("projectorHoverImage")
        self.hover_image.setFixedSize(128, 128)
        self.hover_text = QLabel()
        self.hover_text.setObjectName("projectorHoverText")
        self.hover_text.setWordWrap(True)
        self.hover_text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.input_text = QLabel()
        self.input_text.setObjectName("projectorInputText")
        self.input_text.setWordWrap(True)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        side = QWidget()
        side.setFixedWidth(230)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.legend)
        side_layout.addWidget(line)
        side_layout.addWidget(self.hover_image, 0, Qt.AlignmentFlag.AlignHCenter)
        side_layout.addWidget(self.hover_text)
        side_layout.addStretch(1)
        side_layout.addWidget(self.input_text)
        body = QHBoxLayout()
        body.addWidget(self.scatter, 1)
        body.addWidget(side)
        self.hint = QLabel()
        self.hint.setObjectName("projectorHint")
        self.hint.setWordWrap(True)
        self.window_button = QPushButton()
        self.window_button.setObjectName("projectorWindowButton")
        self.window_button.clicked.connect(self.toggle_window)
        bottom = QHBoxLayout()
        bottom.addWidget(self.hint, 1)
        bottom.addWidget(self.window_button, 0, Qt.AlignmentFlag.AlignBottom)
        # Everything but the note that shows while it is in a window of its own: in its own
        # window, beside the main one, it follows the pen while the user draws in the Classify tab.
        self.content = QWidget()
        self.content.setObjectName("projectorContent")
        content = QVBoxLayout(self.content)
        content.setContentsMargins(0, 0, 0, 0)
        content.addLayout(choices)
        content.addLayout(body, 1)
        content.addLayout(bottom)
        self.floating: QWidget | None = None
        self.away = QWidget()
        self.away_label = QLabel()
        self.away_label.setWordWrap(True)
        self.away_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.back_button = QPushButton()
        self.back_button.setObjectName("projectorBackButton")
        self.back_button.clicked.connect(self.dock)
        away = QVBoxLayout(self.away)
        away.addStretch(1)
        away.addWidget(self.away_label)
        away.addWidget(self.back_button, 0, Qt.AlignmentFlag.AlignHCenter)
        away.addStretch(1)
        self.away.setVisible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.content)
        layout.addWidget(self.away)

        # On screen: in the tab or in its own window.
        self._update = WhenVisible(self.content, self.refresh)
        self._marker_update = WhenVisible(self.content, self.place_input)
        session.model_changed.connect(lambda _m: self._update.request())
        session.input_changed.connect(lambda _c: self._marker_update.request())
        self.retranslate()
        self._show_state(self._no_model_texts)

    # -- texts ---------------------------------------------------------------------------------

    def retranslate(self) -> None:
        self.layer_label.setText(self.tr("&Layer:"))
        self.method_label.setText(self.tr("M&ethod:"))
        for index, layer in enumerate(LAYERS):
            self.layer_box.setItemText(index, fill(self.tr("%1 (%2 values)"), layer, layer_size(layer)))
        names = {"pca": self.tr("PCA (at once)"), "tsne": self.tr("t-SNE (computed in the background)")}
        for index, method in enumerate(METHODS):
            self.method_box.setItemText(index, names[method])
        self.cancel_button.setText(self.tr("Cancel"))
        self.scatter.setAccessibleName(self.tr("Map of the test set"))
        self.scatter.setAccessibleDescription(self.tr(
            "Each point is a test image, coloured by its true class; rings are images the model gets wrong, "
            "the diamond is the current input."))
        self.hover_image.setAccessibleName(self.tr("Test image under the pointer"))
        self.window_button.setText(self.tr("Back into the tab") if self.floating is not None
                                   else self.tr("Open in its own window"))
        self.window_button.setToolTip(self.tr("In a window of its own, the map stays in view while you draw "
                                              "in the Classify tab, and the diamond follows the pen."))
        self.away_label.setText(self.tr("The projector is open in its own window."))
        self.back_button.setText(self.tr("Bring it back here"))
        if self.floating is not None:
            self.floating.setWindowTitle(self.tr("LeNet Studio · Projector"))
        self.hint.setText(self.tr("Each point is a test image, placed by what the chosen layer makes of it. "
                                  "Hover over a point to see the image; click it to make it the current "
                                  "input. Draw in the Classify tab and watch the diamond move."))
        if self.projection is not None:
            self._show_summary()
        else:
            self._show_state(self._state_texts, self._action, self._action_dataset, self._computing)
        self._show_hovered(self.scatter.hovered_index)
        self.place_input()

    def _no_model_texts(self):
        return self.tr("No model loaded: open or train one to see how it arranges its test set."), None

    @property
    def layer(self) -> str:
        return LAYERS[max(0, self.layer_box.currentIndex())]

    @property
    def method(self) -> str:
        return METHODS[max(0, self.method_box.currentIndex())]

    def set_choice(self, layer: str | None = None, method: str | None = None) -> None:
        if layer is not None:
            self.layer_box.setCurrentIndex(LAYERS.index(layer))
        if method is not None:
            self.method_box.setCurrentIndex(METHODS.index(method))

    # -- computing -----------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._worker is not None

    def _choice_changed(self) -> None:
        self._update.request()

    def refresh(self) -> None:
        """Show the map for the current model, layer and method: from the cache, or computed."""
        loaded = self.session.current_model
        request = (loaded, self.layer, self.method)
        if loaded is None:
            self._stop_worker()
            self._show_state(self._no_model_texts)
            return
        if self.projection is not None and _same(self.shown_request, request):
            return
        key = loaded.dataset
        if key is None:
            self._stop_worker()
            self._show_state(lambda: (self.tr("This model does not say which data set it was trained on, so "
                                              "there is no test set to project."), None))
            return
        try:
            dataset_info(key)  # a data set this version knows
        except DatasetError as exc:
            message = str(exc)
            self._show_state(lambda: (message, None))
            return
        found, folder = self.session.test_set_location(key)
        root = str(folder)
        split = self._splits.get((key, root))
        if split is None and found is None:
            self._stop_worker()
            self._show_state(lambda: DatasetDialog.missing_test_set_texts(key, root), action="locate", dataset=key)
            return
        if split is not None:
            cached = self.cache.peek(self.cache.key(loaded.model, split, self.layer, self.method,
                                                    loaded.calibration.average_mirror))
            if cached is not None:
                self._stop_worker()
                self._show_projection(request, cached, split)
                return
        if self._worker is not None:
            if _same(self._worker.request, request):
                return  # already on its way
            self._worker.stop()  # a map nobody wants any more
            self._pending = True
            return
        self._start(request, root, split)

    def _start(self, request: tuple, root: str, split: DataSplit | None) -> None:
        loaded, layer, method = request
        info = dataset_info(loaded.dataset)

        def texts():
            if method == "tsne":
                return fill(self.tr("Computing t-SNE of %1 for %2 test images of %3 with “%4”…"), layer,
                            f"{len(tsne_sample(len(split) if split is not None else 10_000)):,}",
                            info.title, display_model_title(loaded)), None
            return fill(self.tr("Computing PCA of %1 for the %2 test set with “%3”…"), layer, info.title,
                        display_model_title(loaded)), None

        self.progress.setValue(0)
        self._show_state(texts, computing=True)
        # Beside a run in the Train tab, one core; otherwise both (t-SNE's neighbours and forces
        # run in parallel).
        threads = 1 if self.session.training_active else max(1, min(2, os.cpu_count() or 1))
        worker = ProjectionWorker(request, loaded, root, split, self.cache, threads)
        self.destroyed.connect(worker.stop)
        worker.progress.connect(self._progress)
        worker.succeeded.connect(self._worker_succeeded)
        worker.failed.connect(self._worker_failed)
        worker.cancelled.connect(self._worker_cancelled)
        worker.finished.connect(self._worker_finished)
        self._worker = worker
        start_worker(worker, QThread.Priority.LowPriority)

    def _progress(self, fraction: float) -> None:
        self.progress.setValue(int(PROGRESS_STEPS * fraction))

    def _current_request(self) -> tuple:
        return self.session.current_model, self.layer, self.method

    def _worker_succeeded(self, request: tuple, result: Projection, split: DataSplit, root: str) -> None:
        loaded = request[0]
        self._splits[(loaded.dataset, root)] = split
        if _same(request, self._current_request()):
            self._show_projection(request, result, split)

    def _worker_failed(self, request: tuple, message: str) -> None:
        if _same(request, self._current_request()):
            self._show_state(lambda: (fill(self.tr("Cannot project the test set: %1"), message),
                                      self.tr("Try again")))

    def _worker_cancelled(self, request: tuple) -> None:
        if _same(request, self._current_request()) and not self._pending:
            method = request[2]
            self._show_state(lambda: (self.tr("Cancelled: nothing is shown until it is computed."),
                                      self.tr("Compute t-SNE") if method == "tsne" else self.tr("Compute PCA")))

    def _worker_finished(self) -> None:
        self._worker = None
        if self._computing:  # ended without a map or a message of its own (stopped for another)
            self._computing = False
            self.progress.setVisible(False)
            self.cancel_button.setVisible(False)
        if self._pending:
            self._pending = False
            self.refresh()

    def cancel(self) -> None:
        """Stop the computation under way (the Cancel button)."""
        if self._worker is not None:
            self._pending = False
            self._worker.stop()

    def _stop_worker(self) -> None:
        if self._worker is not None:
            self._pending = False
            self._worker.stop()

    # -- its own window ------------------------------------------------------------------------

    def toggle_window(self) -> None:
        if self.floating is None:
            self.undock()
        else:
            self.dock()

    def undock(self) -> QWidget:
        """Move the projector into a window of its own (the tab says where it went)."""
        if self.floating is None:
            window = _OwnWindow(self)
            size = self.content.size()
            window.layout().addWidget(self.content)
            self.content.show()
            self.floating = window
            self.away.setVisible(True)
            window.resize(max(size.width(), 800), max(size.height(), 560))
            self.retranslate()
            window.show()
        self.floating.raise_()
        self.floating.activateWindow()
        return self.floating

    def dock(self) -> None:
        """Back into the tab (its window's close button does the same)."""
        window, self.floating = self.floating, None
        if window is None:
            return
        self.layout().insertWidget(0, self.content)
        self.content.show()
        self.away.setVisible(False)
        if not window.released:  # not already closing
            window.released = True
            window.close()
        window.deleteLater()
        self.retranslate()

    def shutdown(self) -> None:
        """Stop a running projection and wait for its thread (the window is closing)."""
        self.dock()
        if self._worker is not None:
            self._worker.stop()
            self._worker.wait(10000)

    def _action_clicked(self) -> None:
        if self._action == "locate" and self._action_dataset is not None:
            self.ask_for_dataset(self._action_dataset)
        else:
            self.projection = None
            self.refresh()

    def ask_for_dataset(self, key: str) -> DatasetDialog:
        """The same choices as the other views': a folder that holds the data set, or a download."""
        return DatasetDialog.open_for(self, key, self.session.data_root, self.session.settings, self.refresh,
                                      splits=TEST_ONLY)

    # -- display -------------------------------------------------------------------------------

    def _show_state(self, texts, action: str = "retry", dataset: str | None = None, computing: bool = False) -> None:
        """No map: ``texts()`` gives the message and the action button's text (None: no button);
        ``computing``: a map is on its way (the progress bar and Cancel show)."""
        self.projection = None
        self.shown_request = None
        self._state_texts = texts
        self._action, self._action_dataset = action, dataset
        self._computing = computing
        message, button = texts()
        self.progress.setVisible(computing)
        self.cancel_button.setVisible(computing)
        self.summary.setText(message)
        self.action_button.setVisible(button is not None)
        if button is not None:
            self.action_button.setText(button)
        self.scatter.set_message(message)
        self.legend.set_classes([])
        self._show_hovered(-1)
        self.place_input()

    def _show_projection(self, request: tuple, result: Projection, split: DataSplit) -> None:
        loaded = request[0]
        self.projection, self.shown_request, self.split = result, request, split
        self.action_button.setVisible(False)
        self._computing = False
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        self.legend.set_classes(loaded.classes)
        self.scatter.set_points(result.coords, result.labels, result.misclassified)
        self._show_summary()
        self._show_hovered(-1)
        self.place_input()
        self.projected.emit(result)

    def _show_summary(self) -> None:
        result, (loaded, layer, method) = self.projection, self.shown_request
        total = len(self.split) if self.split is not None else len(result)
        wrong = f"{int(result.misclassified.sum()):,}"
        if method == "pca":
            text = fill(self.tr("<b>PCA of %1</b> (%2 values per image) · all %3 test images · the axes "
                                "explain %4 and %5 of the variance · %6 misclassified · model: %7"),
                        layer, layer_size(layer), f"{len(result):,}", f"{100 * result.explained[0]:.1f}%",
                        f"{100 * result.explained[1]:.1f}%", wrong, _escaped(display_model_title(loaded)))
        else:
            text = fill(self.tr("<b>t-SNE of %1</b> (%2 values per image) · %3 of the %4 test images (a fixed "
                                "sample) · %5 misclassified · model: %6"),
                        layer, layer_size(layer), f"{len(result):,}", f"{total:,}", wrong,
                        _escaped(display_model_title(loaded)))
        self.summary.setText(text)

    def _show_hovered(self, index: int) -> None:
        result, split = self.projection, self.split
        if result is None or split is None or not 0 <= index < len(result):
            self.hover_image.set_array(None)
            self.hover_text.setText(self.tr("Hover over a point to see its test image.") if result is not None else "")
            return
        image_index = int(result.indices[index])
        classes = self.shown_request[0].classes
        true, predicted = int(result.labels[index]), int(result.predicted[index])
        self.hover_image.set_array(split.images[image_index].numpy())
        if true == predicted:
            text = fill(self.tr("<b>Test image #%1</b><br>true: %2<br>predicted: %3 ✓"), image_index,
                        display_class_name(classes[true]), display_class_name(classes[predicted]))
        else:
            text = fill(self.tr("<b>Test image #%1</b><br>true: %2<br><span style='color:#c62828'>predicted: "
                                "%3 ✗</span>"), image_index, display_class_name(classes[true]),
                        display_class_name(classes[predicted]))
        self.hover_text.setText(text)

    # -- the current input ---------------------------------------------------------------------

    def choose(self, index: int) -> None:
        """Make the map's point ``index`` the session's current input."""
        result, split = self.projection, self.split
        if result is None or split is None or not 0 <= index < len(result):
            return
        image_index = int(result.indices[index])
        classes = self.shown_request[0].classes
        self.session.set_input(dataset_image_input(split.images[image_index].numpy(), image_index,
                                                   classes[int(result.labels[index])]))

    def input_features(self, current: CurrentInput, loaded: LoadedModel, layer: str) -> np.ndarray | None:
        """``layer``'s vector for the current input: the publisher's prediction when it used
        this model, else this tab's own forward pass."""
        prediction = current.prediction if current.model is loaded else None
        if prediction is None:
            if self._predictor is None or self._predictor[0] is not loaded:
                self._predictor = (loaded, Predictor(loaded))
            try:
                prediction = self._predictor[1].predict(current.preprocessed.tensor)
            except (RuntimeError, ValueError):
                return None
        return np.asarray(prediction.activations[layer]).reshape(-1)

    def place_input(self) -> None:
        """Put the diamond where the current input falls on the map shown."""
        current, result = self.session.current_input, self.projection
        loaded = self.shown_request[0] if self.shown_request is not None else None
        if current is None or result is None or loaded is None or current.preprocessed.blank:
            self.scatter.set_marker(None)
            self.input_text.setText("" if result is None else
                                    self.tr("No input yet: draw in the Classify tab or click a point."))
            return
        # The layer of the map shown (the chooser may already name the next one).
        features = self.input_features(current, loaded, self.shown_request[1])
        if features is None:
            self.scatter.set_marker(None)
            return
        self.scatter.set_marker(result.place(features)[0], self.tr("input"))
        self.input_text.setText(fill(self.tr("◆ Current input: %1"), _escaped(current.description)))


class _OwnWindow(QWidget):
    """The projector's own window; closing it puts the projector back into its tab."""

    def __init__(self, tab: ProjectorTab):
        super().__init__(tab, Qt.WindowType.Window)
        self.setObjectName("projectorWindow")
        self.tab = tab
        self.released = False
        QVBoxLayout(self)

    def closeEvent(self, event) -> None:
        if not self.released:
            self.released = True
            self.tab.dock()
        super().closeEvent(event)


def _same(a: tuple | None, b: tuple | None) -> bool:
    """Two requests (model, layer, method) alike: the very same model object, layer and method."""
    return a is not None and b is not None and a[0] is b[0] and a[1:] == b[1:]


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;")
