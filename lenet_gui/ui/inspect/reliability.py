"""A reliability diagram: for each band of confidence, how often the model was right.

The bins come from core (``EvaluationResult.calibration()``, the same ones ``lenet-gui evaluate``
sums into its ECE); this widget only draws them. Each bar is a bin of top-1 probability: its
height is the share of that bin's predictions that were right, the diagonal is where a model
that means its percentages would reach, and the part of a bar between the two is the gap.
Bins with no predictions draw nothing. Painted with QPainter like the probability chart.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from ...core.calibration import CalibrationReport
from ..widgets.text import Retranslating, fill


class ReliabilityDiagram(Retranslating, QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("reliabilityDiagram")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.report: CalibrationReport | None = None
        self.retranslate()

    def retranslate(self) -> None:
        self.setAccessibleName(self.tr("Reliability diagram"))
        self.setToolTip(self.tr("Each bar is a band of confidence: its height is how often the model was right "
                                "when it was that sure. On the diagonal, the percentages mean what they say."))
        self._describe()
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(220, 240)

    def minimumSizeHint(self) -> QSize:
        return QSize(180, 240)

    def set_report(self, report: CalibrationReport | None) -> None:
        self.report = report
        self._describe()
        self.update()

    def _describe(self) -> None:
        if self.report is None:
            self.setAccessibleDescription("")
            return
        self.setAccessibleDescription(fill(self.tr("Expected calibration error %1 over %2 bins"),
                                           f"{self.report.ece:.4f}", len(self.report.bins)))

    # -- geometry, shared by painting and the tests ----------------------------------------------

    def _metrics(self) -> QFontMetrics:
        return QFontMetrics(self._small_font())

    def _small_font(self) -> QFont:
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        return font

    def plot_rect(self) -> QRectF:
        """The square (0..1 by 0..1) the bars stand in, inside the axis labels."""
        fm = self._metrics()
        left = fm.horizontalAdvance("100%") + 8
        bottom = 2 * fm.height() + 6
        top = fm.height() + 4
        right = fm.horizontalAdvance("100%") / 2 + 4
        side = max(40.0, min(self.width() - left - right, self.height() - bottom - top))
        return QRectF(left, top, side, side)

    def bar_rect(self, index: int) -> QRectF | None:
        """Bin ``index``'s bar: as wide as the bin, as tall as its accuracy; None when empty."""
        if self.report is None:
            return None
        b = self.report.bins[index]
        if not b.count or math.isnan(b.accuracy):
            return None
        plot = self.plot_rect()
        x0 = plot.left() + b.lower * plot.width()
        x1 = plot.left() + b.upper * plot.width()
        height = b.accuracy * plot.height()
        return QRectF(x0, plot.bottom() - height, x1 - x0, height)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.WindowText)
        grid = palette.color(QPalette.ColorRole.Mid)
        bar = palette.color(QPalette.ColorRole.Highlight)
        gap_edge = QColor("#e53935")
        gap = QColor(gap_edge)
        gap.setAlpha(90)
        plot = self.plot_rect()
        font = self._small_font()
        fm = QFontMetrics(font)
        painter.setFont(font)

        painter.setPen(QPen(grid, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(plot)
        painter.setPen(text)
        painter.drawText(QRectF(0, 0, self.width(), fm.height() + 2), Qt.AlignmentFlag.AlignHCenter,
                         self.tr("Share right, by confidence"))
        for value in (0.0, 0.5, 1.0):
            y = plot.bottom() - value * plot.height()
            painter.drawText(QRectF(0, y - fm.height() / 2, plot.left() - 4, fm.height()),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{value:.0%}")
            x = plot.left() + value * plot.width()
            painter.drawText(QRectF(x - 30, plot.bottom() + 2, 60, fm.height()), Qt.AlignmentFlag.AlignHCenter,
                             f"{value:.0%}")
        painter.drawText(QRectF(plot.left(), plot.bottom() + fm.height() + 2, plot.width(), fm.height()),
                         Qt.AlignmentFlag.AlignHCenter, self.tr("Confidence"))

        if self.report is not None:
            for index, b in enumerate(self.report.bins):
                rect = self.bar_rect(index)
                if rect is None:
                    continue
                painter.setPen(QPen(palette.color(QPalette.ColorRole.Base), 1))
                painter.setBrush(bar)
                painter.drawRect(rect)
                # The gap: from the bar's top to where its mean confidence would put it.
                expected_y = plot.bottom() - b.confidence * plot.height()
                if abs(expected_y - rect.top()) >= 1.0:
                    painter.setPen(QPen(gap_edge, 1))
                    painter.setBrush(gap)
                    painter.drawRect(QRectF(rect.left(), min(expected_y, rect.top()), rect.width(),
                                            abs(expected_y - rect.top())))
        painter.setPen(QPen(text, 1, Qt.PenStyle.DashLine))
        painter.drawLine(QPointF(plot.left(), plot.bottom()), QPointF(plot.right(), plot.top()))
        painter.end()
