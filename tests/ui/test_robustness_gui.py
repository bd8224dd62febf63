"""The window under stress while it trains: model switches, drawing and the Inspect tab during a
run; Stop, Pause/Resume and close at random moments (the end-of-epoch evaluation included); a
diverging run next to a saved checkpoint; damaged checkpoints opened mid-run; hostile drops.

Small subsets of the real data sets and one torch thread, so that the whole file stays fast.
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
import warnings
from pathlib import Path

import pytest
import shiboken6
import torch

from tests.support import prerequisites  # noqa: E402

prerequisites.module("pytestqt")
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QTimer, QUrl  # noqa: E402
from PySide6.QtGui import QDragEnterEvent, QDropEvent  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from tests.support.decoding import wait_for_decoding  # noqa: E402
from lenet_gui.core import engine  # noqa: E402
from lenet_gui.core.checkpoint import load_checkpoint  # noqa: E402
from lenet_gui.core.data import load_dataset  # noqa: E402
from lenet_gui.core.engine import EpochResult  # noqa: E402
from lenet_gui.core.evaluation import evaluate_accuracy  # noqa: E402
from lenet_gui.core.resources import BUNDLED_MODELS  # noqa: E402
from lenet_gui.ui import workers  # noqa: E402
from lenet_gui.ui.train import worker as training_worker  # noqa: E402
from lenet_gui.ui.main_window import MainWindow  # noqa: E402
from lenet_gui.ui.train.tab import TrainTab  # noqa: E402
from tests.support import hostile  # noqa: E402
from tests.ui.test_train_tab import _recipe  # noqa: E402  (sets the Train tab's fields)

RUN_TIMEOUT_MS = 60_000
# A hang guard for a stop or a close to end the thread (it takes a batch; speed belongs in
# benchmarks/).
STOP_TIMEOUT_MS = 30_000

# Every training thread a test here starts is stopped and joined when it ends, pass or fail.


@pytest.fixture
def window(qtbot, tmp_path, data_root):
    prerequisites.bundled_models()
    win = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.resize(1100, 760)
    win.show()
    qtbot.waitExposed(win)
    tab = win.train_tab
    tab.threads = 1
    tab.train_limit, tab.test_limit = 2000, 500
    _recipe(tab, epochs=2, batch=256)
    yield win
    win.close()


def _wait_done(qtbot, tab, timeout=RUN_TIMEOUT_MS):
    qtbot.waitUntil(lambda: not tab.running, timeout=timeout)


def _batch_count(tab, run_id):
    series = tab.chart.runs.get(run_id)
    return len(series.batch_loss) if series else 0


def _epoch_lines(tab) -> list[str]:
    return [line for line in tab.log.toPlainText().splitlines() if line.startswith("epoch ")]


def _assert_consistent(tab, run) -> None:
    """What the tab shows of a finished run agrees with itself: whole epochs, in order, one log
    line and one chart point each."""
    history = run.outcome.history
    assert [e.epoch for e in history] == list(range(1, len(history) + 1))
    assert all(isinstance(e, EpochResult) and 0.0 <= e.test_acc <= 1.0 for e in history)
    assert _epoch_lines(tab) == [e.line() for e in history]
    assert tab.chart.runs[run.run_id].epochs == list(history)
    assert run.epochs_done == len(history)


def _test_split(data_root, tab, dataset="mnist"):
    return load_dataset(dataset, data_root, download=False).test.subset(tab.test_limit)


def _draw_stroke(qtbot, canvas, x0=0.5, y0=0.15, x1=0.5, y1=0.85, steps=12):
    square = canvas.square()

    def at(x, y):
        return QPoint(square.x() + round(x * square.width()), square.y() + round(y * square.height()))

    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=at(x0, y0))
    for i in range(1, steps + 1):
        qtbot.mouseMove(canvas, at(x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=at(x1, y1))


def _ended(thread) -> bool:
    """The thread has finished (its tab deletes it once it has)."""
    return not shiboken6.isValid(thread) or thread.isFinished()


def _no_destroyed_thread_message(qtlog) -> None:
    messages = [record.message for record in qtlog.records]
    assert not [m for m in messages if "Destroyed while thread" in m], messages


# ---------------------------------------------------------------------------------------------
# Everything else in the window goes on during a run


@pytest.fixture
def epoch_end_weights(monkeypatch):
    """The weights each epoch's figures were measured on, as the engine had them then."""
    weights: list[dict] = []

    class RecordingTrainer(engine.Trainer):
        def run(self):
            for event in super().run():
                if isinstance(event, EpochResult):
                    weights.append(self.state_dict_snapshot())
                yield event

    monkeypatch.setattr(training_worker, "Trainer", RecordingTrainer)
    return weights


def test_model_switches_drawing_and_inspect_during_a_run(qtbot, window, tmp_path, data_root, qtlog,
                                                         epoch_end_weights):
    tab, classify, session = window.train_tab, window.classify_tab, window.session
    tab.train_limit = 4000
    _recipe(tab, epochs=3, batch=64)
    assert tab.start_training()
    qtbot.waitUntil(lambda: _batch_count(tab, 1) > 0, timeout=RUN_TIMEOUT_MS)

    window.tabs.setCurrentWidget(classify)
    added = load_checkpoint(BUNDLED_MODELS["mnist"])
    switches = [0, 1, "added", 0, 1, 0]
    for step, target in enumerate(switches):
        if target == "added":
            session.add_model(added, title="added during the run")
            assert session.current_model is added
        else:
            classify.model_combo.activated.emit(target)  # what picking it in the list sends
            assert classify.model_combo.currentIndex() == target
            assert session.current_model is session.load_entry(target)
        _draw_stroke(qtbot, classify.canvas, x0=0.3 + 0.1 * step, x1=0.5)
        qtbot.waitUntil(lambda: classify.last_prediction is not None, timeout=3000)
        assert classify.last_prediction.label in session.current_model.classes
        assert classify.error_text() == ""
        classify.clear()
    _draw_stroke(qtbot, classify.canvas)
    qtbot.waitUntil(lambda: classify.last_prediction is not None, timeout=3000)
    inspect = window.inspect_tab
    window.tabs.setCurrentWidget(inspect)
    # The Inspect tab explains the drawing with the current model and shows the filters as
    # they train.
    assert inspect.prediction is not None and inspect.prediction.label == classify.last_prediction.label
    qtbot.waitUntil(lambda: inspect.showing_live_weights, timeout=5000)
    assert tab.running, "the run should still be going: make the subset larger"
    # Wait for a finished epoch and then a few batches into the next, so that the Stop lands
    # in the middle of an epoch: the case where saved weights could drift from their figures.
    qtbot.waitUntil(lambda: tab.runs[1].epochs_done >= 1, timeout=RUN_TIMEOUT_MS)
    done = _batch_count(tab, 1)
    qtbot.waitUntil(lambda: _batch_count(tab, 1) >= done + 3 or not tab.running, timeout=RUN_TIMEOUT_MS)
    tab.stop_action.trigger()
    _wait_done(qtbot, tab, timeout=STOP_TIMEOUT_MS)

    run = tab.runs[1]
    assert run.outcome is not None and run.failure is None
    _assert_consistent(tab, run)
    path = tmp_path / "after-the-run.pt"
    tab.runs_panel.select_run(run.run_id)
    assert tab.files.save_checkpoint(str(path))
    loaded = load_checkpoint(path)
    assert loaded.metadata["history"] == [e.to_dict() for e in run.outcome.history]
    # The saved weights are the ones those figures describe (not those of the batches trained
    # after the last complete epoch): the same tensors, and the accuracy the tab showed.
    assert len(epoch_end_weights) == len(run.outcome.history) >= 1
    saved = loaded.model.state_dict()
    for name, tensor in epoch_end_weights[-1].items():
        assert torch.equal(saved[name], tensor), name
    acc = evaluate_accuracy(loaded.model, _test_split(data_root, tab))
    assert acc == pytest.approx(run.outcome.history[-1].test_acc)
    _no_destroyed_thread_message(qtlog)


# ---------------------------------------------------------------------------------------------
# Stop, Pause/Resume and close at random moments


@pytest.fixture
def held_evaluation(monkeypatch):
    """The end-of-epoch test evaluation announces itself and then waits to be released (or
    stopped), so that a test can act while it is in progress."""
    entered, release = threading.Event(), threading.Event()
    real = engine.evaluate_accuracy

    def evaluate(model, split, device="cpu", batch_size=256, should_stop=lambda: False):
        entered.set()
        while not release.wait(0.01):
            if should_stop():
                return None
        return real(model, split, device, batch_size, should_stop)

    monkeypatch.setattr(engine, "evaluate_accuracy", evaluate)
    return entered, release


# Seeds picked so that together they cover Stop and close, each while running, while paused,
# during the held evaluation and paused during it.
@pytest.mark.parametrize("seed", [1, 2, 3, 5, 9, 10, 20, 29])
def test_stop_pause_and_close_at_random_moments(qtbot, window, held_evaluation, seed, qtlog):
    entered, release = held_evaluation
    rng = random.Random(seed)
    tab = window.train_tab
    _recipe(tab, epochs=3, batch=128)
    assert tab.start_training()
    thread = tab.thread
    qtbot.waitUntil(lambda: _batch_count(tab, 1) > 0, timeout=RUN_TIMEOUT_MS)
    paused = False
    for _ in range(rng.randint(1, 4)):
        qtbot.wait(rng.randint(0, 120))
        tab.toggle_pause()
        paused = not paused
    if paused and rng.random() < 0.5:
        tab.toggle_pause()
        paused = False
    during_evaluation = not paused and rng.random() < 0.7
    if during_evaluation:
        qtbot.waitUntil(entered.is_set, timeout=RUN_TIMEOUT_MS)
        qtbot.waitUntil(lambda: tab.progress.format().endswith("testing…"), timeout=10_000)
        qtbot.wait(rng.randint(0, 50))
        if rng.random() < 0.5:
            tab.toggle_pause()
            paused = True
    how = rng.choice(["stop", "close"])
    if how == "stop":
        tab.stop_action.trigger()
        _wait_done(qtbot, tab, timeout=STOP_TIMEOUT_MS)
    else:
        window.close()
        assert thread.isFinished() and not thread.isRunning(), f"paused={paused}, eval={during_evaluation}"
        qtbot.waitUntil(lambda: not tab.running, timeout=STOP_TIMEOUT_MS)
    release.set()

    run = tab.runs[1]
    assert run.failure is None and run.outcome is not None and run.outcome.stopped
    assert len(run.outcome.history) < 3
    if during_evaluation:
        assert len(run.outcome.history) == 0  # the epoch being tested never completed
    _assert_consistent(tab, run)
    assert not window.session.training_active
    assert window.run_state_label.text() == "Idle"
    if how == "stop":  # the window is still usable: the next run starts and finishes
        _recipe(tab, epochs=1, batch=256)
        assert tab.start_training()
        _wait_done(qtbot, tab)
        assert len(tab.runs[2].outcome.history) == 1 and not tab.runs[2].outcome.stopped
    _no_destroyed_thread_message(qtlog)


@pytest.mark.parametrize("how", ["stop", "close"])
def test_stop_or_close_while_the_data_set_loads(qtbot, window, how, qtlog):
    tab = window.train_tab
    assert tab.start_training()
    thread = tab.thread
    if how == "stop":
        tab.stop_action.trigger()
        _wait_done(qtbot, tab, timeout=STOP_TIMEOUT_MS)
    else:
        window.close()
        assert thread.isFinished()
        qtbot.waitUntil(lambda: not tab.running, timeout=STOP_TIMEOUT_MS)
    assert not window.session.training_active and window.run_state_label.text() == "Idle"
    assert tab.error_text == ""
    if how == "stop":
        assert not tab.save_action.isEnabled()  # nothing trained, nothing to save
        assert tab.start_training()
        _wait_done(qtbot, tab)
        assert len(tab.runs[max(tab.runs)].outcome.history) == 2
    _no_destroyed_thread_message(qtlog)


# ---------------------------------------------------------------------------------------------
# A diverging run does not touch what was saved before


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_diverging_run_leaves_the_saved_checkpoint_alone(qtbot, window, tmp_path):
    tab = window.train_tab
    _recipe(tab, epochs=1)
    assert tab.start_training()
    _wait_done(qtbot, tab)
    good = tab.runs[1]
    path = tmp_path / "good.pt"
    assert tab.files.save_checkpoint(str(path), good)
    digest = _digest(path)

    _recipe(tab, epochs=2, preset="modern", batch=128, lr="1e6", optimizer="sgd")
    assert tab.start_training()
    _wait_done(qtbot, tab)
    failed = tab.runs[2]
    assert failed.failure is not None
    assert "Training diverged" in tab.error_text and "Lower the learning rate" in tab.error_text
    assert "Training diverged" in tab.log.toPlainText()
    assert window.statusBar().currentMessage() == "Training failed"
    # The failed run has nothing to save, so saving "it" over the good file writes nothing.
    assert tab.selected_run() is failed and not tab.save_action.isEnabled()
    assert not tab.files.save_checkpoint(str(path))
    assert _digest(path) == digest
    loaded = load_checkpoint(path)
    assert loaded.metadata["history"] == [e.to_dict() for e in good.outcome.history]
    assert window.open_checkpoint(str(path))
    assert window.session.current_model.metadata["history"] == loaded.metadata["history"]


# ---------------------------------------------------------------------------------------------
# Damaged checkpoints opened while a run goes on


def test_damaged_checkpoints_opened_during_a_run(qtbot, window, tmp_path, monkeypatch):
    tab, session = window.train_tab, window.session
    paths = hostile.write_checkpoint_cases(tmp_path / "checkpoints", BUNDLED_MODELS["mnist"])
    tab.train_limit = 4000
    _recipe(tab, epochs=2, batch=64)
    assert tab.start_training()
    qtbot.waitUntil(lambda: _batch_count(tab, 1) > 0, timeout=RUN_TIMEOUT_MS)
    models_before = len(session.model_entries())
    current_before = session.current_model

    # The first one through the real message box: it is modal, and the run goes on behind it.
    seen: dict = {}

    def read_the_box():
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            seen.update(title=box.windowTitle(), text=box.text(), batches=_batch_count(tab, 1))
            qtbot.waitUntil(lambda: _batch_count(tab, 1) > seen["batches"], timeout=RUN_TIMEOUT_MS)
            box.accept()
        else:
            QTimer.singleShot(20, read_the_box)

    QTimer.singleShot(20, read_the_box)
    first = hostile.CHECKPOINT_CASES[0]
    assert not window.open_checkpoint(str(paths[first.name]))
    assert seen["title"] == "Cannot open checkpoint"
    assert first.message.lower() in seen["text"].lower()

    warnings_shown: list = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a: warnings_shown.append((title, text)))
    damaged = [case for case in hostile.CHECKPOINT_CASES[1:] if case.message]
    for case in damaged:
        assert not window.open_checkpoint(str(paths[case.name])), case.name
        title, text = warnings_shown[-1]
        assert title == "Cannot open checkpoint" and case.message.lower() in text.lower(), (case.name, text)
        assert "Traceback" not in text
    assert not hostile.marker_path(paths["pickle_runs_code_plain"].parent).exists()
    assert len(session.model_entries()) == models_before and session.current_model is current_before
    assert tab.running or tab.runs[1].outcome is not None
    # Odd but harmless files open as models, during the run like any other.
    for case in hostile.CHECKPOINT_CASES:
        if not case.message:
            assert window.open_checkpoint(str(paths[case.name])), case.name
            assert session.current_model is not current_before
            assert len(session.model_entries()) == models_before + 1

    _wait_done(qtbot, tab)
    run = tab.runs[1]
    assert run.failure is None and not run.outcome.stopped and len(run.outcome.history) == 2
    _assert_consistent(tab, run)
    assert tab.error_text == ""


# ---------------------------------------------------------------------------------------------
# Hostile drops the Classify tab tests do not cover


def _drop(tab, mime: QMimeData, before_drop=None) -> bool:
    centre = tab.canvas.geometry().center()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(centre, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(tab, enter)
    if before_drop is not None:
        before_drop()
    drop = QDropEvent(QPointF(centre), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(tab, drop)
    wait_for_decoding(tab)
    return enter.isAccepted()


def _file_mime(*paths) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def test_hostile_files_dropped_on_the_classify_tab(qtbot, window, tmp_path):
    tab = window.classify_tab
    window.tabs.setCurrentWidget(tab)
    seven = tmp_path / "seven.png"
    seven.write_bytes(hostile.png_bytes(hostile.draw_seven()))
    assert _drop(tab, _file_mime(seven)) and tab.last_prediction.label == "7"
    before = tab.last_prediction.probabilities.copy()

    def still_seven(where):
        assert tab.last_prediction is not None and tab.last_prediction.label == "7", where
        assert (tab.last_prediction.probabilities == before).all(), where

    # Deleted between the drag entering the window and the drop.
    doomed = tmp_path / "doomed.png"
    doomed.write_bytes(seven.read_bytes())
    assert _drop(tab, _file_mime(doomed), before_drop=doomed.unlink)
    message = tab.error_text()
    assert message and "\n" not in message and "doomed.png" in message
    still_seven("deleted")

    names = ["fifo_named_png", "folder_named_png", "broken_symlink", "symlink_to_dev_zero", "unreadable_chmod_000",
             "zero_bytes", "bomb_png_100000x100000", "undecodable_file_name"]
    cases = [c for c in hostile.applicable_image_cases() if c.name in names]
    assert len(cases) >= len(names) - 1  # "unreadable" means nothing to root
    paths = hostile.write_image_cases(tmp_path / "hostile", cases)
    for case in cases:
        assert _drop(tab, _file_mime(paths[case.name])), case.name
        message = tab.error_text()
        assert message and "\n" not in message and len(message) < 300, (case.name, message)
        still_seven(case.name)

    # A link to a web page, and several files of which the first is bad: one clear line each.
    web = QMimeData()
    web.setUrls([QUrl("https://example.com/digit.png")])
    _drop(tab, web)
    assert "on this computer" in tab.error_text()
    still_seven("web link")
    _drop(tab, _file_mime(paths["zero_bytes"], seven))  # the first file is the one used
    assert "empty" in tab.error_text().lower()
    still_seven("several files")

    # And the canvas still works afterwards.
    tab.clear()
    _draw_stroke(qtbot, tab.canvas)
    qtbot.waitUntil(lambda: tab.last_prediction is not None, timeout=3000)
    assert tab.last_prediction.label == "1"


def test_closing_while_an_operation_ignores_stop_keeps_the_thread_alive(qtbot, window, monkeypatch, qtlog):
    """One long operation that cannot be interrupted (a huge batch on a slow device): the window
    closes after its bounded wait, and the thread, still running, is kept until it ends."""
    entered, release = threading.Event(), threading.Event()
    real = engine.evaluate_accuracy

    def stubborn(model, split, device="cpu", batch_size=256, should_stop=lambda: False):
        entered.set()
        release.wait(10)
        return real(model, split, device, batch_size, should_stop)

    monkeypatch.setattr(engine, "evaluate_accuracy", stubborn)
    tab = window.train_tab
    monkeypatch.setattr(tab, "shutdown", lambda: TrainTab.shutdown(tab, timeout_ms=300))
    assert tab.start_training()
    thread = tab.thread
    qtbot.waitUntil(entered.is_set, timeout=RUN_TIMEOUT_MS)
    window.close()  # waits its bounded time, not for the operation
    assert thread.isRunning() and thread in workers.running_workers()
    release.set()
    qtbot.waitUntil(lambda: thread not in workers.running_workers(), timeout=STOP_TIMEOUT_MS)
    qtbot.waitUntil(lambda: _ended(thread), timeout=STOP_TIMEOUT_MS)
    _no_destroyed_thread_message(qtlog)


QUIT_DURING_A_STUBBORN_OPERATION = r"""
import sys, threading, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from lenet_gui.core import engine
from lenet_gui.ui import app, workers
from lenet_gui.ui.train import tab as train_tab
from lenet_gui.ui.main_window import MainWindow

operation_s, exit_wait_ms = float(sys.argv[1]), int(sys.argv[2])
train_tab.TrainTab.shutdown.__defaults__ = (300,)
workers.stop_all_and_wait.__defaults__ = (exit_wait_ms,)
real, entered = engine.evaluate_accuracy, threading.Event()

def stubborn(*args, **kwargs):  # one long step that never looks at Stop
    entered.set()
    time.sleep(operation_s)
    return real(*args, **kwargs)

engine.evaluate_accuracy = stubborn

def start():
    window = next((w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()), None)
    if window is None:  # run_app opens it after its start-up screen
        QTimer.singleShot(20, start)
        return
    tab = window.train_tab
    tab.threads, tab.train_limit, tab.test_limit = 1, 1000, 100
    tab.recipe.epochs_spin.setValue(1)
    assert tab.start_training()

    def close_when_stuck():
        if entered.is_set():
            window.close()  # the last window: the app quits
        else:
            QTimer.singleShot(20, close_when_stuck)

    close_when_stuck()

QTimer.singleShot(0, start)
print("exit status", app.run_app(sys.argv[3]), flush=True)
"""


# The second operation outlasts the test's hang guard: the app must quit without waiting for it.
@pytest.mark.slow
@pytest.mark.parametrize("operation_s, exit_wait_ms", [(1.0, 15_000), (3600.0, 300)])
def test_quitting_during_an_operation_that_ignores_stop_exits_cleanly(tmp_path, data_root, operation_s, exit_wait_ms):
    """Before the fix, the process aborted at exit ('QThread: Destroyed while thread is still
    running', SIGABRT): quitting looked like a crash."""
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(repo),
               XDG_CONFIG_HOME=str(tmp_path / "config"), HOME=str(tmp_path))
    try:
        result = subprocess.run([sys.executable, "-c", QUIT_DURING_A_STUBBORN_OPERATION, str(operation_s),
                                 str(exit_wait_ms), str(data_root)],
                                cwd=repo, env=env, capture_output=True, text=True, timeout=180)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the app did not quit: it waited for an operation of {operation_s:.0f} s that ignores Stop")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Destroyed while thread" not in output
    assert "Traceback" not in output
    assert (tmp_path / "config" / "LeNet Studio" / "LeNet Studio.conf").is_file()  # settings written
    if operation_s < exit_wait_ms / 1000:
        assert "exit status 0" in result.stdout  # a normal return once the thread ended
