"""The projector's scatter: thousands of points coloured by class, a ring for each mistake, and a
marker for the current input.

The points are painted once into a pixmap (again only when the data, the size or the colours
change); a mouse move or a new marker position repaints that pixmap plus the few marks on top,
so the view follows the pen without redrawing ten thousand points.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

# matplotlib's "tab10": ten colours told apart by most viewers, on light and dark backgrounds.
CLASS_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
MARGIN = 14
HOVER_RADIUS = 7  # logical pixels: how near the pointer must be to a point to pick it
DRAW_ORDER_SEED = 0
CHUNKS = 16  # classes interleaved in this many rounds, so that no class covers all others


def class_colour(index: int) -> QColor:
    return QColor(CLASS_COLOURS[index % len(CLASS_COLOURS)])


class ScatterView(QWidget):
    hovered = Signal(int)  # the point under the pointer (an index into the arrays given), -1: none
    clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("projectorScatter")
        self.setMouseTracking(True)
        self.setMinimumSize(240, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.coords = np.zeros((0, 2), np.float64)
        self.labels = np.zeros(0, np.int64)
        self.wrong = np.zeros(0, bool)
        self.marker: np.ndarray | None = None  # the current input's map position
        self.marker_label = ""
        self.hovered_index = -1
        self.selected_index = -1
        self.message = ""
        self._screen = np.zeros((0, 2))  # the points' widget positions
        self._pixmap: QPixmap | None = None
        self._order = np.zeros(0, np.int64)

    # -- data ----------------------------------------------------------------------------------

    def set_points(self, coords: np.ndarray, labels: np.ndarray, wrong: np.ndarray) -> None:
        self.coords = np.asarray(coords, np.float64).reshape(-1, 2)
        self.labels = np.asarray(labels, np.int64)
        self.wrong = np.asarray(wrong, bool)
        self._order = np.random.default_rng(DRAW_ORDER_SEED).permutation(len(self.coords))
        self.hovered_index = self.selected_index = -1
        self.message = ""
        self._layout()

    def set_message(self, message: str) -> None:
        """No points: ``message`` instead."""
        self.coords = np.zeros((0, 2))
        self.labels = np.zeros(0, np.int64)
        self.wrong = np.zeros(0, bool)
        self.marker = None
        self.hovered_index = self.selected_index = -1
        self.message = message
        self._layout()

    def set_marker(self, position: np.ndarray | None, label: str = "") -> None:
        self.marker = None if position is None else np.asarray(position, np.float64).reshape(2)
        self.marker_label = label
        self.update()

    def set_selected(self, index: int) -> None:
        self.selected_index = index
        self.update()

    @property
    def has_points(self) -> bool:
        return len(self.coords) > 0

    # -- geometry ------------------------------------------------------------------------------

    def _plot_rect(self) -> QRectF:
        return QRectF(self.rect()).adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN)

    def _transform(self):
        """(scale, offset x, offset y): map -> widget, the same scale on both axes (distances on
        a PCA map mean something), y up."""
        area = self._plot_rect()
        if not self.has_points:
            return 1.0, area.center().x(), area.center().y()
        lo, hi = self.coords.min(0), self.coords.max(0)
        span = np.maximum(hi - lo, 1e-12)
        scale = min(area.width() / span[0], area.height() / span[1])
        centre = (lo + hi) / 2
        return scale, area.center().x() - scale * centre[0], area.center().y() + scale * centre[1]

    def map_to_widget(self, xy: np.ndarray) -> np.ndarray:
        scale, ox, oy = self._transform()
        xy = np.asarray(xy, np.float64).reshape(-1, 2)
        return np.stack([ox + scale * xy[:, 0], oy - scale * xy[:, 1]], axis=1)

    def point_position(self, index: int) -> QPointF:
        x, y = self._screen[index]
        return QPointF(x, y)

    def marker_position(self) -> QPointF | None:
        """Where the marker is drawn: its map position, held inside the plot when it falls outside."""
        if self.marker is None or not self.has_points:
            return None
        x, y = self.map_to_widget(self.marker)[0]
        area = QRectF(self.rect()).adjusted(4, 4, -4, -4)
        return QPointF(min(max(x, area.left()), area.right()), min(max(y, area.top()), area.bottom()))

    def point_at(self, position: QPointF) -> int:
        """The point nearest ``position`` within HOVER_RADIUS, -1 if none."""
        if not self.has_points:
            return -1
        d2 = ((self._screen - np.array([position.x(), position.y()])) ** 2).sum(1)
        nearest = int(np.argmin(d2))
        return nearest if d2[nearest] <= HOVER_RADIUS ** 2 else -1

    def _layout(self) -> None:
        self._screen = self.map_to_widget(self.coords) if self.has_points else np.zeros((0, 2))
        self._pixmap = None
        self.update()

    def resizeEvent(self, event) -> None:
        self._layout()
        super().resizeEvent(event)

    def changeEvent(self, event) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange):
            self._pixmap = None  # the rings' centres are the background colour
            self.update()
        super().changeEvent(event)

    # -- painting ------------------------------------------------------------------------------

    def _radius(self) -> float:
        return 3.0 if len(self.coords) <= 3000 else 2.2

    def _render_points(self) -> QPixmap:
        ratio = self.devicePixelRatioF()
        pixmap = QPixmap(max(1, int(self.width() * ratio)), max(1, int(self.height() * ratio)))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(self.palette().base().color())
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = self._radius()
        right = self._order[~self.wrong[self._order]]
        # Correct points: round dots, the classes interleaved chunk by chunk.
        for chunk in np.array_split(right, CHUNKS):
            for label in np.unique(self.labels[chunk]):
                members = chunk[self.labels[chunk] == label]
                pen = QPen(class_colour(int(label)), 2 * r)
                pen.setCapStyle(Qt.PenCapStyle.RoundCap)
                painter.setPen(pen)
                painter.drawPoints(QPolygonF([QPointF(x, y) for x, y in self._screen[members]]))
        # Mistakes on top, as rings in their true class's colour: the eye finds them at once.
        painter.setBrush(self.palette().base().color())
        for index in self._order[self.wrong[self._order]]:
            painter.setPen(QPen(class_colour(int(self.labels[index])), 1.6))
            painter.drawEllipse(self.point_position(int(index)), r + 0.8, r + 0.8)
        painter.end()
        return pixmap

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().base())
        if not self.has_points:
            painter.setPen(self.palette().text().color())
            painter.drawText(self._plot_rect(), int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap),
                             self.message)
            return
        if self._pixmap is None or self._pixmap.deviceIndependentSize().toSize() != self.size():
            self._pixmap = self._render_points()
        painter.drawPixmap(0, 0, self._pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text = self.palette().text().color()
        r = self._radius()
        for index, width in ((self.selected_index, 2.0), (self.hovered_index, 1.5)):
            if 0 <= index < len(self.coords):
                painter.setPen(QPen(text, width))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawEllipse(self.point_position(index), r + 4, r + 4)
        position = self.marker_position()
        if position is not None:
            self._draw_marker(painter, position, text)

    def _draw_marker(self, painter: QPainter, at: QPointF, colour: QColor) -> None:
        size = 8.0
        diamond = QPainterPath()
        diamond.moveTo(at.x(), at.y() - size)
        diamond.lineTo(at.x() + size, at.y())
        diamond.lineTo(at.x(), at.y() + size)
        diamond.lineTo(at.x() - size, at.y())
        diamond.closeSubpath()
        painter.setPen(QPen(self.palette().base().color(), 2.0))
        painter.setBrush(colour)
        painter.drawPath(diamond)
        if self.marker_label:
            fm = painter.fontMetrics()
            width = fm.horizontalAdvance(self.marker_label)
            x = at.x() + size + 4
            if x + width > self.width() - 2:
                x = at.x() - size - 4 - width
            y = at.y() + fm.ascent() / 2 - 1
            outline = QPainterPath()
            outline.addText(QPointF(x, y), painter.font(), self.marker_label)
            painter.setPen(QPen(self.palette().base().color(), 3.0))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(outline)  # a halo keeps the label readable over the points
            painter.setPen(colour)
            painter.drawText(QPointF(x, y), self.marker_label)

    # -- mouse ---------------------------------------------------------------------------------

    def mouseMoveEvent(self, event) -> None:
        index = self.point_at(event.position())
        if index != self.hovered_index:
            self.hovered_index = index
            self.update()
            self.hovered.emit(index)
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:
        if self.hovered_index != -1:
            self.hovered_index = -1
            self.update()
            self.hovered.emit(-1)
        super().leaveEvent(event)

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            index = self.point_at(event.position())
            if index >= 0:
                self.selected_index = index
                self.update()
                self.clicked.emit(index)
                return
        super().mousePressEvent(event)
