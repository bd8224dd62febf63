"""The Classify tab: draw a digit or bring an image, see the 28 x 28 input and what LeNet thinks.

Inputs come from the canvas, a file dialog, drag and drop, the clipboard, the sample buttons, or
other tabs through the session (the inspector publishes test-set images). Every input goes through
the core's preprocessing for the current model's kind (digits or garments), exactly as
``lenet-gui predict`` does, and every new input is published back to the session.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QMimeData, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QGuiApplication, QIcon, QImage, QKeySequence, QPainter, QPixmap
from PySide6.QtWidgets import (
    QApplication, QCheckBox, QFileDialog, QGridLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton,
    QSlider, QToolButton, QVBoxLayout, QWidget,
)

from ...core.checkpoint import CheckpointError, LoadedModel
from ...core.inference import Prediction, Predictor
from ...core.preprocess import (
    DIGIT, GARMENT, ImageError, Preprocessed, image_file_filter, open_image, preprocess_array, working_grey,
)
from ...core.resources import sample_paths
from ..session import CurrentInput, Session
from ..settings import Settings
from ..widgets.image_view import ImageView, qimage_to_png_bytes
from ..widgets.probability_chart import ProbabilityChart
from ..widgets.text import Retranslating, display_class_name, fill
from ..workers import Worker, start_worker
from .canvas import DrawingCanvas
from .model_picker import ModelPicker

DISPLAY_MAX_SIDE = 512  # originals are kept for display only; no need for a 40 MP copy
# Live prediction while drawing: the first run after a pause at once, then at most one run per
# interval, the interval being at least twice what the last run cost, so that the pen keeps at
# least half of the UI thread on a slow or busy machine (benchmarks/classify_latency.py).
LIVE_MIN_INTERVAL_MS = 16


@dataclass
class _Input:
    origin: str  # "drawing", "image" (file, drop, paste, sample) or "external" (another tab)
    description: str
    grey: np.ndarray | None = None  # image: the decoded greyscale picture, [0, 1]
    original: np.ndarray | None = None  # image / external: what the user sees as the original
    preprocessed: Preprocessed | None = None  # external: the model input as given


def display_copy(image: Image.Image) -> np.ndarray:
    """A small RGBA copy of a decoded image, for showing it next to the model's input."""
    shown = image.convert("RGBA") if image.mode not in ("RGBA", "RGB", "L") else image.copy()
    shown.thumbnail((DISPLAY_MAX_SIDE, DISPLAY_MAX_SIDE), Image.Resampling.LANCZOS)
    if shown.mode not in ("RGBA", "RGB", "L"):
        shown = shown.convert("RGBA")
    return np.asarray(shown)


def sample_icon(path: Path) -> QIcon:
    """A sample's picture for its button. A transparent one is shown on white paper, as it would
    print: dark ink on the dark palette's buttons would be invisible."""
    image = QImage(str(path))
    if image.hasAlphaChannel():
        paper = QImage(image.size(), QImage.Format.Format_RGB32)
        paper.fill(QColor("white"))
        painter = QPainter(paper)
        painter.drawImage(0, 0, image)
        painter.end()
        image = paper
    return QIcon(QPixmap.fromImage(image))


class _ImageDecoder(Worker):
    """Decodes one dropped, pasted or opened image off the window's thread: a 12 MP photo takes
    long enough to freeze it. Hands back NumPy arrays, or what went wrong."""

    decoded = Signal(int, object, object)  # request number, grey, display copy
    failed = Signal(int, str, str)  # request number, "unreadable" | "unusable" | "unshowable", detail

    def __init__(self, request: int, source, parent=None):
        super().__init__(parent)
        self.request = request
        self.source = source

    def run(self) -> None:
        source = self.source
        try:
            if isinstance(source, QImage):
                # Through PNG bytes, so that it takes exactly the path a file takes.
                source = qimage_to_png_bytes(source)
            image = open_image(str(source) if isinstance(source, Path) else source)
        except ImageError as exc:
            self.failed.emit(self.request, "unreadable", str(exc))
            return
        try:
            grey, original = working_grey(image), display_copy(image)  # as _use_image
        except ImageError as exc:
            self.failed.emit(self.request, "unusable", str(exc))
        except Exception as exc:  # noqa: BLE001 - OSError, ValueError; a worker reports, never dies
            self.failed.emit(self.request, "unshowable", str(exc))
        else:
            self.decoded.emit(self.request, grey, original)


class ClassifyTab(Retranslating, QWidget):
    prediction_shown = Signal(object)  # Prediction | None, once the views show it
    image_decoded = Signal()  # a background decode's result (or its error) is on screen

    def __init__(self, session: Session, settings: Settings | QSettings | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("classifyTab")
        self.setAcceptDrops(True)
        self.session = session
        self.settings = Settings.wrap(settings) if settings is not None else session.settings
        self.predictor: Predictor | None = None
        self.last_prediction: Prediction | None = None
        self.last_preprocessed: Preprocessed | None = None
        self.last_run_ms = 0.0
        self._input: _Input | None = None
        self._replaced_drawing: list | None = None  # strokes an image or another tab's input replaced
        self._published: CurrentInput | None = None
        self.last_run_started = 0.0  # time.perf_counter() when the last prediction update began
        self._live_timer = QTimer(self)
        self._live_timer.setSingleShot(True)
        self._live_timer.timeout.connect(self._refresh)
        self._decode_requests = 0  # numbers the background decodes; only the latest one counts
        self._decoding: dict[int, str] = {}  # request number -> description, while it runs
        self._build()
        self.retranslate()
        self._restore_settings()
        session.model_changed.connect(self._on_model_changed)
        session.input_changed.connect(self._on_session_input)
        if session.current_model is None:
            # The bundled model chosen last time; a checkpoint file is opened again by hand.
            remembered = session.bundled_index(self.settings.bundled_model)
            if remembered is None or not self.model_picker.choose(remembered):
                self.model_picker.choose(0)
        else:
            self._on_model_changed(session.current_model)

    # -- construction --------------------------------------------------------------------------

    def _build(self) -> None:
        outer = QVBoxLayout(self)

        top = QHBoxLayout()
        self.model_picker = ModelPicker(self.session)
        self.model_picker.load_failed.connect(self._show_error)
        self.model_combo = self.model_picker.combo
        top.addWidget(self.model_picker)
        top.addStretch(1)
        self.open_image_button = QPushButton()
        self.open_image_button.clicked.connect(self.open_image_dialog)
        top.addWidget(self.open_image_button)
        self.paste_button = QPushButton()
        self.paste_button.clicked.connect(self.paste)
        top.addWidget(self.paste_button)
        outer.addLayout(top)
        self.busy_bar = QProgressBar()  # shown while an image decodes
        self.busy_bar.setObjectName("decodingBusy")
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.setMaximumHeight(6)
        self.busy_bar.hide()
        outer.addWidget(self.busy_bar)

        body = QHBoxLayout()
        left = QVBoxLayout()
        self.canvas = DrawingCanvas()
        self.canvas.changed.connect(self._on_canvas_changed)
        self.canvas.changed.connect(self._update_undo)
        self.canvas.stroke_finished.connect(self._on_stroke_finished)
        left.addWidget(self.canvas, 1)
        tools = QHBoxLayout()
        self.pen_label = QLabel()
        tools.addWidget(self.pen_label)
        self.pen_slider = QSlider(Qt.Orientation.Horizontal)
        self.pen_slider.setObjectName("penWidthSlider")
        self.pen_slider.setRange(20, 160)  # thousandths of the canvas side
        self.pen_slider.setMaximumWidth(180)
        self.pen_slider.valueChanged.connect(self._on_pen_width)
        tools.addWidget(self.pen_slider)
        self.ink_toggle = QCheckBox()
        self.ink_toggle.setObjectName("whiteOnBlack")
        self.ink_toggle.toggled.connect(self._on_ink_toggled)
        tools.addWidget(self.ink_toggle)
        tools.addStretch(1)
        self.undo_button = QPushButton()
        self.undo_button.clicked.connect(self.undo)
        tools.addWidget(self.undo_button)
        self.clear_button = QPushButton()
        self.clear_button.clicked.connect(self.clear)
        tools.addWidget(self.clear_button)
        left.addLayout(tools)
        body.addLayout(left, 3)

        right = QVBoxLayout()
        views = QGridLayout()
        self.original_caption = QLabel()
        self.input_caption = QLabel()
        for caption in (self.original_caption, self.input_caption):
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            caption.setWordWrap(True)
        self.original_view = ImageView(smooth=True)
        self.original_view.setObjectName("originalView")
        self.input_view = ImageView(smooth=False)
        self.input_view.setObjectName("modelInputView")
        views.addWidget(self.original_caption, 0, 0)
        views.addWidget(self.input_caption, 0, 1)
        views.addWidget(self.original_view, 1, 0)
        views.addWidget(self.input_view, 1, 1)
        right.addLayout(views)
        self.result_label = QLabel()
        self.result_label.setObjectName("classifyResult")
        font = self.result_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.result_label.setFont(font)
        self.result_label.setWordWrap(True)
        right.addWidget(self.result_label)
        self.chart = ProbabilityChart()
        right.addWidget(self.chart, 1)
        self.message_label = QLabel()
        self.message_label.setObjectName("classifyMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_label.setStyleSheet("color: #c62828;")
        self.message_label.hide()
        right.addWidget(self.message_label)
        body.addLayout(right, 2)
        outer.addLayout(body, 1)

        samples = QHBoxLayout()
        self.samples_label = QLabel()
        samples.addWidget(self.samples_label)
        self.sample_buttons: list[tuple[str, QToolButton]] = []
        for path in sample_paths():
            kind = DIGIT if path.name.startswith("digit") else GARMENT if path.name.startswith("garment") else None
            if kind is None:
                continue
            button = QToolButton()
            button.setIcon(sample_icon(path))
            button.setIconSize(QSize(44, 44))
            button.setAutoRaise(True)
            button.setToolTip(path.name)
            button.setProperty("samplePath", str(path))
            button.clicked.connect(lambda _=False, p=path: self.load_image(p))
            samples.addWidget(button)
            self.sample_buttons.append((kind, button))
        samples.addStretch(1)
        outer.addLayout(samples)

        self._build_actions()

    def _build_actions(self) -> None:
        """What the window's Image menu offers. Opening and pasting work from any tab (they bring
        this one to the front); undo and clear act on the drawing, so only while it is on show."""
        def action(keys: list[QKeySequence], slot) -> QAction:
            made = QAction(self)
            made.setShortcuts(keys)
            made.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            made.triggered.connect(slot)
            self.addAction(made)  # the keys work here even where no menu holds the action
            return made

        self.open_image_action = action([QKeySequence("Ctrl+Shift+O")],
                                        self._open_image_from_anywhere)
        self.paste_action = action([QKeySequence(QKeySequence.StandardKey.Paste)],
                                   self._paste_from_anywhere)
        self.undo_action = action([QKeySequence(QKeySequence.StandardKey.Undo)],
                                  self.undo)
        self.clear_action = action(
            [QKeySequence(Qt.Key.Key_Escape), QKeySequence(Qt.Key.Key_Delete)], self.clear)
        self._drawing_actions = (self.undo_action, self.clear_action)
        for made in self._drawing_actions:
            made.setEnabled(False)

    def _open_image_from_anywhere(self) -> None:
        self.session.request_tab("classify")
        self.open_image_dialog()

    def _paste_from_anywhere(self) -> None:
        self.session.request_tab("classify")
        self.paste()

    def retranslate(self) -> None:
        self.open_image_action.setText(self.tr("&Open image…"))
        self.paste_action.setText(self.tr("&Paste image"))
        self.clear_action.setText(self.tr("&Clear drawing"))
        self.original_view.setAccessibleName(self.tr("Your input"))
        self.input_view.setAccessibleName(self.tr("What the model sees, 28 × 28 pixels"))
        self.open_image_button.setText(self.tr("Open image…"))
        self.open_image_button.setToolTip(self.tr("Classify a PNG, JPEG, BMP, GIF, WebP or TIFF file. "
                                                  "You can also drop an image here or paste one (Ctrl+V)."))
        self.paste_button.setText(self.tr("Paste"))
        self.paste_button.setToolTip(self.tr("Classify the image on the clipboard (Ctrl+V)"))
        self.pen_label.setText(self.tr("Pen:"))
        self.pen_slider.setToolTip(self.tr("Pen width"))
        self.ink_toggle.setText(self.tr("White ink on black"))
        self.undo_button.setText(self.tr("Undo"))
        self._update_undo()
        self.clear_button.setText(self.tr("Clear"))
        self.clear_button.setToolTip(self.tr("Start again (Esc or Delete)"))
        self.input_caption.setText(self.tr("What the model sees (28 × 28)"))
        self.samples_label.setText(self.tr("Samples:"))
        self._show_result_texts()

    def _show_result_texts(self) -> None:
        """The verdict and the input's caption, from the last prediction, in the current language."""
        loaded = self.session.current_model
        source = self._input
        prediction = self.last_prediction
        pre = self.last_preprocessed
        self.chart.set_notice(self._unfamiliar_notice(prediction))
        self.chart.setToolTip(
            self.tr("The percentages read this image and its mirror image together (the mean of their "
                    "logits): the model was trained to take a garment mirrored for the same garment.")
            if loaded is not None and loaded.calibration.average_mirror else "")
        if loaded is None:
            self.result_label.setText(self.tr("Choose a model"))
        elif prediction is not None and prediction.unfamiliar:
            # The model's out-of-distribution check: no confident class for what it never learnt.
            if loaded.input_kind == GARMENT:
                self.result_label.setText(self.tr("This does not look like a garment"))
            else:
                self.result_label.setText(self.tr("This does not look like a digit"))
        elif prediction is not None:
            self.result_label.setText(fill(self.tr("%1 — %2"), display_class_name(prediction.label),
                                           f"{100 * prediction.confidence:.1f}%"))
        elif source is not None and source.origin == "image" and pre is not None and pre.blank:
            self.result_label.setText(self.tr("The image is blank: nothing to classify"))
        elif loaded.input_kind == GARMENT:
            self.result_label.setText(self.tr("Draw something, or drop a photo…"))
        else:
            self.result_label.setText(self.tr("Draw something…"))
        desc = self._description(source)
        self.original_caption.setText(fill(self.tr("Your input: %1"), desc) if desc else self.tr("Your input"))

    def _unfamiliar_notice(self, prediction: Prediction | None) -> str | None:
        """What the probability view says across its bars for an input the model's check calls
        unfamiliar; None for any other."""
        if prediction is None or not prediction.unfamiliar:
            return None
        return fill(self.tr("Unlike the images this model was trained on: its nearest class, %1 (%2), "
                            "means little."), display_class_name(prediction.label),
                    f"{100 * prediction.confidence:.1f}%")

    def _description(self, source: "_Input | None") -> str:
        if source is None:
            return ""
        # A drawing is named when shown, so that its name follows the language; a file keeps its name.
        return self.tr("drawing") if source.origin == "drawing" else source.description

    def showEvent(self, event) -> None:
        for made in self._drawing_actions:
            made.setEnabled(True)
        self._update_undo()
        super().showEvent(event)

    def _update_undo(self) -> None:
        """Undo only while there is a stroke to take back, or a drawing that another input
        replaced to bring back (and, for its key, while on show)."""
        strokes = bool(self.canvas.strokes)
        possible = strokes or self._replaced_drawing is not None
        self.undo_button.setEnabled(possible)
        self.undo_action.setEnabled(possible and self.isVisible())
        restores = possible and not strokes
        self.undo_action.setText(self.tr("&Bring back the drawing") if restores else self.tr("&Undo stroke"))
        self.undo_button.setToolTip(self.tr("Bring back the drawing that this input replaced (Ctrl+Z)") if restores
                                    else self.tr("Remove the last stroke (Ctrl+Z)"))

    def undo(self) -> None:
        """Take back the last stroke; with none, bring back the drawing another input replaced."""
        if self.canvas.strokes or self._replaced_drawing is None:
            self.canvas.undo()
            return
        strokes, self._replaced_drawing = self._replaced_drawing, None
        self.canvas.restore(strokes)  # the drawing is the input again, as when it was drawn

    def hideEvent(self, event) -> None:
        for made in self._drawing_actions:
            made.setEnabled(False)
        super().hideEvent(event)

    def _restore_settings(self) -> None:
        white = self.settings.white_on_black
        width = self.settings.pen_width or round(DrawingCanvas.DEFAULT_PEN_WIDTH * 1000)
        self.ink_toggle.setChecked(bool(white))
        self.canvas.set_white_on_black(bool(white))
        self._match_canvas_paper()
        self.pen_slider.setValue(int(width))
        self.canvas.set_pen_width(self.pen_slider.value() / 1000)

    # -- model -----------------------------------------------------------------------------------

    def open_checkpoint(self, path: str) -> bool:
        try:
            self.session.open_checkpoint(path)
        except CheckpointError as exc:
            self._show_error(str(exc))
            return False
        return True

    def _on_model_changed(self, loaded: LoadedModel | None) -> None:
        self.predictor = Predictor(loaded) if loaded is not None else None
        key = self.session.bundled_key(loaded)
        if key is not None:
            self.settings.bundled_model = key
        self.chart.set_classes(loaded.classes if loaded is not None else [str(i) for i in range(10)])
        kind = loaded.input_kind if loaded is not None else None
        for sample_kind, button in self.sample_buttons:
            button.setVisible(sample_kind == kind)
        self.samples_label.setVisible(any(k == kind for k, _ in self.sample_buttons))
        self._clear_error()
        self._refresh()

    # -- inputs --------------------------------------------------------------------------------

    def _on_canvas_changed(self) -> None:
        self.session.note_interaction()
        if self._input is None or self._input.origin != "drawing":
            self._input = _Input("drawing", "")
            self._replaced_drawing = None  # a new drawing: Undo takes back its strokes only
            self._clear_error()
        self._schedule_live()

    def _on_stroke_finished(self) -> None:
        self._live_timer.stop()
        self._refresh()

    def _schedule_live(self) -> None:
        """Coalesce a burst of pen events into one prediction per interval; the first after a
        pause runs at the next turn of the event loop, so it shows at once."""
        if self._live_timer.isActive():
            return
        interval = max(LIVE_MIN_INTERVAL_MS, 2.0 * self.last_run_ms)
        since = (time.perf_counter() - self.last_run_started) * 1000.0
        self._live_timer.start(int(max(0.0, interval - since)))

    def clear(self) -> None:
        self._replaced_drawing = None
        self.canvas.clear()
        self._update_undo()  # an empty canvas says nothing when cleared
        self._input = None
        self._clear_error()
        self._refresh()

    def _use_image(self, image: Image.Image, description: str) -> bool:
        try:
            grey = working_grey(image)  # as `lenet-gui predict` does, so both give the same answer
            original = display_copy(image)
        except ImageError as exc:
            self._show_error(fill(self.tr("%1: %2"), description, exc))
            return False
        except (OSError, ValueError) as exc:
            self._show_error(fill(self.tr("%1 cannot be shown (%2)."), description, exc))
            return False
        self._use_decoded(grey, original, description)
        return True

    def _clear_canvas_quietly(self) -> None:
        """Clear the drawing that another input replaces, without taking it for a new drawing;
        Undo brings it back."""
        if self.canvas.strokes:
            self._replaced_drawing = list(self.canvas.strokes)
        self.canvas.blockSignals(True)
        self.canvas.clear()
        self.canvas.blockSignals(False)
        self._update_undo()

    def _use_decoded(self, grey: np.ndarray, original: np.ndarray, description: str) -> None:
        # The drawing is replaced by the image; its strokes would otherwise linger unseen.
        self._clear_canvas_quietly()
        self._input = _Input("image", description, grey=grey, original=original)
        self._clear_error()
        self._refresh()

    # -- images decoded in the background (drop, paste, the file dialog) --------------------------

    @property
    def decoding(self) -> bool:
        return bool(self._decoding)

    def load_image_in_background(self, source, description: str | None = None) -> None:
        """Like load_image, off the window's thread; a newer request supersedes this one.
        ``image_decoded`` is emitted once the result, or the reason it failed, is shown."""
        if description is None:
            description = Path(source).name if isinstance(source, (str, Path)) else self.tr("pasted image")
        self._decode_requests += 1
        request = self._decode_requests
        for worker in list(self.findChildren(_ImageDecoder)):
            worker.stop()  # it cannot be interrupted, but its result will be dropped
        worker = _ImageDecoder(request, source.copy() if isinstance(source, QImage) else source, self)
        worker.decoded.connect(self._on_decoded)
        worker.failed.connect(self._on_decode_failed)
        self._decoding = {request: description}
        self.busy_bar.show()
        self.result_label.setText(fill(self.tr("Reading %1…"), description))
        start_worker(worker)

    def _finish_decode(self, request: int) -> str | None:
        description = self._decoding.pop(request, None)
        if description is not None:
            self.busy_bar.hide()
        return description

    def _on_decoded(self, request: int, grey, original) -> None:
        description = self._finish_decode(request)
        if description is None:
            return  # superseded
        self._use_decoded(grey, original, description)
        self.image_decoded.emit()

    def _on_decode_failed(self, request: int, kind: str, detail: str) -> None:
        description = self._finish_decode(request)
        if description is None:
            return
        if kind == "unusable":
            self._show_error(fill(self.tr("%1: %2"), description, detail))
        elif kind == "unshowable":
            self._show_error(fill(self.tr("%1 cannot be shown (%2)."), description, detail))
        else:
            self._show_error(detail)
        self._refresh(publish=False)  # the result line shows what is there again
        self.image_decoded.emit()

    def load_image(self, source, description: str | None = None) -> bool:
        """A path, bytes or PIL image; an unusable one leaves everything as it was."""
        if description is None:
            description = Path(source).name if isinstance(source, (str, Path)) else self.tr("pasted image")
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            image = open_image(str(source) if isinstance(source, Path) else source)
        except ImageError as exc:
            self._show_error(str(exc))
            return False
        finally:
            QApplication.restoreOverrideCursor()
        return self._use_image(image, description)

    def load_qimage(self, image: QImage, description: str) -> bool:
        if image.isNull():
            self._show_error(self.tr("The image from the other application is empty or unreadable."))
            return False
        # Through PNG bytes, so that it takes exactly the path a file takes.
        return self.load_image(qimage_to_png_bytes(image), description)

    def open_image_dialog(self) -> None:
        patterns = " ".join(image_file_filter())
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Open image"), self.settings.images_folder,
            fill(self.tr("Images (%1);;All files (*)"), patterns))
        if path:
            self.settings.images_folder = str(Path(path).parent)
            self.load_image_in_background(path)

    def load_mime(self, mime, how: str) -> bool:
        """File URLs first (the original file, not a re-encoded copy), then image data; decoded
        in the background (False when there is nothing to decode)."""
        if mime is None:  # an empty clipboard holds no data at all: say so, as for text
            mime = QMimeData()
        if mime.hasUrls():
            urls = mime.urls()
            local = [u.toLocalFile() for u in urls if u.isLocalFile()]
            if local:
                self.load_image_in_background(local[0])
                return True
            if not mime.hasImage() and urls:
                self._show_error(self.tr("Only files on this computer can be classified; save the "
                                         "image first, or drag the picture itself."))
                return False
        if mime.hasImage():
            image = mime.imageData()
            if not isinstance(image, QImage):
                image = QImage(image) if image is not None else QImage()
            if image.isNull():
                self._show_error(self.tr("The image from the other application is empty or unreadable."))
                return False
            self.load_image_in_background(image, how)
            return True
        self._show_error(self.tr("There is no image to classify here: use an image, or an image file."))
        return False

    def paste(self) -> bool:
        return self.load_mime(QGuiApplication.clipboard().mimeData(), self.tr("pasted image"))

    def dragEnterEvent(self, event) -> None:
        mime = event.mimeData()
        if mime.hasUrls() or mime.hasImage():
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:
        event.acceptProposedAction()
        self.load_mime(event.mimeData(), self.tr("dropped image"))

    def _on_session_input(self, current: CurrentInput | None) -> None:
        if current is self._published:
            return  # our own input, coming back
        if current is None:
            return  # another tab has nothing to show; what is here stays
        original = current.original if current.original is not None else current.preprocessed.image28
        self._clear_canvas_quietly()
        self._input = _Input("external", current.description, original=original,
                             preprocessed=current.preprocessed)
        self._clear_error()
        self._refresh(publish=False)

    # -- prediction ----------------------------------------------------------------------------

    def _refresh(self, publish: bool = True) -> None:
        started = time.perf_counter()
        self._live_timer.stop()
        self.last_run_started = started
        loaded = self.session.current_model
        source = self._input
        original = None
        pre: Preprocessed | None = None
        if source is not None and loaded is not None:
            try:
                if source.origin == "drawing":
                    ink = self.canvas.ink_array()
                    original = (ink * 255).round().astype(np.uint8)
                    if not self.canvas.white_on_black:
                        original = 255 - original
                    pre = None if self.canvas.is_empty() and not self.canvas.is_drawing() \
                        else preprocess_array(ink, loaded.input_kind)
                elif source.origin == "image":
                    original = source.original
                    pre = preprocess_array(source.grey, loaded.input_kind)
                else:
                    original = source.original
                    pre = source.preprocessed
            except ImageError as exc:
                self._show_error(str(exc))
                pre = None
        elif source is not None:
            original = source.original

        prediction = None
        if pre is not None and not pre.blank and self.predictor is not None:
            prediction = self.predictor.predict(pre.tensor)
        self.last_preprocessed = pre
        self.last_prediction = prediction

        self.original_view.set_array(original)
        self.input_view.set_array(pre.image28 if pre is not None else None)
        self.chart.set_probabilities(None if prediction is None else prediction.probabilities)
        self._show_result_texts()

        if publish and (source is None or source.origin != "external"):
            if pre is not None and not pre.blank:
                self._published = CurrentInput(pre, original, self._description(source), prediction, loaded)
                self.session.set_input(self._published)
            elif self.session.current_input is not None:
                self._published = None
                self.session.set_input(None)
        self.last_run_ms = (time.perf_counter() - started) * 1000.0
        self.prediction_shown.emit(prediction)

    # -- messages, settings --------------------------------------------------------------------

    def _show_error(self, text: str) -> None:
        self.message_label.setText(text)
        self.message_label.show()

    def _clear_error(self) -> None:
        self.message_label.clear()
        self.message_label.hide()

    def error_text(self) -> str:
        return "" if self.message_label.isHidden() else self.message_label.text()

    def _on_pen_width(self, value: int) -> None:
        self.canvas.set_pen_width(value / 1000)
        self.settings.pen_width = value

    def _on_ink_toggled(self, checked: bool) -> None:
        self.canvas.set_white_on_black(checked)
        self._match_canvas_paper()
        self.settings.white_on_black = checked
        if self._input is not None and self._input.origin == "drawing":
            self._refresh()

    def _match_canvas_paper(self) -> None:
        """The input preview on the canvas's paper, so that an empty one sits beside the empty
        canvas as the same colour rather than a white square beside a black one."""
        self.original_view.set_background(QColor(0, 0, 0) if self.canvas.white_on_black else QColor(255, 255, 255))

    def shutdown(self) -> None:
        self._live_timer.stop()
