"""The dialog shown when a data set is missing: download it, or choose a folder that holds it.

Where the app looks, and where a download goes, is core's rule (``core.data.candidate_roots``
and ``download_root``); this dialog only adds the folder the user chose (``Settings.data_root``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QToolButton,
    QVBoxLayout,
)

from ...core.data import (
    ALL_SPLITS, TEST_ONLY, DatasetError, DatasetFolderNotWritable, candidate_roots, dataset_info, download_dataset,
    download_megabytes, download_root, is_available, split_file_names,
)
from ..settings import Settings
from ..workers import Worker, start_worker
from .text import Retranslating, fill


class DownloadCancelled(Exception):
    pass


UNREACHABLE, NOT_WRITABLE, OTHER = "unreachable", "not-writable", "other"


class DownloadWorker(Worker):
    """Downloads one data set. The core writes each file under its final name only once it is
    complete and verified, so a stop between chunks leaves nothing half-written behind."""

    progress = Signal(str, int, int)  # file name, bytes done, bytes total (0: unknown)
    succeeded = Signal()
    failed = Signal(str, str)  # what went wrong (UNREACHABLE, NOT_WRITABLE, OTHER), the details

    def __init__(self, key: str, root: Path, splits: tuple[str, ...] = ALL_SPLITS):
        super().__init__()
        self.key, self.root, self.splits = key, root, splits

    def run(self) -> None:
        last = [0.0]

        def progress(name: str, done: int, total: int) -> None:
            if self.stop_requested:
                raise DownloadCancelled()
            now = time.monotonic()
            # A few updates a second are enough for a progress bar; 64 KB chunks come far faster.
            if now - last[0] >= 0.1 or (total and done >= total):
                last[0] = now
                self.progress.emit(name, done, total)

        try:
            download_dataset(self.key, self.root, progress=progress, splits=self.splits)
        except DownloadCancelled:
            return
        except DatasetFolderNotWritable as exc:
            self.failed.emit(NOT_WRITABLE, str(exc))
        except DatasetError as exc:
            self.failed.emit(UNREACHABLE, str(exc))
        except Exception as exc:  # noqa: BLE001 - any failure must be shown, not lost in a thread
            self.failed.emit(OTHER, f"{type(exc).__name__}: {exc}")
        else:
            self.succeeded.emit()


class DatasetDialog(Retranslating, QDialog):
    """Shown when a data set is in none of the data roots. Accepted once the data is there;
    ``data_root`` then names the folder that holds it. ``splits``: what the asker needs (the
    Test set view only the test split): only those files are downloaded or looked for."""

    def __init__(self, key: str, session_root: str | None, settings: Settings, parent=None,
                 splits: tuple[str, ...] = ALL_SPLITS):
        super().__init__(parent)
        self.setObjectName("datasetDialog")
        self.key = key
        self.splits = tuple(splits)
        self.info = dataset_info(key)
        self.settings = Settings.wrap(settings)
        self.session_root = session_root
        self.target = download_root(session_root)
        self.data_root: Path | None = None
        self._reporter: DownloadWorker | None = None
        self._progress_values: tuple | None = None  # (file name, bytes done, total); None: connecting
        self._failed = False  # a download failed: the button offers to try again
        self._error_text = None  # makes the error shown, in the current language
        self.setMinimumWidth(520)
        self.looked = candidate_roots(session_root, self.settings.data_root or None)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error = QLabel(self)
        self.error.setObjectName("datasetError")
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.setStyleSheet("color: #b3261e;")
        self.error.hide()
        # The raw reasons (addresses, system errors) for whoever wants them, out of the way.
        self.details_button = QToolButton(self)
        self.details_button.setObjectName("datasetErrorDetailsButton")
        self.details_button.setCheckable(True)
        self.details_button.setArrowType(Qt.ArrowType.RightArrow)
        self.details_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.details_button.toggled.connect(self._show_details)
        self.details_button.hide()
        self.details = QPlainTextEdit(self)
        self.details.setObjectName("datasetErrorDetails")
        self.details.setReadOnly(True)
        self.details.setMaximumHeight(140)
        self.details.hide()
        self.progress = QProgressBar(self)
        self.progress.setTextVisible(True)
        self.progress.hide()

        self.download_button = QPushButton(self)
        self.download_button.setDefault(True)
        self.download_button.clicked.connect(self.start_download)
        self.choose_button = QPushButton(self)
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
        layout.addWidget(self.details_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.details)
        layout.addLayout(row)
        self.retranslate()

    @classmethod
    def open_for(cls, owner, key: str, session_root: str | None, settings: Settings, on_found,
                 splits: tuple[str, ...] = ALL_SPLITS) -> "DatasetDialog":
        """Open the dialog over ``owner`` (window-modal, not blocking: the event loop goes on),
        call ``on_found`` once the data is there, and keep ``owner.data_dialog`` pointing at it
        while it is open."""
        dialog = cls(key, session_root, settings, parent=owner, splits=splits)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(on_found)
        dialog.destroyed.connect(lambda *_: setattr(owner, "data_dialog", None))
        owner.data_dialog = dialog
        dialog.open()
        return dialog

    @staticmethod
    def missing_test_set_texts(key: str, root: str) -> tuple[str, str]:
        """What a view that needs data set ``key``'s test split says when it is in none of the
        folders (``root``: where a download would go), and the text of its button that opens
        this dialog."""
        title = dataset_info(key).title
        size = f"{download_megabytes(key, TEST_ONLY):.0f}"
        translate = QCoreApplication.translate
        return (fill(translate("DatasetDialog", "The %1 test set is not in %2. Choose a folder that holds it, "
                                                "or download it (about %3 MB)."), title, root, size),
                fill(translate("DatasetDialog", "Choose folder or download %1…"), title))

    def retranslate(self) -> None:
        self.setWindowTitle(fill(self.tr("%1 is missing"), self.info.title))
        looked = "".join(f"<li>{root}</li>" for root in self.looked)
        size = f"{download_megabytes(self.key, self.splits):.0f}"
        raw = self.target / self.info.folder / "raw"
        if self.splits == ("test",):
            text = self.tr("<p>The <b>%1</b> test set was not found. LeNet Studio looked in:</p><ul>%2</ul>"
                           "<p>Download its test images (about %3 MB) into <b>%4</b>, or choose a folder "
                           "that already holds them.</p>")
        else:
            text = self.tr("<p>The <b>%1</b> data set was not found. LeNet Studio looked in:</p><ul>%2</ul>"
                           "<p>Download it (about %3 MB) into <b>%4</b>, or choose a folder that already "
                           "holds it.</p>")
        self.message.setText(fill(text, self.info.title, looked, size, raw))
        self.download_button.setText(self.tr("Try &again") if self._failed else self.tr("&Download"))
        self.choose_button.setText(self.tr("&Choose folder…"))
        self.details_button.setText(self.tr("&Details"))
        if self._error_text is not None:
            self.error.setText(self._error_text())
        self._show_progress_text()

    def _show_progress_text(self) -> None:
        if self._progress_values is None:
            self.progress.setFormat(self.tr("Connecting…"))
            return
        name, done, total = self._progress_values
        if total:
            self.progress.setFormat(fill(self.tr("%1: %2 of %3 KB"), name, f"{done // 1024:,}", f"{total // 1024:,}"))
        else:
            self.progress.setFormat(fill(self.tr("%1: %2 KB"), name, f"{done // 1024:,}"))

    # -- downloading ------------------------------------------------------------------------------

    def start_download(self) -> None:
        self.error.hide()
        self.download_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self._progress_values = None
        self._show_progress_text()
        self.progress.show()
        # Connected before it starts: a download that fails at once must still be reported.
        self._reporter = DownloadWorker(self.key, self.target, self.splits)
        self._reporter.progress.connect(self._on_progress)
        self._reporter.succeeded.connect(self._on_downloaded)
        self._reporter.failed.connect(self._on_download_failed)
        start_worker(self._reporter)

    def _on_progress(self, name: str, done: int, total: int) -> None:
        if total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * done / total))
        else:
            self.progress.setRange(0, 0)
        self._progress_values = (name, done, total)
        self._show_progress_text()

    def _on_downloaded(self) -> None:
        self._detach()
        self.progress.hide()
        if is_available(self.key, self.target, self.splits):
            self.data_root = self.target
            self.accept()
        else:  # pragma: no cover - download_dataset raises instead
            self._on_download_failed(OTHER, self.tr("The download ended but the files are not there."))

    def _on_download_failed(self, kind: str, details: str) -> None:
        self._detach()
        self.progress.hide()
        self.download_button.setEnabled(True)
        self._failed = True
        self.download_button.setText(self.tr("Try &again"))
        self.show_error(lambda: self._failure_summary(kind), details)

    def _failure_summary(self, kind: str) -> str:
        if kind == NOT_WRITABLE:
            return fill(self.tr("The download could not be saved in %1: choose a folder that holds the "
                                "data set, or start LeNet Studio with --data-root set to a folder you can "
                                "write to."), self.target)
        if kind == UNREACHABLE:
            return self.tr("The download failed because the data set's servers could not be reached: check "
                           "the internet connection and try again, or choose a folder that holds the data set.")
        return self.tr("The download failed: try again, or choose a folder that holds the data set.")

    def _show_details(self, shown: bool) -> None:
        self.details.setVisible(shown)
        self.details_button.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self.adjustSize()

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
        start = self.settings.data_root or str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, fill(self.tr("Folder that holds %1"), self.info.title), start)
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
            if is_available(self.key, root, self.splits):
                self.settings.data_root = str(root)
                self.data_root = root
                self._detach()
                self.accept()
                return True
        names = ", ".join(split_file_names(self.splits))
        if self.splits == ("test",):
            self.show_error(lambda: fill(
                self.tr("%1 does not hold the %2 test set. Choose the folder that contains %3/raw/ (or "
                        "the raw folder itself) with its two IDX files: %4 (plain or .gz)."),
                folder, self.info.title, self.info.folder, names))
        else:
            self.show_error(lambda: fill(
                self.tr("%1 does not hold the %2 data set. Choose the folder that contains %3/raw/ (or "
                        "the raw folder itself) with the four IDX files: %4 (plain or .gz)."),
                folder, self.info.title, self.info.folder, names))
        return False

    def show_error(self, message, details: str = "") -> None:
        """``message``: one sentence, what happened and what to do (or a function that makes it,
        so that a language switch rewrites it); ``details``: the raw reasons, behind the Details
        button."""
        self._error_text = message if callable(message) else (lambda: message)
        self.error.setText(self._error_text())
        self.error.show()
        self.details.setPlainText(details)
        self.details_button.setVisible(bool(details))
        self.details_button.setChecked(False)
        # Word-wrapped labels do not grow a dialog that is already shown: make room for the text.
        self.adjustSize()

    def done(self, result: int) -> None:
        # Closing mid-download leaves the download running in the background, unconnected; it
        # ends with the app (the worker registry stops it between two chunks).
        self._detach()
        super().done(result)
