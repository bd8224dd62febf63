"""State the tabs share: the models on offer, the current model, the current input, and the
requests a tab makes of the window.

Tabs never import or look up each other; they write here and listen here. What one asks of
another ("show this tab", "open a checkpoint", "show this message") is a request signal here
that the main window carries out. Everything lives in the GUI thread: the training worker
hands models over through signals, as snapshots.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QObject, Signal

from ..core.checkpoint import LoadedModel, load_checkpoint
from ..core.data import ALL_SPLITS, TEST_ONLY, download_root, locate_dataset
from ..core.history import resolve_runs_dir
from ..core.inference import Prediction
from ..core.preprocess import Preprocessed
from ..core.resources import BUNDLED_MODELS
from .settings import Settings


@dataclass
class CurrentInput:
    preprocessed: Preprocessed  # what the model receives
    original: np.ndarray | None  # what the user gave, as an RGB(A) or grey uint8 array, for display
    description: str  # "drawing", a file name, "test image #123 (true: Bag)", ...
    # The prediction the publisher already computed for this input, and the model it used: a
    # tab showing the same model may reuse it instead of running the network again.
    prediction: Prediction | None = None
    model: LoadedModel | None = None


class Session(QObject):
    models_changed = Signal()  # the list of models on offer changed
    model_changed = Signal(object)  # LoadedModel | None: the current model
    input_changed = Signal(object)  # CurrentInput | None: the current input
    # During a run in the Train tab: {"conv1.weight": tensor, "conv2.weight": tensor, ...}, CPU
    # copies taken by the worker between batches, a few times a second at most.
    live_weights = Signal(object)
    training_state_changed = Signal(bool)  # a run started (True) or ended (False)

    # Requests of the main window (see the module's docstring).
    tab_requested = Signal(str)  # one of TABS
    open_checkpoint_requested = Signal()
    status_requested = Signal(str, int)  # message, milliseconds to show it (0: until the next)

    TABS = ("train", "classify", "inspect", "network", "projector")

    def __init__(self, data_root: str | None = None, parent: QObject | None = None,
                 settings: Settings | None = None, runs_dir: str | None = None):
        super().__init__(parent)
        self.data_root = data_root  # --data-root; None: search LENET_DATA_ROOT, the chosen folder, the cache
        self.runs_dir = runs_dir  # --runs-dir; None: LENET_RUNS_DIR, the chosen folder, the default
        self.settings = Settings.wrap(settings)
        self._models: list[tuple[str, LoadedModel | Path]] = []  # (title, model or its path)
        self.current_model: LoadedModel | None = None
        self.current_input: CurrentInput | None = None
        self.training_active = False
        self.last_interaction = float("-inf")  # time.monotonic() of the user's last stroke
        for key, path in BUNDLED_MODELS.items():
            self._models.append((_bundled_title(key), path))

    # -- models --------------------------------------------------------------------------------

    def model_entries(self) -> list[tuple[str, LoadedModel | Path]]:
        """``(title, model or its path)``; the bundled models' titles in the current language."""
        return [(QCoreApplication.translate("Session", title) if index < len(BUNDLED_MODELS) else title, entry)
                for index, (title, entry) in enumerate(self._models)]

    def load_entry(self, index: int) -> LoadedModel:
        """The model of entry ``index``, loading it from disk on first use (CheckpointError)."""
        title, entry = self._models[index]
        if isinstance(entry, Path):
            entry = load_checkpoint(entry)
            entry.metadata.setdefault("title", title)
            self._models[index] = (title, entry)
        return entry

    def bundled_index(self, key: str) -> int | None:
        """The entry of the bundled model ``key`` ("mnist", "fashion-mnist"); None for another key."""
        keys = list(BUNDLED_MODELS)
        return keys.index(key) if key in keys else None

    def bundled_key(self, loaded: LoadedModel | None) -> str | None:
        """Which bundled model ``loaded`` is, or None for any other."""
        for key, (_title, entry) in zip(BUNDLED_MODELS, self._models):
            if loaded is not None and entry is loaded:
                return key
        return None

    def add_model(self, loaded: LoadedModel, title: str | None = None, make_current: bool = True) -> int:
        title = title or loaded.title
        self._models.append((title, loaded))
        self.models_changed.emit()
        if make_current:
            self.set_model(loaded)
        return len(self._models) - 1

    def open_checkpoint(self, path: str | Path) -> LoadedModel:
        """Load a checkpoint file, offer it under its file name and make it current.
        Raises CheckpointError; each tab shows that its own way."""
        loaded = load_checkpoint(path)
        self.add_model(loaded, title=Path(path).name)
        return loaded

    def set_model(self, loaded: LoadedModel | None) -> None:
        if loaded is self.current_model:
            return
        self.current_model = loaded
        self.model_changed.emit(loaded)

    def note_interaction(self) -> None:
        """The user is drawing: live work competes with training for the cores (the training
        thread reads this between batches and gives the window a core)."""
        self.last_interaction = time.monotonic()

    def set_training_active(self, active: bool) -> None:
        if active != self.training_active:
            self.training_active = active
            self.training_state_changed.emit(active)

    def locate_dataset(self, key: str, splits: tuple[str, ...] = ALL_SPLITS):
        """The folder that holds the ``splits`` of data set ``key`` (core.data.candidate_roots's
        search, with the folder the user chose in the window), or None."""
        return locate_dataset(key, self.data_root, self.settings.data_root or None, splits)

    def test_set_location(self, key: str) -> tuple[Path | None, Path]:
        """Where the test split of data set ``key`` was found (None: in none of the roots), and
        the folder to read it from: that one, or where a download of it goes (the Train tab's)."""
        found = self.locate_dataset(key, TEST_ONLY)
        return found, found if found is not None else download_root(self.data_root)

    def runs_folder(self) -> Path:
        """Where the run history is kept (core.history.resolve_runs_dir's order)."""
        return resolve_runs_dir(self.runs_dir, self.settings.runs_folder or None)

    # -- requests of the window -----------------------------------------------------------------

    def request_tab(self, name: str) -> None:
        self.tab_requested.emit(name)

    def request_open_checkpoint(self) -> None:
        self.open_checkpoint_requested.emit()

    def show_status(self, message: str, timeout_ms: int = 0) -> None:
        self.status_requested.emit(message, timeout_ms)

    # -- input ---------------------------------------------------------------------------------

    def set_input(self, current: CurrentInput | None) -> None:
        self.current_input = current
        self.input_changed.emit(current)


def _bundled_title(key: str) -> str:
    """The source text of a bundled model's title; model_entries translates it when read."""
    return {"mnist": QT_TRANSLATE_NOOP("Session", "Bundled: MNIST digits"),
            "fashion-mnist": QT_TRANSLATE_NOOP("Session", "Bundled: Fashion-MNIST garments")}[key]
