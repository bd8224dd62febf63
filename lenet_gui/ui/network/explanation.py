"""How the chosen value is made, drawn from a core.stepthrough step.

Convolution: the receptive field outlined on its input map and its reach on the 28 x 28 image;
the window's values, the kernel's weights and their element-wise products as grids of numbers;
then the sum, the bias, batch norm's affine step and the activation, ending in the value the
layer shows. Pooling: the window with its maximum marked (or its mean). A fully connected unit:
its largest contributions (input x weight), the rest summed, the bias and the activation.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPen, QStaticText
from PySide6.QtWidgets import QSizePolicy, QWidget

from ...core.stepthrough import INPUT, ConvStep, DenseStep, PoolStep, Step
from ..widgets.colormaps import ACTIVATION_LUT, INPUT_LUT, WEIGHT_LUT, argb_image, colorize, value_range
from ..widgets.text import Retranslating, fill
from .layer_grid import HIGHLIGHT

PANEL = 112.0  # side of a map panel


def line_height(font: QFont) -> int:
    """A line of ``font`` as tall as Chinese text needs: CJK glyphs come from a fallback font
    taller than most Latin ones, which the font's own line spacing does not count."""
    metrics = QFontMetrics(font)
    return max(metrics.lineSpacing(), metrics.boundingRect("\u56fd\u7f51Ag").height() + 1)


def num(value: float, digits: int = 4) -> str:
    """``value`` to ``digits`` places, with a true minus sign; one that rounds to zero is "0.00",
    whichever its sign."""
    text = f"{value:.{digits}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    return text.replace("-", "\u2212")


def index_text(layer: str, position: tuple[int, ...]) -> str:
    return f"{layer}[{', '.join(str(p) for p in position)}]"


class ExplanationView(Retranslating, QWidget):
    painted = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("networkExplanation")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(420, 160)
        self.step: Step | None = None
        self.image: np.ndarray | None = None  # the 28 x 28 input in [0, 1]
        self.source: np.ndarray | None = None  # the layer the step reads (its own shape)
        self.input_channel = 0  # the input channel a convolution's grids show
        self.channel_pinned = False  # the user chose it; else it follows the largest contribution
        self.message = ""
        self._chips: list[tuple[QRectF, int]] = []
        # The grids' numbers repeat from input to input: laid out once, they draw far faster
        # while the pen moves.
        self._static_texts: dict[str, QStaticText] = {}
        self.retranslate()

    def sizeHint(self) -> QSize:
        return QSize(700, 300)

    def changeEvent(self, event) -> None:
        if event.type() == event.Type.FontChange:
            self._static_texts.clear()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.setAccessibleName(self.tr("How the value is computed"))
        self.update()

    def set_message(self, message: str) -> None:
        self.step = None
        self.message = message
        self.update()

    def set_step(self, step: Step, image: np.ndarray, source: np.ndarray, keep_channel: bool = False) -> None:
        self.step, self.image, self.source = step, np.asarray(image).reshape(28, 28), np.asarray(source)
        if not keep_channel:
            self.channel_pinned = False
        if isinstance(step, ConvStep) and not (self.channel_pinned and self.input_channel < step.inputs.shape[0]):
            # the input channel that contributes most
            self.input_channel = int(np.argmax(np.abs(step.channel_sums)))
        self.update()

    def choose_input_channel(self, channel: int) -> None:
        if isinstance(self.step, ConvStep) and 0 <= channel < self.step.inputs.shape[0]:
            self.input_channel = channel
            self.channel_pinned = True
            self.update()

    def mousePressEvent(self, event) -> None:
        for rect, channel in self._chips:
            if rect.contains(event.position()):
                self.choose_input_channel(channel)
                return

    # -- text ------------------------------------------------------------------------------------

    def activation_line(self, activation: str, before: float, after: float) -> str:
        return fill(self.tr("%1(%2) = %3"), activation, num(before), num(after))

    def batch_norm_line(self, bn) -> str:
        return fill(self.tr("batch norm: (%1 − mean %2) / √(var %3 + %4) × γ %5 + β %6 = %7"),
                    num(bn.before), num(bn.mean), num(bn.var), f"{bn.eps:g}", num(bn.gamma), num(bn.beta), num(bn.after))

    def result_lines(self, step: Step) -> list[str]:
        """The arithmetic after the products, one line per step, ending in the shown value."""
        lines: list[str] = []
        if isinstance(step, (ConvStep, DenseStep)):
            total = step.total
            if step.bias is not None:
                lines.append(fill(self.tr("sum of products %1 + bias %2 = %3"), num(total), num(step.bias),
                                  num(total + step.bias)))
            else:
                lines.append(fill(self.tr("sum of products = %1 (no bias: batch norm follows)"), num(total)))
            if step.batch_norm is not None:
                lines.append(self.batch_norm_line(step.batch_norm))
            if step.activation:
                lines.append(self.activation_line(step.activation, step.pre_activation, step.result))
        else:
            values = ", ".join(num(v, 3) for v in step.inputs.reshape(-1))
            if step.kind == "max":
                lines.append(fill(self.tr("max(%1) = %2"), values, num(step.result)))
            else:
                lines.append(fill(self.tr("mean(%1) = %2"), values, num(step.result)))
        lines.append(fill(self.tr("%1 = %2 (the forward pass)"), index_text(step.layer, step.position), num(step.value)))
        return lines

    def source_title(self, step: Step) -> str:
        if step.source == INPUT:
            return self.tr("input (as the model sees it)")
        channel = self.input_channel if isinstance(step, ConvStep) else step.position[0]
        return fill(self.tr("%1, channel %2"), step.source, channel)

    # -- paint -----------------------------------------------------------------------------------

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text = self.palette().color(QPalette.ColorRole.WindowText)
        painter.setPen(text)
        self._chips = []
        if self.step is None:
            painter.drawText(self.rect().adjusted(8, 8, -8, -8), int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap),
                             self.message)
            self.painted.emit()
            return
        step = self.step
        line = line_height(self.font())
        x = 6.0
        if isinstance(step, (ConvStep, PoolStep)):
            x = self._paint_sources(painter, step, x, line) + 14
            x = self._paint_numbers(painter, step, x, line) + 14
        else:
            x = self._paint_contributions(painter, step, x, line) + 14
        painter.setPen(text)
        top = 4.0
        if isinstance(step, ConvStep) and step.inputs.shape[0] > 1:
            top = self._paint_channel_sums(painter, step, x, top, line)
        for content in self.result_lines(step):
            rect = QRectF(x, top, max(60.0, self.width() - x - 6), 3 * line)
            bounds = painter.boundingRect(rect, int(Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap), content)
            painter.drawText(rect, int(Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap), content)
            top += bounds.height() + 4
        self.painted.emit()

    def _map(self, painter: QPainter, values: np.ndarray, lut, rect: QRectF, lo=None, hi=None) -> float:
        """Draw a 2-D map into the square ``rect``; returns the size of one cell."""
        if lo is None:
            lo, hi = value_range(values)
        painter.drawImage(rect, argb_image(colorize(values, lut, lo, hi)))
        return rect.width() / values.shape[1]

    def _outline(self, painter: QPainter, panel: QRectF, cell: float, rows, cols) -> None:
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(HIGHLIGHT, 2))
        painter.drawRect(QRectF(panel.left() + cols[0] * cell, panel.top() + rows[0] * cell,
                                (cols[1] - cols[0]) * cell, (rows[1] - rows[0]) * cell))

    def _paint_sources(self, painter: QPainter, step, x: float, line: float) -> float:
        """The source map with the window, and (after the first layer) the image with the reach."""
        text = self.palette().color(QPalette.ColorRole.WindowText)
        side = min(PANEL, (self.height() - 3 * line - 16) / 2)
        top = 4.0
        source_channel = self.input_channel if isinstance(step, ConvStep) else step.position[0]
        painter.setPen(text)
        metrics = QFontMetrics(self.font())
        title = self.source_title(step)
        # As wide as the title: the column after it starts past its end (see the return below).
        painter.drawText(QRectF(x, top, max(side, metrics.horizontalAdvance(title) + 2), line),
                         int(Qt.AlignmentFlag.AlignLeft), title)
        panel = QRectF(x, top + line, side, side)
        if step.source == INPUT:
            values = self.source[0]
            cell = self._map(painter, values, INPUT_LUT, panel)
        else:
            values = self.source[source_channel]
            cell = self._map(painter, values, ACTIVATION_LUT, panel)
        self._outline(painter, panel, cell, step.rows, step.cols)
        if step.source != INPUT:
            top = panel.bottom() + 6
            painter.setPen(text)
            reach = self.tr("its reach on the 28 × 28 image")
            painter.drawText(QRectF(x, top, max(side, metrics.horizontalAdvance(reach) + 2), line),
                             int(Qt.AlignmentFlag.AlignLeft), reach)
            image_panel = QRectF(x, top + line, side, side)
            cell = self._map(painter, self.image, INPUT_LUT, image_panel, 0.0, 1.0)
            r0, r1, c0, c1 = step.reach
            self._outline(painter, image_panel, cell, (r0, r1), (c0, c1))
        titles = [self.source_title(step)] + ([self.tr("its reach on the 28 × 28 image")] if step.source != INPUT else [])
        return x + max([side] + [metrics.horizontalAdvance(title) + 2 for title in titles])

    def _grid(self, painter: QPainter, values: np.ndarray, lut, x: float, top: float, cell_w: float, cell_h: float,
              symmetric: bool, marked: tuple[int, int] | None = None) -> None:
        lo, hi = value_range(values, symmetric=symmetric)
        colours = colorize(values, lut, lo, hi)
        rows, cols = values.shape
        # The cells' colours as one image scaled up (one call, not one per cell), then the numbers,
        # dark on light cells and light on dark ones.
        painter.drawImage(QRectF(x, top, cell_w * cols, cell_h * rows), argb_image(colours))
        light = ((colours >> 16 & 0xFF) * 299 + (colours >> 8 & 0xFF) * 587 + (colours & 0xFF) * 114) > 128_000
        small = QFont(self.font())
        small.setPointSizeF(max(6.0, small.pointSizeF() * 0.8))
        if len(self._static_texts) > 4000:
            self._static_texts.clear()
        pens = (QColor(255, 255, 255), QColor(0, 0, 0))
        current = None
        painter.setFont(small)
        for (r, c), value in np.ndenumerate(values):
            label = num(float(value), 2)
            static = self._static_texts.get(label)
            if static is None:
                static = self._static_texts[label] = QStaticText(label)
                static.prepare(painter.transform(), small)
            pen = pens[int(light[r, c])]
            if pen is not current:
                painter.setPen(pen)
                current = pen
            size = static.size()
            painter.drawStaticText(QPointF(x + (c + 0.5) * cell_w - size.width() / 2,
                                           top + (r + 0.5) * cell_h - size.height() / 2), static)
        painter.setFont(self.font())
        painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Mid), 1))
        painter.drawRect(QRectF(x, top, cell_w * cols, cell_h * rows))
        if marked is not None:
            painter.setPen(QPen(HIGHLIGHT, 2.5))
            painter.drawRect(QRectF(x + marked[1] * cell_w, top + marked[0] * cell_h, cell_w, cell_h))

    def _paint_numbers(self, painter: QPainter, step, x: float, line: float) -> float:
        text = self.palette().color(QPalette.ColorRole.WindowText)
        small = QFont(self.font())
        small.setPointSizeF(max(6.0, small.pointSizeF() * 0.8))
        cell_w = QFontMetrics(small).horizontalAdvance("\u22120.00") + 6
        if isinstance(step, PoolStep):
            cell_h = cell_w * 0.7
            painter.setPen(text)
            title = self.tr("window (maximum marked)") if step.kind == "max" else self.tr("window (averaged)")
            painter.drawText(QRectF(x, 4, 3 * cell_w + 60, line), int(Qt.AlignmentFlag.AlignLeft), title)
            self._grid(painter, step.inputs, ACTIVATION_LUT, x, 4 + line, cell_w, cell_h, False, step.chosen)
            return x + max(step.inputs.shape[1] * cell_w, QFontMetrics(self.font()).horizontalAdvance(title))
        k = step.inputs.shape[1]
        cell_h = min(cell_w * 0.62, (self.height() - 4 - 3 * line - 12) / (3 * k))
        channel = self.input_channel
        blocks = ((self.tr("window"), step.inputs[channel], INPUT_LUT if step.source == INPUT else ACTIVATION_LUT, False),
                  (self.tr("× kernel weights"), step.weights[channel], WEIGHT_LUT, True),
                  (self.tr("= products"), step.products[channel], WEIGHT_LUT, True))
        top = 4.0
        width = k * cell_w
        for title, values, lut, symmetric in blocks:
            painter.setPen(text)
            painter.drawText(QRectF(x, top, width + 40, line), int(Qt.AlignmentFlag.AlignLeft), title)
            self._grid(painter, values, lut, x, top + line, cell_w, cell_h, symmetric)
            top += line + k * cell_h + 4
        return x + width

    def _paint_channel_sums(self, painter: QPainter, step: ConvStep, x: float, top: float, line: float) -> float:
        """One chip per input channel with its products' sum; clicking one shows its grids."""
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        flags = int(Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap)
        title = self.tr("sum of products per input channel (click one to show its grids):")
        area = QRectF(x, top, max(60.0, self.width() - x - 6), 3 * line)
        painter.drawText(area, flags, title)
        top += painter.boundingRect(area, flags, title).height() + 2
        metrics = QFontMetrics(self.font())
        left = x
        for channel, value in enumerate(step.channel_sums):
            label = fill(self.tr("ch %1: %2"), channel, num(float(value), 3))
            width = metrics.horizontalAdvance(label) + 10
            if left + width > self.width() - 4:
                left, top = x, top + line + 4
            rect = QRectF(left, top, width, line + 2)
            chosen = channel == self.input_channel
            painter.setPen(QPen(HIGHLIGHT if chosen else self.palette().color(QPalette.ColorRole.Mid), 2 if chosen else 1))
            painter.setBrush(self.palette().color(QPalette.ColorRole.Base))
            painter.drawRoundedRect(rect, 4, 4)
            painter.setPen(self.palette().color(QPalette.ColorRole.Text))
            painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), label)
            self._chips.append((rect, channel))
            left += width + 4
        return top + line + 8

    def contribution_label(self, step: DenseStep, index: int) -> str:
        if len(step.source_shape) == 3:
            channel, rest = divmod(index, step.source_shape[1] * step.source_shape[2])
            row, col = divmod(rest, step.source_shape[2])
            return index_text(step.source, (channel, row, col))
        return index_text(step.source, (index,))

    def _paint_contributions(self, painter: QPainter, step: DenseStep, x: float, line: float) -> float:
        text = self.palette().color(QPalette.ColorRole.WindowText)
        painter.setPen(text)
        title = fill(self.tr("largest contributions of %1 inputs (input × weight)"), step.inputs.size)
        painter.drawText(QRectF(x, 4, 420, line), int(Qt.AlignmentFlag.AlignLeft), title)
        metrics = QFontMetrics(self.font())
        top = 4 + line + 2
        products = [c.product for c in step.top()]
        scale = max((abs(p) for p in products), default=1.0) or 1.0
        label_w = metrics.horizontalAdvance("pool2[15, 3, 3]") + 8
        numbers_w = metrics.horizontalAdvance("\u22120.0000 × \u22120.0000 = \u22120.0000") + 8
        bar_w = 80.0
        for contribution in step.top():
            painter.setPen(text)
            painter.drawText(QRectF(x, top, label_w, line), int(Qt.AlignmentFlag.AlignLeft),
                             self.contribution_label(step, contribution.index))
            painter.drawText(QRectF(x + label_w, top, numbers_w, line), int(Qt.AlignmentFlag.AlignLeft),
                             f"{num(contribution.input)} × {num(contribution.weight)} = {num(contribution.product)}")
            length = bar_w / 2 * abs(contribution.product) / scale
            centre = x + label_w + numbers_w + bar_w / 2
            colour = QColor(200, 60, 40) if contribution.product > 0 else QColor(40, 90, 200)
            painter.fillRect(QRectF(centre if contribution.product > 0 else centre - length, top + 3, length, line - 6), colour)
            top += line
        painter.setPen(text)
        rest = fill(self.tr("the other %1: %2"), step.inputs.size - len(products), num(step.rest))
        painter.drawText(QRectF(x, top, label_w + numbers_w, line), int(Qt.AlignmentFlag.AlignLeft), rest)
        return x + label_w + numbers_w + bar_w
