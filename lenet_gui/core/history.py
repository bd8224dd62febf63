"""The run history: every training run, from the window or from ``lenet-gui train``, kept in a
runs folder so that it can be looked at, compared and trained again after a restart.

One folder per run, named by when it started (so that names sort by time)::

    <runs folder>/20261201-121530-3f9a/
        run.json           what the run is: settings, device, times, status, versions, name, note
                           (rewritten whole, atomically, when any of it changes)
        epochs.jsonl       one line per completed epoch (its figures and the tutorial's log line)
        batches.jsonl      the per-batch losses, a line per group of batches
        log.jsonl          the other lines of the run's log (stopped, failed, ...)
        diagnostics.jsonl  whatever diagnostics the engine produced, one record a line
        model.pt           the weights of the last completed epoch (an ordinary checkpoint)

The ``.jsonl`` files are only ever appended to, one line at a time, each line carrying a CRC-32
of its text: a process killed in the middle of a line leaves a torn last line, which the reader
skips, and every line before it readable. ``run.json`` and ``model.pt`` are replaced by rename,
never written in place. So a crash or a SIGKILL at any moment leaves every completed epoch
readable; a record that cannot be read at all is listed as damaged, with the reason, and never
makes the reader fail.

Where the runs folder is: ``--runs-dir``, else ``$LENET_RUNS_DIR``, else the folder chosen in
the window, else a per-user data folder (:func:`default_runs_dir`).
"""

from __future__ import annotations

import csv
import json
import math
import os
import secrets
import shutil
import socket
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from .checkpoint import save_checkpoint, software_versions
from .engine import BatchProgress, EpochResult, Finished, TrainConfig, train_config_from_dict
from .files import write_atomically

RUNS_DIR_ENV = "LENET_RUNS_DIR"
FORMAT = "lenet-studio-run"
FORMAT_VERSION = 1

RUN_FILE = "run.json"
EPOCHS_FILE = "epochs.jsonl"
BATCHES_FILE = "batches.jsonl"
LOG_FILE = "log.jsonl"
DIAGNOSTICS_FILE = "diagnostics.jsonl"
WEIGHTS_FILE = "model.pt"
TRASH_FOLDER = ".trash"

# RunRecord.status
RUNNING = "running"
FINISHED = "finished"
STOPPED = "stopped"
FAILED = "failed"
INTERRUPTED = "interrupted"  # said "running", but the process that wrote it is gone
STATUSES = (RUNNING, FINISHED, STOPPED, FAILED, INTERRUPTED)

# How often the recorder appends the batches trained since its last line: a killed run loses
# at most this much of its batch curve (its completed epochs are never lost).
BATCH_LINE_SECONDS = 2.0
# A run.json larger than this is not one the recorder wrote.
MAX_RUN_FILE_BYTES = 4 * 1024 * 1024


# -- where ------------------------------------------------------------------------------------


def default_runs_dir(environ=None, platform: str | None = None) -> Path:
    """The per-user data folder: ``$XDG_DATA_HOME/lenet-studio/runs`` (``~/.local/share`` when
    unset or relative) on Linux, ``%APPDATA%\\LeNet Studio\\runs`` on Windows and
    ``~/Library/Application Support/LeNet Studio/runs`` on macOS."""
    environ = os.environ if environ is None else environ
    platform = platform or sys.platform
    if platform == "win32":
        base = environ.get("APPDATA") or environ.get("LOCALAPPDATA")
        return (Path(base) if base else Path.home() / "AppData" / "Roaming") / "LeNet Studio" / "runs"
    if platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "LeNet Studio" / "runs"
    value = environ.get("XDG_DATA_HOME", "")
    base = Path(value) if value and os.path.isabs(value) else Path.home() / ".local" / "share"
    return base / "lenet-studio" / "runs"


def resolve_runs_dir(explicit: str | os.PathLike | None = None, chosen: str | os.PathLike | None = None,
                     environ=None) -> Path:
    """The runs folder: ``explicit`` (``--runs-dir``), else ``$LENET_RUNS_DIR``, else ``chosen``
    (the window's setting), else :func:`default_runs_dir`."""
    environ = os.environ if environ is None else environ
    for candidate in (explicit, environ.get(RUNS_DIR_ENV), chosen):
        if candidate:
            return Path(candidate).expanduser()
    return default_runs_dir(environ)


# -- lines that say whether they are whole ----------------------------------------------------


def encode_line(value) -> bytes:
    """``<crc32 of the JSON, 8 hex digits> <JSON>\\n``."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return b"%08x " % zlib.crc32(text) + text + b"\n"


def decode_line(line: bytes):
    """The value of a whole line; ValueError for a torn, altered or foreign one."""
    if not line.endswith(b"\n") or len(line) < 11 or line[8:9] != b" ":
        raise ValueError("not a whole line")
    text = line[9:-1]
    try:
        expected = int(line[:8], 16)
    except ValueError:
        raise ValueError("no checksum") from None
    if zlib.crc32(text) != expected:
        raise ValueError("checksum mismatch")
    return json.loads(text.decode("utf-8"))


def read_lines(path: Path) -> tuple[list, int, bool]:
    """``(values, damaged lines, torn last line)`` of a JSON-lines file (empty when missing).
    A torn last line is what a process killed mid-write leaves: not damage."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], 0, False
    values, damaged, torn = [], 0, False
    lines = data.splitlines(keepends=True)
    for index, line in enumerate(lines):
        try:
            values.append(decode_line(line))
        except (ValueError, UnicodeDecodeError):
            if index == len(lines) - 1 and not line.endswith(b"\n"):
                torn = True
            else:
                damaged += 1
    return values, damaged, torn


def _append(path: Path, value) -> None:
    with open(path, "ab") as f:
        f.write(encode_line(value))


def _write_json(path: Path, value: dict) -> None:
    write_atomically(path, json.dumps(value, ensure_ascii=False, indent=1).encode("utf-8") + b"\n")


def timestamp() -> str:
    """Now, as a record's ``started_at`` and ``ended_at`` are written (local time, ISO 8601)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


# -- reading ----------------------------------------------------------------------------------


@dataclass
class RunRecord:
    """One run as its folder holds it. ``problem`` is set (and the rest may be empty) for a
    record that cannot be read; ``warnings`` name the parts of a readable one that were not."""

    id: str
    folder: Path
    problem: str | None = None
    warnings: list[str] = field(default_factory=list)
    name: str = ""
    note: str = ""
    status: str = ""
    started_at: str = ""
    ended_at: str = ""
    source: str = ""  # "cli" or "window"
    command: str = ""
    device: str = ""
    versions: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)  # train and test samples, batches per epoch, source
    failure: str = ""
    epochs: list[EpochResult] = field(default_factory=list)
    log_lines: list[str] = field(default_factory=list)  # the epochs' lines and the others, in order
    batch_x: list[float] = field(default_factory=list)  # fractional epoch of each batch
    batch_loss: list[float] = field(default_factory=list)
    diagnostics: list[dict] = field(default_factory=list)  # {"kind": ..., "data": {...}}
    started_time: float = 0.0  # seconds since the epoch, to order runs started in the same second

    @property
    def damaged(self) -> bool:
        return self.problem is not None

    @property
    def config(self) -> TrainConfig:
        return train_config_from_dict(self.settings)

    @property
    def dataset(self) -> str:
        return str(self.settings.get("dataset", ""))

    @property
    def preset(self) -> str:
        return str(self.settings.get("preset", ""))

    @property
    def planned_epochs(self) -> int:
        value = self.settings.get("epochs")
        return value if isinstance(value, int) else len(self.epochs)

    @property
    def final_test_acc(self) -> float | None:
        return self.epochs[-1].test_acc if self.epochs else None

    @property
    def weights_path(self) -> Path | None:
        path = self.folder / WEIGHTS_FILE
        return path if path.is_file() else None

    def to_dict(self) -> dict:
        """Everything the record holds, as plain values (``lenet-gui runs --json``)."""
        if self.damaged:
            return {"id": self.id, "folder": str(self.folder), "damaged": True, "problem": self.problem}
        return {
            "id": self.id, "folder": str(self.folder), "damaged": False, "warnings": list(self.warnings),
            "name": self.name, "note": self.note, "status": self.status,
            "started_at": self.started_at, "ended_at": self.ended_at, "source": self.source,
            "command": self.command, "device": self.device, "versions": self.versions,
            "settings": self.settings, "data": self.data, "failure": self.failure,
            "final_test_acc": self.final_test_acc,
            "history": [e.to_dict() for e in self.epochs],
            "log": list(self.log_lines),
            "weights": str(self.weights_path) if self.weights_path else None,
            "diagnostics": self.diagnostics,
        }


def _process_alive(pid, host) -> bool:
    if not isinstance(pid, int) or host != socket.gethostname():
        return True  # cannot tell from here: believe the record
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _epoch_result(value) -> EpochResult:
    known = EpochResult.__dataclass_fields__
    if not isinstance(value, dict) or not set(known) <= set(value):
        raise ValueError("not an epoch")
    return EpochResult(**{k: value[k] for k in known})


def read_run(folder: str | os.PathLike) -> RunRecord:
    """The record in ``folder``; never raises: a record that cannot be read comes back with
    ``problem`` saying why."""
    folder = Path(folder)
    record = RunRecord(id=folder.name, folder=folder)
    meta_path = folder / RUN_FILE
    try:
        if meta_path.stat().st_size > MAX_RUN_FILE_BYTES:
            record.problem = f"{RUN_FILE} is far too large to be a run record"
            return record
        meta = json.loads(meta_path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        record.problem = f"{RUN_FILE} is missing"
        return record
    except OSError as exc:
        record.problem = f"cannot read {RUN_FILE}: {exc.strerror or exc}"
        return record
    except (ValueError, UnicodeDecodeError):
        record.problem = f"{RUN_FILE} is damaged or truncated (not valid JSON)"
        return record
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        record.problem = f"{RUN_FILE} is not a LeNet Studio run record"
        return record
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        record.problem = f"{RUN_FILE} was written by a newer LeNet Studio (format {version!r})"
        return record
    settings = meta.get("settings")
    if not isinstance(settings, dict):
        record.problem = f"{RUN_FILE} holds no settings"
        return record
    try:
        train_config_from_dict(settings)
    except (TypeError, ValueError):
        record.problem = f"{RUN_FILE} holds settings this version cannot read"
        return record
    for name in ("name", "note", "status", "started_at", "ended_at", "source", "command", "device", "failure"):
        value = meta.get(name, "")
        setattr(record, name, value if isinstance(value, str) else str(value))
    for name in ("versions", "data"):
        value = meta.get(name, {})
        setattr(record, name, value if isinstance(value, dict) else {})
    record.settings = settings
    started_time = meta.get("started_time")
    record.started_time = float(started_time) if isinstance(started_time, (int, float)) else 0.0
    if record.status not in STATUSES:
        record.status = INTERRUPTED
    if record.status == RUNNING and not _process_alive(meta.get("pid"), meta.get("host")):
        record.status = INTERRUPTED

    try:
        epochs, bad, _torn = read_lines(folder / EPOCHS_FILE)
        for value in epochs:
            try:
                result = _epoch_result(value.get("result") if isinstance(value, dict) else None)
            except (ValueError, TypeError):
                bad += 1
                continue
            if record.epochs and result.epoch <= record.epochs[-1].epoch:
                bad += 1
                continue
            record.epochs.append(result)
            record.log_lines.append(str(value.get("line") or result.line()))
        if bad:
            record.warnings.append(f"{bad} damaged line(s) of {EPOCHS_FILE} skipped")
        batches, bad, _torn = read_lines(folder / BATCHES_FILE)
        for value in batches:
            try:
                xs, losses = value["x"], value["loss"]
                if len(xs) != len(losses):
                    raise ValueError
                xs = [float(x) for x in xs]
                losses = [math.nan if v is None else float(v) for v in losses]
            except (KeyError, TypeError, ValueError):
                bad += 1
                continue
            record.batch_x.extend(xs)
            record.batch_loss.extend(losses)
        if bad:
            record.warnings.append(f"{bad} damaged line(s) of {BATCHES_FILE} skipped")
        lines, bad, _torn = read_lines(folder / LOG_FILE)
        record.log_lines.extend(str(line) for line in lines)
        if bad:
            record.warnings.append(f"{bad} damaged line(s) of {LOG_FILE} skipped")
        diagnostics, bad, _torn = read_lines(folder / DIAGNOSTICS_FILE)
        record.diagnostics = [d for d in diagnostics if isinstance(d, dict)]
        bad += len(diagnostics) - len(record.diagnostics)
        if bad:
            record.warnings.append(f"{bad} damaged line(s) of {DIAGNOSTICS_FILE} skipped")
    except OSError as exc:
        record.problem = f"cannot read the run's files: {exc.strerror or exc}"
    return record


def list_runs(runs_dir: str | os.PathLike) -> list[RunRecord]:
    """Every record in the runs folder, oldest first (damaged ones included, with their
    reason); an empty list when the folder does not exist or cannot be listed."""
    runs_dir = Path(runs_dir)
    try:
        folders = [p for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith(".")]
    except OSError:
        return []
    # By name, which is the start to the second, then by the exact start within that second.
    records = [read_run(folder) for folder in sorted(folders, key=lambda p: p.name)]
    return sorted(records, key=lambda r: (r.id[:15], r.started_time))


# -- changing a record ------------------------------------------------------------------------


class HistoryError(RuntimeError):
    """A record cannot be changed; the message says why."""


def _update_meta(folder: Path, **values) -> None:
    path = Path(folder) / RUN_FILE
    try:
        meta = json.loads(path.read_bytes().decode("utf-8"))
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ValueError
        meta.update(values)
        _write_json(path, meta)
    except (ValueError, UnicodeDecodeError):
        raise HistoryError(f"{path} is damaged: it cannot be changed.") from None
    except OSError as exc:
        raise HistoryError(f"Cannot change {path}: {exc.strerror or exc}.") from None


def rename_run(folder: str | os.PathLike, name: str) -> None:
    _update_meta(Path(folder), name=str(name).strip())


def set_note(folder: str | os.PathLike, note: str) -> None:
    _update_meta(Path(folder), note=str(note))


def delete_run(folder: str | os.PathLike) -> Path:
    """Move the record into the runs folder's trash, whence :func:`restore_run` brings it back;
    returns where it went."""
    folder = Path(folder)
    trash = folder.parent / TRASH_FOLDER
    target = trash / folder.name
    try:
        trash.mkdir(exist_ok=True)
        if target.exists():
            shutil.rmtree(target)
        os.replace(folder, target)
    except OSError as exc:
        raise HistoryError(f"Cannot delete {folder}: {exc.strerror or exc}.") from None
    return target


def restore_run(trashed: str | os.PathLike) -> Path:
    """Undo :func:`delete_run`; returns the record's folder again."""
    trashed = Path(trashed)
    target = trashed.parent.parent / trashed.name
    if target.exists():
        raise HistoryError(f"Cannot restore {trashed.name}: {target} exists.")
    try:
        os.replace(trashed, target)
    except OSError as exc:
        raise HistoryError(f"Cannot restore {trashed.name}: {exc.strerror or exc}.") from None
    return target


def empty_trash(runs_dir: str | os.PathLike) -> None:
    """Delete for good what earlier sessions deleted (errors ignored: tried again next time)."""
    shutil.rmtree(Path(runs_dir) / TRASH_FOLDER, ignore_errors=True)


# -- writing ----------------------------------------------------------------------------------


def model_title(preset: str, dataset_title: str) -> str:
    """How a trained model names itself in its checkpoint (the CLI's --save and the record's
    weights)."""
    return f"LeNet ({preset}) on {dataset_title}"


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


class RunRecorder:
    """Writes one run's record as it goes. Feed it the engine's events with :meth:`record`
    (the trainer too, for the weights at each epoch's end).

    Recording never stops a run: the first write that fails (a full disk, a folder without
    permission) sets :attr:`problem`, and the recorder writes nothing more.
    """

    def __init__(self, runs_dir: str | os.PathLike, config: TrainConfig, *, source: str, command: str = "",
                 title: str = ""):
        self.runs_dir = Path(runs_dir)
        self.problem: str | None = None
        self.title = title
        self._pending_x: list[float] = []
        self._pending_loss: list[float] = []
        self._last_batch_line = time.monotonic()
        self.meta = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "name": "", "note": "", "status": RUNNING,
            "started_at": timestamp(), "started_time": time.time(), "ended_at": "", "source": source, "command": command, "device": "",
            "pid": os.getpid(), "host": socket.gethostname(), "versions": software_versions(),
            "settings": config.to_dict(), "data": {}, "failure": "",
        }
        self.folder = self.runs_dir / new_run_id()
        try:
            self.runs_dir.mkdir(parents=True, exist_ok=True)
            while True:
                try:
                    self.folder.mkdir()
                    break
                except FileExistsError:
                    self.folder = self.runs_dir / new_run_id()
            self._write_meta()
        except OSError as exc:
            self._failed(exc)

    @property
    def id(self) -> str:
        return self.folder.name

    @property
    def ok(self) -> bool:
        return self.problem is None

    def _failed(self, exc: Exception) -> None:
        if self.problem is None:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self.problem = f"Cannot record the run in {self.runs_dir}: {reason}. The run goes on unrecorded."

    def _write_meta(self) -> None:
        # A rename or note written meanwhile (the window, during the run) is kept.
        try:
            on_disk = json.loads((self.folder / RUN_FILE).read_bytes().decode("utf-8"))
            for key in ("name", "note"):
                if isinstance(on_disk.get(key), str):
                    self.meta[key] = on_disk[key]
        except (OSError, ValueError, UnicodeDecodeError, AttributeError):
            pass
        _write_json(self.folder / RUN_FILE, self.meta)

    def _safely(self, write) -> None:
        if self.problem is not None:
            return
        try:
            write()
        except Exception as exc:  # noqa: BLE001 - whatever goes wrong here, the run itself goes on
            self._failed(exc)

    # -- what happens in a run ------------------------------------------------------------------

    def run_started(self, device: str, **data) -> None:
        self.meta["device"] = str(device)
        self.meta["data"] = {k: (v if isinstance(v, (int, float, str)) else str(v)) for k, v in data.items()}
        self._safely(self._write_meta)

    def record(self, event, trainer=None) -> None:
        """One event of ``Trainer.run()``; any other event with ``to_dict()`` (diagnostics) is
        kept in the diagnostics file under its class name."""
        if isinstance(event, BatchProgress):
            self.batches([event])
        elif isinstance(event, EpochResult):
            if trainer is not None:
                state, metadata = trainer.checkpoint_state()
                self.epoch(event, trainer.model, state, metadata)
            else:
                self.epoch(event)
        elif isinstance(event, Finished):
            self.finish(STOPPED if event.stopped else FINISHED)
        elif callable(getattr(event, "to_dict", None)):
            self.record_diagnostics(type(event).__name__, event.to_dict())

    def batches(self, events) -> None:
        for event in events:
            self._pending_x.append(event.epoch - 1 + event.batch / event.batches)
            self._pending_loss.append(event.loss)
        if events and (events[-1].batch == events[-1].batches
                       or time.monotonic() - self._last_batch_line >= BATCH_LINE_SECONDS):
            self.flush_batches()

    def flush_batches(self) -> None:
        if not self._pending_x:
            return
        line = {"x": self._pending_x, "loss": [v if math.isfinite(v) else None for v in self._pending_loss]}
        self._pending_x, self._pending_loss = [], []
        self._last_batch_line = time.monotonic()
        self._safely(lambda: _append(self.folder / BATCHES_FILE, line))

    def epoch(self, result: EpochResult, model=None, state_dict=None, metadata=None) -> None:
        """A completed epoch: its line, then the weights it measured (``model`` gives their
        architecture; ``state_dict`` the weights when they are not the model's own)."""
        self.flush_batches()
        self._safely(lambda: _append(self.folder / EPOCHS_FILE, {"result": result.to_dict(), "line": result.line()}))
        if model is not None:
            meta = dict(metadata or {})
            meta.setdefault("title", self.title or f"run {self.id}")
            meta["run_id"] = self.id
            self._safely(lambda: save_checkpoint(self.folder / WEIGHTS_FILE, model, meta, state_dict=state_dict))
        self._safely(self._sync_epochs)

    def _sync_epochs(self) -> None:
        # Against power loss too, once an epoch: its line must outlive the weights' rename.
        fd = os.open(self.folder / EPOCHS_FILE, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def record_diagnostics(self, kind: str, data: dict) -> None:
        self._safely(lambda: _append(self.folder / DIAGNOSTICS_FILE, {"kind": str(kind), "data": data}))

    def log(self, line: str) -> None:
        self._safely(lambda: _append(self.folder / LOG_FILE, str(line)))

    def finish(self, status: str, failure: str = "") -> None:
        if status not in (FINISHED, STOPPED, FAILED):
            raise ValueError(f"a run ends finished, stopped or failed, not {status!r}")
        self.flush_batches()
        self.meta.update(status=status, ended_at=timestamp(), failure=failure)
        self._safely(self._write_meta)


# -- comparing --------------------------------------------------------------------------------

# The final figures compared beside the settings.
METRICS = ("epochs_done", "loss", "train_acc", "test_acc", "seconds")
_MISSING = object()


def differing_settings(records: list[RunRecord]) -> list[str]:
    """The settings whose values are not the same in every record, in TrainConfig's order (then
    any others a record holds)."""
    keys = list(TrainConfig.__dataclass_fields__)
    for record in records:
        keys.extend(k for k in record.settings if k not in keys)
    return [k for k in keys if len({json.dumps(r.settings.get(k, "<unset>"), sort_keys=True) for r in records}) > 1]


def final_metrics(record: RunRecord) -> dict:
    last = record.epochs[-1] if record.epochs else None
    return {
        "epochs_done": len(record.epochs),
        "loss": last.loss if last else None,
        "train_acc": last.train_acc if last else None,
        "test_acc": last.test_acc if last else None,
        "seconds": sum(e.seconds for e in record.epochs) if record.epochs else None,
    }


def comparison(records: list[RunRecord]) -> tuple[list[str], list[list]]:
    """``(columns, rows)``: one row per record, its id, its final metrics (what a comparison
    is read for), then every setting that differs."""
    readable = [r for r in records if not r.damaged]
    settings = differing_settings(readable)
    columns = ["id", *METRICS, *settings]
    rows = []
    for record in readable:
        metrics = final_metrics(record)
        rows.append([record.id, *(metrics[m] for m in METRICS), *(record.settings.get(k) for k in settings)])
    return columns, rows


def write_comparison_csv(path: str | os.PathLike, columns: list[str], rows: list[list]) -> None:
    """Raises OSError."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
