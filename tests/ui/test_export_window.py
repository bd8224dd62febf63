"""File ▸ Export model… in the window: the session's current model, in the formats of the
export table, written in the background, read back by onnxruntime and torch.export.load."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from lenet_gui.core.preprocess import preprocess_image
from lenet_gui.core.resources import sample_path
from lenet_gui.ui import main_window as main_window_module
from lenet_gui.ui.widgets import file_dialogs

EXPORT_WAIT_MS = 180_000  # a hang guard only: an ONNX export takes seconds


class FakeSaveDialog:
    """QFileDialog.getSaveFileName as a user answers it: a typed name and a chosen filter."""

    def __init__(self, answer_name: str, choose: str):
        self.answer_name, self.choose = answer_name, choose
        self.asked: dict = {}

    def __call__(self, parent, title, start, filters, selected=""):
        self.asked = {"title": title, "start": start, "filters": filters.split(";;"), "selected": selected}
        chosen = next(f for f in self.asked["filters"] if self.choose in f)
        return self.answer_name, chosen


def _export_through_the_menu(qtbot, window, monkeypatch, dialog) -> tuple[str, str]:
    monkeypatch.setattr(file_dialogs.QFileDialog, "getSaveFileName", dialog)
    assert window.export_model_action in window.file_menu.actions()
    assert window.export_model_action.isEnabled()
    with qtbot.waitSignal(window.export_finished, timeout=EXPORT_WAIT_MS,
                          raising=True) as blocker:
        window.export_model_action.trigger()
        # While it runs in the background the window stays usable, and a second export waits.
        assert not window.export_model_action.isEnabled()
    path, error = blocker.args
    return path, error


def test_export_model_writes_the_current_model_as_onnx(qtbot, window, monkeypatch, tmp_path):
    ort = pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
    window.settings.exports_folder = str(tmp_path)
    dialog = FakeSaveDialog(str(tmp_path / "my digits"), choose="*.onnx")
    path, error = _export_through_the_menu(qtbot, window, monkeypatch, dialog)

    # The dialog offered every format of the table, ONNX first, named after the model's file.
    assert [f.rsplit("(", 1)[1] for f in dialog.asked["filters"]] == ["*.onnx)", "*.pt2)", "*.csv)"]
    assert dialog.asked["selected"] == dialog.asked["filters"][0]
    assert dialog.asked["start"] == str(tmp_path / "lenet-mnist.onnx")
    # The name the user typed got the chosen format's suffix.
    assert (error, path) == ("", str(tmp_path / "my digits.onnx"))
    assert window.export_model_action.isEnabled()
    assert "my digits.onnx" in window.statusBar().currentMessage()

    # The file is the model the window shows: same class names, same probabilities.
    current = window.session.current_model
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    classes = json.loads(session.get_modelmeta().custom_metadata_map["classes"])
    assert classes == current.classes == [str(d) for d in range(10)]
    x = preprocess_image(sample_path("digit-7-chalk.png"), "digit").tensor.reshape(1, 1, 28, 28)
    (probabilities,) = session.run(["probabilities"], {"image": x.numpy().astype(np.float32)})
    temperature = current.metadata["calibration"]["temperature"]  # as the window divides them
    with torch.no_grad():
        expected = torch.softmax(current.model(x.float()) / temperature, 1).numpy()
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)
    assert classes[int(probabilities.argmax())] == "7"


def test_export_model_as_pt2_of_the_model_chosen_in_classify(qtbot, window, monkeypatch, tmp_path):
    # The user switches the Classify tab to the Fashion-MNIST model: that is what is exported.
    fashion = next(i for i, (title, _) in enumerate(window.session.model_entries()) if "Fashion" in title)
    window.session.set_model(window.session.load_entry(fashion))
    dialog = FakeSaveDialog(str(tmp_path / "garments"), choose="*.pt2")
    path, error = _export_through_the_menu(qtbot, window, monkeypatch, dialog)
    assert (error, path) == ("", str(tmp_path / "garments.pt2"))
    extra = {"lenet_studio.json": ""}
    program = torch.export.load(path, extra_files=extra).module()
    assert json.loads(json.loads(extra["lenet_studio.json"])["classes"])[1] == "Trouser"
    x = preprocess_image(sample_path("garment-trouser.jpg"), "garment").tensor.reshape(1, 1, 28, 28).float()
    _, probabilities = program(x)
    assert int(probabilities.argmax()) == 1


def test_a_failed_export_is_reported_and_the_action_comes_back(qtbot, window, monkeypatch, tmp_path):
    warnings = []
    monkeypatch.setattr(main_window_module.QMessageBox, "warning",
                        lambda parent, title, text: warnings.append((title, text)))
    target = tmp_path / "no such folder" / "model.pt2"
    dialog = FakeSaveDialog(str(target), choose="*.pt2")
    path, error = _export_through_the_menu(qtbot, window, monkeypatch, dialog)
    assert path == str(target) and error
    assert len(warnings) == 1 and str(target) in warnings[0][1]
    assert window.export_model_action.isEnabled()
    assert not target.parent.exists()


def test_about_shows_the_installed_version(qtbot, window, monkeypatch):
    from importlib.metadata import version

    shown = []
    monkeypatch.setattr(main_window_module.QMessageBox, "about", lambda parent, title, text: shown.append(text))
    window.show_about()
    assert f"LeNet Studio {version('lenet-gui')}" in shown[0]
