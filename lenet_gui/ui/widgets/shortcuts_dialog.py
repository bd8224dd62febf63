"""Help ▸ Keyboard shortcuts: every key the window answers to, read from its menus and tab titles
(so the list cannot drift from what the keys do)."""

from __future__ import annotations

import re

from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView, QDialog, QDialogButtonBox, QHeaderView, QMenuBar, QTableWidget, QTableWidgetItem,
    QTabWidget, QVBoxLayout,
)

from .text import Retranslating, button_text, fill


def plain(text: str) -> str:
    """A menu or tab title without its mnemonic marks (the "(&T)" form too) and trailing dots."""
    return button_text(text).rstrip("…").rstrip(".").strip()


def mnemonic(text: str) -> str | None:
    found = re.search(r"&([^&])", text)
    return found.group(1).upper() if found else None


def shortcut_rows(menu_bar: QMenuBar, tabs: QTabWidget | None = None) -> list[tuple[str, str, str]]:
    """(where, what, keys) for each menu action with a shortcut, each menu and each tab title
    with a mnemonic; keys as the platform writes them."""
    native = QKeySequence.SequenceFormat.NativeText
    rows: list[tuple[str, str, str]] = []
    for top in menu_bar.actions():
        menu = top.menu()
        if menu is None:
            continue
        where = plain(top.text())
        key = mnemonic(top.text())
        if key:
            rows.append((where, fill(QCoreApplication.translate("ShortcutsDialog", "Open the %1 menu"), where),
                         f"Alt+{key}"))
        for action in menu.actions():
            keys = [k.toString(native) for k in action.shortcuts() if not k.isEmpty()]
            if keys and not action.isSeparator():
                rows.append((where, plain(action.text()), ", ".join(keys)))
    if tabs is not None:
        for index in range(tabs.count()):
            key = mnemonic(tabs.tabText(index))
            if key:
                rows.append((QCoreApplication.translate("ShortcutsDialog", "Tabs"),
                             fill(QCoreApplication.translate("ShortcutsDialog", "Show the %1 tab"),
                                  plain(tabs.tabText(index))), f"Alt+{key}"))
    return rows


class ShortcutsDialog(Retranslating, QDialog):
    def __init__(self, menu_bar: QMenuBar, tabs: QTabWidget | None = None, parent=None):
        super().__init__(parent)
        self.setObjectName("shortcutsDialog")
        self.menu_bar, self.tabs = menu_bar, tabs
        self.table = QTableWidget(0, 3, self)
        self.table.setObjectName("shortcutsTable")
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(560, 480)
        self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Keyboard shortcuts"))
        self.table.setHorizontalHeaderLabels([self.tr("Menu"), self.tr("Action"), self.tr("Keys")])
        self.table.setAccessibleName(self.tr("Keyboard shortcuts"))
        self._fill()
        # The menus read here may get their own language change after this dialog does.
        QTimer.singleShot(0, self, self._fill)

    def _fill(self) -> None:
        rows = shortcut_rows(self.menu_bar, self.tabs)
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setAccessibleDescription(fill(self.tr("%1 shortcuts: menu, action and keys on each row"),
                                                 len(rows)))

    def rows(self) -> list[tuple[str, str, str]]:
        return [tuple(self.table.item(r, c).text() for c in range(3)) for r in range(self.table.rowCount())]
