"""The live training chart (pyqtgraph): loss on the left, accuracy on the right, per run.

x is the fractional epoch (epoch 1's batch 117 of 235 sits at 0.5), so batch and epoch points
of a run share one axis, and runs with other batch sizes line up. The current run is drawn in
full colour; earlier runs of the session stay, dimmed, for comparison.

The chart draws a :class:`RunsModel` and keeps no figures of its own: only the curves it drew
and the smoothed loss derived from the model's batch losses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QGraphicsItem, QVBoxLayout, QWidget

from ...core.engine import EpochResult
from ..widgets.text import Retranslating
from .runs_model import RunRecord, RunsModel

EMA_BETA = 0.9  # smoothing of the per-batch loss: about the last 10 batches
DIMMED_ALPHA = 70


@dataclass
class RunSeries:
    """One run as drawn: its curves, and the smoothed loss the batch curve shows."""

    record: RunRecord
    curves: dict = field(default_factory=dict)
    batch_loss_ema: list[float] = field(default_factory=list)
    highest_loss: float = 0.0  # of the drawn loss points: sets the top of the loss axis
    _ema: float = 0.0

    @property
    def batch_x(self) -> list[float]:
        return self.record.batch_x

    @property
    def batch_loss(self) -> list[float]:
        return self.record.batch_loss

    @property
    def epochs(self) -> list[EpochResult]:
        return self.record.epochs

    @property
    def visible(self) -> bool:
        return self.record.visible

    def smooth_new_batches(self) -> None:
        for loss in self.record.batch_loss[len(self.batch_loss_ema):]:
            # Debiased like TensorBoard's smoothing: the first points are not dragged towards 0.
            self._ema = EMA_BETA * self._ema + (1 - EMA_BETA) * loss
            self.batch_loss_ema.append(self._ema / (1 - EMA_BETA ** (len(self.batch_loss_ema) + 1)))
            if math.isfinite(self.batch_loss_ema[-1]):
                self.highest_loss = max(self.highest_loss, self.batch_loss_ema[-1])


class TrainingChart(Retranslating, QWidget):
    """Two linked plots: loss (batch EMA + epoch mean) and accuracy (train + test) per epoch."""

    def __init__(self, model: RunsModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("trainingChart")
        self.model = model
        self.runs: dict[int, RunSeries] = {}
        self.current: int | None = None
        pg.setConfigOptions(antialias=True)
        self.view = pg.GraphicsLayoutWidget(self)
        self.view.setMinimumSize(320, 180)
        self.loss_plot = self.view.addPlot(row=0, col=0)
        self.acc_plot = self.view.addPlot(row=0, col=1)
        self.acc_plot.setXLink(self.loss_plot)
        for plot in (self.loss_plot, self.acc_plot):
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.setMenuEnabled(False)
            for axis in ("left", "bottom"):
                item = plot.getAxis(axis)
                # An axis paints its grid across the whole plot, so every new batch point would
                # replay it (about half of a repaint). Cached as a pixmap, it is redrawn only when
                # its range changes: this keeps each repaint short, and the window responsive.
                item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            plot.setXRange(0, 1, padding=0.02)
        # Ranges are set here, never auto-ranged: auto-ranging moves the loss axis with nearly
        # every batch, and each move redraws both axes and their grid (twice: pyqtgraph settles
        # the range inside the paint). Loss runs from 0 to a rounded top that changes rarely.
        for plot in (self.loss_plot, self.acc_plot):
            plot.disableAutoRange()
        self.acc_plot.setYRange(0, 1, padding=0.02)
        self._loss_top = 0.0
        self._set_loss_top(2.5)
        self.loss_legend = self.loss_plot.addLegend(offset=(-10, 10))
        self.acc_legend = self.acc_plot.addLegend(offset=(-10, -10))
        self.background = QColor("white")
        self._apply_palette()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        model.run_added.connect(self._add_run)
        model.batches_added.connect(lambda run_id, _count: self._draw_batches(run_id))
        model.epoch_added.connect(self._draw_epochs)
        model.visibility_changed.connect(self._set_run_visible)
        model.run_removed.connect(self._remove_run)
        self.retranslate()

    def curve_names(self) -> dict[str, str]:
        return {"batch": self.tr("batch loss (smoothed)"), "epoch_loss": self.tr("epoch loss"),
                "train_acc": self.tr("train acc"), "test_acc": self.tr("test acc")}

    def retranslate(self) -> None:
        self.setAccessibleName(self.tr("Training chart"))
        self.setAccessibleDescription(self.tr("Loss and accuracy per epoch for each run; the epoch log below "
                                              "gives the same figures as text."))
        self._set_plot_texts()
        names = self.curve_names()
        for series in self.runs.values():
            for key, curve in series.curves.items():
                curve.opts["name"] = names[key]  # pyqtgraph has no setter; the legend reads it
        self._fill_legends()

    def _set_plot_texts(self) -> None:
        """Titles and axis labels, in the window's language and its text colour."""
        color = self.palette().color(QPalette.ColorRole.Text).name()
        for plot, title, ylabel in ((self.loss_plot, self.tr("Loss"), self.tr("cross-entropy loss")),
                                    (self.acc_plot, self.tr("Accuracy"), self.tr("accuracy"))):
            plot.setTitle(title, color=color, size="12pt")
            plot.setLabel("bottom", self.tr("epoch"), color=color)
            plot.setLabel("left", ylabel, color=color)

    def _fill_legends(self) -> None:
        # The legend explains the current run's line styles; older runs are told apart by colour
        # in the runs list, which keeps the legend short on a projector.
        series = self.runs.get(self.current)
        if series is not None and not series.visible:  # a hidden run's samples would be crossed out
            series = next((s for s in reversed(self.runs.values()) if s.visible), None)
        for legend, keys in ((self.loss_legend, ("batch", "epoch_loss")), (self.acc_legend, ("train_acc", "test_acc"))):
            legend.clear()
            if series is not None:
                for key in keys:
                    legend.addItem(series.curves[key], series.curves[key].name())
            legend.update()

    def legend_texts(self) -> list[str]:
        """The legends' entries, as the user reads them."""
        return [label.text for legend in (self.loss_legend, self.acc_legend) for _sample, label in legend.items]

    def axis_texts(self) -> list[str]:
        """The plots' titles and axis labels, as the user reads them."""
        texts = []
        for plot in (self.loss_plot, self.acc_plot):
            texts.append(plot.titleLabel.text)
            texts += [plot.getAxis(side).labelText for side in ("left", "bottom")]
        return texts

    # -- colours -----------------------------------------------------------------------------------

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.PaletteChange:  # light / dark switched
            self._apply_palette()
        super().changeEvent(event)

    def _apply_palette(self) -> None:
        """The plots in the window's colours: paper from Base, text from Text, axes from Mid."""
        palette = self.palette()
        self.background = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        axis_pen = palette.color(QPalette.ColorRole.Mid)
        self.view.setBackground(self.background)
        for plot in (self.loss_plot, self.acc_plot):
            for axis in ("left", "bottom"):
                item = plot.getAxis(axis)
                # setPen recolours the axis label too, so the text's colour comes after it.
                item.setPen(axis_pen)
                item.setTextPen(text)
        self._set_plot_texts()
        legend_brush = QColor(self.background)
        legend_brush.setAlpha(210)
        for legend in (self.loss_legend, self.acc_legend):
            legend.setBrush(pg.mkBrush(legend_brush))
            legend.setLabelTextColor(text)
        for run_id in self.runs:
            self._style(run_id)

    # -- runs --------------------------------------------------------------------------------------

    def _add_run(self, run_id: int) -> None:
        record = self.model[run_id]
        series = RunSeries(record)
        self.runs[run_id] = series
        previous, self.current = self.current, run_id
        if record.visible:
            self._make_curves(run_id)
        if previous in self.runs:
            self._style(previous)  # dimmed now
        self._fill_legends()
        if record.visible:
            self._extend_x(record.config.epochs)

    def _make_curves(self, run_id: int) -> None:
        """A run's curves, made when it is first shown: the runs of a long history that stay
        hidden cost the chart nothing."""
        series = self.runs[run_id]
        names = self.curve_names()
        series.curves = {
            "batch": self.loss_plot.plot([], [], name=names["batch"]),
            "epoch_loss": self.loss_plot.plot([], [], name=names["epoch_loss"], symbol="o", symbolSize=7),
            "train_acc": self.acc_plot.plot([], [], name=names["train_acc"], symbol="s", symbolSize=7),
            "test_acc": self.acc_plot.plot([], [], name=names["test_acc"], symbol="o", symbolSize=7),
        }
        series.curves["batch"].setZValue(-1)
        self._style(run_id)
        self._draw_batches(run_id)
        if series.epochs:
            self._draw_epochs(run_id)

    def _set_loss_top(self, top: float) -> None:
        if top != self._loss_top:
            self._loss_top = top
            self.loss_plot.setYRange(0, top, padding=0.02)

    def _update_loss_range(self) -> None:
        highest = max((s.highest_loss for s in self.runs.values() if s.visible), default=0.0)
        if not math.isfinite(highest) or highest <= 0:
            return
        # Rounded up to a "nice" step (0.5 for a loss of 2.3): the axis keeps still.
        step = 10 ** math.floor(math.log10(highest)) / 2
        self._set_loss_top(math.ceil(highest * 1.02 / step) * step)

    def _extend_x(self, epochs: int) -> None:
        longest = max(1, epochs, *[len(s.epochs) for s in self.runs.values() if s.visible])
        self.loss_plot.setXRange(0, longest, padding=0.03)
        # Whole epochs as ticks: "1.5" epochs means nothing to a reader of the log.
        step = max(1, math.ceil(longest / 10))
        for plot in (self.loss_plot, self.acc_plot):
            plot.getAxis("bottom").setTickSpacing(levels=[(step, 0)])

    def _style(self, run_id: int) -> None:
        series = self.runs[run_id]
        if not series.curves:
            return
        color = QColor(series.record.color)
        if run_id != self.current:
            color.setAlpha(DIMMED_ALPHA)
        faint = QColor(color)
        faint.setAlpha(color.alpha() * 2 // 3)
        solid = pg.mkPen(color, width=2)
        dashed = pg.mkPen(color, width=2, style=Qt.PenStyle.DashLine)
        curves = series.curves
        curves["batch"].setPen(pg.mkPen(faint, width=1.5))
        curves["epoch_loss"].setPen(solid)
        curves["epoch_loss"].setSymbolBrush(color)
        curves["epoch_loss"].setSymbolPen(color)
        curves["train_acc"].setPen(dashed)
        curves["train_acc"].setSymbolBrush(pg.mkBrush(self.background))  # hollow
        curves["train_acc"].setSymbolPen(pg.mkPen(color, width=1.5))
        curves["test_acc"].setPen(solid)
        curves["test_acc"].setSymbolBrush(color)
        curves["test_acc"].setSymbolPen(color)
        # A curve with no points yet does not pass its symbol style on to the markers it draws
        # with, which the legend paints from: set it there too, so the legend is right at once.
        for key in ("epoch_loss", "train_acc", "test_acc"):
            opts = curves[key].opts
            curves[key].scatter.setPen(opts["symbolPen"])
            curves[key].scatter.setBrush(opts["symbolBrush"])

    def _draw_batches(self, run_id: int) -> None:
        series = self.runs.get(run_id)
        if series is None or not series.curves:
            return  # drawn (and smoothed) when first shown
        series.smooth_new_batches()
        series.curves["batch"].setData(np.asarray(series.batch_x), np.asarray(series.batch_loss_ema))
        self._update_loss_range()

    def _draw_epochs(self, run_id: int) -> None:
        series = self.runs.get(run_id)
        if series is None or not series.curves or not series.epochs:
            return
        # Every epoch, not only the last: a run from the history arrives with all of them at once.
        series.highest_loss = max([series.highest_loss, *(e.loss for e in series.epochs if math.isfinite(e.loss))])
        x = np.array([e.epoch for e in series.epochs], dtype=float)
        series.curves["epoch_loss"].setData(x, np.array([e.loss for e in series.epochs]))
        series.curves["train_acc"].setData(x, np.array([e.train_acc for e in series.epochs]))
        series.curves["test_acc"].setData(x, np.array([e.test_acc for e in series.epochs]))
        self._update_loss_range()

    def set_current(self, run_id: int | None) -> None:
        """Draw run ``run_id`` (the one selected in the list) in full colour, the others dimmed."""
        if run_id not in self.runs or run_id == self.current:
            return
        previous, self.current = self.current, run_id
        for changed in (previous, run_id):
            if changed in self.runs:
                self._style(changed)
        self._fill_legends()

    def _set_run_visible(self, run_id: int, visible: bool) -> None:
        series = self.runs.get(run_id)
        if series is None:
            return
        if visible and not series.curves:
            self._make_curves(run_id)
        for curve in series.curves.values():
            curve.setVisible(visible)
        self._loss_top = 0.0  # may shrink, now that a run is hidden
        self._update_loss_range()
        self._fill_legends()
        self._extend_x(max([1, *(s.record.config.epochs for s in self.runs.values() if s.visible)]))

    def _remove_run(self, run_id: int) -> None:
        series = self.runs.pop(run_id, None)
        if series is None:
            return
        for plot in (self.loss_plot, self.acc_plot):
            for curve in series.curves.values():
                if curve in plot.listDataItems():
                    plot.removeItem(curve)
        for legend in (self.loss_legend, self.acc_legend):
            for curve in series.curves.values():
                legend.removeItem(curve)
        if self.current == run_id:
            self.current = None
        self._loss_top = 0.0
        self._update_loss_range()

    def export_png(self, path: str, width: int = 1600) -> bool:
        """Render both plots at ``width`` pixels, whatever the window's size; True on success."""
        import pyqtgraph.exporters

        exporter = pyqtgraph.exporters.ImageExporter(self.view.scene())
        exporter.parameters()["width"] = width
        image = exporter.export(toBytes=True)
        return bool(image is not None and not image.isNull() and image.save(str(path), "PNG"))
