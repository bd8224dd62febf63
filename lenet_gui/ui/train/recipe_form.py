"""The recipe form: data set, preset and the settings it fills in, which the user may edit."""

from __future__ import annotations

from PySide6.QtCore import QLocale
from PySide6.QtGui import QDoubleValidator, QPalette
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QLineEdit, QSpinBox, QWidget

from ...core.data import DATASETS
from ...core.engine import OPTIMIZERS, TrainConfig, TrainingError, available_devices
from ...core.presets import PRESET_NAMES, preset_config, preset_features
from ..settings import Settings
from ..widgets.text import Retranslating, fill


def select_data(combo: QComboBox, data) -> bool:
    """Select the item holding ``data``; False (and no change) when there is none."""
    index = combo.findData(data)
    if index >= 0:
        combo.setCurrentIndex(index)
    return index >= 0


class RecipeForm(Retranslating, QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.dataset_combo = QComboBox()
        for key, info in DATASETS.items():
            self.dataset_combo.addItem(info.title, key)
        self.preset_combo = QComboBox()
        for name in PRESET_NAMES:
            self.preset_combo.addItem(name, name)
        self.preset_note = QLabel()
        self.preset_note.setWordWrap(True)
        # A role, not a style sheet: a style sheet's palette() keeps the colours of the moment it
        # was set, and the note stayed dark grey after a switch to the dark palette.
        self.preset_note.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(1, 1000)
        self.batch_spin = QSpinBox()
        self.batch_spin.setRange(1, 60000)
        self.batch_spin.setSingleStep(32)
        self.lr_edit = QLineEdit()
        validator = QDoubleValidator(1e-7, 10.0, 7, self.lr_edit)
        validator.setNotation(QDoubleValidator.Notation.ScientificNotation)
        validator.setLocale(QLocale.c())  # 0.001 everywhere: the form the tutorial and the CLI use
        self.lr_edit.setValidator(validator)
        self.optimizer_combo = QComboBox()
        for key in OPTIMIZERS:
            self.optimizer_combo.addItem(key, key)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.device_combo = QComboBox()
        for name, description in available_devices():
            self.device_combo.addItem(description, name)

        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.labels: dict[str, QLabel] = {}
        for name, field in (("dataset", self.dataset_combo), ("preset", self.preset_combo), ("note", self.preset_note),
                            ("epochs", self.epochs_spin), ("batch", self.batch_spin), ("lr", self.lr_edit),
                            ("optimizer", self.optimizer_combo), ("seed", self.seed_spin),
                            ("device", self.device_combo)):
            if field is self.preset_note:
                form.addRow("", field)
                continue
            label = QLabel()
            label.setBuddy(field)
            self.labels[name] = label
            form.addRow(label, field)
        self.fields = (self.dataset_combo, self.preset_combo, self.epochs_spin, self.batch_spin,
                       self.lr_edit, self.optimizer_combo, self.seed_spin, self.device_combo)
        self.preset_combo.currentIndexChanged.connect(lambda _: self.apply_preset(self.preset_key))
        self.dataset_combo.currentIndexChanged.connect(lambda _: self._follow_dataset())
        self._filled_from: tuple[str, str] | None = None  # (preset, data set) the fields were filled for
        self.retranslate()

    def retranslate(self) -> None:
        for name, text in (("dataset", self.tr("&Data set:")), ("preset", self.tr("&Preset:")),
                           ("epochs", self.tr("&Epochs:")), ("batch", self.tr("&Batch size:")),
                           ("lr", self.tr("&Learning rate:")), ("optimizer", self.tr("&Optimizer:")),
                           ("seed", self.tr("&Seed:")), ("device", self.tr("De&vice:"))):
            self.labels[name].setText(text)
        presets = {"classic": self.tr("classic (the tutorial's recipe)"), "modern": self.tr("modern (ReLU, batch norm)"),
                   "robust": self.tr("robust (real inputs, calibrated)")}
        optimizers = {"adam": "Adam", "adamw": "AdamW", "sgd": self.tr("SGD (momentum 0.9)")}
        devices = {"cpu": self.tr("CPU")}
        for combo, texts in ((self.preset_combo, presets), (self.optimizer_combo, optimizers),
                             (self.device_combo, devices)):
            for index in range(combo.count()):  # texts only: the items keep their data and order
                key = combo.itemData(index)
                if key in texts:
                    combo.setItemText(index, texts[key])
        self.lr_edit.setToolTip(self.tr("Learning rate (the peak rate for the one-cycle schedule), e.g. 0.001 or 1e-3"))
        self._update_preset_note()

    @property
    def dataset_key(self) -> str:
        return self.dataset_combo.currentData()

    @property
    def preset_key(self) -> str:
        return self.preset_combo.currentData()

    def set_editable(self, editable: bool) -> None:
        for widget in self.fields:
            widget.setEnabled(editable)

    def apply_preset(self, preset: str) -> None:
        """Fill the fields with the preset's values; the user may edit them afterwards."""
        self._show_values(self._preset_values(preset_config(preset, self.dataset_key)))
        self._filled_from = (preset, self.dataset_key)
        self._update_preset_note()

    def _follow_dataset(self) -> None:
        # A preset may differ per data set (more epochs for garments): the fields still showing
        # the previous data set's values take the new one's, and the user's own edits stay.
        if self._filled_from is not None:
            before = self._preset_values(preset_config(*self._filled_from))
            after = self._preset_values(preset_config(self._filled_from[0], self.dataset_key))
            shown = self._shown_values()
            self._show_values({name: after[name] for name in after if shown[name] == before[name]})
            self._filled_from = (self._filled_from[0], self.dataset_key)
        self._update_preset_note()

    @staticmethod
    def _preset_values(config: TrainConfig) -> dict:
        return {"epochs": config.epochs, "batch": config.batch_size, "lr": f"{config.lr:g}",
                "optimizer": config.optimizer}

    def _shown_values(self) -> dict:
        return {"epochs": self.epochs_spin.value(), "batch": self.batch_spin.value(),
                "lr": self.lr_edit.text().strip(), "optimizer": self.optimizer_combo.currentData()}

    def _show_values(self, values: dict) -> None:
        if "epochs" in values:
            self.epochs_spin.setValue(values["epochs"])
        if "batch" in values:
            self.batch_spin.setValue(values["batch"])
        if "lr" in values:
            self.lr_edit.setText(values["lr"])
        if "optimizer" in values:
            select_data(self.optimizer_combo, values["optimizer"])

    def _update_preset_note(self) -> None:
        if self.preset_key == "classic":
            self.preset_note.setText(self.tr("Sigmoid activations, max pooling, constant learning rate, "
                                             "no augmentation: d2l's LeNet exactly."))
            return
        # Built from the preset itself, which differs per data set, so the note cannot go stale.
        config = preset_config(self.preset_key, self.dataset_key)
        self.preset_note.setText(", ".join(self._feature_text(code, value)
                                           for code, value in preset_features(config)) + ".")

    def _feature_text(self, code: str, value) -> str:
        if code == "activation":
            return self.tr("ReLU") if value == "relu" else self.tr("sigmoid")
        if code == "schedule":
            return {"onecycle": self.tr("one-cycle schedule"), "cosine": self.tr("cosine schedule")}.get(value, value)
        if code == "augment":
            return {"real-inputs": self.tr("trained on inputs like users' own (strokes, scans, photos)")}.get(value, value)
        if code == "holdout":
            return fill(self.tr("the last %1 training images held out to calibrate its percentages and to tell "
                                "unfamiliar inputs apart"), f"{value:,}")
        texts = {
            "batch_norm": self.tr("batch norm"),
            "normalize": self.tr("normalised input"),
            "weight_decay": self.tr("weight decay %1"),
            "label_smoothing": self.tr("label smoothing %1"),
            "dropout": self.tr("dropout %1"),
            "augment_shift": self.tr("random shifts of up to %1 px"),
            "augment_flip": self.tr("random left-right flips"),
            "outlier_exposure": self.tr("outlier exposure %1"),
        }
        return fill(texts.get(code, code), f"{value:g}" if isinstance(value, float) else value)

    def current_config(self, threads: int | None) -> TrainConfig:
        """The settings on screen as a validated config (TrainingError with a clear message)."""
        text = self.lr_edit.text().strip().replace(",", ".")
        try:
            lr = float(text)
        except ValueError:
            raise TrainingError(fill(self.tr("The learning rate %1 is not a number; write it like 0.001 or 1e-3."),
                                     repr(text))) from None
        config = preset_config(
            self.preset_key, self.dataset_key,
            epochs=self.epochs_spin.value(), batch_size=self.batch_spin.value(), lr=lr,
            optimizer=self.optimizer_combo.currentData(), seed=self.seed_spin.value(),
            device=self.device_combo.currentData(), threads=threads,
        )
        config.validate()
        return config

    def load_config(self, config: TrainConfig) -> None:
        """Show a run's settings (Train again). The form holds the preset's name and the values
        it lets the user edit; the preset supplies the rest. A device this machine lacks falls
        back to the best one."""
        for combo, value in ((self.dataset_combo, config.dataset), (self.preset_combo, config.preset)):
            combo.blockSignals(True)
            select_data(combo, value)
            combo.blockSignals(False)
        self.apply_preset(self.preset_key)
        self.epochs_spin.setValue(config.epochs)
        self.batch_spin.setValue(config.batch_size)
        self.lr_edit.setText(f"{config.lr:g}")
        select_data(self.optimizer_combo, config.optimizer)
        self.seed_spin.setValue(config.seed)
        if not select_data(self.device_combo, config.device):
            self.device_combo.setCurrentIndex(0)

    # -- settings ---------------------------------------------------------------------------------

    def restore(self, settings: Settings) -> None:
        for combo, value in ((self.dataset_combo, settings.train_dataset), (self.preset_combo, settings.train_preset)):
            combo.blockSignals(True)
            select_data(combo, value)
            combo.blockSignals(False)
        self.apply_preset(self.preset_key)
        if settings.has_train_recipe:
            self.epochs_spin.setValue(settings.train_epochs or self.epochs_spin.value())
            self.batch_spin.setValue(settings.train_batch_size or self.batch_spin.value())
            if settings.train_lr:
                self.lr_edit.setText(settings.train_lr)
            select_data(self.optimizer_combo, settings.train_optimizer)
        self.seed_spin.setValue(settings.train_seed)
        # A device saved on another machine (or a GPU since removed) falls back to the best one.
        if not select_data(self.device_combo, settings.train_device):
            self.device_combo.setCurrentIndex(0)

    def save(self, settings: Settings) -> None:
        settings.train_dataset = self.dataset_key
        settings.train_preset = self.preset_key
        settings.train_epochs = self.epochs_spin.value()
        settings.train_batch_size = self.batch_spin.value()
        settings.train_lr = self.lr_edit.text().strip()
        settings.train_optimizer = self.optimizer_combo.currentData()
        settings.train_seed = self.seed_spin.value()
        settings.train_device = self.device_combo.currentData()
