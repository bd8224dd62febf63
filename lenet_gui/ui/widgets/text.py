"""Filling translated sentences: Qt's ``%1``…``%9`` placeholders, the one way this app uses.

Translators see whole sentences with numbered places (``tr("Saved %1")``), which they may
reorder; plurals go through ``tr(text, "", n)`` with ``%n``. Values are put in all at once, so
a value that itself contains ``%2`` is never filled again.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent

from ...core.data import DATASETS
from ...core.history import model_title

_PLACE = re.compile(r"%([1-9])")


def fill(template: str, *values) -> str:
    """``fill(tr("Epoch %1/%2"), 3, 5)`` -> ``"Epoch 3/5"``; a place without a value stays."""

    def value(match: re.Match) -> str:
        index = int(match.group(1)) - 1
        return str(values[index]) if index < len(values) else match.group(0)

    return _PLACE.sub(value, template)


_MNEMONIC = re.compile(r"\(&\w\)|&(?=[^&])")


def button_text(action_text: str) -> str:
    """An action's text as a button shows it: without its mnemonic, also in the "(&S)" form that
    Chinese texts use (Qt drops only the "&" and would show "保存(S)"), and without a trailing "…"."""
    text = _MNEMONIC.sub("", action_text).replace("&&", "&")
    return text[:-1] if text.endswith("…") else text.removesuffix("...")


class Retranslating:
    """The one pattern for run-time language switches, mixed into a QWidget subclass before it
    (``class Panel(Retranslating, QWidget)``): the widget sets every text it shows in
    ``retranslate()``, which its constructor calls once it has built its children and which runs
    again on each ``QEvent.LanguageChange`` (Qt sends one to every widget when a translator is
    installed). Texts that depend on state are recomputed there from that state."""

    def retranslate(self) -> None:  # pragma: no cover - every user overrides it
        raise NotImplementedError

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)


# The class names of the data sets, as core names them (core stays English, as the command line
# does); the window shows them through display_class_name. Listed here for lupdate.
CLASS_NAMES = (
    QT_TRANSLATE_NOOP("classes", "T-shirt/top"),
    QT_TRANSLATE_NOOP("classes", "Trouser"),
    QT_TRANSLATE_NOOP("classes", "Pullover"),
    QT_TRANSLATE_NOOP("classes", "Dress"),
    QT_TRANSLATE_NOOP("classes", "Coat"),
    QT_TRANSLATE_NOOP("classes", "Sandal"),
    QT_TRANSLATE_NOOP("classes", "Shirt"),
    QT_TRANSLATE_NOOP("classes", "Sneaker"),
    QT_TRANSLATE_NOOP("classes", "Bag"),
    QT_TRANSLATE_NOOP("classes", "Ankle boot"),
)


def display_class_name(name: str) -> str:
    """A class name from core or a checkpoint, in the window's language (digits stay digits;
    a name the translation does not know, from a foreign checkpoint, stays as it is)."""
    return QCoreApplication.translate("classes", name)


def display_class_names(names) -> list[str]:
    return [display_class_name(name) for name in names]


# The presets' short names, as core names them; the window shows them through display_preset_name.
PRESET_NAMES = (
    QT_TRANSLATE_NOOP("presets", "classic"),
    QT_TRANSLATE_NOOP("presets", "modern"),
    QT_TRANSLATE_NOOP("presets", "robust"),
)


def display_preset_name(preset: str) -> str:
    """A preset's short name in the window's language (another name stays as it is)."""
    return QCoreApplication.translate("presets", preset)


def display_model_title(loaded) -> str:
    """A model's title in the window's language. The title the app gives a model it trains
    (``history.model_title``: "LeNet (robust) on MNIST", in every checkpoint it saves and in the
    bundled ones) is worded again; any other title (a file name, one set by hand) stays."""
    preset, dataset = loaded.metadata.get("preset"), loaded.dataset
    if isinstance(preset, str) and dataset in DATASETS and loaded.title == model_title(preset, DATASETS[dataset].title):
        return fill(QCoreApplication.translate("models", "LeNet (%1) on %2"), display_preset_name(preset),
                    DATASETS[dataset].title)
    return loaded.title
