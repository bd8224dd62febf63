"""The start-up screen: something on screen before torch is imported, and a window thread that
keeps handling events while the window's modules import behind it."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from PySide6.QtCore import QTimer

from lenet_gui.ui import i18n, startup_screen
from lenet_gui.ui.startup_screen import ScreenProcess, StartupScreen, import_in_background, open_startup_screen


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


def _probe_marks(stderr: str) -> list[tuple[str, float]]:
    return [(line.split()[1], float(line.split()[2])) for line in stderr.splitlines()
            if line.startswith("startup-probe ")]


def test_lenet_gui_shows_its_start_up_screen_from_a_process_that_never_imports_torch(tmp_path):
    # Each process of the launch writes, as it exits, whether it had imported torch.
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(textwrap.dedent("""
        import atexit, json, os, sys
        def _record():
            with open(os.environ["LENET_TEST_IMPORTS"], "a", encoding="utf-8") as out:
                out.write(json.dumps([os.path.basename(sys.argv[0]), "torch" in sys.modules]) + "\\n")
        atexit.register(_record)
    """))
    records = tmp_path / "imports.jsonl"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"),
               LENET_STARTUP_PROBE="0.2", LENET_TEST_IMPORTS=str(records),
               PYTHONPATH=os.pathsep.join([str(hooks), os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, "-m", "lenet_gui"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    marks = _probe_marks(result.stderr)
    kinds = [kind for kind, _ in marks]
    # the screen paints, then the main window; the screen closes as the window comes up
    assert kinds[0] == "first-paint" and "ready" in kinds and "longest-stall-on-screen" in kinds, kinds
    assert marks[0][1] < dict(marks)["ready"]
    def processes():
        return sorted(json.loads(line) for line in records.read_text(encoding="utf-8").splitlines())

    deadline = time.monotonic() + 30
    while len(processes()) < 2 and time.monotonic() < deadline:  # the screen may still be closing
        time.sleep(0.05)
    assert processes() == [["-c", False], ["__main__.py", True]]  # the screen's, the app's


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
        from lenet_gui.ui import startup_screen
        screens = []
        open_screen = startup_screen.open_startup_screen
        startup_screen.open_startup_screen = lambda language: screens.append(open_screen(language)) or screens[-1]

        from lenet_gui.__main__ import main
        status = main([])
        module = sys.modules.get("lenet_gui.ui.main_window")
        opened = bool(module) and any(isinstance(w, module.MainWindow) for w in QApplication.topLevelWidgets())
        [screen] = screens
        print("status", status, "window opened", opened, "screen ended", screen.process.wait(30))
        sys.exit(status)
    """)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "status 0 window opened False screen ended 0"


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


def _screen_process(monkeypatch) -> ScreenProcess:
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.setenv("LENET_STARTUP_PROBE", "60")  # it reports its first paint and its close
    return ScreenProcess("zh_CN", stderr=subprocess.PIPE)


def _first_line(screen: ScreenProcess) -> str:
    return screen.process.stderr.readline().strip()


def test_the_screen_process_paints_takes_its_steps_and_closes_when_told(monkeypatch):
    screen = _screen_process(monkeypatch)
    try:
        assert _first_line(screen).startswith("startup-probe first-paint ")
        for step in ("training", "window", "not a step"):  # an unknown line is passed over
            screen.show_step(step)
        assert screen.process.poll() is None
        screen.close()
        assert screen.process.wait(30) == 0
        assert [kind for kind, _ in _probe_marks(screen.process.stderr.read())] == ["longest-stall-on-screen"]
        screen.close()  # again, and a step after it: nothing to tell, nothing raised
        screen.show_step("window")
    finally:
        screen.process.kill()


def test_the_screen_process_ends_when_the_app_does(monkeypatch):
    screen = _screen_process(monkeypatch)
    try:
        assert _first_line(screen).startswith("startup-probe first-paint ")
        screen.process.stdin.close()  # as when the app's process ends, however it ends
        assert screen.process.wait(30) == 0
    finally:
        screen.process.kill()


def test_where_no_process_can_start_the_screen_is_drawn_here(qtbot, monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    screen = open_startup_screen("en")
    qtbot.addWidget(screen)
    assert isinstance(screen, StartupScreen) and screen.isVisible()
    screen.show_step("window")
    assert screen.status == "Opening the window…"


def test_the_screen_process_speaks_the_language_it_is_given_and_follows_its_input(qtbot, monkeypatch):
    # Its main(), here: the steps come on standard input, and the input's end quits it.
    shown = []
    show_step = StartupScreen.show_step

    def recording_show_step(self, step):
        show_step(self, step)
        shown.append(self.status)

    monkeypatch.setattr(StartupScreen, "show_step", recording_show_step)
    monkeypatch.setattr(sys, "stdin", io.StringIO("training\nwindow\n"))
    try:
        assert startup_screen.main(["zh_CN"]) == 0
    finally:
        i18n.set_language("en")
    assert len(shown) == 3 and len(set(shown)) == 3
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in text) for text in shown), shown


@pytest.mark.skipif(sys.platform == "win32", reason="process groups and SIGINT are POSIX")
@pytest.mark.parametrize("when", ["first-paint", "ready"], ids=["on-the-start-up-screen", "in-the-window"])
def test_ctrl_c_in_the_terminal_closes_the_app_as_its_close_button_would(tmp_path, when):
    config = tmp_path / "config"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(config), LENET_STARTUP_PROBE="60")
    # A session of its own: Ctrl+C reaches the terminal's whole process group, the screen's too.
    # Ctrl+C as a terminal delivers it, even where these tests run as a background job (which
    # ignores it, and so would the app, rightly: see close_on_interrupt).
    app = subprocess.Popen([sys.executable, "-m", "lenet_gui"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, start_new_session=True,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        seen = []
        while not any(line.startswith(f"startup-probe {when} ") for line in seen):
            line = app.stderr.readline()
            assert line, "".join(seen)
            seen.append(line)
        os.killpg(app.pid, signal.SIGINT)
        try:  # an impatient second Ctrl+C while it closes changes nothing
            _, rest = app.communicate(timeout=0.5)
        except subprocess.TimeoutExpired:
            os.killpg(app.pid, signal.SIGINT)
            _, rest = app.communicate(timeout=60)
    finally:
        if app.poll() is None:
            os.killpg(app.pid, signal.SIGKILL)
    stderr = "".join(seen) + rest
    # 130; or, when the second Ctrl+C lands while the interpreter shuts down (the handlers are
    # Python's own again), the signal itself ends it, which a shell reports as the same 130.
    assert app.returncode in (128 + signal.SIGINT, -signal.SIGINT), stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert "startup-probe longest-stall-on-screen " in stderr  # the screen's process closed, not killed
    settings = (config / "LeNet Studio" / "LeNet Studio.conf")
    if when == "ready":  # the window closed as its close button closes it: its place is kept
        assert "geometry=" in settings.read_text(encoding="utf-8")


def test_the_screen_process_imports_the_app_s_own_code_not_the_start_folder_s(monkeypatch, tmp_path):
    # Started from a folder holding another lenet_gui (another checkout, say), the screen's
    # process still imports from where this one does.
    (tmp_path / "lenet_gui").mkdir()
    (tmp_path / "lenet_gui" / "__init__.py").write_text("raise ImportError('the start folder\\'s lenet_gui')\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".")])  # as the installed script's
    screen = _screen_process(monkeypatch)
    try:
        line = _first_line(screen)
        assert line.startswith("startup-probe first-paint "), line + screen.process.stderr.read()
        screen.close()
        assert screen.process.wait(30) == 0
    finally:
        screen.process.kill()


def test_a_screen_process_that_fails_gives_way_to_a_screen_drawn_here(qtbot, monkeypatch):
    monkeypatch.setattr(startup_screen, "_SCREEN_MAIN", "import sys; sys.exit(3)")
    screen = ScreenProcess("en")
    assert screen.process.wait(30) == 3
    screen.show_step("training")
    assert isinstance(screen.fallback, StartupScreen) and screen.fallback.isVisible()
    qtbot.addWidget(screen.fallback)
    assert screen.fallback.status == "Loading what training needs…"
    screen.close()
    assert not screen.fallback.isVisible()
