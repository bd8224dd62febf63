"""The learned convolution kernels: conv1's 6 (1x5x5) and conv2's 16x6 (5x5).

Weights are signed, so each layer uses a diverging colour scale centred on zero (blue negative,
white zero, red positive), symmetric and shared by all the layer's kernels so they compare.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QImage, QPainter, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from ..widgets.colormaps import WEIGHT_LUT, argb_image, colorize, lut_image, value_range
from ..widgets.hover import format_value, report_hover
from ..widgets.text import Retranslating, fill

KERNEL = 5


class FilterView(Retranslating, QWidget):
    """conv1's kernels in a 2 x 3 grid; conv2's as 6 rows (input channel) x 16 columns (filter)."""

    hovered = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("filterView")
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(360, 120)
        self.weights: dict[str, np.ndarray] = {}  # "conv1": 6x1x5x5, "conv2": 16x6x5x5
        self.ranges: dict[str, tuple[float, float]] = {}
        self.colors: dict[str, np.ndarray] = {}
        self._images: dict[str, list[QImage]] = {}
        self._rects: dict[str, list[tuple[QRectF, int, int]]] = {}  # (rect, out channel, in channel)
        self._legend = lut_image(WEIGHT_LUT)
        self._layout_size = QSize()
        self.message = self.tr("No model loaded.")
        self.retranslate()

    def retranslate(self) -> None:
        self.setAccessibleName(self.tr("Learned filters"))
        self.setAccessibleDescription(self.tr("The 5 × 5 kernels of conv1 and conv2: blue negative, white zero, "
                                              "red positive."))
        self._layout_size = QSize()  # the titles' widths
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(900, 300)

    def set_message(self, message: str) -> None:
        self.message = message
        self.weights = {}
        self.update()

    def set_weights(self, conv1: np.ndarray, conv2: np.ndarray) -> None:
        """``conv1``: 6 x 1 x 5 x 5 and ``conv2``: 16 x 6 x 5 x 5, as numbers (copied)."""
        self.weights = {"conv1": np.array(conv1, dtype=np.float32).reshape(6, 1, KERNEL, KERNEL),
                        "conv2": np.array(conv2, dtype=np.float32).reshape(16, 6, KERNEL, KERNEL)}
        for key, w in self.weights.items():
            lo, hi = value_range(w, symmetric=True)
            self.ranges[key] = (lo, hi)
            self.colors[key] = colorize(w, WEIGHT_LUT, lo, hi)
            out_ch, in_ch = w.shape[:2]
            self._images[key] = [argb_image(self.colors[key][o, i]) for o in range(out_ch) for i in range(in_ch)]
        self.update()

    # -- layout --------------------------------------------------------------------------------

    def resizeEvent(self, event) -> None:
        self._layout_size = QSize()
        super().resizeEvent(event)

    def _titles(self) -> tuple[str, str]:
        return (self.tr("conv1 · 6 kernels, 1×5×5"),
                self.tr("conv2 · 16 filters (columns) × 6 input channels (rows), 5×5"))

    def _layout(self) -> None:
        fm = QFontMetrics(self.font())
        bold = QFont(self.font())
        bold.setBold(True)
        title1_w = QFontMetrics(bold).horizontalAdvance(self._titles()[0]) + 4
        line = fm.height()
        margin, gap, spacing = 8, 3, 36
        top = margin + line + 4  # titles
        bottom = 10 + line + margin  # legends
        label_w = fm.horizontalAdvance(fill(self.tr("in %1"), 5)) + 6
        avail_h = self.height() - top - bottom - line  # column numbers above conv2
        # conv2: 6 rows x 16 columns of side s; conv1: 2 x 3 kernels of about twice that side.
        s_h = (avail_h - 5 * gap) / 6
        s_w = (self.width() - 2 * margin - spacing - label_w - 17 * gap) / (16 + 6)
        side2 = max(5.0, min(s_h, s_w))
        if side2 >= 10:
            side2 = float(math.floor(side2 / KERNEL) * KERNEL)  # whole screen pixels per weight
        grid2_h = 6 * side2 + 5 * gap
        side1 = max(5.0, min(2 * side2, (grid2_h - 2 * line - gap) / 2))
        if side1 >= 10:
            side1 = float(math.floor(side1 / KERNEL) * KERNEL)
        conv1_w = 3 * side1 + 2 * gap
        box1_w = max(conv1_w, title1_w, 90.0)
        rects1 = []
        conv1_h = 2 * (side1 + line) + gap
        x1 = margin + (box1_w - conv1_w) / 2
        y1 = top + line + max(0.0, (grid2_h - conv1_h) / 2) - line
        for o in range(6):
            r, c = divmod(o, 3)
            rects1.append((QRectF(x1 + c * (side1 + gap), y1 + r * (side1 + line + gap) + line, side1, side1), o, 0))
        x2 = margin + box1_w + spacing + label_w
        rects2 = []
        for o in range(16):
            for i in range(6):
                rects2.append((QRectF(x2 + o * (side2 + gap), top + line + i * (side2 + gap), side2, side2), o, i))
        self._rects = {"conv1": rects1, "conv2": rects2}
        self._conv1_box = QRectF(margin, margin, box1_w, top - margin)
        self._conv2_box = QRectF(x2 - label_w, margin, max(label_w + 16 * (side2 + gap), 200.0), top - margin)
        legend_y = top + line + grid2_h + 8
        self._legends = {
            "conv1": QRectF(margin + (box1_w - min(box1_w, 140.0)) / 2, legend_y, min(box1_w, 140.0), 8),
            "conv2": QRectF(x2, legend_y, 140.0, 8),
        }
        self._layout_size = self.size()

    # -- painting ------------------------------------------------------------------------------

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        if not self.weights:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect(), int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), self.message)
            painter.end()
            return
        if self._layout_size != self.size():
            self._layout()
        fm = QFontMetrics(self.font())
        text = palette.color(QPalette.ColorRole.Text)
        frame = QPen(palette.color(QPalette.ColorRole.Mid))
        bold = QFont(self.font())
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(text)
        title1, title2 = self._titles()
        painter.drawText(self._conv1_box, int(Qt.AlignmentFlag.AlignLeft), title1)
        painter.drawText(self._conv2_box, int(Qt.AlignmentFlag.AlignLeft), title2)
        painter.setFont(self.font())
        for key in ("conv1", "conv2"):
            for (rect, o, i), image in zip(self._rects[key], self._images[key]):
                painter.drawImage(rect, image)
                painter.setPen(frame)
                painter.drawRect(rect.adjusted(-0.5, -0.5, 0.5, 0.5))
                painter.setPen(text)
                if key == "conv1":
                    painter.drawText(QRectF(rect.left(), rect.top() - fm.height(), rect.width(), fm.height()),
                                     int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom), str(o))
                else:
                    if i == 0:
                        painter.drawText(QRectF(rect.left() - 4, rect.top() - fm.height(), rect.width() + 8, fm.height()),
                                         int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom), str(o))
                    if o == 0:
                        painter.drawText(QRectF(rect.left() - 60, rect.top(), 56, rect.height()),
                                         int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                                         fill(self.tr("in %1"), i))
            legend = self._legends[key]
            painter.drawImage(legend, self._legend)
            painter.setPen(frame)
            painter.drawRect(legend)
            painter.setPen(text)
            lo, hi = self.ranges[key]
            below = QRectF(legend.left(), legend.bottom() + 2, legend.width(), fm.height())
            painter.drawText(below, int(Qt.AlignmentFlag.AlignLeft), format_value(lo))
            painter.drawText(below, int(Qt.AlignmentFlag.AlignHCenter), "0")
            painter.drawText(below, int(Qt.AlignmentFlag.AlignRight), format_value(hi))
        painter.end()

    # -- pointer -------------------------------------------------------------------------------

    def kernel_rect(self, key: str, out_channel: int, in_channel: int) -> QRectF:
        """Where kernel (out_channel, in_channel) of layer ``key`` is drawn."""
        if self._layout_size != self.size():
            self._layout()
        for rect, o, i in self._rects[key]:
            if (o, i) == (out_channel, in_channel):
                return QRectF(rect)
        raise KeyError((key, out_channel, in_channel))

    def describe_at(self, pos: QPointF) -> str | None:
        if not self.weights:
            return None
        if self._layout_size != self.size():
            self._layout()
        for key, rects in self._rects.items():
            for rect, o, i in rects:
                if rect.contains(pos):
                    r = min(KERNEL - 1, int((pos.y() - rect.top()) / rect.height() * KERNEL))
                    c = min(KERNEL - 1, int((pos.x() - rect.left()) / rect.width() * KERNEL))
                    value = float(self.weights[key][o, i, r, c])
                    if key == "conv1":
                        return fill(self.tr("conv1 · kernel %1 · (row %2, column %3) = %4"),
                                    o, r, c, format_value(value))
                    return fill(self.tr("conv2 · filter %1, input channel %2 · (row %3, column %4) = %5"),
                                o, i, r, c, format_value(value))
        return None

    def mouseMoveEvent(self, event) -> None:
        report_hover(self, event, self.describe_at(event.position()) or "")
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:
        self.hovered.emit("")  # the read-out describes what is under the pointer, nothing else
        super().leaveEvent(event)
