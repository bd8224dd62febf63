"""A dismissible error banner above a view: what went wrong, in words, until the user hides it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton

from .text import Retranslating


class ErrorBanner(Retranslating, QFrame):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("errorBanner")
        self.setStyleSheet("#errorBanner { background: #fdecea; border: 1px solid #e0a39e; border-radius: 4px; }"
                           "#errorBanner QLabel { color: #611a15; }")
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()
        self.retranslate()

    def retranslate(self) -> None:
        self.close_button.setToolTip(self.tr("Hide this message"))

    def show_message(self, rich_text: str) -> None:
        """``rich_text`` is rich text: escape anything that comes from outside."""
        self.text.setText(rich_text)
        self.show()

    def dismiss(self) -> None:
        self.hide()
        self.text.clear()

    def plain_text(self) -> str:
        """The message on show, as plain text (empty when none)."""
        if self.isHidden():
            return ""
        doc = QTextDocument()
        doc.setHtml(self.text.text())
        return doc.toPlainText()
