"""Where the app finds its data sets, and the dialog shown when one is missing.

Where the app looks, in this order; the first folder that holds the data set is used:

1. ``--data-root DIR`` on the command line (``Session.data_root``),
2. the environment variable ``LENET_DATA_ROOT``,
3. the folder chosen in this dialog (kept in QSettings under ``data/root``),
4. the per-user cache (``~/.cache/lenet-studio/datasets`` on Linux).

Searching rather than taking the first folder that is set means a folder chosen in the app is
honoured even when a stale ``LENET_DATA_ROOT`` points elsewhere, and an explicit choice that
holds the data always wins. Downloads go to the first of 1, 2 and 4 that is set: the chosen
folder in 3 is one the user found already filled, and may not be writable.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from ...core.data import ENV_DATA_ROOT, DatasetError, dataset_info, default_cache_root, download_dataset, is_available

SETTINGS_DATA_ROOT = "data/root"


def candidate_roots(session_root: str | None, settings: QSettings) -> list[Path]:
    roots: list[Path] = []
    chosen = settings.value(SETTINGS_DATA_ROOT, "", str)
    for value in (session_root, os.environ.get(ENV_DATA_ROOT), chosen):
        if value:
            roots.append(Path(value).expanduser())
    roots.append(default_cache_root())
    unique: list[Path] = []
    for root in roots:
        if root not in unique:
            unique.append(root)
    return unique


def locate_dataset(key: str, session_root: str | None, settings: QSettings) -> Path | None:
    """The first data root that holds data set ``key``, or None."""
    for root in candidate_roots(session_root, settings):
        if is_available(key, root):
            return root
    return None


def download_root(session_root: str | None) -> Path:
    for value in (session_root, os.environ.get(ENV_DATA_ROOT)):
        if value:
            return Path(value).expanduser()
    return default_cache_root()


class _DownloadReporter(QObject):
    """Carries a background download's news to the GUI thread (queued signals).

    It lives in the GUI thread and is kept alive by ``_ACTIVE`` until the download ends, so a
    dialog closed mid-download only disconnects from it: the download may finish in the
    background, but nothing touches the closed dialog's widgets.
    """

    progress = Signal(str, int, int)  # file name, bytes done, bytes total (0: unknown)
    succeeded = Signal()
    failed = Signal(str)

    @Slot()
    def release(self) -> None:
        # Runs in the GUI thread (this object lives there): the last reference goes away there.
        _ACTIVE.discard(self)


_ACTIVE: set[_DownloadReporter] = set()


def start_download(key: str, root: Path) -> _DownloadReporter:
    reporter = _DownloadReporter()
    _ACTIVE.add(reporter)
    reporter.succeeded.connect(reporter.release)
    reporter.failed.connect(reporter.release)

    def work() -> None:
        last = [0.0]

        def progress(name: str, done: int, total: int) -> None:
            now = time.monotonic()
            # A few updates a second are enough for a progress bar; 64 KB chunks come far faster.
            if now - last[0] >= 0.1 or (total and done >= total):
                last[0] = now
                reporter.progress.emit(name, done, total)

        try:
            download_dataset(key, root, progress=progress)
        except DatasetError as exc:
            reporter.failed.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 - any failure must be shown, not lost in a thread
            reporter.failed.emit(f"{type(exc).__name__}: {exc}")
        else:
            reporter.succeeded.emit()

    # A daemon thread: quitting the app mid-download must not wait for a slow mirror. The core
    # writes each file under its final name only once it is complete and verified.
    threading.Thread(target=work, name=f"download-{key}", daemon=True).start()
    return reporter


class DatasetDialog(QDialog):
    """Shown when a data set is in none of the data roots. Accepted once the data is there;
    ``data_root`` then names the folder that holds it."""

    def __init__(self, key: str, session_root: str | None, settings: QSettings, parent=None):
        super().__init__(parent)
        self.setObjectName("datasetDialog")
        self.key = key
        self.info = dataset_info(key)
        self.settings = settings
        self.session_root = session_root
        self.target = download_root(session_root)
        self.data_root: Path | None = None
        self._reporter: _DownloadReporter | None = None
        self.setWindowTitle(self.tr("%s is missing") % self.info.title)
        self.setMinimumWidth(520)

        looked = "".join(f"<li>{root}</li>" for root in candidate_roots(session_root, settings))
        self.message = QLabel(
            self.tr("<p>The <b>%1</b> data set was not found. LeNet Studio looked in:</p><ul>%2</ul>"
                    "<p>Download it (about 30 MB) into <b>%3</b>, or choose a folder that already "
                    "holds it.</p>").replace("%1", self.info.title).replace("%2", looked)
            .replace("%3", str(self.target / self.info.folder / "raw")),
            self,
        )
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error = QLabel(self)
        self.error.setObjectName("datasetError")
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.setStyleSheet("color: #b3261e;")
        self.error.hide()
        self.progress = QProgressBar(self)
        self.progress.setTextVisible(True)
        self.progress.hide()

        self.download_button = QPushButton(self.tr("&Download"), self)
        self.download_button.setDefault(True)
        self.download_button.clicked.connect(self.start_download)
        self.choose_button = QPushButton(self.tr("&Choose folder…"), self)
        self.choose_button.clicked.connect(self.choose_folder)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        buttons.rejected.connect(self.reject)

        row = QHBoxLayout()
        row.addWidget(self.download_button)
        row.addWidget(self.choose_button)
        row.addStretch(1)
        row.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.progress)
        layout.addWidget(self.error)
        layout.addLayout(row)

    # -- downloading ------------------------------------------------------------------------------

    def start_download(self) -> None:
        self.error.hide()
        self.download_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress.setFormat(self.tr("Connecting…"))
        self.progress.show()
        self._reporter = start_download(self.key, self.target)
        self._reporter.progress.connect(self._on_progress)
        self._reporter.succeeded.connect(self._on_downloaded)
        self._reporter.failed.connect(self._on_download_failed)

    def _on_progress(self, name: str, done: int, total: int) -> None:
        if total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * done / total))
            self.progress.setFormat(self.tr("%1: %2 of %3 KB").replace("%1", name)
                                    .replace("%2", f"{done // 1024:,}").replace("%3", f"{total // 1024:,}"))
        else:
            self.progress.setRange(0, 0)
            self.progress.setFormat(self.tr("%1: %2 KB").replace("%1", name).replace("%2", f"{done // 1024:,}"))

    def _on_downloaded(self) -> None:
        self._detach()
        self.progress.hide()
        if is_available(self.key, self.target):
            self.data_root = self.target
            self.accept()
        else:  # pragma: no cover - download_dataset raises instead
            self._on_download_failed(self.tr("The download ended but the files are not there."))

    def _on_download_failed(self, message: str) -> None:
        self._detach()
        self.progress.hide()
        self.download_button.setEnabled(True)
        self.download_button.setText(self.tr("Try &again"))
        self.show_error(message)

    def _detach(self) -> None:
        if self._reporter is not None:
            for signal, slot in ((self._reporter.progress, self._on_progress),
                                 (self._reporter.succeeded, self._on_downloaded),
                                 (self._reporter.failed, self._on_download_failed)):
                try:
                    signal.disconnect(slot)
                except (RuntimeError, TypeError):
                    pass
            self._reporter = None

    # -- choosing a folder ------------------------------------------------------------------------

    def choose_folder(self) -> None:
        start = self.settings.value(SETTINGS_DATA_ROOT, "", str) or str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, self.tr("Folder that holds %s") % self.info.title, start)
        if folder:
            self.use_folder(folder)

    def use_folder(self, folder: str | os.PathLike) -> bool:
        """Accept ``folder`` if it holds the data set (the folder itself, or its parent data
        root); otherwise say what it should contain. The choice is remembered."""
        folder = Path(folder)
        candidates = [folder]
        # Remember the data root itself, where the other data set may sit too, rather than the
        # raw folder inside it that the user happened to pick.
        if folder.name == "raw":
            candidates.insert(0, folder.parent.parent)
        elif folder.name == self.info.folder:
            candidates.insert(0, folder.parent)
        for root in candidates:
            if is_available(self.key, root):
                self.settings.setValue(SETTINGS_DATA_ROOT, str(root))
                self.data_root = root
                self._detach()
                self.accept()
                return True
        self.show_error(
            self.tr("%1 does not hold the %2 data set. Choose the folder that contains %3/raw/ "
                    "(or the raw folder itself) with the four IDX files: train-images-idx3-ubyte, "
                    "train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte "
                    "(plain or .gz).").replace("%1", str(folder)).replace("%2", self.info.title)
            .replace("%3", self.info.folder)
        )
        return False

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()
        # Word-wrapped labels do not grow a dialog that is already shown: make room for the text.
        self.adjustSize()

    def done(self, result: int) -> None:
        # Closing mid-download leaves the download running in the background, unconnected.
        self._detach()
        super().done(result)
