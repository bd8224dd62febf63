"""A square drawing canvas with a smooth round pen, undo per stroke, and a raster for the model.

Strokes are kept as points in unit coordinates (0..1 across the square), so the drawing scales
with the window and renders identically at any size: on screen at the widget's size, and for the
model at a fixed raster of ``RASTER`` pixels, always as white ink on black whatever the colours
the user chose (what is ink is known here; no need to guess it from a border).

Cost while drawing stays flat however long the stroke gets: antialiased stroking costs time per
point, so a long stroke re-painted whole at every mouse event would slow the pen down as it goes.
The stroke is therefore painted into cached images in chunks of ``CHUNK`` finished pieces as
they become final, and only the short unfinished end is painted per event
(benchmarks/classify_latency.py measures it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from ..widgets.text import Retranslating

# The model's raster: 7x the 20 pixels a digit is fitted into, plenty for the binarised, then
# antialiased downscale; a finer one would cost more per update for the same 28 x 28 input.
RASTER = 140
# Pieces per cached chunk. Chunks meet with overlapping round caps, which darkens the
# antialiased rim slightly there; one joint per 16 pieces is invisible, one per piece is not.
CHUNK = 16


@dataclass
class Stroke:
    """Pieces: the curve runs through the midpoints between samples, each sample being the
    control point of a quadratic piece (piece i: from the midpoint before sample i, via sample i,
    to the midpoint after it), then a straight tail to the last sample. A mouse reports corners;
    this turns them into a smooth curve, and piece i is final once sample i + 1 exists."""

    width: float  # pen diameter as a fraction of the canvas side
    points: list[QPointF] = field(default_factory=list)  # unit coordinates
    cached_chunks: int = 0  # chunks already painted into the caches

    @property
    def final_pieces(self) -> int:
        return max(0, len(self.points) - 2)

    def path(self, side: float, first: int, last: int, tail: bool) -> QPainterPath:
        """Pieces ``first``..``last`` (1-based, inclusive; empty when last < first), then the tail."""
        pts = self.points

        def mid(i: int) -> QPointF:
            return QPointF((pts[i].x() + pts[i + 1].x()) * side / 2, (pts[i].y() + pts[i + 1].y()) * side / 2)

        start = QPointF(pts[0].x() * side, pts[0].y() * side) if first == 1 else mid(first - 1)
        path = QPainterPath(start)
        for i in range(first, last + 1):
            path.quadTo(QPointF(pts[i].x() * side, pts[i].y() * side), mid(i))
        if tail:
            path.lineTo(QPointF(pts[-1].x() * side, pts[-1].y() * side))
        return path


def _paint_path(painter: QPainter, path: QPainterPath, width_px: float, colour: QColor) -> None:
    # Stroked as the flattened polyline: where a curve piece turns sharply (a cusp, the pen going
    # back the way it came) Qt's stroker offsets the curve without rounding the turn, which
    # leaves a notch or a dark seam inside the ink; between line segments the round join fills it.
    flat = QPainterPath()
    for polygon in path.toSubpathPolygons():
        flat.addPolygon(polygon)
    painter.setPen(QPen(colour, max(0.5, width_px), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                        Qt.PenJoinStyle.RoundJoin))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawPath(flat)


def _paint_chunks(painter: QPainter, stroke: Stroke, side: float, colour: QColor, first: int, count: int) -> None:
    for chunk in range(first, first + count):
        path = stroke.path(side, chunk * CHUNK + 1, (chunk + 1) * CHUNK, tail=False)
        _paint_path(painter, path, stroke.width * side, colour)


def _paint_rest(painter: QPainter, stroke: Stroke, side: float, colour: QColor) -> None:
    """Everything after the cached chunks: the last pieces and the tail (or a dot)."""
    width_px = stroke.width * side
    if len(stroke.points) == 1:  # a dot: a zero-length path draws nothing
        p = stroke.points[0]
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawEllipse(QPointF(p.x() * side, p.y() * side), width_px / 2, width_px / 2)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        return
    path = stroke.path(side, stroke.cached_chunks * CHUNK + 1, stroke.final_pieces, tail=True)
    _paint_path(painter, path, width_px, colour)


class DrawingCanvas(Retranslating, QWidget):
    changed = Signal()  # the drawing changed: a point added, a stroke undone, cleared
    stroke_finished = Signal()  # the mouse button was released (or the drawing was edited)

    # A digit drawn over 55-85% of the canvas with this pen reaches the model with MNIST's own
    # stroke width (1.8 px in 28 x 28; `scripts/handwriting_eval.py --pen-sweep`).
    DEFAULT_PEN_WIDTH = 0.08

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("drawingCanvas")
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(200, 200)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.strokes: list[Stroke] = []
        self._current: Stroke | None = None
        self.pen_width = self.DEFAULT_PEN_WIDTH
        self._white_on_black = True
        # Finished strokes and the finished chunks of the current one, rendered once.
        self._screen_cache: QPixmap | None = None
        self._screen_side = 0
        self._raster_cache: QImage | None = None
        self.retranslate()

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
        return not self.strokes and self._current is None

    def is_drawing(self) -> bool:
        return self._current is not None

    def clear(self) -> None:
        had = not self.is_empty()
        self.strokes.clear()
        self._current = None
        self._invalidate()
        if had:
            self.changed.emit()
            self.stroke_finished.emit()

    def restore(self, strokes: list[Stroke]) -> None:
        """Show these strokes (a drawing taken off the canvas earlier) instead of the current ones."""
        self.strokes = list(strokes)
        self._current = None
        self._invalidate()
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

    def ink_array(self, cached: bool = True) -> np.ndarray:
        """The drawing as a RASTER x RASTER float array in [0, 1], white ink on black.
        ``cached=False`` renders every stroke again instead of reusing the raster (the worst
        case, which a benchmark measures)."""
        if not cached:
            self._raster_cache = None
        image = self._raster_image()
        ptr = image.constBits()
        arr = np.frombuffer(ptr, dtype=np.uint8, count=image.bytesPerLine() * image.height())
        arr = arr.reshape(image.height(), image.bytesPerLine())[:, : image.width()]
        return arr.astype(np.float32) / 255.0

    # -- rendering -----------------------------------------------------------------------------

    def _ink_colour(self) -> QColor:
        return QColor(Qt.GlobalColor.white if self._white_on_black else Qt.GlobalColor.black)

    def _paper_colour(self) -> QColor:
        return QColor(Qt.GlobalColor.black if self._white_on_black else Qt.GlobalColor.white)

    def _invalidate(self) -> None:
        self._screen_cache = None
        self._raster_cache = None
        self.update()

    def _caches(self):
        """(painter target, side, ink colour) for each cache that exists."""
        if self._raster_cache is not None:
            yield self._raster_cache, RASTER, QColor(Qt.GlobalColor.white)
        if self._screen_cache is not None:
            yield self._screen_cache, self._screen_side, self._ink_colour()

    def _render_all(self, target, side: float, colour: QColor) -> None:
        painter = QPainter(target)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for stroke in self.strokes:
            _paint_chunks(painter, stroke, side, colour, 0, stroke.cached_chunks)
            _paint_rest(painter, stroke, side, colour)
        if self._current is not None:
            _paint_chunks(painter, self._current, side, colour, 0, self._current.cached_chunks)
        painter.end()

    def _cache_final_chunks(self, stroke: Stroke) -> None:
        ready = stroke.final_pieces // CHUNK
        if ready <= stroke.cached_chunks:
            return
        for target, side, colour in self._caches():
            painter = QPainter(target)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            _paint_chunks(painter, stroke, side, colour, stroke.cached_chunks, ready - stroke.cached_chunks)
            painter.end()
        stroke.cached_chunks = ready

    def _commit(self, stroke: Stroke) -> None:
        """A finished stroke: its last chunks and tail go into the caches, then into the list."""
        self._cache_final_chunks(stroke)
        for target, side, colour in self._caches():
            painter = QPainter(target)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            _paint_rest(painter, stroke, side, colour)
            painter.end()
        self.strokes.append(stroke)

    def _raster_image(self) -> QImage:
        if self._raster_cache is None:
            image = QImage(RASTER, RASTER, QImage.Format.Format_Grayscale8)
            image.fill(0)
            self._render_all(image, RASTER, QColor(Qt.GlobalColor.white))
            self._raster_cache = image
        if self._current is None:
            return self._raster_cache
        image = self._raster_cache.copy()
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        _paint_rest(painter, self._current, RASTER, QColor(Qt.GlobalColor.white))
        painter.end()
        return image

    def _screen_pixmap(self, side: int) -> QPixmap:
        ratio = self.devicePixelRatioF()
        if self._screen_cache is None or self._screen_side != side:
            pixmap = QPixmap(round(side * ratio), round(side * ratio))
            pixmap.setDevicePixelRatio(ratio)
            pixmap.fill(self._paper_colour())
            self._render_all(pixmap, side, self._ink_colour())
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
            painter.setClipRect(square)
            painter.translate(square.topLeft())
            _paint_rest(painter, self._current, square.width(), self._ink_colour())
            painter.resetTransform()
            painter.setClipping(False)
        if self.is_empty():
            painter.setPen(QColor(128, 128, 128))
            painter.drawText(square, Qt.AlignmentFlag.AlignCenter, self.tr("Draw here, or drop an image"))
        painter.setPen(QPen(self.palette().mid().color(), 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(square.adjusted(0, 0, -1, -1))

    def retranslate(self) -> None:
        self.setAccessibleName(self.tr("Drawing canvas"))
        self.setAccessibleDescription(self.tr("Draw a digit or a garment with the mouse or a pen; the model "
                                              "classifies the drawing as you draw. Ctrl+Z undoes a stroke, "
                                              "Escape clears."))
        self.update()  # the hint on an empty canvas is translated when painted

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
        self._cache_final_chunks(self._current)
        # What is repainted live is everything after the cached chunks: up to CHUNK + 2 samples.
        live = self._current.points[self._current.cached_chunks * CHUNK:]
        self.update(self._dirty_rect(live, self._current.width))
        self.changed.emit()

    def mouseReleaseEvent(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._current is None:
            return super().mouseReleaseEvent(event)
        point = self._unit(event.position())
        if point is not None and point != self._current.points[-1]:
            self._current.points.append(point)
        stroke, self._current = self._current, None
        self._commit(stroke)
        self.update()
        self.changed.emit()
        self.stroke_finished.emit()
