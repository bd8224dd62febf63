"""The start-up screen: something on screen before torch is imported, and a window thread that
keeps handling events while the window's modules import behind it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from PySide6.QtCore import QTimer

from lenet_gui.ui import i18n
from lenet_gui.ui.startup_screen import StartupScreen, import_in_background


@pytest.fixture
def slow_module(tmp_path, monkeypatch):
    """A module whose import takes a while without holding the interpreter lock."""
    (tmp_path / "lenet_test_slow_import.py").write_text("import time\ntime.sleep(0.5)\nVALUE = 42\n")
    (tmp_path / "lenet_test_broken_import.py").write_text("raise ImportError('no such library: libbroken.so')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    for name in ("lenet_test_slow_import", "lenet_test_broken_import"):
        sys.modules.pop(name, None)


def import_and_wait(qtbot, module_names):
    results = []
    worker = import_in_background(module_names, results.append)
    qtbot.waitUntil(lambda: bool(results), timeout=30_000)
    assert worker.wait(30_000)
    return results[0]


def test_the_window_thread_handles_events_while_the_modules_import(qtbot, slow_module):
    ticks = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start()
    assert import_and_wait(qtbot, ["lenet_test_slow_import"]) is None
    timer.stop()
    assert sys.modules["lenet_test_slow_import"].VALUE == 42
    # Half a second of import: a window thread blocked by it would have ticked at most once.
    assert len(ticks) >= 10


def test_an_import_that_fails_is_handed_to_the_window_thread(qtbot, slow_module):
    failure = import_and_wait(qtbot, ["lenet_test_slow_import", "lenet_test_broken_import"])
    assert isinstance(failure, ImportError) and "libbroken" in str(failure)


def test_each_import_names_its_step_as_it_begins(qtbot, slow_module):
    begun = []
    done = []
    worker = import_in_background(["lenet_test_slow_import", "lenet_test_broken_import"], done.append, begun.append)
    qtbot.waitUntil(lambda: bool(done), timeout=30_000)
    assert worker.wait(30_000)
    assert begun == ["lenet_test_slow_import", "lenet_test_broken_import"]


def test_the_screen_says_which_step_of_the_start_it_is_at(qtbot):
    screen = StartupScreen()
    qtbot.addWidget(screen)
    seen = [screen.status]
    for step in ("training", "window"):
        screen.show_step(step)
        seen.append(screen.status)
    assert seen == ["Loading PyTorch…", "Loading what training needs…", "Opening the window…"]


def test_the_screen_shows_the_app_and_what_it_loads_in_the_chosen_language(qtbot):
    try:
        i18n.set_language("zh_CN")
        chinese = StartupScreen()
    finally:
        i18n.set_language("en")
    english = StartupScreen()
    for screen in (chinese, english):
        qtbot.addWidget(screen)
    assert english.status == "Loading PyTorch…"
    assert chinese.status != english.status and any("\u4e00" <= ch <= "\u9fff" for ch in chinese.status)
    english.show()
    qtbot.waitExposed(english)
    area = english.screen().availableGeometry()
    assert area.contains(english.frameGeometry())
    image = english.grab().toImage()
    # Painted: the icon's colours and dark text on the pale background, not a blank window.
    colours = {image.pixelColor(x, y).name() for x in range(0, image.width(), 4) for y in range(0, image.height(), 4)}
    assert len(colours) > 20


def test_lenet_gui_shows_its_start_up_screen_before_importing_torch(tmp_path):
    script = textwrap.dedent("""
        import json, sys
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        from lenet_gui.ui import startup_screen
        from lenet_gui.ui.app import make_application

        make_application()
        seen = {}
        show = startup_screen.StartupScreen.show
        def recording_show(self):
            seen["torch imported when the screen showed"] = "torch" in sys.modules
            show(self)
        startup_screen.StartupScreen.show = recording_show

        def quit_once_the_window_is_up():
            module = sys.modules.get("lenet_gui.ui.main_window")
            windows = QApplication.topLevelWidgets()
            if module and any(isinstance(w, getattr(module, "MainWindow", ())) and w.isVisible() for w in windows):
                seen["start-up screen still open"] = any(
                    isinstance(w, startup_screen.StartupScreen) and w.isVisible() for w in windows)
                QApplication.quit()
            else:
                QTimer.singleShot(20, quit_once_the_window_is_up)

        QTimer.singleShot(0, quit_once_the_window_is_up)
        from lenet_gui.__main__ import main
        status = main([])
        print(json.dumps(seen))
        sys.exit(status)
    """)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen == {"torch imported when the screen showed": False, "start-up screen still open": False}


def test_quitting_while_the_window_still_loads_ends_the_app(tmp_path):
    """A session that ends (or a window manager's close) before the main window opens: the
    process waits for the imports and exits, instead of opening the window afterwards."""
    script = textwrap.dedent("""
        import sys
        from PySide6.QtCore import QThread, QTimer
        from PySide6.QtWidgets import QApplication
        from lenet_gui.ui.app import make_application

        make_application()

        def quit_in_the_event_loop():
            # Long before torch has been imported; Qt ignores a quit outside an event loop
            # (showing a window can run timers before the loop starts).
            if QThread.currentThread().loopLevel() == 0:
                QTimer.singleShot(10, quit_in_the_event_loop)
            else:
                QApplication.quit()

        QTimer.singleShot(0, quit_in_the_event_loop)
        from lenet_gui.__main__ import main
        status = main([])
        module = sys.modules.get("lenet_gui.ui.main_window")
        opened = bool(module) and any(isinstance(w, module.MainWindow) for w in QApplication.topLevelWidgets())
        print("status", status, "window opened", opened)
        sys.exit(status)
    """)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "status 0 window opened False"


def test_a_window_that_cannot_load_ends_the_app_with_the_reason_instead_of_a_screen_forever(tmp_path):
    broken = tmp_path / "broken" / "torch"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('libtorch_cpu.so: cannot open shared object file')\n")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"),
               PYTHONPATH=os.pathsep.join([str(tmp_path / "broken"), os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, "-m", "lenet_gui"], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode != 0
    assert "libtorch_cpu.so: cannot open shared object file" in result.stderr
