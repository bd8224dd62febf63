"""The hover read-out: what the views of numbers say about the value under the pointer.

The feature maps, the enlarged map and the filters all read a value the same way: the view's
``hovered`` signal carries the description (the tab shows it in a status line) and a tooltip
shows it beside the pointer; numbers are written with :func:`format_value`.
"""

from __future__ import annotations

from PySide6.QtWidgets import QToolTip, QWidget


def format_value(value: float) -> str:
    """A value as the read-outs and legends write it: three significant digits."""
    return f"{value:.3g}"


def report_hover(widget: QWidget, event, text: str) -> None:
    """Say what is under the pointer: the widget's ``hovered`` signal and a tooltip, hidden
    when there is nothing to say (``text`` empty)."""
    widget.hovered.emit(text)
    if text:
        QToolTip.showText(event.globalPosition().toPoint(), text, widget)
    else:
        QToolTip.hideText()
