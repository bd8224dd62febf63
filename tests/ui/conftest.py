"""Fixtures of the window's tests. A test module that needs the window set up otherwise (another
size, focus, the bundled models checked first) defines its own ``window``, which takes the place
of this one there."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def english_as_the_app_starts(qapp):
    """The window's language installed as ``lenet-gui`` installs it at start-up (English: the
    source texts and the singular and plural of each text with a count), so that the tests
    read what a user reads."""
    from lenet_gui.ui import i18n

    i18n.set_language("en")
    yield


@pytest.fixture
def window(qtbot, tmp_path):
    """The main window, shown, with settings of its own in ``tmp_path``."""
    from PySide6.QtCore import QSettings

    from lenet_gui.ui.main_window import MainWindow

    win = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()
