"""One layer's output as small grids of cells (a grid per channel, or one for a layer's units);
a click or the arrow keys choose the value to explain, which is outlined."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from ..widgets.colormaps import ACTIVATION_LUT, argb_image, colorize, value_range
from ..widgets.text import Retranslating

UNIT_COLUMNS = 12  # units of a fully connected layer, this many to a row
HIGHLIGHT = QColor(255, 60, 40)


class LayerGrid(Retranslating, QWidget):
    position_chosen = Signal(tuple)  # (channel, row, col) or (unit,)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("networkLayerGrid")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(150, 120)
        self.layer = ""
        self.values: np.ndarray | None = None  # (C, H, W), or (N,) shown as rows of UNIT_COLUMNS
        self.position: tuple[int, ...] | None = None
        self._images = []
        self._tiles: list[QRectF] = []
        self._cell = 1.0
        self.retranslate()

    def sizeHint(self) -> QSize:
        return QSize(240, 260)

    def retranslate(self) -> None:
        self.setAccessibleName(self.tr("Layer values"))
        self.setToolTip(self.tr("Click a value to see how it is computed; the arrow keys move to its neighbours."))

    # -- data ------------------------------------------------------------------------------------

    def set_values(self, layer: str, values: np.ndarray | None, position: tuple[int, ...] | None) -> None:
        self.layer = layer
        self.values = None if values is None else np.asarray(values, dtype=np.float32)
        self.position = position
        self._images = []
        if self.values is not None:
            lo, hi = value_range(self.values)
            argb = colorize(self._as_maps(self.values), ACTIVATION_LUT, lo, hi)
            self._images = [argb_image(tile) for tile in argb]
        self.update()

    def set_position(self, position: tuple[int, ...]) -> None:
        self.position = position
        self.update()

    @staticmethod
    def _as_maps(values: np.ndarray) -> np.ndarray:
        """(C, H, W) as it is; (N,) as one map of rows of UNIT_COLUMNS (the last row padded)."""
        if values.ndim == 3:
            return values
        rows = math.ceil(values.size / UNIT_COLUMNS)
        padded = np.full(rows * UNIT_COLUMNS, np.nan, dtype=np.float32)
        padded[: values.size] = values
        return padded.reshape(1, rows, UNIT_COLUMNS)

    def shape(self) -> tuple[int, ...]:
        return () if self.values is None else self.values.shape

    # -- geometry --------------------------------------------------------------------------------

    def _layout(self) -> None:
        self._tiles = []
        if self.values is None:
            return
        maps = self._as_maps(self.values)
        count, height, width = maps.shape
        area_w, area_h = self.width() - 8, self.height() - 8
        best = (0.0, 1)
        for cols in range(1, count + 1):
            rows = math.ceil(count / cols)
            cell = min((area_w - 6 * (cols - 1)) / (cols * width), (area_h - 6 * (rows - 1)) / (rows * height))
            if cell > best[0]:
                best = (cell, cols)
        cell, cols = max(1.0, math.floor(best[0] * 2) / 2), best[1]
        self._cell = cell
        for i in range(count):
            r, c = divmod(i, cols)
            self._tiles.append(QRectF(4 + c * (width * cell + 6), 4 + r * (height * cell + 6), width * cell, height * cell))

    def cell_rect(self, position: tuple[int, ...]) -> QRectF:
        """Where the value at ``position`` is drawn."""
        self._layout()
        if not self._tiles:
            return QRectF()
        if len(position) == 3:
            channel, row, col = position
        else:
            channel, (row, col) = 0, divmod(position[0], UNIT_COLUMNS)
        tile = self._tiles[channel]
        return QRectF(tile.left() + col * self._cell, tile.top() + row * self._cell, self._cell, self._cell)

    def position_at(self, x: float, y: float) -> tuple[int, ...] | None:
        self._layout()
        maps = None if self.values is None else self._as_maps(self.values)
        for channel, tile in enumerate(self._tiles):
            if tile.contains(x, y):
                row = min(int((y - tile.top()) / self._cell), maps.shape[1] - 1)
                col = min(int((x - tile.left()) / self._cell), maps.shape[2] - 1)
                if self.values.ndim == 3:
                    return channel, row, col
                unit = row * UNIT_COLUMNS + col
                return (unit,) if unit < self.values.size else None
        return None

    # -- input -----------------------------------------------------------------------------------

    def mousePressEvent(self, event) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        position = self.position_at(event.position().x(), event.position().y())
        if position is not None:
            self.choose(position)

    def choose(self, position: tuple[int, ...]) -> None:
        self.position = tuple(position)
        self.update()
        self.position_chosen.emit(self.position)

    def neighbour(self, key: int) -> tuple[int, ...] | None:
        """The position the arrow ``key`` moves to (None at an edge or for another key)."""
        if self.position is None or self.values is None:
            return None
        moves = {Qt.Key.Key_Left: (0, -1), Qt.Key.Key_Right: (0, 1), Qt.Key.Key_Up: (-1, 0), Qt.Key.Key_Down: (1, 0)}
        if key not in moves:
            return None
        dr, dc = moves[key]
        if self.values.ndim == 3:
            channel, row, col = self.position
            _, height, width = self.values.shape
            row, col = row + dr, col + dc
            return (channel, row, col) if 0 <= row < height and 0 <= col < width else None
        unit = self.position[0] + dr * UNIT_COLUMNS + dc
        same_row = dr != 0 or unit // UNIT_COLUMNS == self.position[0] // UNIT_COLUMNS
        return (unit,) if 0 <= unit < self.values.size and same_row else None

    def keyPressEvent(self, event) -> None:
        target = self.neighbour(event.key())
        if target is not None:
            self.choose(target)
        elif event.key() in (Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down):
            event.accept()  # at an edge: stay, and keep the key from moving the focus
        else:
            super().keyPressEvent(event)

    # -- paint -----------------------------------------------------------------------------------

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        self._layout()
        for image, tile in zip(self._images, self._tiles):
            painter.drawImage(tile, image)
        painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Mid), 1))
        for tile in self._tiles:
            painter.drawRect(tile)
        if self.position is not None and self._tiles:
            cell = self.cell_rect(self.position)
            painter.setPen(QPen(HIGHLIGHT, 2))
            painter.drawRect(cell.adjusted(-1, -1, 1, 1))
        if self.hasFocus():
            painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Highlight), 1, Qt.PenStyle.DotLine))
            painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
