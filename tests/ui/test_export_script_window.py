"""Training ▸ Export as Python script… (also a button of the Train tab): the form's recipe as a
standalone script, through the save dialog every export uses."""

from __future__ import annotations

from tests.support import prerequisites

prerequisites.module("pytestqt")
from lenet_gui.ui.widgets import file_dialogs  # noqa: E402


class SaveDialog:
    """QFileDialog.getSaveFileName answered with ``answer`` (a name without its suffix, as
    users type it); remembers what it was asked."""

    def __init__(self, answer: str):
        self.answer = answer
        self.asked: list[tuple] = []

    def __call__(self, parent, title, start, filters, *rest):
        self.asked.append((title, start, filters))
        return self.answer, filters


def _fill_form(tab, preset="modern", dataset="mnist", epochs=3, batch=64, lr="0.02", seed=5):
    form = tab.recipe
    form.dataset_combo.setCurrentIndex(form.dataset_combo.findData(dataset))
    form.preset_combo.setCurrentIndex(form.preset_combo.findData(preset))
    form.epochs_spin.setValue(epochs)
    form.batch_spin.setValue(batch)
    form.lr_edit.setText(lr)
    form.seed_spin.setValue(seed)
    form.device_combo.setCurrentIndex(form.device_combo.findData("cpu"))


def _namespace(path) -> dict:
    namespace = {"__name__": "exported_recipe"}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
    return namespace


def test_the_menu_action_writes_the_forms_recipe_as_a_script(qtbot, window, monkeypatch, tmp_path):
    tab = window.train_tab
    action = tab.export_script_action
    assert action in window.training_menu.actions()
    assert tab.export_script_button.defaultAction() is action
    _fill_form(tab)
    dialog = SaveDialog(str(tmp_path / "my recipe"))
    monkeypatch.setattr(file_dialogs.QFileDialog, "getSaveFileName", dialog)
    messages = []
    tab.status_message.connect(messages.append)
    action.trigger()

    (title, start, filters), = dialog.asked
    assert title == "Export as Python script" and "*.py" in filters
    assert start.endswith("lenet-mnist-modern.py")
    path = tmp_path / "my recipe.py"  # the suffix the user left out
    namespace = _namespace(path)
    assert (namespace["num_epochs"], namespace["batch_size"], namespace["lr"], namespace["seed"]) == (3, 64, 0.02, 5)
    assert namespace["label_smoothing"] == 0.1 and namespace["max_shift"] == 2  # modern on digits
    source = path.read_text(encoding="utf-8")
    assert "torchvision.datasets.MNIST(" in source and "OneCycleLR" in source and "nn.BatchNorm2d(6)" in source
    assert 'default="cpu"' in source
    # The window's own thread choice is not the script's: it picks for the machine it runs on.
    assert 'parser.add_argument("--threads", type=int,\n' in source
    assert tab.error_text == ""
    assert any(str(path) in m for m in messages)
    assert f"python '{path}' --data-root DIR" in tab.log.toPlainText()  # quoted: the name has a space
    assert window.settings.exports_folder == str(tmp_path)  # the next dialog starts here


def test_the_classic_recipe_exported_from_the_button_is_the_tutorials(qtbot, window, monkeypatch, tmp_path):
    tab = window.train_tab
    _fill_form(tab, preset="classic", dataset="fashion-mnist", epochs=5, batch=256, lr="0.001", seed=0)
    monkeypatch.setattr(file_dialogs.QFileDialog, "getSaveFileName", SaveDialog(str(tmp_path / "classic.py")))
    tab.export_script_button.click()
    source = (tmp_path / "classic.py").read_text(encoding="utf-8")
    assert "nn.Sigmoid()" in source and "torch.optim.Adam(net.parameters(), lr=lr)" in source
    assert "lr_scheduler" not in source and "transforms.Random" not in source and "Normalize" not in source


def test_a_failed_write_is_shown_and_nothing_is_left(qtbot, window, monkeypatch, tmp_path):
    tab = window.train_tab
    target = tmp_path / "no such folder" / "recipe.py"
    monkeypatch.setattr(file_dialogs.QFileDialog, "getSaveFileName", SaveDialog(str(target)))
    tab.export_script_action.trigger()
    assert "Cannot write" in tab.error_text and str(target) in tab.error_text
    assert not target.parent.exists()
    # The next export that works clears the message.
    monkeypatch.setattr(file_dialogs.QFileDialog, "getSaveFileName", SaveDialog(str(tmp_path / "ok.py")))
    tab.export_script_action.trigger()
    assert (tmp_path / "ok.py").exists() and tab.error_text == ""


def test_an_invalid_form_says_why_before_asking_for_a_file(qtbot, window, monkeypatch):
    tab = window.train_tab
    _fill_form(tab, lr="fast")
    dialog = SaveDialog("")
    monkeypatch.setattr(file_dialogs.QFileDialog, "getSaveFileName", dialog)
    tab.export_script_action.trigger()
    assert "learning rate" in tab.error_text and "'fast'" in tab.error_text
    assert dialog.asked == []


def test_cancelling_the_dialog_writes_nothing(qtbot, window, monkeypatch, tmp_path):
    tab = window.train_tab
    monkeypatch.setattr(file_dialogs.QFileDialog, "getSaveFileName", SaveDialog(""))
    folder = tmp_path / "exports"
    folder.mkdir()
    window.settings.exports_folder = str(folder)
    tab.export_script_action.trigger()
    assert list(folder.iterdir()) == [] and tab.error_text == ""
