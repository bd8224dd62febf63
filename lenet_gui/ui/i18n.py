"""The window's language: which translations are installed on the QApplication, and switching.

The choice is a language code: ``"en"`` (the source texts, with a catalogue of only the
singular and plural of each text with a count) or ``"zh_CN"``; an empty choice follows the
system's locale. Installing a translator makes Qt send every widget a
``QEvent.LanguageChange``, on which each re-applies its texts (``retranslate()``), so a switch
takes effect at once, without a restart. Qt's own texts (file dialogs, message-box buttons) come
from the ``qtbase`` translation that ships with PySide6.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from ..core.resources import translation_path

SOURCE_LANGUAGE = "en"
# Each language named in itself, as a language menu shows it whatever the current language is.
LANGUAGES: dict[str, str] = {"en": "English", "zh_CN": "简体中文"}
APP_CATALOGUE = "lenet_studio"

_installed: list[QTranslator] = []
_current = SOURCE_LANGUAGE


def system_language(locale: QLocale | None = None) -> str:
    """The language of ``locale`` (default: the system's) among LANGUAGES, English otherwise.
    Simplified Chinese only: a Traditional-script locale (zh_TW, zh_HK) stays English."""
    locale = locale if locale is not None else QLocale.system()
    if locale.language() == QLocale.Language.Chinese and locale.script() != QLocale.Script.TraditionalChineseScript:
        return "zh_CN"
    return SOURCE_LANGUAGE


def resolve(choice: str | None) -> str:
    """A saved or typed choice as one of LANGUAGES: empty or unknown follows the system."""
    if choice:
        normalized = choice.replace("-", "_")
        for code in LANGUAGES:
            if normalized.lower() == code.lower():
                return code
    return system_language()


def catalogue(language: str) -> Path | None:
    """The bundled ``.qm`` of ``language``, or None when there is none."""
    return translation_path(f"{APP_CATALOGUE}_{language}")


def current_language() -> str:
    return _current


def set_language(language: str) -> str:
    """Install ``language``'s translations (replacing the previous ones) on the running
    application; returns the language now in use."""
    global _current
    app = QCoreApplication.instance()
    language = language if language in LANGUAGES else SOURCE_LANGUAGE
    if app is None:
        raise RuntimeError("set_language needs a QApplication")
    for translator in _installed:
        app.removeTranslator(translator)
    _installed.clear()
    candidates = []
    if language != SOURCE_LANGUAGE:  # Qt's own texts are English without a translation
        candidates.append((f"qtbase_{language}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)))
    own = catalogue(language)
    if own is not None:
        candidates.append((own.stem, str(own.parent)))
    for name, folder in candidates:
        translator = QTranslator(app)
        if translator.load(name, folder):
            app.installTranslator(translator)
            _installed.append(translator)
    _current = language
    return language
