"""The runs on show: the one owner of every run's settings, figures and outcome.

The runs list (a ``QListView``) and the chart both read this model; the Train tab writes to it
as the training thread reports, and loads the run history (core.history) into it at start.
Rows are runs, the history's first, then this session's in the order they started; each is
also found by its ``run_id`` (``model[run_id]``, ``run_id in model``). Renaming, annotating and
deleting a run change its record on disk too; a deletion moves the record to the history's
trash, whence :meth:`RunsModel.undo_delete` brings it back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap

from ...core import history
from ...core.data import dataset_info
from ...core.diagnostics import DiagnosticsHistogram, DiagnosticsSample, event_from_dict
from ...core.engine import BatchProgress, EpochResult, TrainConfig
from ...core.runs import RunFailure, RunOutcome, RunStarted
from ..widgets.text import display_preset_name, fill

RUN_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")
RUN_ID_ROLE = Qt.ItemDataRole.UserRole


def run_color(run_id: int) -> QColor:
    """The colour of run ``run_id`` (from 1) in the list and on the chart."""
    return QColor(RUN_COLORS[(run_id - 1) % len(RUN_COLORS)])


@dataclass
class RunRecord:
    run_id: int
    config: TrainConfig
    started: RunStarted | None = None
    outcome: RunOutcome | None = None
    failure: RunFailure | None = None
    batch_x: list[float] = field(default_factory=list)  # fractional epoch of each batch
    batch_loss: list[float] = field(default_factory=list)  # each batch's loss, as the engine reported it
    epochs: list[EpochResult] = field(default_factory=list)
    diagnostics: list[DiagnosticsSample] = field(default_factory=list)  # the layers' figures, in step order
    histograms: list[DiagnosticsHistogram] = field(default_factory=list)  # one per epoch
    visible: bool = True  # on the chart
    record_dir: Path | None = None  # its record in the run history, once it has one
    name: str = ""  # the user's name for it ("": the one made from its settings)
    note: str = ""
    from_history: bool = False  # loaded from the history (an earlier session, or another process)
    started_at: str = ""  # ISO 8601, as its record in the history has it
    stored_status: str = ""  # core.history's status, for runs from the history

    @property
    def color(self) -> QColor:
        return run_color(self.run_id)

    @property
    def epochs_done(self) -> int:
        return len(self.epochs)

    @property
    def last_test_acc(self) -> float | None:
        return self.epochs[-1].test_acc if self.epochs else None

    @property
    def weights_path(self) -> Path | None:
        """The weights its record holds (those of its last completed epoch), if any."""
        if self.record_dir is None:
            return None
        path = self.record_dir / history.WEIGHTS_FILE
        return path if path.is_file() else None

    @property
    def has_results(self) -> bool:
        if self.outcome is not None:
            return self.outcome.has_model
        return self.from_history and bool(self.epochs) and self.weights_path is not None

    def stored(self, label: str) -> history.RunRecord:
        """As core.history sees a record (for comparing), under ``label``."""
        return history.RunRecord(id=label, folder=self.record_dir or Path(), settings=self.config.to_dict(),
                                 epochs=list(self.epochs))


@dataclass
class _Deleted:
    run: RunRecord
    row: int
    trashed: Path | None  # where its record went; None: it had none


class RunsModel(QAbstractListModel):
    run_added = Signal(int)  # run_id
    batches_added = Signal(int, int)  # run_id, how many batches were appended
    epoch_added = Signal(int)  # run_id
    diagnostics_added = Signal(int)  # run_id
    visibility_changed = Signal(int, bool)  # run_id, shown on the chart
    run_removed = Signal(int)  # run_id
    undo_available = Signal(bool)  # whether a deletion can be undone

    def __init__(self, parent=None):
        super().__init__(parent)
        self._runs: list[RunRecord] = []
        self._next_id = 1
        self._deleted: list[_Deleted] = []
        self.damaged: list[history.RunRecord] = []  # the history's unreadable records, last loaded

    # -- a mapping by run_id ---------------------------------------------------------------------

    def __getitem__(self, run_id: int) -> RunRecord:
        for run in self._runs:
            if run.run_id == run_id:
                return run
        raise KeyError(run_id)

    def get(self, run_id: int | None) -> RunRecord | None:
        try:
            return self[run_id]
        except KeyError:
            return None

    def __contains__(self, run_id: object) -> bool:
        return any(run.run_id == run_id for run in self._runs)

    def __iter__(self):
        return iter([run.run_id for run in self._runs])

    def __len__(self) -> int:
        return len(self._runs)

    def records(self) -> list[RunRecord]:
        return list(self._runs)

    def row_of(self, run_id: int) -> int:
        for row, run in enumerate(self._runs):
            if run.run_id == run_id:
                return row
        return -1

    def run_at(self, index: QModelIndex | QPersistentModelIndex) -> RunRecord | None:
        return self._runs[index.row()] if index.isValid() and 0 <= index.row() < len(self._runs) else None

    # -- changes -----------------------------------------------------------------------------------

    def add_run(self, config: TrainConfig) -> RunRecord:
        run = RunRecord(run_id=self._next_id, config=config, started_at=history.timestamp())
        self._next_id += 1
        self.beginInsertRows(QModelIndex(), len(self._runs), len(self._runs))
        self._runs.append(run)
        self.endInsertRows()
        self.run_added.emit(run.run_id)
        return run

    def load_history(self, runs_dir: Path) -> list[history.RunRecord]:
        """Replace the runs from the history with the records in ``runs_dir`` (this session's
        runs stay); returns the damaged records, which are skipped."""
        for run in [r for r in self._runs if r.from_history]:
            self.remove(run.run_id)
        this_session = {r.record_dir for r in self._runs if r.record_dir is not None}
        self.damaged = []
        for stored in history.list_runs(runs_dir):
            if stored.damaged:
                self.damaged.append(stored)
            elif stored.folder not in this_session:
                self.add_stored(stored)
        return self.damaged

    def add_stored(self, stored: history.RunRecord) -> RunRecord:
        """A run from the history; hidden on the chart until its box is ticked."""
        run = RunRecord(run_id=self._next_id, config=stored.config, epochs=list(stored.epochs),
                        batch_x=list(stored.batch_x), batch_loss=list(stored.batch_loss), visible=False,
                        record_dir=stored.folder, name=stored.name, note=stored.note, from_history=True,
                        started_at=stored.started_at, stored_status=stored.status)
        for line in stored.diagnostics:
            try:
                event = event_from_dict(line["data"])
            except (KeyError, TypeError, ValueError, AttributeError):
                continue  # a line this version cannot read: the run's other figures still show
            (run.histograms if isinstance(event, DiagnosticsHistogram) else run.diagnostics).append(event)
        self._next_id += 1
        self._insert(run, sum(1 for r in self._runs if r.from_history))
        return run

    def _insert(self, run: RunRecord, row: int) -> None:
        # The history's runs come before this session's, whatever order they are added in.
        self.beginInsertRows(QModelIndex(), row, row)
        self._runs.insert(row, run)
        self.endInsertRows()
        self.run_added.emit(run.run_id)
        if run.batch_x:
            self.batches_added.emit(run.run_id, len(run.batch_x))
        if run.epochs:
            self.epoch_added.emit(run.run_id)

    def set_record_dir(self, run_id: int, folder: str | Path, started_at: str) -> None:
        """The run's record in the history, and the start time written there (which names it)."""
        self._update(run_id, record_dir=Path(folder), started_at=started_at)

    def rename(self, run_id: int, name: str) -> None:
        """Raises core.history.HistoryError when its record cannot be changed."""
        run = self[run_id]
        if run.record_dir is not None:
            history.rename_run(run.record_dir, name)
        self._update(run_id, name=name.strip())

    def set_note(self, run_id: int, note: str) -> None:
        """Raises core.history.HistoryError when its record cannot be changed."""
        run = self[run_id]
        if run.record_dir is not None:
            history.set_note(run.record_dir, note)
        self._update(run_id, note=note)

    def delete(self, run_id: int) -> None:
        """Remove the run from the list and its record from the history, undoably
        (:meth:`undo_delete`). Raises core.history.HistoryError when the record cannot move."""
        row = self.row_of(run_id)
        if row < 0:
            return
        run = self._runs[row]
        trashed = history.delete_run(run.record_dir) if run.record_dir is not None and run.record_dir.exists() else None
        self._deleted.append(_Deleted(run, row, trashed))
        self.remove(run_id)
        self.undo_available.emit(True)

    @property
    def can_undo(self) -> bool:
        return bool(self._deleted)

    def undo_delete(self) -> RunRecord | None:
        """Bring the last deleted run back, where it was, record included."""
        if not self._deleted:
            return None
        deleted = self._deleted.pop()
        try:
            if deleted.trashed is not None:
                deleted.run.record_dir = history.restore_run(deleted.trashed)
        finally:
            self.undo_available.emit(bool(self._deleted))
        self._insert(deleted.run, min(deleted.row, len(self._runs)))
        return deleted.run

    def add_batches(self, run_id: int, events: list[BatchProgress]) -> None:
        run = self.get(run_id)
        if run is None or not events:
            return
        for event in events:
            run.batch_x.append(event.epoch - 1 + event.batch / event.batches)
            run.batch_loss.append(event.loss)
        self.batches_added.emit(run_id, len(events))

    def add_diagnostics(self, run_id: int, events: list) -> None:
        """Diagnostics events (``DiagnosticsSample``, ``DiagnosticsHistogram``), or their
        ``to_dict()`` as a run's record stores them."""
        run = self.get(run_id)
        if run is None or not events:
            return
        for event in events:
            if isinstance(event, dict):
                event = event_from_dict(event)
            (run.histograms if isinstance(event, DiagnosticsHistogram) else run.diagnostics).append(event)
        self.diagnostics_added.emit(run_id)

    def add_epoch(self, run_id: int, result: EpochResult) -> None:
        run = self.get(run_id)
        if run is None:
            return
        run.epochs.append(result)
        self.epoch_added.emit(run_id)
        self._changed(run_id)

    def set_started(self, run_id: int, started: RunStarted) -> None:
        self._update(run_id, started=started)

    def set_outcome(self, run_id: int, outcome: RunOutcome) -> None:
        self._update(run_id, outcome=outcome)

    def set_failure(self, run_id: int, failure: RunFailure) -> None:
        self._update(run_id, failure=failure)

    def set_visible(self, run_id: int, visible: bool) -> None:
        run = self.get(run_id)
        if run is None or run.visible == visible:
            return
        run.visible = visible
        self._changed(run_id)
        self.visibility_changed.emit(run_id, visible)

    def remove(self, run_id: int) -> None:
        row = self.row_of(run_id)
        if row < 0:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._runs[row]
        self.endRemoveRows()
        self.run_removed.emit(run_id)

    def _update(self, run_id: int, **values) -> None:
        run = self.get(run_id)
        if run is None:
            return
        for name, value in values.items():
            setattr(run, name, value)
        self._changed(run_id)

    def _changed(self, run_id: int) -> None:
        index = self.index(self.row_of(run_id))
        self.dataChanged.emit(index, index)

    # -- Qt's model interface --------------------------------------------------------------------

    def retranslate(self) -> None:
        """The rows' texts are made when read, in the current language: have the views read
        them again."""
        if self._runs:
            self.dataChanged.emit(self.index(0), self.index(len(self._runs) - 1),
                                  [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole])

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._runs)

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        return super().flags(index) | Qt.ItemFlag.ItemIsUserCheckable

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        run = self.run_at(index)
        if run is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.title(run)
        if role == Qt.ItemDataRole.DecorationRole:
            pixmap = QPixmap(12, 12)
            pixmap.fill(run.color)
            return QIcon(pixmap)
        if role == Qt.ItemDataRole.CheckStateRole:
            return Qt.CheckState.Checked if run.visible else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ToolTipRole:
            c = run.config
            text = fill(self.tr("%n epoch(s), batch %1, %2 lr %3, seed %4, %5", "", c.epochs), c.batch_size,
                        c.optimizer, f"{c.lr:g}", c.seed, c.device)
            if run.note:
                text = fill(self.tr("%1\nNote: %2"), text, run.note)
            return text
        if role == RUN_ID_ROLE:
            return run.run_id
        return None

    def setData(self, index: QModelIndex, value, role: int = Qt.ItemDataRole.EditRole) -> bool:
        run = self.run_at(index)
        if run is None or role != Qt.ItemDataRole.CheckStateRole:
            return False
        self.set_visible(run.run_id, Qt.CheckState(value) == Qt.CheckState.Checked)
        return True

    @staticmethod
    def date_text(run: RunRecord) -> str:
        """When a run started, as ``2026-12-01 12:13``."""
        return run.started_at[:16].replace("T", " ")

    def name(self, run: RunRecord) -> str:
        # The same name in the session that trains a run and in every later one, which reads it
        # from the history.
        if run.name:
            return run.name
        dataset, preset = dataset_info(run.config.dataset).title, display_preset_name(run.config.preset)
        if run.started_at:
            return fill(self.tr("%1 · %2 · %3"), dataset, preset, self.date_text(run))
        return fill(self.tr("Run %1 · %2 · %3"), run.run_id, dataset, preset)

    def title(self, run: RunRecord) -> str:
        """The run's line in the list: its name and how it went."""
        text = self.name(run)
        if run.failure is not None or run.stored_status == history.FAILED:
            return fill(self.tr("%1: failed"), text)
        if run.last_test_acc is not None:
            text = fill(self.tr("%1: test acc %2"), text, f"{run.last_test_acc:.3f}")
            if (run.outcome is not None and run.outcome.stopped) or run.stored_status == history.STOPPED:
                text = fill(self.tr("%1 (stopped)"), text)
        if run.stored_status == history.INTERRUPTED:
            text = fill(self.tr("%1 (interrupted)"), text)
        elif run.stored_status == history.RUNNING:
            text = fill(self.tr("%1 (running elsewhere)"), text)
        return text
