"""Start the desktop app."""

from __future__ import annotations

import os
import signal
import sys

from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication

from ..core.desktop_entry import APP_ID
from ..core.resources import ICON

ORGANIZATION = "LeNet Studio"
APPLICATION = "LeNet Studio"


def make_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    # Desktops match the window to the desktop entry that --install-desktop-entry writes.
    QGuiApplication.setDesktopFileName(APP_ID)
    if ICON.is_file():
        app.setWindowIcon(QIcon(str(ICON)))
    return app


# The exit status of a start that Ctrl+C ended, as for any program a terminal interrupts.
INTERRUPTED = 128 + signal.SIGINT


def close_on_interrupt(app: QApplication) -> dict:
    """Ctrl+C in the terminal that started the app closes it as its window's close button would
    (a run stops, the settings are saved) instead of printing a traceback and staying up.
    Another one changes nothing, while the app closes and once its event loop has ended (set
    "closed" in the returned dict then): the process is on its way out. "interrupted" in the
    dict turns True when it happened. A start that ignores Ctrl+C (a job started in the
    background) goes on ignoring it."""
    state = {"interrupted": False, "closed": False}
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        return state

    def interrupt(signum, frame) -> None:
        if not (state["interrupted"] or state["closed"]):
            state["interrupted"] = True
            QTimer.singleShot(0, lambda: (app.closeAllWindows(), app.quit()))

    signal.signal(signal.SIGINT, interrupt)
    # Python runs a signal's handler between two of its bytecodes, and Qt's event loop runs
    # none by itself: a timer lets it in a few times a second.
    wake = QTimer(app)
    wake.timeout.connect(lambda: None)
    wake.start(200)
    return state


def run_app(data_root: str | None = None, language: str | None = None, runs_dir: str | None = None) -> int:
    """``language``: a code of ``i18n.LANGUAGES`` for this start only; None: the saved choice,
    or the system's language when there is none."""
    # Before Qt, whose own failure here is an abort that names no package.
    from .platform_check import platform_problem

    problem = platform_problem()
    if problem is not None:
        print(problem, file=sys.stderr)
        return 1
    app = make_application()
    interrupt = close_on_interrupt(app)
    from . import i18n
    from .settings import Settings
    from .startup_probe import install_if_asked
    from .startup_screen import import_in_background, open_startup_screen
    from .workers import stop_all_and_wait

    probe = install_if_asked(app)  # noqa: F841 - lives as the app's child
    settings = Settings()
    code = i18n.resolve(language or settings.language)
    i18n.set_language(code)
    screen = open_startup_screen(code)
    opened: dict = {}

    def open_window(failure: BaseException | None) -> None:
        # Raised again once the event loop has returned, as if no start-up screen had been:
        # a failure inside the loop would leave the screen up forever.
        try:
            if failure is not None:
                raise failure
            screen.show_step("window")
            from .main_window import MainWindow

            window = opened["window"] = MainWindow(data_root=data_root, settings=settings, runs_dir=runs_dir)
            window.show()
            screen.close()
            window.raise_()
            window.activateWindow()
        except BaseException as exc:  # noqa: BLE001
            opened["failure"] = exc
            screen.close()
            app.quit()

    # The window's modules (torch among them), then the package every torch optimizer imports
    # when it is built (see train.worker.warm_up_training_imports): imported here, it never
    # holds the window's thread once the window is up, not even at the first Train click.
    steps = {"lenet_gui.ui.main_window": "torch", "torch._dynamo": "training"}
    import_in_background(list(steps), open_window, lambda name: screen.show_step(steps[name]))
    status = app.exec()
    interrupt["closed"] = True
    screen.close()  # when the app quit before its window opened
    all_stopped = stop_all_and_wait()  # the imports too, when the app quit before the window opened
    if "failure" in opened:
        raise opened["failure"]
    if not all_stopped:
        # A training thread is stuck in one long operation (a huge batch on a slow device) that
        # cannot be interrupted. Its results are no longer wanted, but Qt aborts the process if
        # a running QThread is destroyed at exit: leave without tearing anything down, after
        # writing what must persist.
        settings.sync()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(INTERRUPTED if interrupt["interrupted"] else status)
    return INTERRUPTED if interrupt["interrupted"] else status
