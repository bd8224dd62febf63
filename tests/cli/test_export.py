"""`lenet-gui export model.onnx | model.pt2`: the bundled models leave the app and, read by
other runtimes (onnxruntime, torch.export.load), give what the app gives.

The references are the app's own commands as a user runs them: ``predict --json`` for the
probabilities of the sample inputs, ``evaluate`` for the test-set accuracy. The test images are
read straight from the official IDX files, not through the app's data code.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lenet_gui.__main__ import main
from lenet_gui.core.checkpoint import load_checkpoint
from lenet_gui.core.preprocess import preprocess_image
from lenet_gui.core.resources import model_path, sample_path, sample_paths

ort = pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
onnx = pytest.importorskip("onnx", reason="the onnx extra is not installed")

MNIST_CLASSES = [str(d) for d in range(10)]
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
MODELS = {
    # model: (data set folder, preprocessing, classes, sample-name prefix)
    "mnist": ("MNIST", "digit", MNIST_CLASSES, "digit-"),
    "fashion-mnist": ("FashionMNIST", "garment", FASHION_CLASSES, "garment-"),
}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Both bundled models in both formats, written by the CLI: {(model, suffix): path}."""
    folder = tmp_path_factory.mktemp("exports")
    paths = {}
    for model in MODELS:
        for suffix in (".onnx", ".pt2"):
            path = folder / f"{model}{suffix}"
            assert main(["export", str(path), "--model", model]) == 0
            paths[model, suffix] = path
    return paths


def _onnx_runner(path: Path):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])

    def run(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        logits, probabilities = session.run(["logits", "probabilities"], {"image": images})
        return logits, probabilities

    return run


def _pt2_runner(path: Path):
    module = torch.export.load(str(path)).module()

    def run(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with torch.no_grad():
            logits, probabilities = module(torch.from_numpy(images))
        return logits.numpy(), probabilities.numpy()

    return run


RUNNERS = {".onnx": _onnx_runner, ".pt2": _pt2_runner}


def _samples(model: str) -> list[Path]:
    prefix = MODELS[model][3]
    return [p for p in sample_paths() if p.name.startswith(prefix)]


def _predict_json(capsys, model: str, paths: list[Path]) -> dict[str, list[float]]:
    capsys.readouterr()
    assert main(["predict", "--json", "--model", model, *map(str, paths)]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return {Path(r["file"]).name: r["probabilities"] for r in records}


def _idx(path: Path) -> np.ndarray:
    data = path.read_bytes()
    ndim = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _official_test_set(data_root: Path, folder: str) -> tuple[np.ndarray, np.ndarray]:
    raw = data_root / folder / "raw"
    images, labels = raw / "t10k-images-idx3-ubyte", raw / "t10k-labels-idx1-ubyte"
    if not images.is_file() or not labels.is_file():
        pytest.skip(f"{folder}'s test set is not under {data_root}")
    return _idx(images), _idx(labels)


def test_onnx_file_names_its_input_and_outputs_and_carries_the_class_names(exported):
    for model, (_, kind, classes, _) in MODELS.items():
        graph_model = onnx.load(str(exported[model, ".onnx"]))
        onnx.checker.check_model(graph_model)
        (image,) = graph_model.graph.input
        assert image.name == "image"
        assert image.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
        dims = image.type.tensor_type.shape.dim
        assert dims[0].dim_param and not dims[0].dim_value, "the batch dimension is not free"
        assert [d.dim_value for d in dims[1:]] == [1, 28, 28]
        assert [o.name for o in graph_model.graph.output] == ["logits", "probabilities"]
        props = {p.key: p.value for p in graph_model.metadata_props}
        assert json.loads(props["classes"]) == classes
        assert props["dataset"] == model and props["input_kind"] == kind
        # The bundled models' calibration travels too: what the probabilities were divided by,
        # and the check that says an input is unlike the training data.
        block = load_checkpoint(model_path(model)).metadata["calibration"]
        assert float(props["temperature"]) == block["temperature"]
        assert json.loads(props["out_of_distribution"])["threshold"] == block["ood"]["threshold"]
        # Garments are read by the photo and its mirror image together, in the graph as in the app.
        assert props["average_mirror"] == ("true" if model == "fashion-mnist" else "false")
        assert block.get("average_mirror", False) is (model == "fashion-mnist")


def test_pt2_reloads_with_the_class_names(exported):
    for model, (_, kind, classes, _) in MODELS.items():
        extra = {"lenet_studio.json": ""}
        torch.export.load(str(exported[model, ".pt2"]), extra_files=extra)
        meta = json.loads(extra["lenet_studio.json"])
        assert json.loads(meta["classes"]) == classes
        assert meta["dataset"] == model and meta["input_kind"] == kind


@pytest.mark.parametrize("suffix", RUNNERS)
def test_any_batch_size_runs(exported, suffix):
    run = RUNNERS[suffix](exported["mnist", suffix])
    rng = np.random.default_rng(0)
    batch7 = rng.random((7, 1, 28, 28), dtype=np.float32)
    logits7, probs7 = run(batch7)
    assert logits7.shape == probs7.shape == (7, 10)
    np.testing.assert_allclose(probs7.sum(axis=1), 1, atol=1e-5)
    # Each image alone gives what it gives within the batch.
    for i in (0, 6):
        logits1, probs1 = run(batch7[i: i + 1])
        assert probs1.shape == (1, 10)
        np.testing.assert_allclose(probs1[0], probs7[i], atol=1e-6)


@pytest.mark.parametrize("suffix", RUNNERS)
@pytest.mark.parametrize("model", MODELS)
def test_probabilities_equal_predicts_on_the_samples(exported, capsys, model, suffix):
    samples = _samples(model)
    assert len(samples) >= 6
    expected = _predict_json(capsys, model, samples)
    kind = MODELS[model][1]
    # What predict feeds the network: the preprocessed 28 x 28 picture in [0, 1].
    batch = np.stack([preprocess_image(p, kind).tensor.reshape(1, 28, 28).numpy() for p in samples]).astype(np.float32)
    _, probabilities = RUNNERS[suffix](exported[model, suffix])(batch)
    for path, row in zip(samples, probabilities):
        np.testing.assert_allclose(row, expected[path.name], atol=1e-5, err_msg=path.name)


@pytest.mark.parametrize("model", MODELS)
def test_test_set_accuracy_equals_evaluates(exported, capsys, data_root, model):
    images, labels = _official_test_set(data_root, MODELS[model][0])
    capsys.readouterr()
    assert main(["evaluate", "--model", model, "--data-root", str(data_root)]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("test acc ")
    for suffix, runner in RUNNERS.items():
        run = runner(exported[model, suffix])
        correct = 0
        for start in range(0, len(images), 1000):
            x = (images[start: start + 1000].astype(np.float32) / 255)[:, None]
            _, probabilities = run(x)
            correct += int((probabilities.argmax(1) == labels[start: start + 1000]).sum())
        assert f"test acc {correct / len(images):.4f}" == first, suffix


def test_the_samples_are_classified_as_named_by_the_onnx_file(exported):
    # A user's check of an export: the file alone, with the names it carries.
    for model, (_, kind, _, prefix) in MODELS.items():
        graph_model = onnx.load(str(exported[model, ".onnx"]))
        classes = json.loads({p.key: p.value for p in graph_model.metadata_props}["classes"])
        run = _onnx_runner(exported[model, ".onnx"])
        for name, label in {"mnist": [("digit-7-chalk.png", "7"), ("digit-3-pen-photo.jpg", "3")],
                            "fashion-mnist": [("garment-trouser.jpg", "Trouser")]}[model]:
            x = preprocess_image(sample_path(name), kind).tensor.reshape(1, 1, 28, 28).numpy().astype(np.float32)
            _, probabilities = run(x)
            assert classes[int(probabilities.argmax())] == label, name


def test_without_the_onnx_packages_the_message_says_how_to_get_them(tmp_path, capsys, monkeypatch):
    # As if onnxscript were not installed (a module set to None cannot be imported or found).
    monkeypatch.setitem(sys.modules, "onnxscript", None)
    out = tmp_path / "model.onnx"
    assert main(["export", str(out), "--model", "mnist"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == ("lenet-gui: error: ONNX export needs the onnxscript package: "
                           "pip install 'lenet-gui[onnx]'")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name, words", [
    ("model.pt", "model.pt2"),
    ("model.h5", ".onnx, .pt2, .csv"),
    ("model", ".onnx, .pt2, .csv"),
])
def test_an_unknown_suffix_is_refused_naming_the_formats(tmp_path, capsys, name, words):
    assert main(["export", str(tmp_path / name), "--model", "mnist"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("lenet-gui: error: ") and words in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_a_failed_export_leaves_an_earlier_file_whole(tmp_path, capsys, monkeypatch):
    out = tmp_path / "model.pt2"
    assert main(["export", str(out), "--model", "mnist"]) == 0
    before = out.read_bytes()

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch.export, "save", fail)
    assert main(["export", str(out), "--model", "fashion-mnist"]) == 1
    assert "No space left on device" in capsys.readouterr().err
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt2"]
