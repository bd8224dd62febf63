"""LeNet drawn layer by layer as the data flows: one card per layer with a sketch of its output
(stacked maps or a column of units), its shape with the arithmetic that produces it, its
parameters and multiply-adds. The numbers come from core.architecture; clicking a card that can
be stepped through selects it.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from ...core.architecture import Architecture, LayerRow, number
from ...core.stepthrough import STEP_LAYERS
from ..widgets.text import Retranslating, fill
from .explanation import line_height

# The diagram calls the last layer by its module's name; the step-through by its output's.
STEP_NAME = {"fc3": "logits"}


@dataclass
class Card:
    rows: list[LayerRow]  # the layer and what it carries along (batch norm)

    @property
    def main(self) -> LayerRow:
        return self.rows[0]

    @property
    def step_layer(self) -> str | None:
        name = STEP_NAME.get(self.main.name, self.main.name)
        return name if name in STEP_LAYERS else None

    @property
    def parameters(self) -> int:
        return sum(row.parameters for row in self.rows)

    @property
    def macs(self) -> int:
        return sum(row.macs for row in self.rows)

    @property
    def activation(self) -> str:
        return next((row.activation for row in reversed(self.rows) if row.activation), "")


def cards_of(architecture: Architecture) -> list[Card]:
    cards: list[Card] = []
    for row in architecture.rows:
        if row.kind.startswith("BatchNorm") and cards:
            cards[-1].rows.append(row)
        else:
            cards.append(Card([row]))
    return cards


class NetworkDiagram(Retranslating, QWidget):
    layer_clicked = Signal(str)  # a step-through layer name (conv1 … logits)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("networkDiagram")
        self.cards: list[Card] = []
        self.selected: str | None = None
        self.totals = ""
        self.message = ""
        self._rects: list[QRectF] = []
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(self._height())
        self.retranslate()

    def _line(self) -> int:
        return line_height(self._small_font())

    def _height(self) -> int:
        return 50 + line_height(self.font()) + 7 * self._line()

    def _small_font(self) -> QFont:
        font = QFont(self.font())
        font.setPointSizeF(max(6.5, font.pointSizeF() * 0.85))
        return font

    def sizeHint(self) -> QSize:
        return QSize(1000, self._height())

    def minimumSizeHint(self) -> QSize:
        return QSize(300, self._height())

    def retranslate(self) -> None:
        self.setAccessibleName(self.tr("Network diagram"))
        self.setToolTip(self.tr("Click a layer to step through how its values are computed."))
        self.update()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == event.Type.FontChange:
            self.setFixedHeight(self._height())

    def set_architecture(self, architecture: Architecture | None, message: str = "") -> None:
        self.cards = cards_of(architecture) if architecture is not None else []
        self.message = message
        self.totals = "" if architecture is None else fill(
            self.tr("%1 parameters · %2 multiply-adds per image"),
            number(architecture.total_parameters), number(architecture.total_macs))
        self.update()

    def set_selected(self, layer: str | None) -> None:
        self.selected = layer
        self.update()

    def card_at(self, x: float, y: float) -> Card | None:
        for card, rect in zip(self.cards, self._rects):
            if rect.contains(x, y):
                return card
        return None

    def card_rect(self, layer: str) -> QRectF:
        self._layout()
        for card, rect in zip(self.cards, self._rects):
            if card.step_layer == layer:
                return rect
        return QRectF()

    def mousePressEvent(self, event) -> None:
        card = self.card_at(event.position().x(), event.position().y())
        if card is not None and card.step_layer is not None:
            self.layer_clicked.emit(card.step_layer)

    def mouseMoveEvent(self, event) -> None:
        card = self.card_at(event.position().x(), event.position().y())
        self.setCursor(Qt.CursorShape.PointingHandCursor if card is not None and card.step_layer
                       else Qt.CursorShape.ArrowCursor)

    def _layout(self) -> None:
        count = max(1, len(self.cards))
        gap = 12.0
        width = (self.width() - 8 - gap * (count - 1)) / count
        top, height = 4.0, self.height() - 8.0 - self._line()
        self._rects = [QRectF(4 + i * (width + gap), top, width, height) for i in range(len(self.cards))]

    def card_lines(self, card: Card) -> list[str]:
        """The text of a card under its title: shape, arithmetic, parameters, multiply-adds."""
        row = card.main
        # Module class names, as print(net) shows them (never translated).
        extras = ["BN"] * (len(card.rows) > 1) + [card.activation] * bool(card.activation)
        lines = [row.kind, "+ " + " + ".join(extras) if extras else " ", row.shape_text, row.shape_formula or " "]
        lines.append(fill(self.tr("%1 params"), number(card.parameters)) if card.parameters else self.tr("no parameters"))
        lines.append(fill(self.tr("%1 MACs"), number(card.macs)) if card.macs else " ")
        return lines

    def card_tooltip(self, card: Card) -> str:
        parts = []
        for row in card.rows:
            if row.parameter_formula:
                parts.append(fill(self.tr("%1 parameters: %2"), row.name, row.parameter_formula))
            if row.mac_formula:
                parts.append(fill(self.tr("%1 multiply-adds: %2"), row.name, row.mac_formula))
        return "\n".join(parts)

    def event(self, event) -> bool:
        if event.type() == event.Type.ToolTip:
            card = self.card_at(event.pos().x(), event.pos().y())
            if card is not None and self.card_tooltip(card):
                from PySide6.QtWidgets import QToolTip

                QToolTip.showText(event.globalPos(), self.card_tooltip(card), self)
                return True
        return super().event(event)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.WindowText)
        if not self.cards:
            painter.setPen(text)
            painter.drawText(self.rect(), int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), self.message)
            return
        self._layout()
        small = self._small_font()
        bold = QFont(self.font())
        bold.setBold(True)
        line = self._line()
        accent = palette.color(QPalette.ColorRole.Highlight)
        for index, (card, rect) in enumerate(zip(self.cards, self._rects)):
            selected = card.step_layer is not None and card.step_layer == self.selected
            painter.setPen(QPen(accent if selected else palette.color(QPalette.ColorRole.Mid), 2.5 if selected else 1))
            painter.setBrush(palette.color(QPalette.ColorRole.Base))
            painter.drawRoundedRect(rect.adjusted(0.5, 0.5, -0.5, -0.5), 5, 5)
            if index:  # the arrow from the previous card
                y = rect.top() + 30
                painter.setPen(QPen(text, 1.2))
                painter.drawLine(int(rect.left() - 11), int(y), int(rect.left() - 2), int(y))
                painter.drawLine(int(rect.left() - 5), int(y - 3), int(rect.left() - 2), int(y))
                painter.drawLine(int(rect.left() - 5), int(y + 3), int(rect.left() - 2), int(y))
            self._sketch(painter, card.main.output_shape, QRectF(rect.left() + 4, rect.top() + 4, rect.width() - 8, 32),
                         accent if card.step_layer else palette.color(QPalette.ColorRole.Mid))
            painter.setPen(text)
            painter.setFont(bold)
            title = QRectF(rect.left() + 3, rect.top() + 38, rect.width() - 6, line_height(bold))
            painter.drawText(title, int(Qt.AlignmentFlag.AlignHCenter), card.main.name)
            painter.setFont(small)
            metrics = QFontMetrics(small)
            for n, content in enumerate(self.card_lines(card)):
                box = QRectF(rect.left() + 3, title.bottom() + n * line, rect.width() - 6, line)
                painter.drawText(box, int(Qt.AlignmentFlag.AlignHCenter),
                                 metrics.elidedText(content, Qt.TextElideMode.ElideRight, int(box.width())))
        painter.setFont(small)
        painter.drawText(QRectF(4, self.height() - line - 2, self.width() - 8, line),
                         int(Qt.AlignmentFlag.AlignRight), self.totals)

    @staticmethod
    def _sketch(painter: QPainter, shape: tuple[int, ...], area: QRectF, colour: QColor) -> None:
        """Maps as a stack of squares (side by their size), units as a bar (height by count)."""
        painter.setBrush(QColor(colour.red(), colour.green(), colour.blue(), 60))
        painter.setPen(QPen(colour, 1))
        if len(shape) == 3:
            channels, side = shape[0], shape[1]
            size = 6 + 22 * side / 28
            shown = min(channels, 8)
            step = 2.5
            left = area.center().x() - (size + step * (shown - 1)) / 2
            for i in range(shown):
                painter.drawRect(QRectF(left + i * step, area.top() + (shown - 1 - i) * 1.2, size, size))
        else:
            height = 4 + 28 * min(1.0, shape[0] / 256)
            painter.drawRect(QRectF(area.center().x() - 4, area.top() + (32 - height) / 2, 8, height))
