"""A square drawing canvas with a smooth round pen, undo per stroke, and a raster for the model.

Strokes are kept as points in unit coordinates (0..1 across the square), so the drawing scales
with the window and renders identically at any size: on screen at the widget's size, and for the
model at a fixed raster of ``RASTER`` pixels, always as white ink on black whatever the colours
the user chose (what is ink is known here; no need to guess it from a border).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

RASTER = 280  # the model's raster: 10 x MNIST's 28, enough to antialias any pen width


@dataclass
class Stroke:
    width: float  # pen diameter as a fraction of the canvas side
    points: list[QPointF] = field(default_factory=list)  # unit coordinates

    def path(self, side: float) -> QPainterPath:
        """The stroke through the midpoints of its samples, with the samples as quadratic control
        points: a mouse delivers corners at every event, this turns them into a smooth curve."""
        pts = [QPointF(p.x() * side, p.y() * side) for p in self.points]
        path = QPainterPath(pts[0])
        if len(pts) == 1:
            return path
        if len(pts) == 2:
            path.lineTo(pts[1])
            return path
        for i in range(1, len(pts) - 1):
            mid = (pts[i] + pts[i + 1]) / 2.0
            path.quadTo(pts[i], mid)
        path.lineTo(pts[-1])
        return path


def _pen(colour: QColor, width_px: float) -> QPen:
    return QPen(colour, max(0.5, width_px), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                Qt.PenJoinStyle.RoundJoin)


def _paint_stroke(painter: QPainter, stroke: Stroke, side: float, colour: QColor) -> None:
    width_px = stroke.width * side
    if len(stroke.points) == 1:  # a dot: a zero-length path draws nothing
        p = stroke.points[0]
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawEllipse(QPointF(p.x() * side, p.y() * side), width_px / 2, width_px / 2)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        return
    painter.setPen(_pen(colour, width_px))
    painter.drawPath(stroke.path(side))


class DrawingCanvas(QWidget):
    changed = Signal()  # the drawing changed: a point added, a stroke undone, cleared
    stroke_finished = Signal()  # the mouse button was released (or the drawing was edited)

    DEFAULT_PEN_WIDTH = 0.075  # see ClassifyTab: makes drawn digits as thick as MNIST's

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("drawingCanvas")
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 240)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.strokes: list[Stroke] = []
        self._current: Stroke | None = None
        self.pen_width = self.DEFAULT_PEN_WIDTH
        self._white_on_black = True
        # Finished strokes, rendered once: painting the screen and the raster while drawing then
        # costs one blit plus the stroke in progress, however long the drawing.
        self._screen_cache: QPixmap | None = None
        self._raster_cache: QImage | None = None
        self._screen_side = 0

    # -- public API ----------------------------------------------------------------------------

    def sizeHint(self) -> QSize:
        return QSize(480, 480)

    @property
    def white_on_black(self) -> bool:
        return self._white_on_black

    def set_white_on_black(self, value: bool) -> None:
        if value != self._white_on_black:
            self._white_on_black = value
            self._screen_cache = None
            self.update()

    def set_pen_width(self, fraction: float) -> None:
        self.pen_width = float(fraction)

    def is_empty(self) -> bool:
        return not self.strokes

    def is_drawing(self) -> bool:
        return self._current is not None

    def clear(self) -> None:
        had = bool(self.strokes)
        self.strokes.clear()
        self._current = None
        self._invalidate()
        if had:
            self.changed.emit()
            self.stroke_finished.emit()

    def undo(self) -> None:
        if not self.strokes:
            return
        self.strokes.pop()
        self._current = None
        self._invalidate()
        self.changed.emit()
        self.stroke_finished.emit()

    def square(self) -> QRect:
        """The drawing area: the largest centred square in the widget."""
        side = min(self.width(), self.height())
        return QRect((self.width() - side) // 2, (self.height() - side) // 2, side, side)

    def ink_array(self) -> np.ndarray:
        """The drawing as a RASTER x RASTER float array in [0, 1], white ink on black."""
        image = self._raster_image()
        ptr = image.constBits()
        arr = np.frombuffer(ptr, dtype=np.uint8, count=image.bytesPerLine() * image.height())
        arr = arr.reshape(image.height(), image.bytesPerLine())[:, : image.width()]
        return arr.astype(np.float32) / 255.0

    def display_array(self) -> np.ndarray:
        """The drawing as the user sees it (their colours), uint8, for showing elsewhere."""
        ink = (self.ink_array() * 255.0).round().astype(np.uint8)
        return ink if self._white_on_black else 255 - ink

    # -- rendering -----------------------------------------------------------------------------

    def _colours(self) -> tuple[QColor, QColor]:
        if self._white_on_black:
            return QColor(Qt.GlobalColor.white), QColor(Qt.GlobalColor.black)
        return QColor(Qt.GlobalColor.black), QColor(Qt.GlobalColor.white)

    def _invalidate(self) -> None:
        self._screen_cache = None
        self._raster_cache = None
        self.update()

    def _commit(self, stroke: Stroke) -> None:
        """Add a finished stroke, painting it onto the caches rather than re-rendering them."""
        self.strokes.append(stroke)
        for cache, side, colour in (
            (self._raster_cache, RASTER, QColor(Qt.GlobalColor.white)),
            (self._screen_cache, self._screen_side, self._colours()[0]),
        ):
            if cache is None:
                continue
            painter = QPainter(cache)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            _paint_stroke(painter, stroke, side, colour)
            painter.end()

    def _raster_image(self) -> QImage:
        if self._raster_cache is None:
            image = QImage(RASTER, RASTER, QImage.Format.Format_Grayscale8)
            image.fill(0)
            painter = QPainter(image)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            for stroke in self.strokes:
                _paint_stroke(painter, stroke, RASTER, QColor(Qt.GlobalColor.white))
            painter.end()
            self._raster_cache = image
        if self._current is None:
            return self._raster_cache
        image = self._raster_cache.copy()
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        _paint_stroke(painter, self._current, RASTER, QColor(Qt.GlobalColor.white))
        painter.end()
        return image

    def _screen_pixmap(self, side: int) -> QPixmap:
        ratio = self.devicePixelRatioF()
        if self._screen_cache is None or self._screen_cache.width() != round(side * ratio):
            ink, paper = self._colours()
            pixmap = QPixmap(round(side * ratio), round(side * ratio))
            pixmap.setDevicePixelRatio(ratio)
            pixmap.fill(paper)
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            for stroke in self.strokes:
                _paint_stroke(painter, stroke, side, ink)
            painter.end()
            self._screen_cache = pixmap
            self._screen_side = side
        return self._screen_cache

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        square = self.square()
        painter.fillRect(self.rect(), self.palette().window())
        if square.width() <= 0:
            return
        painter.drawPixmap(square.topLeft(), self._screen_pixmap(square.width()))
        if self._current is not None:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.translate(square.topLeft())
            painter.setClipRect(QRect(0, 0, square.width(), square.height()))
            _paint_stroke(painter, self._current, square.width(), self._colours()[0])
            painter.resetTransform()
            painter.setClipping(False)
        if not self.strokes and self._current is None:
            painter.setPen(QColor(128, 128, 128))
            painter.drawText(square, Qt.AlignmentFlag.AlignCenter, self.tr("Draw here"))
        painter.setPen(QPen(self.palette().mid().color(), 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(square.adjusted(0, 0, -1, -1))

    def resizeEvent(self, event) -> None:
        self._screen_cache = None
        super().resizeEvent(event)

    # -- mouse ---------------------------------------------------------------------------------

    def _unit(self, pos: QPointF) -> QPointF | None:
        square = self.square()
        if square.width() <= 0:
            return None
        x = (pos.x() - square.x()) / square.width()
        y = (pos.y() - square.y()) / square.height()
        return QPointF(min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0))

    def _dirty_rect(self, points: list[QPointF], width: float) -> QRect:
        square = self.square()
        side = square.width()
        xs = [p.x() * side for p in points]
        ys = [p.y() * side for p in points]
        margin = width * side / 2 + 2
        rect = QRectF(min(xs) - margin, min(ys) - margin, max(xs) - min(xs) + 2 * margin,
                      max(ys) - min(ys) + 2 * margin)
        return rect.translated(square.topLeft()).toAlignedRect()

    def mousePressEvent(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        point = self._unit(event.position())
        if point is None:
            return
        self._current = Stroke(self.pen_width, [point])
        self.update(self._dirty_rect([point], self.pen_width))
        self.changed.emit()

    def mouseMoveEvent(self, event) -> None:
        if self._current is None or not (event.buttons() & Qt.MouseButton.LeftButton):
            return super().mouseMoveEvent(event)
        point = self._unit(event.position())
        if point is None:
            return
        last = self._current.points[-1]
        if abs(point.x() - last.x()) < 1e-4 and abs(point.y() - last.y()) < 1e-4:
            return
        self._current.points.append(point)
        # The smoothed curve near the newest point depends on the last three samples.
        self.update(self._dirty_rect(self._current.points[-3:], self._current.width))
        self.changed.emit()

    def mouseReleaseEvent(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._current is None:
            return super().mouseReleaseEvent(event)
        point = self._unit(event.position())
        if point is not None and point != self._current.points[-1]:
            self._current.points.append(point)
        self._commit(self._current)
        self._current = None
        self.update()
        self.changed.emit()
        self.stroke_finished.emit()
