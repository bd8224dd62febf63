"""The current model on its whole test set: accuracy, calibration (the expected calibration error
and a reliability diagram), a confusion matrix, the images it gets wrong.

The 10 000 predictions run in a background thread on a copy of the model (the UI never shares a
model with a thread), through the same function as ``lenet-gui evaluate``, and are cached per
model. Clicking any image makes it the session's current input, so the feature maps and the
saliency of that image show at once.
"""

from __future__ import annotations

import copy

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QRect, QSize, Qt, QThread, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.checkpoint import LoadedModel
from ...core.data import (
    TEST_ONLY, DataSplit, DatasetError, dataset_info, download_megabytes, load_split,
)
from ...core.evaluation import EvaluationResult, evaluate_split
from ..session import CurrentInput, Session
from ..widgets.data_dialog import DatasetDialog
from ..widgets.dataset_input import dataset_image_input
from ..widgets.deferred import WhenVisible
from ..widgets.text import Retranslating, display_class_name, display_class_names, display_model_title, fill
from ..workers import Worker, start_worker
from .reliability import ReliabilityDiagram

THUMB = 56  # gallery thumbnails: 28 x 28 at 2x
# Panel widths from which the reliability diagram stands beside the confusion matrix; narrower,
# the gallery would be left too little room, and the diagram takes the gallery's place while its
# button is down.
RELIABILITY_BESIDE_WIDTH = 1000


class EvaluationWorker(Worker):
    """Loads the test split (unless given) and runs a private copy of the model over it."""

    succeeded = Signal(object, object, str)  # EvaluationResult, the DataSplit and its root (for the cache)
    failed = Signal(object, str)  # LoadedModel, message

    def __init__(self, loaded: LoadedModel, key: str, root: str, split: DataSplit | None, download: bool,
                 parent=None):
        super().__init__(parent)
        self.loaded = loaded
        self.model = copy.deepcopy(loaded.model).eval()  # the UI's model is never touched here
        self.key, self.root, self.split, self.download = key, root, split, download

    def run(self) -> None:
        try:
            split = self.split
            if split is None:
                split = load_split(self.key, "test", self.root, download=self.download)
            result = evaluate_split(self.model, split, self.key, loaded=self.loaded,
                                    should_stop=lambda: self.stop_requested)
        except DatasetError as exc:
            self.failed.emit(self.loaded, str(exc))
            return
        except Exception as exc:  # a model that cannot run on this data must not kill the app
            self.failed.emit(self.loaded, f"{type(exc).__name__}: {exc}")
            return
        if result is not None:
            self.succeeded.emit(result, split, self.root)


# ---------------------------------------------------------------------------------------------
# Widgets


class GalleryModel(QAbstractListModel):
    """Test images as thumbnails, made when first shown (a cell can hold a thousand images)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.result: EvaluationResult | None = None
        self.classes: list[str] = []
        self.rows = np.zeros(0, dtype=np.int64)
        self._pixmaps: dict[int, QPixmap] = {}
        self.item_size: QSize | None = None

    def caption(self, predicted: str, confidence: str, true: str) -> str:
        """A thumbnail's two lines: what the model said, and the truth."""
        return fill(self.tr("%1 (%2)\ntrue: %3"), predicted, confidence, true)

    def retranslate(self) -> None:
        """The captions are made when read, in the current language: have the view read them again."""
        if len(self.rows):
            self.dataChanged.emit(self.index(0), self.index(len(self.rows) - 1),
                                  [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole])

    def set_rows(self, result: EvaluationResult | None, classes: list[str], rows: np.ndarray) -> None:
        self.beginResetModel()
        self.result, self.classes, self.rows = result, classes, np.asarray(rows, dtype=np.int64)
        self._pixmaps = {}
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def image_index(self, row: int) -> int:
        return int(self.rows[row])

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self.result is None:
            return None
        i = int(self.rows[index.row()])
        r = self.result
        true, pred = int(r.labels[i]), int(r.predicted[i])
        conf = float(r.probabilities[i, pred])
        if role == Qt.ItemDataRole.DisplayRole:
            return self.caption(display_class_name(self.classes[pred]), f"{100 * conf:.0f}%",
                                display_class_name(self.classes[true]))
        if role == Qt.ItemDataRole.DecorationRole:
            pixmap = self._pixmaps.get(i)
            if pixmap is None:
                image = np.ascontiguousarray(r.images[i])
                qimage = QImage(image.data, 28, 28, 28, QImage.Format.Format_Grayscale8).copy()
                pixmap = QPixmap.fromImage(qimage.scaled(THUMB, THUMB))  # nearest: keep pixels sharp
                self._pixmaps[i] = pixmap
            return pixmap
        if role == Qt.ItemDataRole.ToolTipRole:
            return fill(self.tr("Test image #%1\ntrue class: %2\npredicted: %3 (%4)\n"
                                "Click to make it the current input."),
                        i, display_class_name(self.classes[true]), display_class_name(self.classes[pred]),
                        f"{100 * conf:.1f}%")
        if role == Qt.ItemDataRole.SizeHintRole and self.item_size is not None:
            # With uniform item sizes the view sizes every item like the first: without this,
            # a short first caption would cut every longer one.
            return self.item_size
        if role == Qt.ItemDataRole.ForegroundRole and true != pred:
            return QBrush(QColor(200, 40, 40))
        return None


class ConfusionTable(QTableWidget):
    """Rows: true class; columns: predicted class; a last column with each class's accuracy."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("confusionMatrix")
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.horizontalHeader().setMinimumSectionSize(20)
        # The whole matrix is always shown at its own size (the panel scrolls when space is
        # short): a table that scrolls inside itself hides the accuracy column behind its bars.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.counts = np.zeros((0, 0), dtype=np.int64)

    def show_result(self, result: EvaluationResult | None, classes: list[str]) -> None:
        self.clear()
        if result is None:
            self.setRowCount(0)
            self.setColumnCount(0)
            self.counts = np.zeros((0, 0), dtype=np.int64)
            return
        n = len(classes)
        classes = display_class_names(classes)
        self.counts = result.confusion.copy()
        self.setRowCount(n)
        self.setColumnCount(n + 1)
        self.setHorizontalHeaderLabels([str(k) for k in range(n)] + [self.tr("acc.")])
        self.setVerticalHeaderLabels([name if name == str(k) else f"{k} {name}" for k, name in enumerate(classes)])
        for k, name in enumerate(classes):
            header = self.horizontalHeaderItem(k)
            header.setToolTip(fill(self.tr("predicted: %1"), name))
        self.horizontalHeaderItem(n).setToolTip(self.tr("accuracy on the test images of each class"))
        totals = self.counts.sum(axis=1)
        off = self.counts.astype(float) / np.maximum(totals, 1)[:, None]
        np.fill_diagonal(off, 0.0)
        worst = max(float(off.max()), 1e-9)
        per_class = result.per_class_accuracy
        for t in range(n):
            for p in range(n):
                count = int(self.counts[t, p])
                item = QTableWidgetItem(str(count))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if t == p:
                    strength = count / max(1, int(totals[t]))
                    color = QColor.fromRgbF(1 - 0.55 * strength, 1 - 0.25 * strength, 1 - 0.55 * strength)
                else:
                    strength = off[t, p] / worst if count else 0.0
                    color = QColor.fromRgbF(1.0, 1 - 0.6 * strength, 1 - 0.6 * strength)
                item.setBackground(QBrush(color))
                item.setForeground(QBrush(QColor(0, 0, 0)))
                item.setToolTip(fill(self.tr("%1 test images of “%2” classified as “%3”. Click to list them."),
                                     count, classes[t], classes[p]))
                self.setItem(t, p, item)
            acc = per_class[t]
            item = QTableWidgetItem("—" if np.isnan(acc) else f"{100 * acc:.1f}%")
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.setItem(t, n, item)
        # Cells as narrow as the widest count (in this font, at this scale), rows as low as the text.
        fm = self.fontMetrics()
        cell = max(fm.horizontalAdvance(str(int(self.counts.max(initial=0)))), fm.horizontalAdvance("00")) + 12
        for c in range(n):
            self.setColumnWidth(c, cell)
        self.resizeColumnToContents(n)
        row = fm.height() + 6
        for r in range(n):
            self.setRowHeight(r, row)
        frame = 2 * self.frameWidth()
        self.setFixedSize(self.verticalHeader().sizeHint().width() + sum(self.columnWidth(c) for c in range(n + 1)) + frame,
                          self.horizontalHeader().sizeHint().height() + n * row + frame)


class TestSetPanel(Retranslating, QWidget):
    """Accuracy, confusion matrix and gallery for the session's current model."""

    evaluated = Signal(object)  # EvaluationResult, once shown

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("testSetView")
        self.session = session
        self.loaded: LoadedModel | None = None
        self.result: EvaluationResult | None = None
        self._results: dict[int, EvaluationResult] = {}  # id(LoadedModel) -> result, a few recent
        self._splits: dict[tuple[str, str], DataSplit] = {}  # (data set, root) -> its test split
        self._worker: EvaluationWorker | None = None
        self._pending = False
        self._last_choice: tuple[int, CurrentInput] | None = None
        # What the panel says while there is no result, made again in the current language on a
        # switch: () -> (message, button text or None).
        self._state_texts = lambda: ("", None)
        self._gallery_cell: tuple[int, int] | None = None  # the gallery lists a cell; None: every mistake
        # A new model is evaluated once the panel is on screen, not behind another tab.
        self._evaluation = WhenVisible(self, self.evaluate)

        self.summary = QLabel()
        self.summary.setObjectName("testSetSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.action_button = QPushButton()
        self.action_button.setVisible(False)
        self.action_button.clicked.connect(self._action_clicked)
        self._action_dataset: str | None = None
        self.data_dialog: DatasetDialog | None = None
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.action_button)

        self.table = ConfusionTable()
        self.table.cellClicked.connect(self._cell_clicked)
        table_box = QVBoxLayout()
        self.table_legend = QLabel()
        self.table_legend.setWordWrap(True)
        table_box.addWidget(self.table_legend)
        table_box.addWidget(self.table)
        table_box.addStretch(1)
        self.reliability = ReliabilityDiagram()
        self.reliability_box = QVBoxLayout()
        self.reliability_box.addWidget(self.reliability)
        self.reliability_box.addStretch(1)
        self.reliability_button = QPushButton()  # only where the diagram is not beside the matrix
        self.reliability_button.setObjectName("reliabilityButton")
        self.reliability_button.setCheckable(True)
        self.reliability_button.toggled.connect(lambda _: self._place_reliability())

        self.gallery_title = QLabel()
        self.gallery_title.setWordWrap(True)
        self.gallery_title.setMinimumWidth(2 * THUMB)
        self.all_wrong_button = QPushButton()
        self.all_wrong_button.clicked.connect(self.show_misclassified)
        self.gallery_model = GalleryModel(self)
        self.gallery = QListView()
        self.gallery.setObjectName("testGallery")
        self.gallery.setViewMode(QListView.ViewMode.IconMode)
        self.gallery.setResizeMode(QListView.ResizeMode.Adjust)
        self.gallery.setMovement(QListView.Movement.Static)
        self.gallery.setUniformItemSizes(True)
        self.gallery.setIconSize(QSize(THUMB, THUMB))
        self.gallery.setGridSize(QSize(THUMB + 48, THUMB + 40))
        self.gallery.setWordWrap(False)  # two lines by "\n"; wrapping would cut names at hyphens
        self.gallery.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.gallery.setModel(self.gallery_model)
        self.gallery.selectionModel().currentChanged.connect(self._gallery_current_changed)
        self.gallery.clicked.connect(self._gallery_clicked)
        gallery_head = QHBoxLayout()
        gallery_head.addWidget(self.all_wrong_button)
        gallery_head.addWidget(self.reliability_button)
        gallery_head.addStretch(1)
        gallery_box = QVBoxLayout()
        gallery_box.addWidget(self.gallery_title)
        gallery_box.addLayout(gallery_head)
        gallery_box.addWidget(self.gallery, 1)
        self.gallery_box = gallery_box

        self.body = QWidget()  # hidden while there is no result: a message says why
        body = QHBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.addLayout(table_box)
        body.addLayout(self.reliability_box)
        body.addLayout(gallery_box, 1)
        # Where the panel is shorter than the matrix, it scrolls rather than cut it.
        self.body_scroll = QScrollArea()
        self.body_scroll.setObjectName("testSetScroll")
        self.body_scroll.setWidget(self.body)
        self.body_scroll.setWidgetResizable(True)
        self.body_scroll.setFrameShape(QFrame.Shape.NoFrame)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.body_scroll, 1)
        self._show_state(self._no_model_texts)
        self.retranslate()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._place_reliability()

    def _place_reliability(self) -> None:
        """Beside the matrix where the panel is wide enough; else in the gallery's place while
        the reliability button is down."""
        beside = self.width() >= RELIABILITY_BESIDE_WIDTH
        self.reliability_button.setVisible(not beside)
        box = self.reliability_box if beside else self.gallery_box
        if box.indexOf(self.reliability) < 0:
            box.insertWidget(0 if beside else box.indexOf(self.gallery) + 1, self.reliability)
        in_gallery_place = not beside and self.reliability_button.isChecked()
        self.reliability.setVisible(beside or in_gallery_place)
        self.gallery.setVisible(not in_gallery_place)

    def retranslate(self) -> None:
        self.table_legend.setText(self.tr("Rows: true class · columns: predicted class"))
        self.all_wrong_button.setText(self.tr("All misclassified"))
        self.reliability_button.setText(self.tr("Reliability"))
        self.reliability_button.setToolTip(self.tr("Show how often the model was right at each confidence, "
                                                   "in the gallery's place"))
        if self.result is None:
            self._show_state(self._state_texts, self._action_dataset)
            return
        self._show_summary(self.result)
        self.table.show_result(self.result, self.result.loaded.classes)
        self._fit_gallery_grid(self.result.loaded.classes)
        self._show_gallery_title()
        self.gallery_model.retranslate()

    def _no_model_texts(self) -> tuple[str, None]:
        return self.tr("No model loaded: open or train one to see how it does on its test set."), None

    # -- model and evaluation ------------------------------------------------------------------

    def set_model(self, loaded: LoadedModel | None) -> None:
        self.loaded = loaded
        self.result = None
        self._evaluation.request()

    @property
    def busy(self) -> bool:
        return self._worker is not None

    def evaluate(self, download: bool = False) -> None:
        """Show the cached result for the current model, or start computing it."""
        loaded = self.loaded
        if loaded is None:
            self._show_state(self._no_model_texts)
            return
        cached = self._results.get(id(loaded))
        if cached is not None and cached.loaded is loaded:
            self._show_result(cached)
            return
        key = loaded.dataset
        if key is None:
            self._show_state(lambda: (self.tr("This model does not say which data set it was trained on, so "
                                              "there is no test set to evaluate it on."), None))
            return
        try:
            info = dataset_info(key)
        except DatasetError as exc:
            message = str(exc)  # exc is unbound once the except block ends; a language switch calls this later
            self._show_state(lambda: (message, None))
            return
        found, folder = self.session.test_set_location(key)
        root = str(folder)
        split = self._splits.get((key, root))
        size = f"{download_megabytes(key, TEST_ONLY):.0f}"
        if split is None and not download and found is None:
            self._show_state(lambda: DatasetDialog.missing_test_set_texts(key, root), ask_for=key)
            return
        if self._worker is not None:
            self._pending = True  # evaluated when the running one finishes
            return
        downloading = split is None and download

        def texts() -> tuple[str, None]:
            if downloading:
                return fill(self.tr("Downloading the %1 test set (about %2 MB), then classifying it with “%3”…"),
                            info.title, size, display_model_title(loaded)), None
            return fill(self.tr("Classifying the %1 test set with “%2”…"), info.title,
                        display_model_title(loaded)), None

        self._show_state(texts)
        # No parent: the registry keeps the thread alive until it has finished, however soon
        # this panel is destroyed.
        worker = EvaluationWorker(loaded, key, root, split, download)
        self.destroyed.connect(worker.stop)
        worker.succeeded.connect(self._worker_succeeded)
        worker.failed.connect(self._worker_failed)
        worker.finished.connect(self._worker_finished)
        self._worker = worker
        start_worker(worker, QThread.Priority.LowPriority)

    def _worker_succeeded(self, result: EvaluationResult, split: DataSplit, root: str) -> None:
        self._splits[(result.dataset_key, root)] = split
        self._results[id(result.loaded)] = result
        while len(self._results) > 6:
            self._results.pop(next(iter(self._results)))
        if result.loaded is self.loaded:
            self._show_result(result)

    def _worker_failed(self, loaded: LoadedModel, message: str) -> None:
        if loaded is self.loaded:
            self._show_state(lambda: (fill(self.tr("Cannot evaluate on the test set: %1"), message),
                                      self.tr("Try again")))

    def _worker_finished(self) -> None:
        self._worker = None
        if self._pending:
            self._pending = False
            self.evaluate()

    def shutdown(self) -> None:
        """Stop a running evaluation and wait for its thread (the window is closing)."""
        if self._worker is not None:
            self._worker.stop()
            self._worker.wait(10000)

    def _action_clicked(self) -> None:
        if self._action_dataset is not None:
            self.ask_for_dataset(self._action_dataset)
        else:
            self.evaluate()

    def ask_for_dataset(self, key: str) -> DatasetDialog:
        """The same choices as the Train tab's: a folder that holds the data set, or a download."""
        return DatasetDialog.open_for(self, key, self.session.data_root, self.session.settings, self.evaluate,
                                      splits=TEST_ONLY)

    # -- display -------------------------------------------------------------------------------

    def _show_state(self, texts, ask_for: str | None = None) -> None:
        """No result to show: ``texts()`` gives the message and the action button's text (None:
        no button), and gives them again after a language switch; ``ask_for``: the button opens
        the data-set dialog for this key."""
        self.result = None
        self._state_texts = texts
        message, button = texts()
        self.summary.setText(message)
        self.action_button.setVisible(button is not None)
        if button is not None:
            self.action_button.setText(button)
        self._action_dataset = ask_for  # the button opens the data-set dialog for this key
        self.table.show_result(None, [])
        self.reliability.set_report(None)
        self.gallery_model.set_rows(None, [], np.zeros(0))
        self.gallery_title.setText("")
        self.all_wrong_button.setEnabled(False)
        self.body_scroll.setVisible(False)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop)

    def _show_result(self, result: EvaluationResult) -> None:
        self.result = result
        classes = result.loaded.classes
        self._show_summary(result)
        self.action_button.setVisible(False)
        self.body_scroll.setVisible(True)
        self._fit_gallery_grid(classes)
        self.table.show_result(result, classes)
        self.reliability.set_report(result.calibration())
        self.all_wrong_button.setEnabled(True)
        self.show_misclassified()
        self.evaluated.emit(result)

    def _show_summary(self, result: EvaluationResult) -> None:
        info = dataset_info(result.dataset_key)
        total = int(result.confusion.sum())
        wrong = total - int(np.trace(result.confusion))
        report = result.calibration()
        if result.unfamiliar_share is None:
            calibration = self.tr("Expected calibration error %1 (%2 bins) · mean confidence %3 · temperature %4")
        else:
            calibration = self.tr("Expected calibration error %1 (%2 bins) · mean confidence %3 · temperature %4 "
                                  "· called unfamiliar: %5")
        self.summary.setText("<br>".join([
            fill(self.tr("<b>Test accuracy %1</b> on the %2 test images of %3 (%4 misclassified) · model: %5"),
                 f"{100 * result.accuracy:.2f}%", f"{total:,}", info.title, f"{wrong:,}",
                 display_model_title(result.loaded)),
            fill(calibration, f"{report.ece:.4f}", len(report.bins), f"{100 * report.mean_confidence:.2f}%",
                 f"{result.temperature:.3f}", f"{100 * (result.unfamiliar_share or 0):.2f}%"),
        ]))

    def _fit_gallery_grid(self, classes: list[str]) -> None:
        """Cells wide enough for the longest caption, so class names are not cut."""
        fm = self.gallery.fontMetrics()
        names = display_class_names(classes)
        # Measured as laid out, with the fallback fonts: CJK glyphs stand taller than the lines
        # of a Latin font's metrics.
        captions = [self.gallery_model.caption(c, "100%", c) for c in names]
        boxes = [fm.boundingRect(QRect(0, 0, 10_000, 10_000), int(Qt.AlignmentFlag.AlignLeft), c) for c in captions]
        longest = max(box.width() for box in boxes)
        tallest = max(max(box.height() for box in boxes), 2 * fm.lineSpacing())
        grid = QSize(max(THUMB + 24, longest + 28), THUMB + tallest + 14)
        self.gallery.setGridSize(grid)
        self.gallery_model.item_size = QSize(grid.width() - 8, grid.height() - 4)

    def show_misclassified(self) -> None:
        if self.result is None:
            return
        self.reliability_button.setChecked(False)  # the gallery comes back to list them
        rows = self.result.indices(wrong_only=True)
        self.gallery_model.set_rows(self.result, self.result.loaded.classes, rows)
        self._gallery_cell = None
        self._show_gallery_title()
        self.table.clearSelection()

    def _show_gallery_title(self) -> None:
        rows = f"{self.gallery_model.rowCount():,}"
        if self._gallery_cell is None:
            self.gallery_title.setText(fill(self.tr("<b>Misclassified</b>: %1 images, most confident first. "
                                                    "Click one to inspect it."), rows))
            return
        true, predicted = self._gallery_cell
        names = display_class_names(self.result.loaded.classes)
        if true == predicted:
            text = fill(self.tr("<b>Correct</b> “%1”: %2 images, most confident first."), names[true], rows)
        else:
            text = fill(self.tr("<b>True “%1”, predicted “%2”</b>: %3 images, most confident first."),
                        names[true], names[predicted], rows)
        self.gallery_title.setText(text)

    def show_cell(self, true: int, predicted: int) -> None:
        if self.result is None:
            return
        self.reliability_button.setChecked(False)
        classes = self.result.loaded.classes
        rows = self.result.indices(true=true, predicted=predicted)
        self.gallery_model.set_rows(self.result, classes, rows)
        self._gallery_cell = (true, predicted)
        self._show_gallery_title()

    def _cell_clicked(self, row: int, column: int) -> None:
        if self.result is not None and column < len(self.result.loaded.classes):
            self.show_cell(row, column)

    # -- choosing an image ---------------------------------------------------------------------

    def choose(self, image_index: int) -> None:
        """Make test image ``image_index`` the session's current input."""
        if self.result is None:
            return
        true = self.result.loaded.classes[int(self.result.labels[image_index])]
        current = dataset_image_input(self.result.images[image_index], image_index, true)
        self._last_choice = (image_index, current)
        self.session.set_input(current)

    def _gallery_current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        if current.isValid():  # the keyboard browses the gallery as clicks do
            self.choose(self.gallery_model.image_index(current.row()))

    def _gallery_clicked(self, index: QModelIndex) -> None:
        # A click on the item that is already current does not change it, yet means "show this"
        # when another input was set since; a click that just made it current was handled.
        if not index.isValid():
            return
        image_index = self.gallery_model.image_index(index.row())
        last = self._last_choice
        if last is not None and last[0] == image_index and self.session.current_input is last[1]:
            return
        self.choose(image_index)
