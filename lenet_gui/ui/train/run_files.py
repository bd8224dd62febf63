"""Files the Train tab writes: a run's checkpoint, its per-epoch metrics, the chart, and the
recipe on screen as a Python script, each through a save dialog that remembers its folder."""

from __future__ import annotations

import html
import shlex

from PySide6.QtCore import QObject

from ...core.checkpoint import CheckpointError
from ...core.checkpoint import save_checkpoint as write_checkpoint
from ...core.engine import TrainingError
from ...core.export import export as export_file
from ...core.script_export import ScriptExportError, default_script_name, write_script
from ..widgets.file_dialogs import ask_save_path
from ..widgets.text import fill
from .runs_model import RunRecord


class RunFiles(QObject):
    """The Train tab's Save checkpoint, Export metrics and Export chart, for its selected run,
    and Export as Python script, for the recipe form."""

    def __init__(self, tab):
        super().__init__(tab)
        self.tab = tab

    @staticmethod
    def default_stem(run: RunRecord | None) -> str:
        if run is None:
            return "lenet-training"
        return f"lenet-{run.config.dataset}-{run.config.preset}-run{run.run_id}"

    def save_checkpoint_dialog(self) -> None:
        run = self.tab.selected_run()
        if run is None or not run.has_results:
            return
        path = ask_save_path(self.tab, self.tab.settings, "checkpoints_folder", self.tr("Save checkpoint"),
                             self.default_stem(run) + ".pt", self.tr("LeNet Studio checkpoints (*.pt)"), ".pt")
        if path:
            self.save_checkpoint(path, run)

    def save_checkpoint(self, path: str, run: RunRecord | None = None) -> bool:
        run = run or self.tab.selected_run()
        if run is None or not run.has_results:
            return False
        loaded = self.tab.loaded_model(run)
        try:
            write_checkpoint(path, loaded.model, loaded.metadata)
        except CheckpointError as exc:
            self.tab.show_error(html.escape(str(exc)))
            return False
        self.tab.log.appendPlainText(fill(self.tr("saved %1"), path))
        self.tab.status_message.emit(fill(self.tr("Saved %1"), path))
        return True

    def export_metrics_dialog(self) -> None:
        run = self.tab.selected_run()
        if run is None or not run.has_results:
            return
        path = ask_save_path(self.tab, self.tab.settings, "exports_folder", self.tr("Export metrics"),
                             self.default_stem(run) + ".csv", self.tr("CSV files (*.csv)"), ".csv")
        if path:
            self.export_metrics(path, run)

    def export_metrics(self, path: str, run: RunRecord | None = None) -> bool:
        """The run's per-epoch figures, written by the same code as ``lenet-gui export metrics.csv``."""
        run = run or self.tab.selected_run()
        if run is None or not run.has_results:
            return False
        try:
            export_file(self.tab.loaded_model(run), path)
        except OSError as exc:
            self.tab.show_error(html.escape(fill(self.tr("Cannot write %1: %2"), path, exc.strerror or str(exc))))
            return False
        self.tab.status_message.emit(fill(self.tr("Exported %1"), path))
        return True

    def export_chart_dialog(self) -> None:
        path = ask_save_path(self.tab, self.tab.settings, "exports_folder", self.tr("Export chart"),
                             self.default_stem(self.tab.selected_run()) + ".png", self.tr("PNG images (*.png)"), ".png")
        if path:
            self.export_chart(path)

    def export_chart(self, path: str) -> bool:
        if not self.tab.chart.export_png(path):
            self.tab.show_error(html.escape(fill(self.tr("Cannot write the chart to %1."), path)))
            return False
        self.tab.status_message.emit(fill(self.tr("Exported %1"), path))
        return True

    def export_script_dialog(self) -> None:
        try:
            config = self.tab.recipe.current_config(threads=None)
        except TrainingError as exc:
            self.tab.show_error(html.escape(str(exc)))
            return
        path = ask_save_path(self.tab, self.tab.settings, "exports_folder", self.tr("Export as Python script"),
                             default_script_name(config), self.tr("Python scripts (*.py)"), ".py")
        if path:
            self.export_script(path)

    def export_script(self, path: str) -> bool:
        """The recipe on screen, written by the same code as ``lenet-gui export-script``. The
        threads stay the script's choice on the machine it runs on, not this window's."""
        try:
            write_script(self.tab.recipe.current_config(threads=None), path)
        except (TrainingError, ScriptExportError) as exc:
            self.tab.show_error(html.escape(str(exc)))
            return False
        except OSError as exc:
            self.tab.show_error(html.escape(fill(self.tr("Cannot write %1: %2"), path, exc.strerror or str(exc))))
            return False
        self.tab.hide_error()
        self.tab.log.appendPlainText(fill(self.tr("wrote the recipe as a script: %1 (run it with: python %2 --data-root DIR)"),
                                          path, shlex.quote(path)))
        self.tab.status_message.emit(fill(self.tr("Exported %1"), path))
        return True
