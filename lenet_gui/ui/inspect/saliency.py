"""Which input pixels drove a class's score: a saliency map over the 28x28 input."""

from __future__ import annotations

import time

import numpy as np
import torch
from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFontMetrics, QImage, QPainter, QPalette
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from ...core.inference import Prediction, Predictor
from ..widgets.colormaps import SALIENCY_LUT, argb_image, lut_image, quantize
from ..widgets.deferred import WhenVisible
from ..widgets.text import Retranslating, display_class_name, fill
from ..widgets.text_line import TextLine

TOP_CLASS = -1
# While inputs stream in (a pen stroke), the saliency map is recomputed at most this often: it
# costs as much as everything else the inspector does for an input (a forward and a backward
# pass), and the feature maps and probabilities, which follow every input, must not wait for it.
# The first input after a pause is computed at once, and the last one of a stroke always is.
STREAM_INTERVAL_MS = 50
# An owner that shows other views of the same input may hold the computation until those are on
# screen (see ``release``); this long at most, should the release never come.
HOLD_MAX_MS = 100


def overlay(image28: np.ndarray, saliency: np.ndarray) -> np.ndarray:
    """The input in grey with the saliency map over it in colour, as 28 x 28 ARGB uint32.
    Where the saliency is low the input shows through, so the two can be read together."""
    grey = np.clip(np.asarray(image28, dtype=np.float32), 0.0, 1.0) * 255.0
    heat = SALIENCY_LUT[quantize(saliency, 0.0, 1.0)]
    heat_rgb = np.stack([(heat >> shift) & 0xFF for shift in (16, 8, 0)], axis=-1).astype(np.float32)
    alpha = (0.85 * np.clip(saliency, 0.0, 1.0) ** 0.75)[..., None].astype(np.float32)
    # The input is dimmed so that the heat stands out against white ink.
    rgb = (grey[..., None] * 0.55) * (1.0 - alpha) + heat_rgb * alpha
    rgb = np.clip(np.rint(rgb), 0, 255).astype(np.uint32)
    return np.uint32(0xFF000000) | (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


class SaliencyCanvas(Retranslating, QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumSize(140, 100)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.image: QImage | None = None
        self.legend = lut_image(SALIENCY_LUT, vertical=True)
        self.message = ""
        self.retranslate()

    def sizeHint(self) -> QSize:
        return QSize(260, 240)

    def retranslate(self) -> None:
        self.setAccessibleName(self.tr("Saliency map"))
        self.setAccessibleDescription(self.tr("The input with the pixels that drove the chosen class's score "
                                              "highlighted, from dark (low) to yellow (high)."))
        self.update()  # the legend is translated when painted

    def set_image(self, argb: np.ndarray | None, message: str = "") -> None:
        self.image = argb_image(argb) if argb is not None else None
        self.message = message
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        if self.image is None:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect().adjusted(8, 8, -8, -8),
                             int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), self.message)
            painter.end()
            return
        fm = QFontMetrics(self.font())
        legend_w = 12 + 6 + max(fm.horizontalAdvance(self.tr("high")), fm.horizontalAdvance(self.tr("low")))
        side = max(28.0, min(self.width() - legend_w - 16, self.height() - 8))
        side = float(int(side // 28) * 28) if side >= 56 else side  # whole screen pixels per pixel
        left = (self.width() - side - legend_w - 8) / 2
        target = QRectF(left, (self.height() - side) / 2, side, side)
        painter.drawImage(target, self.image)
        painter.setPen(palette.color(QPalette.ColorRole.Mid))
        painter.drawRect(target)
        legend = QRectF(target.right() + 8, target.top(), 12, side)
        painter.drawImage(legend, self.legend)
        painter.drawRect(legend)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        painter.drawText(QRectF(legend.right() + 4, legend.top(), legend_w, fm.height()),
                         int(Qt.AlignmentFlag.AlignLeft), self.tr("high"))
        painter.drawText(QRectF(legend.right() + 4, legend.bottom() - fm.height(), legend_w, fm.height()),
                         int(Qt.AlignmentFlag.AlignLeft), self.tr("low"))
        painter.end()


class SaliencyPanel(Retranslating, QWidget):
    """Method and class selectors over the overlay; recomputed when any of them or the input change."""

    computed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("saliencyPanel")
        self.method_combo = QComboBox()
        self.method_combo.setObjectName("saliencyMethod")
        self.method_combo.addItem("", "gradient")
        self.method_combo.addItem("", "gradcam")
        self.class_combo = QComboBox()
        self.class_combo.setObjectName("saliencyClass")
        for combo in (self.method_combo, self.class_combo):  # long names elide rather than widen the panel
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(12)
        self.canvas = SaliencyCanvas()
        self.caption = TextLine(lines=3)
        self.title = QLabel()
        self.method_label, self.class_label = QLabel(), QLabel()
        form = QFormLayout()
        form.addRow(self.method_label, self.method_combo)
        form.addRow(self.class_label, self.class_combo)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addLayout(form)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.caption)
        self.predictor: Predictor | None = None
        self.tensor: torch.Tensor | None = None
        self.prediction: Prediction | None = None
        self._saliency: np.ndarray | None = None
        self._class_index: int | None = None
        # A map asked for while the panel is hidden is computed when it is next shown.
        self._when_shown = WhenVisible(self, self.refresh)
        self._when_shown.stale = False
        # A new input is computed at a later turn of the event loop, not inside the signal that
        # brought it: the feature maps and probabilities reach the screen first, and inputs that
        # arrive meanwhile are computed once, for the latest (benchmarks/classify_latency.py).
        self._last_refresh = 0.0
        self.hold_new_inputs = False  # True: wait for ``release`` before computing a new input
        self._held_since: float | None = None
        self._input_timer = QTimer(self)
        self._input_timer.setSingleShot(True)
        self._input_timer.timeout.connect(self._timer_fired)
        self.classes: list[str] = []
        self.set_classes([str(i) for i in range(10)])
        self.method_combo.currentIndexChanged.connect(self.refresh)
        self.class_combo.currentIndexChanged.connect(self.refresh)
        self.canvas.set_image(None, self.tr("No input."))
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText(self.tr("<b>Saliency</b>: which pixels drove the score"))
        self.method_label.setText(self.tr("Method:"))
        self.class_label.setText(self.tr("Class:"))
        self.method_combo.setItemText(self.method_combo.findData("gradient"), self.tr("Plain gradients |∂score/∂pixel|"))
        self.method_combo.setItemText(self.method_combo.findData("gradcam"), self.tr("Grad-CAM on conv2"))
        self.method_combo.setToolTip(self.tr(
            "Plain gradients: how much a small change of each input pixel changes the class's score.\n"
            "Grad-CAM: conv2's 16 feature maps weighted by how much each one raises the class's score, "
            "mapped back onto the input."))
        self._class_texts()
        if self.predictor is None:
            self.canvas.set_image(None, self.tr("No input."))
        elif self._class_index is not None:
            self._show_caption()

    @property
    def saliency(self) -> np.ndarray | None:
        """The map shown (28 x 28 in [0, 1]), brought up to date with the input first."""
        self.update_now()
        return self._saliency

    @property
    def class_index(self) -> int | None:
        """The class the map is computed for."""
        self.update_now()
        return self._class_index

    @property
    def pending(self) -> bool:
        """A new input is waiting to be computed."""
        return self._input_timer.isActive() or self._held_since is not None

    def release(self) -> None:
        """The other views of the held input are on screen: compute it now, or as soon as the
        stream interval allows."""
        if self._held_since is None:
            return
        self._held_since = None
        since = (time.perf_counter() - self._last_refresh) * 1000.0
        self._input_timer.start(int(max(0.0, STREAM_INTERVAL_MS - since)))

    def _timer_fired(self) -> None:
        if self._held_since is not None:
            waited = (time.perf_counter() - self._held_since) * 1000.0
            if waited < HOLD_MAX_MS:
                self._input_timer.start(int(HOLD_MAX_MS - waited) + 1)
                return
        self.refresh()

    def update_now(self) -> None:
        """Compute a new input that is still waiting (for the maps to paint, or for the stream
        interval), now."""
        if self._input_timer.isActive() or self._held_since is not None:
            self.refresh()

    @property
    def method(self) -> str:
        return self.method_combo.currentData()

    def set_method(self, method: str) -> None:
        self.method_combo.setCurrentIndex(self.method_combo.findData(method))

    def set_class(self, class_index: int) -> None:
        """``class_index`` or TOP_CLASS (follow the model's top class)."""
        self.class_combo.setCurrentIndex(self.class_combo.findData(class_index))

    def set_classes(self, classes: list[str]) -> None:
        previous = self.class_combo.currentData()
        self.classes = list(classes)
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        self.class_combo.addItem("", TOP_CLASS)
        for index in range(len(classes)):
            self.class_combo.addItem("", index)
        self._class_texts()
        found = self.class_combo.findData(previous) if previous is not None else 0
        self.class_combo.setCurrentIndex(max(0, found))
        self.class_combo.blockSignals(False)

    def _class_texts(self) -> None:
        self.class_combo.setItemText(0, self.tr("Top class (the prediction)"))
        for index, name in enumerate(self.classes):
            # Digits are their own names: "0", not "0 · 0".
            text = name if name == str(index) else fill(self.tr("%1 · %2"), index, display_class_name(name))
            self.class_combo.setItemText(index + 1, text)

    def set_input(self, predictor: Predictor | None, tensor: torch.Tensor | None,
                  prediction: Prediction | None, message: str = "") -> None:
        """The model, its input and its prediction; None for no input (``message`` says why)."""
        self.predictor, self.tensor, self.prediction = predictor, tensor, prediction
        if predictor is None or tensor is None or prediction is None:
            self._input_timer.stop()
            self._held_since = None
            self._saliency = self._class_index = None
            self.canvas.set_image(None, message or self.tr("No input."))
            self.caption.setText("")
            return
        if not self.isVisible():
            self._when_shown.request()
        elif self.hold_new_inputs:
            if self._held_since is None:
                self._held_since = time.perf_counter()
            if not self._input_timer.isActive():  # the limit on the hold
                self._input_timer.start(HOLD_MAX_MS)
        elif not self._input_timer.isActive():  # restarting it would starve it during a stroke
            since = (time.perf_counter() - self._last_refresh) * 1000.0
            self._input_timer.start(int(max(0.0, STREAM_INTERVAL_MS - since)))

    def refresh(self) -> None:
        self._input_timer.stop()
        self._held_since = None
        if self.predictor is None or self.tensor is None or self.prediction is None:
            return
        if not self.isVisible():
            self._when_shown.request()
            return
        self._when_shown.stale = False
        self._last_refresh = time.perf_counter()
        chosen = self.class_combo.currentData()
        index = self.prediction.index if chosen in (None, TOP_CLASS) else int(chosen)
        self._class_index = index
        self._saliency = self.predictor.saliency(self.tensor, index, self.method)
        self.canvas.set_image(overlay(self.tensor.reshape(28, 28).numpy(), self._saliency))
        self._show_caption()
        self.computed.emit()

    def _show_caption(self) -> None:
        index = self._class_index
        name = display_class_name(self.predictor.classes[index])
        p = float(self.prediction.probabilities[index])
        method = self.method_combo.currentText()
        if index == self.prediction.index:
            text = fill(self.tr("%1 for “%2”, the predicted class (%3)."), method, name, f"{100 * p:.1f}%")
        else:
            text = fill(self.tr("%1 for “%2” (%3); the model predicts “%4”."),
                        method, name, f"{100 * p:.1f}%", display_class_name(self.prediction.label))
        self.caption.setText(text)
