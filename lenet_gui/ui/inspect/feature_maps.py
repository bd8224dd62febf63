"""The network's layers for one input, left to right in the order data flows through them.

    input 28x28 -> conv1 6x24x24 -> pool1 6x12x12 -> conv2 16x8x8 -> pool2 16x4x4
    -> fc1 120 -> fc2 84 -> output 10

Drawn by one widget with QPainter: each channel is a QImage coloured through a precomputed
look-up table (see colormaps.py), so an update is a handful of numpy operations per layer and
one drawImage call per map, cheap enough to follow a pen stroke. Each layer has one colour scale
for all its channels, so channels can be compared; the legend under the layer gives its range.
Clicking a map opens it enlarged (map_zoom.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPalette, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from ...core.model import LAYER_SHAPES
from ..widgets.colormaps import ACTIVATION_LUT, INPUT_LUT, argb_image, colorize, lut_image, value_range
from ..widgets.hover import format_value, report_hover
from ..widgets.text import Retranslating, display_class_names, fill

INPUT_KEY = "input"
OUTPUT_KEY = "logits"
# Below this many pixels a row's text cannot be read: only the top class is written out.
MIN_OUTPUT_ROW_TEXT_PX = 8
OUTPUT_BAR_W = 48.0
LEGEND_MIN_W = 64.0  # a legend's colour bar must leave room for its two numbers


@dataclass
class _Spec:
    """How one layer is laid out: ``rows`` x ``cols`` tiles of ``tile_h`` x ``tile_w`` data
    pixels, each data pixel ``base_px`` screen pixels wide at zoom 1."""

    key: str
    rows: int
    cols: int
    tile_h: int
    tile_w: int
    base_px: float
    # Fully connected layers are one tile whose cell (r, c) shows unit unit_index[r, c].
    unit_index: np.ndarray | None = None


def _strip_index(units: int, cols: int) -> np.ndarray:
    """Units laid out column after column, top to bottom, so the strip reads like a list."""
    rows = math.ceil(units / cols)
    return np.arange(rows * cols).reshape(cols, rows).T


BASE_UNIT = 3.0
# The proportions give conv1 and pool1 (and conv2 and pool2) equal footprints, so pooling reads
# as the same maps at half the resolution, and the input the same pixel size as conv1.
_SPECS = [
    _Spec(INPUT_KEY, 1, 1, 28, 28, 3.0),
    _Spec("conv1", 3, 2, 24, 24, 3.0),
    _Spec("pool1", 3, 2, 12, 12, 6.0),
    _Spec("conv2", 4, 4, 8, 8, 6.0),
    _Spec("pool2", 4, 4, 4, 4, 12.0),
    _Spec("fc1", 1, 1, 30, 4, 9.0, _strip_index(120, 4)),
    _Spec("fc2", 1, 1, 21, 4, 9.0, _strip_index(84, 4)),
    _Spec(OUTPUT_KEY, 1, 1, 10, 1, 27.0, np.arange(10).reshape(10, 1)),
]
LAYER_ORDER = [spec.key for spec in _SPECS]
DISPLAY_SHAPES = {INPUT_KEY: (28, 28), **LAYER_SHAPES}


@dataclass
class _Layer:
    spec: _Spec
    title: str
    shape_text: str
    lut: np.ndarray
    fixed_range: tuple[float, float] | None = None
    # Data, set per input.
    values: np.ndarray | None = None  # the layer's own array, in its own shape
    argb: np.ndarray | None = None  # its colours, same shape
    images: list[QImage] = field(default_factory=list)  # one per tile
    lo: float = 0.0
    hi: float = 1.0
    # Geometry, set per layout.
    tile_rects: list[QRectF] = field(default_factory=list)
    px: float = 1.0
    column: QRectF = field(default_factory=QRectF)
    legend: QRectF = field(default_factory=QRectF)

    @property
    def key(self) -> str:
        return self.spec.key

    def tile_values(self, tile: int) -> np.ndarray:
        """The 2-D array tile ``tile`` displays."""
        if self.spec.unit_index is not None:
            flat = self.values.reshape(-1)
            idx = self.spec.unit_index
            return np.where(idx < flat.size, flat[np.minimum(idx, flat.size - 1)], np.nan)
        return self.values.reshape(-1, self.spec.tile_h, self.spec.tile_w)[tile]


class FeatureMapView(Retranslating, QWidget):
    """Every layer's output for one input. Hover a pixel to read it; click a map to enlarge it."""

    hovered = Signal(str)  # a description of the value under the pointer ("" when none)
    map_clicked = Signal(str, int)  # layer key, channel (0 for the input and fc layers)
    painted = Signal()  # after each paint: lets a benchmark time input -> pixels on screen

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("featureMapView")
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(480, 150)
        self.source_classes: list[str] = [str(i) for i in range(10)]  # as core and the model name them
        self.classes = list(self.source_classes)  # as painted, in the window's language
        self.probabilities: np.ndarray | None = None
        self.mirror_averaged: np.ndarray | None = None  # see set_data
        self.message = self.tr("No input yet: draw a digit or drop an image in the Classify tab, "
                               "or pick a test image below.")
        self.layers: dict[str, _Layer] = {}
        for spec in _SPECS:
            shape = DISPLAY_SHAPES[spec.key]
            self.layers[spec.key] = _Layer(
                spec=spec,
                title=spec.key,
                shape_text="×".join(str(s) for s in shape),
                lut=INPUT_LUT if spec.key == INPUT_KEY else ACTIVATION_LUT,
                fixed_range=(0.0, 1.0) if spec.key == INPUT_KEY else None,
            )
        self._legend_images = {key: lut_image(layer.lut) for key, layer in self.layers.items()}
        self._layout_size = QSize()
        self._font_cache = None
        self._static: QPixmap | None = None
        self._static_key = None
        self._names_width = self._percent_width = 0.0
        self.retranslate()

    def layer_title(self, key: str) -> str:
        """A layer's title in the current language: conv1, pool1, fc1, … are the model's own names."""
        return {INPUT_KEY: self.tr("input"), OUTPUT_KEY: self.tr("output")}.get(key, key)

    def retranslate(self) -> None:
        self.setAccessibleName(self.tr("Feature maps"))
        self.setAccessibleDescription(self.tr("The output of every layer of LeNet for the current input, "
                                              "from the 28 × 28 input to the 10 class scores."))
        for key, layer in self.layers.items():
            layer.title = self.layer_title(key)
        self.classes = display_class_names(self.source_classes)
        self._layout_size = QSize()  # titles and class names set the columns' widths
        self._static = None
        self.update()

    # -- data ----------------------------------------------------------------------------------

    @property
    def has_data(self) -> bool:
        return self.layers[INPUT_KEY].values is not None

    def set_message(self, message: str) -> None:
        """Show ``message`` instead of maps (no input, blank input, no model)."""
        self.message = message
        for layer in self.layers.values():
            layer.values = layer.argb = None
            layer.images = []
        self.probabilities = None
        self.mirror_averaged = None
        self.update()

    def set_data(self, image28: np.ndarray, activations: dict[str, np.ndarray],
                 probabilities: np.ndarray, classes: list[str], mirror_averaged: np.ndarray | None = None) -> None:
        """``image28``: the model's input (28 x 28 in [0, 1]); ``activations``: one sample's
        output of every layer of LAYER_SHAPES; ``probabilities``: softmax of the logits, or of
        ``mirror_averaged`` when given (their mean with the mirror image's logits: see
        core.calibration.Calibration.average_mirror)."""
        self.mirror_averaged = None if mirror_averaged is None else np.asarray(mirror_averaged, dtype=np.float64).reshape(-1)
        if list(classes) != self.source_classes:
            self.source_classes = list(classes)
            self.classes = display_class_names(classes)
            self._layout_size = QSize()  # class names change the output column's width
        arrays = {INPUT_KEY: np.asarray(image28, dtype=np.float32).reshape(28, 28)}
        for key in LAYER_SHAPES:
            arrays[key] = np.asarray(activations[key], dtype=np.float32).reshape(LAYER_SHAPES[key])
        for key, values in arrays.items():
            layer = self.layers[key]
            layer.values = values
            layer.lo, layer.hi = layer.fixed_range or value_range(values)
            layer.argb = colorize(values, layer.lut, layer.lo, layer.hi)
            spec = layer.spec
            if spec.unit_index is not None:
                flat = layer.argb.reshape(-1)
                idx = spec.unit_index
                grid = np.where(idx < flat.size, flat[np.minimum(idx, flat.size - 1)], np.uint32(0))
                layer.images = [argb_image(grid)]
            else:
                tiles = layer.argb.reshape(-1, spec.tile_h, spec.tile_w)
                layer.images = [argb_image(tile) for tile in tiles]
        self.probabilities = np.asarray(probabilities, dtype=np.float64).reshape(-1)
        self._ensure_layout(self.width(), self.height())  # geometry is known as soon as data is
        self.update()

    def layer_values(self, key: str) -> np.ndarray | None:
        """The array layer ``key`` displays, in the layer's own shape."""
        return self.layers[key].values

    def layer_colors(self, key: str) -> np.ndarray | None:
        """The ARGB colour each value of layer ``key`` is drawn in, same shape as the values."""
        return self.layers[key].argb

    def layer_range(self, key: str) -> tuple[float, float]:
        layer = self.layers[key]
        return layer.lo, layer.hi

    # -- layout --------------------------------------------------------------------------------

    def sizeHint(self) -> QSize:
        return QSize(1200, 400)

    def _fonts(self) -> tuple[QFont, QFont, QFont]:
        """The view's fonts (normal, bold, small), made once per widget font."""
        key = self.font().key()
        if self._font_cache is None or self._font_cache[0] != key:
            base = QFont(self.font())
            title = QFont(base)
            title.setBold(True)
            small = QFont(base)
            small.setPointSizeF(max(7.0, base.pointSizeF() * 0.85))
            self._font_cache = (key, (base, title, small))
        return self._font_cache[1]

    def _output_text_width(self) -> float:
        """Class names (the top one is bold), a probability bar and a percentage."""
        base, title_font, _ = self._fonts()
        self._names_width = max(QFontMetrics(title_font).horizontalAdvance(c) for c in self.classes) + 2
        self._percent_width = QFontMetrics(title_font).horizontalAdvance("100.0%") + 2
        return 6 + self._names_width + 4 + OUTPUT_BAR_W + 6 + self._percent_width

    def _layout(self, width: int, height: int) -> None:
        base, title_font, small = self._fonts()
        fm, fm_title, fm_small = QFontMetrics(base), QFontMetrics(title_font), QFontMetrics(small)
        margin, min_gap, tile_gap = 8, 14, 3
        header_h = fm.height() + 6
        legend_h = 10 + fm_small.height() + 6
        label_h = fm_small.height()  # the channel number above each map
        avail_h = height - 2 * margin - header_h - legend_h
        output_text_w = self._output_text_width()
        layers = list(self.layers.values())

        def pixel_size(spec: _Spec, zoom: float) -> float:
            # Every base size is a multiple of BASE_UNIT: rounding the unit to whole screen
            # pixels keeps maps crisp and the footprints of conv1 and pool1 (conv2 and pool2)
            # equal. Below 2 screen pixels per unit they scale smoothly.
            unit = BASE_UNIT * zoom
            unit = float(math.floor(unit)) if unit >= 2 else unit
            return spec.base_px / BASE_UNIT * unit

        def column_width(layer: _Layer, zoom: float) -> float:
            s = layer.spec
            w = s.cols * s.tile_w * pixel_size(s, zoom) + (s.cols - 1) * tile_gap
            if layer.key == OUTPUT_KEY:
                w += output_text_w
            title_w = fm_title.horizontalAdvance(layer.title) + fm.horizontalAdvance(" " + layer.shape_text) + 4
            return max(w, title_w, LEGEND_MIN_W)

        # The largest zoom at which every column fits the height, and all of them the width.
        zoom = min(
            (avail_h - s.rows * (0 if s.unit_index is not None else label_h) - (s.rows - 1) * tile_gap)
            / (s.rows * s.tile_h * s.base_px)
            for s in (layer.spec for layer in layers)
        )
        free_w = width - 2 * margin - (len(layers) - 1) * min_gap
        lo, hi = 0.2, max(0.2, zoom)
        if sum(column_width(layer, hi) for layer in layers) <= free_w:
            lo = hi
        for _ in range(30):
            if hi - lo < 1e-3:
                break
            mid = (lo + hi) / 2
            if sum(column_width(layer, mid) for layer in layers) <= free_w:
                lo = mid
            else:
                hi = mid
        zoom = lo
        widths = [column_width(layer, zoom) for layer in layers]
        gap = max(min_gap, (width - 2 * margin - sum(widths)) / (len(widths) - 1))
        x = margin + max(0.0, (width - 2 * margin - sum(widths) - gap * (len(widths) - 1)) / 2)
        content_top = margin + header_h
        for layer, w in zip(layers, widths):
            s = layer.spec
            layer.px = pixel_size(s, zoom)
            labels = label_h if s.unit_index is None else 0
            tile_w, tile_h = s.tile_w * layer.px, s.tile_h * layer.px
            grid_w = s.cols * tile_w + (s.cols - 1) * tile_gap
            grid_h = s.rows * (labels + tile_h) + (s.rows - 1) * tile_gap
            top = float(round(content_top + max(0.0, (avail_h - grid_h) / 2)))
            left = float(round(x + (0 if layer.key == OUTPUT_KEY else (w - grid_w) / 2)))  # whole pixels: crisp, fast
            layer.tile_rects = []
            for index in range(s.rows * s.cols):
                r, c = divmod(index, s.cols)
                layer.tile_rects.append(QRectF(left + c * (tile_w + tile_gap),
                                               top + r * (labels + tile_h + tile_gap) + labels, tile_w, tile_h))
            layer.column = QRectF(x, margin, w, height - 2 * margin)
            legend_w = min(w, 110.0)
            layer.legend = QRectF(x + (w - legend_w) / 2, content_top + avail_h + 6, legend_w, 8)
            x += w + gap
        self._layout_size = QSize(width, height)

    def _ensure_layout(self, width: int, height: int) -> None:
        if self._layout_size != QSize(width, height):
            self._layout(width, height)

    def resizeEvent(self, event) -> None:
        self._layout_size = QSize()
        super().resizeEvent(event)

    # -- painting ------------------------------------------------------------------------------

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        try:
            if not self.has_data:
                self._paint_message(painter, self.width(), self.height(), self.palette())
            else:
                # What does not change with the input (titles, frames, labels, legends' bars,
                # arrows) is drawn once per size into a pixmap; a new input repaints the rest.
                self._ensure_layout(self.width(), self.height())
                painter.drawPixmap(0, 0, self._static_pixmap())
                self._paint_dynamic(painter, self.palette())
        finally:
            painter.end()
        self.painted.emit()

    def _static_pixmap(self) -> QPixmap:
        ratio = self.devicePixelRatioF()
        key = (self.width(), self.height(), ratio, self.palette().cacheKey(), self.font().key(),
               tuple(self.classes))
        if self._static is None or self._static_key != key:
            pixmap = QPixmap(int(self.width() * ratio), int(self.height() * ratio))
            pixmap.setDevicePixelRatio(ratio)
            painter = QPainter(pixmap)
            try:
                self._paint_static(painter, self.width(), self.height(), self.palette())
            finally:
                painter.end()
            self._static, self._static_key = pixmap, key
        return self._static

    def paint(self, painter: QPainter, width: int, height: int, palette: QPalette) -> None:
        """The whole view, uncached (for export)."""
        if not self.has_data:
            self._paint_message(painter, width, height, palette)
            return
        self._ensure_layout(width, height)
        self._paint_static(painter, width, height, palette)
        self._paint_dynamic(painter, palette)

    def _paint_message(self, painter: QPainter, width: int, height: int, palette: QPalette) -> None:
        painter.fillRect(QRectF(0, 0, width, height), palette.color(QPalette.ColorRole.Base))
        painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
        painter.setFont(self._fonts()[0])
        painter.drawText(QRectF(20, 0, width - 40, height),
                         int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), self.message)

    def _paint_static(self, painter: QPainter, width: int, height: int, palette: QPalette) -> None:
        painter.fillRect(QRectF(0, 0, width, height), palette.color(QPalette.ColorRole.Base))
        text_color = palette.color(QPalette.ColorRole.Text)
        base, title_font, small = self._fonts()
        fm, fm_small = QFontMetrics(base), QFontMetrics(small)
        frame = QPen(palette.color(QPalette.ColorRole.Mid))
        frame.setWidth(1)
        layers = list(self.layers.values())
        for i, layer in enumerate(layers):
            col = layer.column
            # One line: the layer's name in bold, its shape in grey, centred together.
            title_w = QFontMetrics(title_font).horizontalAdvance(layer.title)
            shape_w = fm.horizontalAdvance(" " + layer.shape_text)
            x = col.left() + (col.width() - title_w - shape_w) / 2
            painter.setPen(text_color)
            painter.setFont(title_font)
            painter.drawText(QRectF(x, col.top(), title_w + 2, fm.height()), int(Qt.AlignmentFlag.AlignLeft), layer.title)
            painter.setFont(base)
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(QRectF(x + title_w, col.top(), shape_w + 2, fm.height()), int(Qt.AlignmentFlag.AlignLeft),
                             " " + layer.shape_text)
            painter.setFont(small)
            numbered = layer.spec.unit_index is None and len(layer.tile_rects) > 1
            for index, rect in enumerate(layer.tile_rects):
                painter.setPen(frame)
                painter.drawRect(rect.adjusted(-0.5, -0.5, 0.5, 0.5))
                if numbered:
                    painter.setPen(text_color)
                    painter.drawText(QRectF(rect.left(), rect.top() - fm_small.height(), rect.width(), fm_small.height()),
                                     int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom), str(index))
            if layer.key == OUTPUT_KEY:
                painter.setFont(self.output_fonts()[0])
                painter.setPen(text_color)
                every_row = self.every_output_row_labelled()
                for k, name in enumerate(self.classes):
                    if every_row:
                        painter.drawText(self._output_name_rect(layer, k),
                                         int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), name)
                    painter.fillRect(self._output_bar_rect(layer, k), palette.color(QPalette.ColorRole.AlternateBase))
            painter.drawImage(layer.legend, self._legend_images[layer.key])
            painter.setPen(frame)
            painter.drawRect(layer.legend)
            if i + 1 < len(layers):
                self._paint_arrow(painter, layer, layers[i + 1], palette)

    def _paint_dynamic(self, painter: QPainter, palette: QPalette) -> None:
        base, title_font, small = self._fonts()
        fm_small = QFontMetrics(small)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        for layer in self.layers.values():
            for rect, image in zip(layer.tile_rects, layer.images):
                painter.drawImage(rect, image)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        painter.setFont(small)
        left, right = int(Qt.AlignmentFlag.AlignLeft), int(Qt.AlignmentFlag.AlignRight)
        for layer in self.layers.values():
            below = QRectF(layer.legend.left(), layer.legend.bottom() + 2, layer.legend.width(), fm_small.height())
            painter.drawText(below, left, format_value(layer.lo))
            painter.drawText(below, right, format_value(layer.hi))
        # The output: probability bars and percentages, the top class in bold.
        layer = self.layers[OUTPUT_KEY]
        probabilities = self.probabilities if self.probabilities is not None else np.zeros(len(self.classes))
        top = int(np.argmax(probabilities))
        highlight = palette.color(QPalette.ColorRole.Highlight)
        row_font, row_bold = self.output_fonts()
        every_row = self.every_output_row_labelled()
        painter.setFont(row_font)
        for k, p in enumerate(probabilities):
            bar = self._output_bar_rect(layer, k)
            painter.fillRect(QRectF(bar.left(), bar.top(), bar.width() * float(p), bar.height()), highlight)
            if every_row and k != top:
                painter.drawText(self._output_percent_rect(layer, k),
                                 int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight), f"{100 * p:.1f}%")
        # The top class last, over its neighbours' rows when the rows are too short for text.
        painter.setFont(row_bold)
        align = Qt.AlignmentFlag.AlignVCenter
        for rect, text, side in ((self._output_percent_rect(layer, top), f"{100 * probabilities[top]:.1f}%",
                                  Qt.AlignmentFlag.AlignRight),
                                 (self._output_name_rect(layer, top), self.classes[top], Qt.AlignmentFlag.AlignLeft)):
            if not every_row:
                height = QFontMetrics(row_bold).height()
                rect = QRectF(rect.left(), rect.center().y() - height / 2, rect.width(), height)
            painter.fillRect(rect, palette.color(QPalette.ColorRole.Base))
            painter.drawText(rect, int(align | side), text)

    def output_fonts(self) -> tuple[QFont, QFont]:
        """The output rows' fonts (normal, bold for the top class): the view's own, made smaller
        where the window is so short that its ten rows would run into each other."""
        base, title_font, _ = self._fonts()
        layer = self.layers.get(OUTPUT_KEY)
        if layer is None or not layer.tile_rects:
            return base, title_font
        row_h = layer.tile_rects[0].height() / len(self.classes)
        if QFontMetrics(title_font).height() <= row_h or row_h < MIN_OUTPUT_ROW_TEXT_PX:
            return base, title_font
        fitted = []
        for font in (base, title_font):
            font = QFont(font)
            font.setPixelSize(max(1, int(row_h * 0.8)))
            fitted.append(font)
        return fitted[0], fitted[1]

    def every_output_row_labelled(self) -> bool:
        """Whether each output row has its class and percentage written beside its bar; where the
        rows are too short to read, only the top class is (the others' values are in the hover)."""
        layer = self.layers.get(OUTPUT_KEY)
        if layer is None or not layer.tile_rects:
            return True
        return layer.tile_rects[0].height() / len(self.classes) >= MIN_OUTPUT_ROW_TEXT_PX

    def _output_row(self, layer: _Layer, k: int) -> tuple[float, float]:
        strip = layer.tile_rects[0]
        row_h = strip.height() / len(self.classes)
        return strip.top() + k * row_h, row_h

    def _output_name_rect(self, layer: _Layer, k: int) -> QRectF:
        y, row_h = self._output_row(layer, k)
        return QRectF(layer.tile_rects[0].right() + 6, y, self._names_width, row_h)

    def _output_bar_rect(self, layer: _Layer, k: int) -> QRectF:
        y, row_h = self._output_row(layer, k)
        name = self._output_name_rect(layer, k)
        return QRectF(name.right() + 4, y + row_h * 0.25, OUTPUT_BAR_W, row_h * 0.5)

    def _output_percent_rect(self, layer: _Layer, k: int) -> QRectF:
        y, row_h = self._output_row(layer, k)
        bar = self._output_bar_rect(layer, k)
        return QRectF(bar.right() + 6, y, self._percent_width, row_h)

    def _paint_arrow(self, painter: QPainter, left: _Layer, right: _Layer, palette: QPalette) -> None:
        start = left.column.right() + 4
        end = right.column.left() - 4
        if end - start < 8:
            return
        y = (left.legend.top() + left.column.top()) / 2 + 20
        color = QColor(palette.color(QPalette.ColorRole.PlaceholderText))
        painter.setPen(QPen(color, 1.5))
        painter.drawLine(QPointF(start, y), QPointF(end - 5, y))
        painter.setBrush(color)
        painter.drawPolygon(QPolygonF([QPointF(end, y), QPointF(end - 6, y - 4), QPointF(end - 6, y + 4)]))
        painter.setBrush(Qt.BrushStyle.NoBrush)

    def render_image(self, width: int = 1600, height: int = 520, title: str = "") -> QImage:
        """The view as a picture of the given size, with ``title`` above it (for export)."""
        title_h = 0
        if title:
            title_h = QFontMetrics(self.font()).height() * 2
        image = QImage(width, height + title_h, QImage.Format.Format_ARGB32)
        image.fill(self.palette().color(QPalette.ColorRole.Base))
        painter = QPainter(image)
        try:
            painter.setFont(self.font())
            if title:
                painter.setPen(self.palette().color(QPalette.ColorRole.Text))
                painter.drawText(QRectF(10, 0, width - 20, title_h), int(Qt.AlignmentFlag.AlignVCenter), title)
            painter.translate(0, title_h)
            self._layout(width, height)
            self.paint(painter, width, height, self.palette())
        finally:
            painter.end()
            self._layout_size = QSize()
        return image

    # -- pointer -------------------------------------------------------------------------------

    def hit(self, pos: QPointF) -> tuple[str, int, int, int] | None:
        """(layer key, tile, row, column) of the data pixel under ``pos``, or None."""
        if not self.has_data:
            return None
        self._ensure_layout(self.width(), self.height())
        for layer in self.layers.values():
            if not layer.column.contains(pos):
                continue
            for tile, rect in enumerate(layer.tile_rects):
                if layer.key == OUTPUT_KEY:
                    rect = QRectF(rect.left(), rect.top(), layer.column.right() - rect.left(), rect.height())
                if rect.contains(pos):
                    r = min(layer.spec.tile_h - 1, int((pos.y() - rect.top()) / layer.px))
                    c = 0 if layer.key == OUTPUT_KEY else min(layer.spec.tile_w - 1, int((pos.x() - rect.left()) / layer.px))
                    return layer.key, tile, r, c
        return None

    def describe(self, key: str, tile: int, r: int, c: int) -> str | None:
        layer = self.layers[key]
        if layer.values is None:
            return None
        if key == INPUT_KEY:
            return fill(self.tr("input · pixel (row %1, column %2) = %3"),
                        r, c, format_value(float(layer.values[r, c])))
        if key == OUTPUT_KEY:
            p = float(self.probabilities[r]) if self.probabilities is not None else float("nan")
            if self.mirror_averaged is not None:
                return fill(self.tr("output · class %1 “%2”: logit %3, mean with the mirror image’s %4, "
                                    "probability %5"),
                            r, self.classes[r], format_value(float(layer.values[r])),
                            format_value(float(self.mirror_averaged[r])), f"{100 * p:.1f}%")
            return fill(self.tr("output · class %1 “%2”: logit %3, probability %4"),
                        r, self.classes[r], format_value(float(layer.values[r])), f"{100 * p:.1f}%")
        if layer.spec.unit_index is not None:
            unit = int(layer.spec.unit_index[r, c])
            if unit >= layer.values.size:
                return None
            return fill(self.tr("%1 · unit %2 = %3"), key, unit, format_value(float(layer.values[unit])))
        return fill(self.tr("%1 · channel %2 · (row %3, column %4) = %5"),
                    key, tile, r, c, format_value(float(layer.values[tile, r, c])))

    def describe_at(self, pos: QPointF) -> str | None:
        found = self.hit(pos)
        return self.describe(*found) if found else None

    def mouseMoveEvent(self, event) -> None:
        report_hover(self, event, self.describe_at(event.position()) or "")
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:
        self.hovered.emit("")
        super().leaveEvent(event)

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            found = self.hit(event.position())
            if found:
                key, tile = found[0], found[1]
                self.map_clicked.emit(key, tile)
                return
        super().mousePressEvent(event)
