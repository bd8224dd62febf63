"""The window in Simplified Chinese: a complete translation, and switching languages at run time.

The translation is checked against the code (lupdate run now finds nothing untranslated) and
against what a user sees: every visible text of every tab, menu and dialog, walked widget by
widget, must be Chinese except for names (LeNet, MNIST, conv1, CPU, …), numbers and file names.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.support import prerequisites  # noqa: E402

prerequisites.module("pytestqt")
from PySide6.QtCore import QSettings, QTimer  # noqa: E402
from PySide6.QtGui import QTextDocument  # noqa: E402
from PySide6.QtWidgets import (  # noqa: E402
    QAbstractButton, QApplication, QComboBox, QGroupBox, QLabel, QLineEdit, QMenu, QPlainTextEdit,
    QProgressBar, QTabWidget, QWidget,
)

from lenet_gui.core.checkpoint import LoadedModel  # noqa: E402
from lenet_gui.core.data import DATASETS  # noqa: E402
from lenet_gui.core.resources import sample_paths  # noqa: E402
from lenet_gui.ui import i18n  # noqa: E402
from lenet_gui.ui.main_window import MainWindow  # noqa: E402
from lenet_gui.ui.settings import Settings  # noqa: E402
from lenet_gui.ui.widgets.data_dialog import DatasetDialog  # noqa: E402
from lenet_gui.ui.widgets.text import display_class_name, display_model_title  # noqa: E402
from lenet_gui.ui.widgets.text_line import TextLine  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TS = ROOT / "lenet_gui" / "translations" / "lenet_studio_zh_CN.ts"
EN_TS = TS.with_name("lenet_studio_en.ts")  # English: only the texts with a count (%n)
BIN = Path(sys.executable).parent
RUN_TIMEOUT_MS = 60_000

# What may stay in Latin letters in the Chinese window: names, units, keys, formats.
NAMES = {
    "LeNet", "Studio", "MNIST", "Fashion-MNIST", "CPU", "GPU", "CUDA", "Adam", "AdamW", "SGD", "ReLU", "ONNX", "PyTorch", "Python",
    "sigmoid", "dropout", "Grad-CAM", "logit", "PNG", "CSV", "JPEG", "BMP", "GIF", "WebP", "TIFF", "IDX",
    "KB", "MB", "px", "Ctrl", "Esc", "Delete", "d2l", "lr", "raw", "gz", "DIR", "LENET_DATA_ROOT",
    "data-root", "English", "Zalando", "Research", "MIT", "LeCun", "Cortes", "Burges", "Y", "C", "e",
    "PCA", "t-SNE",
}
LAYER_NAME = re.compile(r"^(conv|pool|fc|flatten|relu|bn|logits)\d*$")
CODE = re.compile(r"print\(net\)")  # PyTorch's own call, shown as code
FILE_NAME = re.compile(r"\S+\.(png|jpe?g|pt|pth|csv|gz)\b|\S*/\S*|t10k-\S+|train-\S+")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*")
NUMBER = re.compile(r"\b\d+(\.\d+)?(e-?\d+)?\b")
KEYS = re.compile(r"\b(Ctrl|Shift|Alt|Meta)\+\S+")
MNEMONIC = re.compile(r"\(&\w\)|&(?=\w)")
CJK = re.compile(r"[\u4e00-\u9fff]")


def english_words(text: str, also_allowed: tuple[str, ...] = ()) -> list[str]:
    """The Latin-letter words of ``text`` that are not names, units or file names."""
    for allowed in also_allowed:
        text = text.replace(allowed, " ")
    text = CODE.sub(" ", FILE_NAME.sub(" ", text))
    text = MNEMONIC.sub(" ", NUMBER.sub(" ", KEYS.sub(" ", text)))
    return [w for w in WORD.findall(text) if w not in NAMES and not LAYER_NAME.match(w) and not w[0].isdigit()]


def plain(text: str) -> str:
    if "<" in text and ">" in text:
        doc = QTextDocument()
        doc.setHtml(text)
        return doc.toPlainText()
    return text


def menu_texts(menu: QMenu, where: str) -> list[tuple[str, str]]:
    found = [(where, menu.title())]
    for action in menu.actions():
        if action.isSeparator():
            continue
        found.append((f"{where} ▸ action", action.text()))
        if action.statusTip():  # the tips this app writes (Qt makes one from the text otherwise)
            found.append((f"{where} ▸ {action.text()} tip", action.statusTip()))
        if action.menu() is not None:
            found += menu_texts(action.menu(), f"{where} ▸ {action.text()}")
    return found


def visible_texts(root: QWidget) -> list[tuple[str, str]]:
    """Every text a user can read on ``root`` as it is now: (where, text)."""
    found: list[tuple[str, str]] = []
    widgets = [root] + root.findChildren(QWidget)
    for w in widgets:
        if not w.isVisible():
            continue
        name = f"{type(w).__name__} {w.objectName()}".strip()
        if w.toolTip():
            found.append((f"{name} tooltip", w.toolTip()))
        if isinstance(w, QLabel):
            found.append((name, plain(w.text())))
        elif isinstance(w, QAbstractButton):
            found.append((name, w.text()))
        elif isinstance(w, QGroupBox):
            found.append((name, w.title()))
        elif isinstance(w, QComboBox):
            found += [(f"{name} item", w.itemText(i)) for i in range(w.count())]
        elif isinstance(w, QTabWidget):
            found += [(f"{name} tab", w.tabText(i)) for i in range(w.count())]
        elif isinstance(w, (QLineEdit, QPlainTextEdit)):
            found.append((f"{name} placeholder", w.placeholderText()))
        elif isinstance(w, QProgressBar) and w.isTextVisible():
            found.append((name, w.format()))
        elif isinstance(w, TextLine):
            found.append((name, w.text()))
        if w.isWindow() and w.windowTitle():
            found.append((f"{name} title", w.windowTitle()))
    chart = getattr(root, "chart", None)
    for tab in root.findChildren(QWidget, "trainTab"):
        chart = tab.chart
        if chart.isVisible():
            found += [("chart axis", t) for t in chart.axis_texts()]
            found += [("chart legend", t) for t in chart.legend_texts()]
            found += [("runs list", t) for t in tab.runs_panel.run_texts()]
    return [(where, text) for where, text in found if text and text.strip()]


def window_texts(window: MainWindow) -> list[tuple[str, str]]:
    """Every tab's texts (each brought to the front in turn), the menus and the status bar."""
    found = []
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        QApplication.processEvents()
        found += [(f"tab {index}: {w}", t) for w, t in visible_texts(window)]
    for action in window.menuBar().actions():
        if action.menu() is not None:
            found += menu_texts(action.menu(), "menu")
    for page in range(window.inspect_tab.lower_tabs.count()):
        window.tabs.setCurrentWidget(window.inspect_tab)
        window.inspect_tab.lower_tabs.setCurrentIndex(page)
        QApplication.processEvents()
        found += [(f"inspect page {page}: {w}", t) for w, t in visible_texts(window.inspect_tab)]
    return found


def untranslated(texts, allowed=()) -> list[tuple[str, str, list[str]]]:
    return [(where, text, words) for where, text in texts if (words := english_words(text, allowed))]


@pytest.fixture
def english_afterwards(qapp):
    yield
    i18n.set_language("en")
    QApplication.processEvents()


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def _window(qtbot, settings, language: str) -> MainWindow:
    i18n.set_language(language)
    window = MainWindow(settings=settings)
    qtbot.addWidget(window)
    window.show()
    QApplication.processEvents()
    return window


def _show_an_input(qtbot, window: MainWindow) -> None:
    """A sample digit in the Classify tab, so that every view of the Inspect tab has content."""
    sample = [p for p in sample_paths() if p.name.startswith("digit-") and p.suffix == ".png"][0]
    assert window.classify_tab.load_image(sample)
    qtbot.waitUntil(lambda: window.session.current_input is not None, timeout=10_000)


# -- the translation source against the code --------------------------------------------------------


def _messages(ts: Path):
    for context in ET.parse(ts).getroot().iter("context"):
        for message in context.iter("message"):
            yield context.findtext("name"), message


def _translatable_sources() -> list[str]:
    """The files whose tr() texts lupdate reads, as scripts/update_translations.sh names them."""
    return sorted(str(p) for p in (ROOT / "lenet_gui").rglob("*.py") if "core" not in p.parts)


def test_every_text_of_the_translation_source_is_translated():
    problems = [(ctx, m.findtext("source"), m.find("translation").get("type"))
                for ctx, m in _messages(TS) if m.find("translation").get("type") is not None]
    assert problems == [], "unfinished, obsolete or vanished entries (run scripts/update_translations.sh)"
    numerus = [m for _ctx, m in _messages(TS) if m.get("numerus") == "yes"]
    assert numerus and all(len(m.find("translation").findall("numerusform")) == 1 for m in numerus), \
        "Chinese has one plural form"


def test_the_code_has_no_text_the_translation_source_lacks(tmp_path):
    """lupdate over the code now, into a copy: a new tr() text without its translation fails here."""
    copy = tmp_path / TS.name
    shutil.copy(TS, copy)
    subprocess.run([str(BIN / "pyside6-lupdate"), *_translatable_sources(), "-no-obsolete", "-locations", "none",
                    "-ts", str(copy)], check=True, capture_output=True)
    unfinished = [(ctx, m.findtext("source")) for ctx, m in _messages(copy)
                  if m.find("translation").get("type") == "unfinished"]
    assert unfinished == [], "texts without a translation: run scripts/update_translations.sh and translate them"
    before = {(ctx, m.findtext("source")) for ctx, m in _messages(TS)}
    after = {(ctx, m.findtext("source")) for ctx, m in _messages(copy)}
    assert after == before, "the .ts holds texts the code no longer has (or lacks some): run the script"


def test_every_count_has_its_english_singular_and_plural(tmp_path):
    """lupdate over the code now, plural texts only, into a copy of the English catalogue: each
    text with %n has both forms written out, with the source's placeholders."""
    copy = tmp_path / EN_TS.name
    shutil.copy(EN_TS, copy)
    subprocess.run([str(BIN / "pyside6-lupdate"), *_translatable_sources(), "-pluralonly", "-no-obsolete",
                    "-locations", "none", "-ts", str(copy)], check=True, capture_output=True)
    assert copy.read_bytes() == EN_TS.read_bytes(), "run scripts/update_translations.sh and write the new forms"
    messages = list(_messages(EN_TS))
    assert len(messages) == sum(1 for _ctx, m in _messages(TS) if m.get("numerus") == "yes")
    for _ctx, message in messages:
        source = message.findtext("source")
        forms = [f.text or "" for f in message.find("translation").findall("numerusform")]
        assert message.find("translation").get("type") is None and len(forms) == 2, source
        for form in forms:
            assert "(s)" not in form and sorted(re.findall(r"%\w", form)) == sorted(re.findall(r"%\w", source)), form


@pytest.mark.parametrize("ts", [TS, EN_TS], ids=lambda p: p.stem)
def test_the_compiled_translation_is_built_from_the_source(tmp_path, ts):
    rebuilt = tmp_path / "rebuilt.qm"
    subprocess.run([str(BIN / "pyside6-lrelease"), str(ts), "-qm", str(rebuilt)], check=True, capture_output=True)
    assert ts.with_suffix(".qm").read_bytes() == rebuilt.read_bytes(), "the .qm is stale: run scripts/update_translations.sh"


def test_the_command_line_offers_the_window_s_languages():
    from lenet_gui.__main__ import build_parser

    lang = next(a for a in build_parser()._actions if a.dest == "lang")
    assert list(lang.choices) == list(i18n.LANGUAGES)
    assert build_parser().parse_args(["--lang", "zh_CN"]).lang == "zh_CN"


def test_the_language_follows_the_system_unless_chosen():
    from PySide6.QtCore import QLocale

    assert i18n.system_language(QLocale("zh_CN")) == "zh_CN"
    assert i18n.system_language(QLocale("zh_SG")) == "zh_CN"
    assert i18n.system_language(QLocale("zh_TW")) == "en"  # Traditional script: not this translation
    assert i18n.system_language(QLocale("de_DE")) == "en"
    assert i18n.resolve("zh-CN") == "zh_CN" and i18n.resolve("en") == "en"
    assert i18n.resolve("") == i18n.system_language()


# -- what a user sees ----------------------------------------------------------------------------


def test_class_names_are_chinese_in_the_window_and_english_in_core(english_afterwards, qapp):
    i18n.set_language("zh_CN")
    fashion = DATASETS["fashion-mnist"].classes
    assert [display_class_name(c) for c in fashion] == [
        "T恤/上衣", "裤子", "套头衫", "连衣裙", "外套", "凉鞋", "衬衫", "运动鞋", "包", "短靴"]
    assert [display_class_name(c) for c in DATASETS["mnist"].classes] == [str(d) for d in range(10)]
    assert fashion[0] == "T-shirt/top"  # core, and so the command line, keep the English names
    i18n.set_language("en")
    assert display_class_name("Ankle boot") == "Ankle boot"


def test_a_model_the_app_named_is_named_in_the_window_s_language(english_afterwards, qapp):
    def model(title, preset="robust", dataset="mnist"):
        return LoadedModel(model=None, classes=[], dataset=dataset, input_kind="digit",
                           metadata={"title": title, "preset": preset, "dataset": dataset})

    i18n.set_language("zh_CN")
    assert display_model_title(model("LeNet (robust) on MNIST")) == "MNIST 上的 LeNet（稳健）"
    assert display_model_title(model("LeNet (classic) on Fashion-MNIST", "classic", "fashion-mnist")) == (
        "Fashion-MNIST 上的 LeNet（经典）")
    # a title the app did not make (a file name, one set by hand) is the user's: it stays
    assert display_model_title(model("my-digits.pt")) == "my-digits.pt"
    assert display_model_title(model("LeNet (robust) on MNIST", dataset="fashion-mnist")) == "LeNet (robust) on MNIST"
    odd = model("LeNet (robust) on MNIST")
    odd.metadata["dataset"] = ["mnist"]  # metadata load_checkpoint does not check: not read here
    assert display_model_title(odd) == "MNIST 上的 LeNet（稳健）"
    i18n.set_language("en")
    assert display_model_title(model("LeNet (robust) on MNIST")) == "LeNet (robust) on MNIST"


def test_every_visible_text_of_the_window_is_chinese(qtbot, settings, english_afterwards, data_root):
    window = _window(qtbot, settings, "zh_CN")
    _show_an_input(qtbot, window)
    window.inspect_tab.open_zoom("conv1", 0)
    texts = window_texts(window) + visible_texts(window.inspect_tab.zoom_dialog)
    assert len(texts) > 100, "the walk found too little to be a check"
    left = untranslated(texts)
    assert left == [], "texts left in English:\n" + "\n".join(map(repr, left))
    # The garments' model: its class names are words (digits are digits in any language).
    assert window.classify_tab.model_picker.choose(1)
    assert window.classify_tab.load_image([p for p in sample_paths() if p.name.startswith("garment-")][0])
    qtbot.waitUntil(lambda: window.session.current_input is not None, timeout=10_000)
    garments = window_texts(window)
    left = untranslated(garments)
    assert left == [], "texts left in English:\n" + "\n".join(map(repr, left))
    assert any("短靴" in text for _w, text in garments), "the garment class names are not shown translated"
    # Spot checks against the book's terms, independent of the walk.
    assert window.tabs.tabText(0) == "训练(&T)"
    assert window.train_tab.recipe.labels["batch"].text() == "批量大小(&B)："
    assert window.train_tab.recipe.labels["lr"].text() == "学习率(&L)："
    assert window.inspect_tab.maps.layer_title("input") == "输入"


def test_the_dialogs_are_chinese_qt_s_own_buttons_too(qtbot, settings, english_afterwards, tmp_path):
    window = _window(qtbot, settings, "zh_CN")
    dialog = DatasetDialog("fashion-mnist", str(tmp_path), Settings(settings), parent=window)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.use_folder(tmp_path)  # not a data set: the dialog says what the folder should hold
    texts = visible_texts(dialog)
    assert untranslated(texts) == []
    assert any(text == "取消" for _w, text in texts), "Qt's Cancel button is not translated"

    seen = {}

    def read_and_close():
        box = QApplication.activeModalWidget()
        if box is None:
            QTimer.singleShot(20, read_and_close)
            return
        seen["texts"] = visible_texts(box)
        box.accept()

    QTimer.singleShot(0, read_and_close)
    window.show_about()
    assert untranslated(seen["texts"]) == []
    assert any(text == "确定" for _w, text in seen["texts"]), "Qt's OK button is not translated"


def test_switching_the_language_updates_every_visible_text_at_once(qtbot, settings, english_afterwards, data_root):
    window = _window(qtbot, settings, "en")
    _show_an_input(qtbot, window)
    english = window_texts(window)
    assert untranslated(english) != [], "the check must see English texts in English"

    window.language_actions["zh_CN"].trigger()
    qtbot.waitUntil(lambda: window.tabs.tabText(0) == "训练(&T)", timeout=5000)
    assert untranslated(window_texts(window)) == []
    assert Settings(settings).language == "zh_CN", "the choice is remembered"
    assert window.language_actions["zh_CN"].isChecked()

    window.language_actions["en"].trigger()
    qtbot.waitUntil(lambda: window.tabs.tabText(0) == "&Train", timeout=5000)
    still_chinese = [(w, t) for w, t in window_texts(window) if CJK.search(t) and t != i18n.LANGUAGES["zh_CN"]]
    assert still_chinese == []
    assert Settings(settings).language == "en"


def test_switching_mid_training_rewrites_the_run_s_texts_and_the_run_goes_on(
        qtbot, settings, english_afterwards, data_root):
    window = _window(qtbot, settings, "en")
    tab = window.train_tab
    tab.train_limit, tab.test_limit = 3000, 500
    recipe = tab.recipe
    recipe.dataset_combo.setCurrentIndex(recipe.dataset_combo.findData("mnist"))
    recipe.preset_combo.setCurrentIndex(recipe.preset_combo.findData("classic"))
    recipe.epochs_spin.setValue(2)
    recipe.batch_spin.setValue(32)
    assert tab.start_training()
    qtbot.waitUntil(lambda: tab.progress.format().startswith("Epoch 1/2 · batch"), timeout=RUN_TIMEOUT_MS)
    assert tab.pause_action.isEnabled()
    tab.pause_action.trigger()  # holds the run in a known state while the texts are read
    assert window.run_state_label.text().startswith("Paused: epoch")

    window.set_language("zh_CN")
    qtbot.waitUntil(lambda: window.tabs.tabText(0) == "训练(&T)", timeout=5000)
    window.tabs.setCurrentWidget(tab)
    assert tab.running
    assert tab.progress.format().startswith("已暂停 — 第 1/2 轮 · 批次"), tab.progress.format()
    assert window.run_state_label.text().startswith("已暂停：第 ")
    assert tab.pause_action.text() == "继续(&R)"
    assert tab.pause_button.text() == "继续", "the button shows the mnemonic or a stale text"
    texts = visible_texts(window)
    assert untranslated(texts) == []
    assert any("样本/秒" in t for _w, t in texts), "the speed line is not rewritten"

    batches = len(tab.runs.records()[0].batch_loss)
    tab.pause_action.trigger()
    qtbot.waitUntil(lambda: len(tab.runs.records()[0].batch_loss) > batches, timeout=RUN_TIMEOUT_MS)
    assert tab.progress.format().startswith("第 "), tab.progress.format()
    qtbot.waitUntil(lambda: not tab.running, timeout=RUN_TIMEOUT_MS)
    assert tab.progress.format() == "完成"
    assert window.run_state_label.text() == "空闲"
    started = tab.runs.records()[0].started_at
    assert tab.runs_panel.run_texts()[0].startswith(f"MNIST · 经典 · {started[:10]} {started[11:16]}：测试准确率 ")
    assert tab.runs.records()[0].epochs_done == 2, "the run did not go on to the end"
