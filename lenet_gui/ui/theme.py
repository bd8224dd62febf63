"""Light and dark: the app follows the system's colour scheme (Qt 6.5+), or the user's choice
in View (a typed setting). Widgets that paint themselves read the palette, so they follow; the
charts restyle themselves when the palette changes."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette

SYSTEM, LIGHT, DARK = "system", "light", "dark"
CHOICES = (SYSTEM, LIGHT, DARK)


def system_is_dark() -> bool:
    app = QGuiApplication.instance()
    if app is None:
        return False
    try:
        return app.styleHints().colorScheme() == Qt.ColorScheme.Dark
    except AttributeError:  # Qt before 6.5 says nothing about the scheme
        return False


def is_dark(choice: str) -> bool:
    return choice == DARK or (choice not in (LIGHT, DARK) and system_is_dark())


def dark_palette() -> QPalette:
    palette = QPalette()
    role = QPalette.ColorRole
    colours = {
        role.Window: "#2b2b2e", role.WindowText: "#e6e6e6", role.Base: "#1e1e20",
        role.AlternateBase: "#333337", role.ToolTipBase: "#3a3a3e", role.ToolTipText: "#f0f0f0",
        role.PlaceholderText: "#8c8c90", role.Text: "#e6e6e6", role.Button: "#38383c",
        role.ButtonText: "#e6e6e6", role.BrightText: "#ff6b6b", role.Light: "#4a4a4f",
        role.Midlight: "#404044", role.Mid: "#5a5a60", role.Dark: "#18181a", role.Shadow: "#000000",
        role.Highlight: "#3d8fd6", role.HighlightedText: "#ffffff", role.Link: "#6fb3ff",
        role.LinkVisited: "#b08cff",
    }
    for r, colour in colours.items():
        palette.setColor(r, QColor(colour))
    for r in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, r, QColor("#7a7a7e"))
    return palette


def apply(choice: str) -> bool:
    """Give the application the palette of ``choice`` (one of CHOICES); True when it is dark."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    dark = is_dark(choice)
    if app is not None:
        app.setPalette(dark_palette() if dark else app.style().standardPalette())
    return dark


def palette_is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128
