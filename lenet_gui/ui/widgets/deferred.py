"""Work that is worth doing only while a widget is on screen.

Views that follow the pen or the training (the inspector's maps, its filters, the test set)
would otherwise recompute for every stroke while hidden behind another tab. A
:class:`WhenVisible` runs its update at once when its widget is visible, and otherwise marks it
stale and runs it when the widget is next shown.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget


class WhenVisible(QObject):
    def __init__(self, widget: QWidget, update: Callable[[], None]):
        super().__init__(widget)
        self.widget = widget
        self._update = update
        self.stale = True
        widget.installEventFilter(self)

    def request(self) -> None:
        """The data changed: update now if the widget is visible, else when it is shown."""
        self.stale = True
        if self.widget.isVisible():
            self.run()

    def run(self) -> None:
        self.stale = False
        self._update()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.widget and event.type() == QEvent.Type.Show and self.stale:
            self.run()
        return False
