"""Horizontal bars of the ten class probabilities, class names beside them, the top class
highlighted. Painted directly with QPainter: ten bars do not need a plotting library, and text
drawn by the widget itself stays crisp at any scale and repaints in well under a millisecond.

For an input unlike the model's training data (its out-of-distribution check says so) the bars
are drawn faint, no class is highlighted, and a notice across them says why."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from .text import Retranslating, display_class_names, fill


class ProbabilityChart(Retranslating, QWidget):
    painted = Signal()  # after each repaint; benchmarks time "prediction on screen" with it

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("probabilityChart")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMinimumHeight(150)
        self.classes: list[str] = [str(i) for i in range(10)]
        self.probabilities: np.ndarray | None = None
        self.notice: str | None = None  # across the faint bars of an unfamiliar input; None: none
        self.serial = 0  # counts set_probabilities calls; a paint shows the state of this serial
        self.painted_serial = -1
        self.retranslate()

    def retranslate(self) -> None:
        self.setAccessibleName(self.tr("Class probabilities"))
        self._describe()
        self.update()  # the class names are translated when painted

    def sizeHint(self) -> QSize:
        return QSize(360, 300)

    def set_classes(self, classes: list[str]) -> None:
        self.classes = list(classes)
        self.updateGeometry()
        self.update()

    def set_probabilities(self, probabilities: np.ndarray | None, notice: str | None = None) -> None:
        """``None`` clears the bars (nothing to classify). ``notice``: the input is unlike the
        training data; the bars stay faint behind this text and no class is highlighted."""
        self.probabilities = None if probabilities is None else np.asarray(probabilities, dtype=float)
        self.notice = notice if probabilities is not None else None
        self.serial += 1
        self._describe()
        self.update()

    def set_notice(self, notice: str | None) -> None:
        """Only the notice (a language switch words it again); the bars stay."""
        notice = notice if self.probabilities is not None else None
        if notice != self.notice:
            self.notice = notice
            self.serial += 1
            self._describe()
            self.update()

    def _describe(self) -> None:
        """What a screen reader says: the three likeliest classes."""
        if self.probabilities is None:
            self.setAccessibleDescription(self.tr("No prediction yet"))
            return
        best = np.argsort(self.probabilities)[::-1][:3]
        names = display_class_names(self.classes)
        parts = [fill(self.tr("%1: %2"), names[i], f"{100 * self.probabilities[i]:.1f}%")
                 for i in best if i < len(self.classes)]
        self.setAccessibleDescription(". ".join([self.notice] * bool(self.notice) + [", ".join(parts)]))

    def top_index(self) -> int | None:
        """The class drawn highlighted: the likeliest, unless the input is unfamiliar."""
        if self.probabilities is None or self.notice:
            return None
        return int(np.argmax(self.probabilities))

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        rows = max(1, len(self.classes))
        height = self.height()
        row_h = height / rows
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, min(font.pointSizeF() * 1.15, row_h * 0.42)))
        bold = QFont(font)
        bold.setBold(True)
        metrics = QFontMetrics(bold)
        names = display_class_names(self.classes)
        name_w = max(metrics.horizontalAdvance(name) for name in names) + 12
        value_w = metrics.horizontalAdvance("100.0%") + 10
        bar_x = name_w
        bar_w = max(10.0, self.width() - name_w - value_w)
        top = self.top_index()
        highlight = palette.color(QPalette.ColorRole.Highlight)
        track = palette.color(QPalette.ColorRole.Mid)
        track.setAlpha(60)
        bar_colour = palette.color(QPalette.ColorRole.Text)
        bar_colour.setAlpha(110)
        text = palette.color(QPalette.ColorRole.WindowText)
        dim = QColor(text)
        dim.setAlpha(130)
        if self.notice:
            bar_colour.setAlpha(45)
            text = dim
        for i, name in enumerate(names):
            y = i * row_h
            is_top = i == top
            p = None if self.probabilities is None else float(self.probabilities[i])
            bar_rect = QRectF(bar_x, y + row_h * 0.18, bar_w, row_h * 0.64)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(track)
            painter.drawRoundedRect(bar_rect, 3, 3)
            if p is not None and p > 0:
                filled = QRectF(bar_rect.x(), bar_rect.y(), max(2.0, bar_w * p), bar_rect.height())
                painter.setBrush(highlight if is_top else bar_colour)
                painter.drawRoundedRect(filled, 3, 3)
            painter.setFont(bold if is_top else font)
            painter.setPen(text if (p is not None) else dim)
            painter.drawText(QRectF(0, y, name_w - 8, row_h),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, name)
            if p is not None:
                painter.drawText(QRectF(bar_x + bar_w + 6, y, value_w, row_h),
                                 Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                                 f"{100 * p:.1f}%")
        if self.notice:
            self._paint_notice(painter)
        painter.end()
        self.painted_serial = self.serial
        self.painted.emit()

    def notice_rect(self) -> QRectF:
        """Where the notice is drawn: a band across the middle of the bars."""
        width = min(self.width() - 16.0, max(240.0, self.width() * 0.8))
        height = min(self.height() - 8.0, max(56.0, self.height() * 0.3))
        return QRectF((self.width() - width) / 2, (self.height() - height) / 2, width, height)

    def _paint_notice(self, painter: QPainter) -> None:
        palette = self.palette()
        box = self.notice_rect()
        fill_colour = palette.color(QPalette.ColorRole.Base)
        fill_colour.setAlpha(235)
        edge = palette.color(QPalette.ColorRole.Highlight)
        painter.setPen(edge)
        painter.setBrush(fill_colour)
        painter.drawRoundedRect(box, 6, 6)
        font = QFont(self.font())
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        painter.drawText(box.adjusted(10, 6, -10, -6), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                         self.notice)
