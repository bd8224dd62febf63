"""The layers' diagnostics of one run (the selected one), beside the training curves.

Six small plots, one colour per layer throughout: the gradient norm, the weight norm and the
update-to-weight ratio per sampled step (log axes, smoothed), the share of saturated (sigmoid) or
dead (ReLU) units, and the latest epoch's histograms of the pre-activations and of
log10 |gradient|. Under them, a sentence on how to read them and this run's conv1 / output
gradient ratio. The figures come from core/diagnostics.py through the :class:`RunsModel`,
which holds them per run (a live run's as they arrive, an old one's from its record).
"""

from __future__ import annotations

import html
import math
import statistics

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QFrame, QGraphicsItem, QLabel, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from ...core.diagnostics import (
    LAYERS, LOG_GRADIENT_RANGE, PRE_ACTIVATION_RANGE, SATURATION_THRESHOLD, DiagnosticsHistogram, DiagnosticsSample,
)
from ..widgets.text import Retranslating, fill
from .runs_model import RunRecord, RunsModel

# One colour per layer, the same in every plot (ColorBrewer's Dark2: tells five lines apart,
# also in grey print and for the common colour-vision deficiencies better than a rainbow).
LAYER_COLORS = {"conv1": "#1b9e77", "conv2": "#d95f02", "fc1": "#7570b3", "fc2": "#e7298a", "logits": "#66a61e"}
# Samples come every few steps: a light smoothing keeps the trend without hiding the first epoch.
EMA_BETA = 0.6
LINE_PLOTS = ("grad_norm", "weight_norm", "update_ratio", "inactive")
HISTOGRAM_PLOTS = ("pre_activations", "log_gradients")
# The decades a log plot shows at least (log10), so that runs compare at a glance: a classic
# run's conv1 gradient sits low on the same axis where a modern run's sits high.
LOG_SPANS = {"grad_norm": (-4, 1), "weight_norm": (0, 2), "update_ratio": (-5, -1)}


def saturation_bound(threshold: float = SATURATION_THRESHOLD) -> float:
    """|z| beyond which σ′(z) = σ(1 − σ) is below ``threshold``."""
    s = (1 - math.sqrt(1 - 4 * threshold)) / 2
    return math.log((1 - s) / s)


SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def power_of_ten(exponent: int) -> str:
    """A log axis's label: 1, 10 and 0.1 as such, other powers as 10⁻³."""
    return {0: "1", 1: "10", -1: "0.1"}.get(exponent, "10" + str(exponent).translate(SUPERSCRIPTS))


def smoothed(values: list[float], log: bool) -> np.ndarray:
    """Debiased exponential smoothing (as the loss curve's), of log10 values on a log axis, so
    that one large step does not dominate; non-finite (or, on a log axis, non-positive) values
    are gaps that the smoothing steps over."""
    out = np.full(len(values), np.nan)
    ema, weight = 0.0, 0.0
    for i, value in enumerate(values):
        if value is None or not math.isfinite(value) or (log and value <= 0):
            continue
        v = math.log10(value) if log else value
        ema = EMA_BETA * ema + (1 - EMA_BETA) * v
        weight = EMA_BETA * weight + (1 - EMA_BETA)
        out[i] = 10 ** (ema / weight) if log else ema / weight
    return out


def gradient_ratio(samples: list[DiagnosticsSample], epoch: int) -> float | None:
    """The median conv1 / output gradient-norm ratio over an epoch's samples."""
    ratios = [s.layers["conv1"].grad_norm / s.layers["logits"].grad_norm for s in samples
              if s.epoch == epoch and s.layers["logits"].grad_norm > 0
              and math.isfinite(s.layers["conv1"].grad_norm / s.layers["logits"].grad_norm)]
    return statistics.median(ratios) if ratios else None


class DiagnosticsView(Retranslating, QWidget):
    def __init__(self, model: RunsModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("diagnosticsView")
        self.model = model
        self.run_id: int | None = None
        self._dirty = False
        self.caption = QLabel()
        self.caption.setObjectName("diagnosticsCaption")
        self.caption.setWordWrap(True)
        self.legend = QLabel()
        self.legend.setObjectName("diagnosticsLegend")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.view = pg.GraphicsLayoutWidget(self)
        self.view.setMinimumSize(320, 200)
        self.plots: dict[str, pg.PlotItem] = {}
        for index, key in enumerate(LINE_PLOTS[:3] + (LINE_PLOTS[3],) + HISTOGRAM_PLOTS):
            plot = self.view.addPlot(row=index // 3, col=index % 3)
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            plot.showGrid(x=True, y=True, alpha=0.2)
            for axis in ("left", "bottom"):
                plot.getAxis(axis).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            self.plots[key] = plot
        for key in LINE_PLOTS[:3]:
            self.plots[key].setLogMode(x=False, y=True)
            self.plots[key].enableAutoRange(axis="y", enable=False)
        self.plots["inactive"].setYRange(0, 1, padding=0.02)
        self.plots["inactive"].enableAutoRange(axis="y", enable=False)
        self.plots["pre_activations"].setXRange(*PRE_ACTIVATION_RANGE, padding=0)
        self.plots["log_gradients"].setXRange(*LOG_GRADIENT_RANGE, padding=0)
        for key in HISTOGRAM_PLOTS:
            self.plots[key].enableAutoRange(axis="x", enable=False)
        self.curves: dict[tuple[str, str], pg.PlotDataItem] = {}
        for key, plot in self.plots.items():
            for layer in LAYERS:
                pen = pg.mkPen(QColor(LAYER_COLORS[layer]), width=2 if key in LINE_PLOTS else 1.5)
                if key in HISTOGRAM_PLOTS:
                    curve = plot.plot([0, 1], [0], stepMode="center", pen=pen)
                    curve.setData([], [])
                else:
                    curve = plot.plot([], [], pen=pen, connect="finite")
                self.curves[(key, layer)] = curve
        # Where a sigmoid's slope is below the threshold (or a ReLU is off): shaded under the
        # pre-activations' histogram, so that mass piling up there reads as saturation.
        self.bands = [pg.LinearRegionItem(movable=False) for _ in range(2)]
        for band in self.bands:
            band.setZValue(-10)
            for line in band.lines:
                line.setPen(pg.mkPen(None))
            self.plots["pre_activations"].addItem(band)
        self.reading = QLabel()
        self.reading.setObjectName("diagnosticsReading")
        self.reading.setWordWrap(True)
        self.reading.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.summary = QLabel()
        self.summary.setObjectName("diagnosticsSummary")
        self.summary.setWordWrap(True)
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.caption)
        layout.addWidget(self.legend)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.reading)
        # On a short screen the plots and their explanation scroll rather than make the whole
        # window taller than the screen.
        scroll = QScrollArea()
        scroll.setObjectName("diagnosticsScroll")
        scroll.setWidget(content)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self._apply_palette()
        model.diagnostics_added.connect(self._on_diagnostics_added)
        model.run_removed.connect(self._on_run_removed)
        self.retranslate()

    # -- texts -------------------------------------------------------------------------------------

    def layer_name(self, layer: str) -> str:
        return self.tr("output") if layer == "logits" else layer

    def plot_titles(self, run: RunRecord | None) -> dict[str, str]:
        relu = self._activation(run) == "relu"
        epoch = run.histograms[-1].epoch if run is not None and run.histograms else None
        return {
            "grad_norm": self.tr("gradient norm"),
            "weight_norm": self.tr("weight norm"),
            "update_ratio": self.tr("update / weight per step"),
            "inactive": self.tr("dead (ReLU)") if relu else
            fill(self.tr("saturated (σ′ < %1)"), f"{SATURATION_THRESHOLD:g}"),
            "pre_activations": fill(self.tr("pre-activations, epoch %1"), epoch) if epoch else self.tr("pre-activations"),
            "log_gradients": fill(self.tr("log₁₀ |gradient|, epoch %1"), epoch) if epoch else self.tr("log₁₀ |gradient|"),
        }

    def retranslate(self) -> None:
        self.setAccessibleName(self.tr("Training diagnostics"))
        self.reading.setText(fill(self.tr(
            "How to read it: one colour per layer, from conv1 (the first) to the output. In a classic (sigmoid) "
            "run conv1's gradient starts hundreds of times smaller than the output layer's and stays far below it "
            "through the first epoch: its early layers barely learn. A modern run (ReLU, batch norm) keeps them "
            "close from the start. Saturated: σ′ = σ(1 − σ) below %1 (shaded in the pre-activations); dead: a "
            "ReLU unit that outputs 0 for a whole batch."),
            f"{SATURATION_THRESHOLD:g}"))
        self.legend.setText("&nbsp;&nbsp;".join(
            f'<span style="color:{LAYER_COLORS[layer]}">&#9632;</span>&nbsp;{html.escape(self.layer_name(layer))}'
            for layer in LAYERS))
        self._redraw()

    def _set_plot_texts(self, run: RunRecord | None) -> None:
        color = self.palette().color(QPalette.ColorRole.Text).name()
        for key, title in self.plot_titles(run).items():
            self.plots[key].setTitle(html.escape(title), color=color, size="9pt")

    def plot_texts(self) -> list[str]:
        """The plots' titles and axis labels, as the user reads them."""
        texts = []
        for plot in self.plots.values():
            texts.append(plot.titleLabel.text)
            texts.append(plot.getAxis("bottom").labelText)
        return [t for t in texts if t]

    # -- colours -----------------------------------------------------------------------------------

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
        super().changeEvent(event)

    def _apply_palette(self) -> None:
        palette = self.palette()
        self.view.setBackground(palette.color(QPalette.ColorRole.Base))
        text, axis_pen = palette.color(QPalette.ColorRole.Text), palette.color(QPalette.ColorRole.Mid)
        for plot in self.plots.values():
            for axis in ("left", "bottom"):
                plot.getAxis(axis).setTextPen(text)
                plot.getAxis(axis).setPen(axis_pen)
        shade = QColor(palette.color(QPalette.ColorRole.Text))
        shade.setAlpha(28)
        for band in self.bands:
            band.setBrush(pg.mkBrush(shade))
        if hasattr(self, "curves"):
            self._set_plot_texts(self.model.get(self.run_id))

    # -- which run ---------------------------------------------------------------------------------

    def show_run(self, run_id: int | None) -> None:
        if run_id == self.run_id:
            return
        self.run_id = run_id
        self._redraw()

    def _on_diagnostics_added(self, run_id: int) -> None:
        if run_id == self.run_id:
            self._redraw()

    def _on_run_removed(self, run_id: int) -> None:
        if run_id == self.run_id:
            self.run_id = None
            self._redraw()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._dirty:
            self._redraw()

    # -- drawing -----------------------------------------------------------------------------------

    @staticmethod
    def _activation(run: RunRecord | None) -> str:
        if run is not None and run.diagnostics:
            return run.diagnostics[-1].activation
        return run.config.activation if run is not None else "sigmoid"

    def _redraw(self) -> None:
        if not self.isVisible():
            self._dirty = True  # drawn when shown: a hidden view costs a live run nothing
            return
        self._dirty = False
        run = self.model.get(self.run_id)
        self._set_plot_texts(run)
        self._show_caption(run)
        samples = run.diagnostics if run is not None else []
        x = np.array([s.x for s in samples], dtype=float)
        for key in LINE_PLOTS:
            log = key != "inactive"
            for layer in LAYERS:
                curve = self.curves[(key, layer)]
                values = [getattr(s.layers[layer], key) if layer in s.layers else None for s in samples]
                if key == "inactive" and layer == "logits":
                    curve.setData([], [])
                    continue
                curve.setData(x, smoothed(values, log)) if len(x) else curve.setData([], [])
        right = max(1, math.ceil(float(x.max()))) if len(x) else 1
        step = max(1, math.ceil(right / 6))  # whole epochs, as the curves count them
        for key in LINE_PLOTS:
            self.plots[key].setXRange(0, right, padding=0.02)
            self.plots[key].getAxis("bottom").setTicks([[(e, str(e)) for e in range(0, right + 1, step)], []])
        for key, (low, high) in LOG_SPANS.items():
            values = [v for s in samples for f in s.layers.values()
                      if math.isfinite(v := getattr(f, key)) and v > 0]
            if values:
                low = min(low, math.floor(math.log10(min(values))))
                high = max(high, math.ceil(math.log10(max(values))))
            self.plots[key].setYRange(low, high, padding=0.02)
            # Powers of ten only, every other one when many: a small log plot's minor labels overlap.
            every = 1 if high - low <= 4 else 2
            self.plots[key].getAxis("left").setTicks(
                [[(p, power_of_ten(p)) for p in range(low, high + 1) if (p - low) % every == 0], []])
        histogram = run.histograms[-1] if run is not None and run.histograms else None
        self._draw_histograms(histogram)
        self._show_bands(self._activation(run))
        self._show_summary(samples)

    def _draw_histograms(self, histogram: DiagnosticsHistogram | None) -> None:
        for key in HISTOGRAM_PLOTS:
            top = 0.0
            for layer in LAYERS:
                curve = self.curves[(key, layer)]
                hist = getattr(histogram, key).get(layer) if histogram is not None else None
                if hist is None:
                    curve.setData([], [])
                    continue
                shares = hist.shares()
                top = max(top, max(shares, default=0.0))
                curve.setData(np.array(hist.edges), np.array(shares), stepMode="center")
            self.plots[key].setYRange(0, top or 1.0, padding=0.05)

    def _show_bands(self, activation: str) -> None:
        low, high = PRE_ACTIVATION_RANGE
        if activation == "relu":
            regions = [(low, 0.0)]
        else:
            bound = saturation_bound()
            regions = [(low, -bound), (bound, high)]
        for band, region in zip(self.bands, regions + [None]):
            band.setVisible(region is not None)
            if region is not None:
                band.setRegion(region)

    def _show_caption(self, run: RunRecord | None) -> None:
        if run is None:
            self.caption.setText(self.tr("Select a run to see its layers' diagnostics."))
        elif not run.diagnostics:
            self.caption.setText(fill(self.tr("%1: no diagnostics yet (they come every few steps of training)."),
                                      self.model.name(run)))
        else:
            self.caption.setText(fill(self.tr("%1 · per layer, every few steps, against the epoch"),
                                      self.model.name(run)))

    def _show_summary(self, samples: list[DiagnosticsSample]) -> None:
        first = gradient_ratio(samples, 1)
        latest_epoch = samples[-1].epoch if samples else 1
        latest = gradient_ratio(samples, latest_epoch)
        if first is None or latest is None:
            self.summary.clear()
        elif latest_epoch == 1:
            self.summary.setText(fill(self.tr("This run: conv1's gradient norm is %1 × the output layer's "
                                              "(median over epoch 1)."), f"{first:.2g}"))
        else:
            self.summary.setText(fill(self.tr("This run: conv1's gradient norm is %1 × the output layer's in "
                                              "epoch 1 and %2 × in epoch %3 (medians)."),
                                      f"{first:.2g}", f"{latest:.2g}", latest_epoch))
