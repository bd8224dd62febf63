"""The Train tab's diagnostics view: it draws the selected run's layer figures, follows the
selection, shows a live run's as they arrive and an old run's from their stored dicts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.support import prerequisites

prerequisites.module("pytestqt")
from PySide6.QtCore import QSettings  # noqa: E402

from lenet_gui.core.diagnostics import LAYERS, LOG_GRADIENT_EDGES, PRE_ACTIVATION_EDGES  # noqa: E402
from lenet_gui.core.presets import preset_config  # noqa: E402
from lenet_gui.core.runs import RunStarted  # noqa: E402
from lenet_gui.ui.main_window import MainWindow  # noqa: E402

RUN_TIMEOUT_MS = 60_000


def sample_dict(step: int, grad_norms: dict[str, float], activation="sigmoid", inactive=0.25, batches=10) -> dict:
    """A sample as a run's record stores it (the view must draw such dicts as they are)."""
    return {"epoch": (step - 1) // batches + 1, "batch": (step - 1) % batches + 1, "batches": batches, "step": step,
            "activation": activation,
            "layers": {layer: {"grad_norm": grad_norms[layer], "weight_norm": 2.0, "update_ratio": 1e-3,
                               "inactive": None if layer == "logits" else inactive} for layer in LAYERS}}


def histogram_dict(epoch: int, peak_bin: int) -> dict:
    def one(edges, peak):
        counts = [0] * (len(edges) - 1)
        counts[peak] = 30
        counts[peak + 1] = 10
        return {"edges": list(edges), "counts": counts}

    return {"epoch": epoch, "step": epoch * 10, "activation": "sigmoid",
            "pre_activations": {layer: one(PRE_ACTIVATION_EDGES, peak_bin) for layer in LAYERS},
            "log_gradients": {layer: one(LOG_GRADIENT_EDGES, peak_bin) for layer in LAYERS}}


@pytest.fixture
def window(qtbot, tmp_path):
    win = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.resize(1024, 600)
    win.show()
    return win


def _old_run(tab, preset: str, samples: list[dict], histograms: list[dict] = ()) -> int:
    """A run as a run history brings it back: settings and stored diagnostics dicts."""
    run = tab.runs.add_run(preset_config(preset, "fashion-mnist", epochs=2))
    tab.runs.set_started(run.run_id, RunStarted("cpu", 1, 100, 10, 10, "a record"))
    tab.runs.add_diagnostics(run.run_id, list(samples) + list(histograms))
    return run.run_id


def _curve_y(view, plot: str, layer: str) -> np.ndarray:
    return np.asarray(view.curves[(plot, layer)].yData, dtype=float)


def _show_diagnostics(tab):
    tab.chart_tabs.setCurrentWidget(tab.diagnostics_view)


def test_the_view_draws_the_selected_runs_figures_and_follows_the_selection(window, qtbot):
    tab = window.train_tab
    _show_diagnostics(tab)
    small_conv1 = {"conv1": 0.001, "conv2": 0.01, "fc1": 0.05, "fc2": 0.1, "logits": 0.5}
    close = {"conv1": 0.4, "conv2": 0.5, "fc1": 0.6, "fc2": 0.5, "logits": 0.5}
    classic = _old_run(tab, "classic", [sample_dict(s, small_conv1) for s in range(1, 21)],
                       [histogram_dict(1, 5), histogram_dict(2, 20)])
    modern = _old_run(tab, "modern", [sample_dict(s, close, activation="relu", inactive=0.0) for s in range(1, 31)])
    view = tab.diagnostics_view

    tab.runs_panel.select_run(classic)
    assert view.run_id == classic
    conv1, output = _curve_y(view, "grad_norm", "conv1"), _curve_y(view, "grad_norm", "logits")
    assert len(conv1) == 20
    # constant figures smooth to themselves: what is drawn is the run's own numbers
    assert np.allclose(conv1, 0.001) and np.allclose(output, 0.5)
    assert np.allclose(_curve_y(view, "inactive", "conv1"), 0.25)
    x = np.asarray(view.curves[("grad_norm", "conv1")].xData)
    assert x[0] == pytest.approx(0.1) and x[-1] == pytest.approx(2.0)  # fractional epochs, as the curves'
    # the latest epoch's histogram, as shares of its counts
    pre = view.curves[("pre_activations", "fc1")]
    assert list(pre.xData) == pytest.approx(PRE_ACTIVATION_EDGES)
    shares = np.asarray(pre.yData)
    assert shares[20] == pytest.approx(0.75) and shares[21] == pytest.approx(0.25) and shares[5] == 0
    titles = " ".join(view.plot_texts())
    assert "saturated" in titles and "0.01" in titles and "epoch 2" in titles
    assert "0.002" in view.summary.text()  # conv1 / output: 0.001 / 0.5

    tab.runs_panel.select_run(modern)
    assert view.run_id == modern
    assert len(_curve_y(view, "grad_norm", "conv1")) == 30
    assert np.allclose(_curve_y(view, "grad_norm", "conv1"), 0.4)
    assert "dead" in " ".join(view.plot_texts())
    assert view.curves[("pre_activations", "fc1")].yData is None  # this run stored no histogram
    assert "0.8" in view.summary.text()

    tab.runs_panel.select_run(classic)
    assert np.allclose(_curve_y(view, "grad_norm", "conv1"), 0.001)
    tab.remove_run(classic)
    assert view.run_id != classic


def test_smoothing_follows_a_trend_on_the_log_scale(window):
    tab = window.train_tab
    _show_diagnostics(tab)
    # conv1's gradient grows tenfold per sample: smoothed, it still grows at every step and
    # stays below the raw value (it lags), never above it
    raw = [10.0 ** (s - 8) for s in range(1, 7)]
    run_id = _old_run(tab, "classic", [sample_dict(s, {**dict.fromkeys(LAYERS, 0.1), "conv1": raw[s - 1]})
                                       for s in range(1, 7)])
    tab.runs_panel.select_run(run_id)
    drawn = _curve_y(tab.diagnostics_view, "grad_norm", "conv1")
    assert drawn[0] == pytest.approx(raw[0])
    assert all(b > a for a, b in zip(drawn, drawn[1:]))
    assert all(d <= r * (1 + 1e-9) for d, r in zip(drawn, raw))
    # one step with a thousandfold gradient lifts the smoothed line by far less on this axis
    # (smoothing the values themselves would put it near the spike, hiding the level around it)
    spiky = [0.01] * 8 + [10.0] + [0.01] * 3
    run_id = _old_run(tab, "classic", [sample_dict(s, {**dict.fromkeys(LAYERS, 0.1), "conv1": spiky[s - 1]})
                                       for s in range(1, len(spiky) + 1)])
    tab.runs_panel.select_run(run_id)
    drawn = _curve_y(tab.diagnostics_view, "grad_norm", "conv1")
    assert drawn[7] == pytest.approx(0.01)
    assert 0.01 < drawn[8] < 1.0


def test_a_missing_figure_is_a_gap_not_a_crash(window):
    tab = window.train_tab
    _show_diagnostics(tab)
    samples = [sample_dict(s, dict.fromkeys(LAYERS, 0.1)) for s in range(1, 5)]
    samples[2]["layers"]["conv1"]["grad_norm"] = None  # stored as null: a step that diverged
    run_id = _old_run(tab, "classic", samples)
    tab.runs_panel.select_run(run_id)
    drawn = _curve_y(tab.diagnostics_view, "grad_norm", "conv1")
    assert math.isnan(drawn[2]) and np.allclose(drawn[[0, 1, 3]], 0.1)


@pytest.mark.slow
def test_a_live_run_shows_its_diagnostics_and_keeps_them_in_its_outcome(window, qtbot, data_root):
    tab = window.train_tab
    _show_diagnostics(tab)
    tab.train_limit, tab.test_limit = 2000, 200
    tab.recipe.dataset_combo.setCurrentIndex(tab.recipe.dataset_combo.findData("fashion-mnist"))
    tab.recipe.preset_combo.setCurrentIndex(tab.recipe.preset_combo.findData("classic"))
    tab.recipe.epochs_spin.setValue(2)
    tab.recipe.batch_spin.setValue(100)
    assert tab.start_training()
    run = tab.active_run
    at_epoch_end = []  # what the window holds when it shows an epoch's result: its histogram too
    tab.runs.epoch_added.connect(lambda run_id: at_epoch_end.append((len(run.histograms), run.diagnostics[-1].step)))
    qtbot.waitUntil(lambda: tab.thread is None, timeout=RUN_TIMEOUT_MS)
    assert run.outcome is not None and run.failure is None
    # 2000 images in batches of 100: 20 steps an epoch, each epoch sampled at its 10th and 20th
    assert run.epochs_done == 2
    assert [s.step for s in run.diagnostics] == [10, 20, 30, 40] and len(run.histograms) == 2
    assert at_epoch_end == [(1, 20), (2, 40)]
    assert run.outcome.diagnostics == [s.to_dict() for s in run.diagnostics]
    assert run.outcome.histograms == [h.to_dict() for h in run.histograms]
    view = tab.diagnostics_view
    assert view.run_id == run.run_id
    assert len(_curve_y(view, "grad_norm", "conv1")) == len(run.diagnostics)
    assert np.all(np.isfinite(_curve_y(view, "grad_norm", "conv1")))
