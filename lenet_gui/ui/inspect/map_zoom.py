"""One map of the feature-map view, enlarged, with its colour scale; it follows the input."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Signal
from PySide6.QtGui import QFontMetrics, QImage, QPainter, QPalette
from PySide6.QtWidgets import QComboBox, QDialog, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from ..widgets.colormaps import ACTIVATION_LUT, argb_image, colorize, lut_image
from ..widgets.hover import format_value, report_hover
from ..widgets.text import Retranslating, fill
from .feature_maps import DISPLAY_SHAPES, LAYER_ORDER, FeatureMapView


class MapCanvas(QWidget):
    """One 2-D array, large, with its colour scale; hover a cell to read it."""

    hovered = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setMinimumSize(240, 240)
        self.values: np.ndarray | None = None
        self.image: QImage | None = None
        self.legend = lut_image(ACTIVATION_LUT, vertical=True)
        self.lo, self.hi = 0.0, 1.0
        self.describe_cell = lambda r, c: ""
        self._target = QRectF()

    def set_map(self, values: np.ndarray, lut: np.ndarray, lo: float, hi: float, describe_cell) -> None:
        self.values = values
        self.lo, self.hi = lo, hi
        self.image = argb_image(colorize(np.nan_to_num(values, nan=lo), lut, lo, hi))
        self.legend = lut_image(lut, vertical=True)
        self.describe_cell = describe_cell
        self.update()

    def _geometry(self) -> tuple[QRectF, QRectF]:
        fm = QFontMetrics(self.font())
        legend_w = 14 + 8 + fm.horizontalAdvance("-0.000e+00")
        h, w = self.values.shape
        scale = max(1.0, min((self.width() - legend_w - 20) / w, (self.height() - 20) / h))
        target = QRectF(10, (self.height() - h * scale) / 2, w * scale, h * scale)
        legend = QRectF(target.right() + 12, target.top(), 14, target.height())
        return target, legend

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        if self.values is None:
            painter.end()
            return
        target, legend = self._geometry()
        self._target = target
        painter.drawImage(target, self.image)
        painter.setPen(palette.color(QPalette.ColorRole.Mid))
        painter.drawRect(target)
        painter.drawImage(legend, self.legend)
        painter.drawRect(legend)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        fm = QFontMetrics(self.font())
        painter.drawText(QPointF(legend.right() + 6, legend.top() + fm.ascent()), format_value(self.hi))
        painter.drawText(QPointF(legend.right() + 6, legend.bottom()), format_value(self.lo))
        painter.end()

    def mouseMoveEvent(self, event) -> None:
        if self.values is None or self._target.isEmpty():
            return
        pos = event.position()
        if not self._target.contains(pos):
            self.hovered.emit("")
            return
        h, w = self.values.shape
        r = min(h - 1, int((pos.y() - self._target.top()) / self._target.height() * h))
        c = min(w - 1, int((pos.x() - self._target.left()) / self._target.width() * w))
        report_hover(self, event, self.describe_cell(r, c) or "")


class MapZoomDialog(Retranslating, QDialog):
    """An enlarged, live view of one map of the FeatureMapView; follows the input as it changes."""

    def __init__(self, view: FeatureMapView, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("mapZoomDialog")
        self.view = view
        self.layer_combo = QComboBox()
        for key in LAYER_ORDER:
            self.layer_combo.addItem(key, key)
        self.channel_spin = QSpinBox()
        self.channel_label = QLabel()
        self.layer_label = QLabel()
        self.canvas = MapCanvas()
        self.info = QLabel()
        self.hover = QLabel(" ")
        row = QHBoxLayout()
        row.addWidget(self.layer_label)
        row.addWidget(self.layer_combo)
        row.addWidget(self.channel_label)
        row.addWidget(self.channel_spin)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.info)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.hover)
        self.layer_combo.currentIndexChanged.connect(self._layer_changed)
        self.channel_spin.valueChanged.connect(self.refresh)
        self.canvas.hovered.connect(lambda text: self.hover.setText(text or " "))
        self.resize(460, 520)
        self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Feature map"))
        self.layer_label.setText(self.tr("Layer:"))
        self.channel_label.setText(self.tr("Channel:"))
        for index, key in enumerate(LAYER_ORDER):
            self.layer_combo.setItemText(index, self.view.layer_title(key))
        if self.layer_combo.currentIndex() >= 0 and self.isVisible():
            self.refresh()

    def show_map(self, key: str, channel: int) -> None:
        self.layer_combo.blockSignals(True)
        self.layer_combo.setCurrentIndex(LAYER_ORDER.index(key))
        self.layer_combo.blockSignals(False)
        self._configure_channels(key)
        self.channel_spin.setValue(channel)
        self.refresh()

    @property
    def key(self) -> str:
        return self.layer_combo.currentData()

    def _configure_channels(self, key: str) -> None:
        channels = DISPLAY_SHAPES[key][0] if len(DISPLAY_SHAPES[key]) == 3 else 1
        self.channel_spin.blockSignals(True)
        self.channel_spin.setRange(0, channels - 1)
        self.channel_spin.blockSignals(False)
        self.channel_spin.setVisible(channels > 1)
        self.channel_label.setVisible(channels > 1)

    def _layer_changed(self) -> None:
        self._configure_channels(self.key)
        self.refresh()

    def refresh(self) -> None:
        key, channel = self.key, self.channel_spin.value()
        layer = self.view.layers[key]
        if layer.values is None:
            self.info.setText(self.view.message)
            return
        tile = channel if layer.spec.unit_index is None else 0
        values = layer.tile_values(tile)
        self.canvas.set_map(values, layer.lut, layer.lo, layer.hi,
                            lambda r, c: self.view.describe(key, tile, r, c))
        title = self.view.layer_title(key)
        where = title if len(DISPLAY_SHAPES[key]) != 3 else fill(self.tr("%1 · channel %2"), title, channel)
        self.info.setText(fill(self.tr("%1 · layer shape %2 · colour scale shared by the layer: %3 to %4"),
                               where, layer.shape_text, format_value(layer.lo), format_value(layer.hi)))
