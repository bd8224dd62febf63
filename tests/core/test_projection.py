"""The projector's numbers (core/projection.py), each against a reference computed here: layer
vectors captured by forward hooks on the modules, PCA as the eigen-decomposition of their
covariance matrix (tests/support/layer_references.py), and the cache's files read back by a
fresh cache."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest
import torch

from lenet_gui.core import projection
from lenet_gui.core.data import DataSplit
from lenet_gui.core.model import LeNet, ModelConfig
from lenet_gui.core.projection import (
    ProjectionCache,
    ProjectionCancelled,
    compute_projection,
    layer_features,
    project,
)
from tests.support.layer_references import hooked_layers, pca_by_covariance


def _model(seed: int = 0, **config) -> LeNet:
    torch.manual_seed(seed)
    # Batch norm with running statistics other than 0 / 1, and dropout: the features must be
    # what the model computes in eval mode.
    model = LeNet(ModelConfig(**({"activation": "relu", "batch_norm": True, "dropout": 0.3,
                                  "input_mean": 0.13, "input_std": 0.31} | config)))
    with torch.no_grad():
        for bn in (model.bn1, model.bn2, model.bn3, model.bn4):
            bn.running_mean.uniform_(-0.2, 0.2)
            bn.running_var.uniform_(0.5, 1.5)
    return model.eval()


@pytest.mark.parametrize("layer, size", [("fc2", 84), ("fc1", 120), ("pool2", 256)])
def test_features_are_the_models_own_layer_outputs(fake_dataset, layer, size):
    model, split = _model(), fake_dataset.test
    features, predicted = layer_features(model, split.images, layer)
    reference = hooked_layers(model, split.images)[layer]
    assert features.shape == (len(split), size)
    np.testing.assert_allclose(features, reference, rtol=1e-5, atol=1e-6)
    with torch.no_grad():
        logits = model(split.images.float().div(255).unsqueeze(1))
    np.testing.assert_array_equal(predicted, logits.argmax(1).numpy())


@pytest.mark.parametrize("layer", ["fc2", "pool2"])
def test_pca_coordinates_equal_the_covariance_eigenvectors_up_to_sign(fake_dataset, layer):
    model, split = _model(seed=3), fake_dataset.test
    result = compute_projection(model, split, layer, "pca")
    expected, shares, _ = pca_by_covariance(hooked_layers(model, split.images)[layer])
    assert len(result) == len(split)  # PCA shows every test image
    np.testing.assert_array_equal(result.indices, np.arange(len(split)))
    np.testing.assert_array_equal(result.labels, split.labels.numpy())
    for axis in range(2):
        sign = np.sign(np.dot(result.coords[:, axis], expected[:, axis]))
        np.testing.assert_allclose(result.coords[:, axis], sign * expected[:, axis], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(result.explained, shares, rtol=1e-5)


@pytest.mark.slow
def test_pca_on_the_bundled_model_and_the_real_test_set(bundled_models, fashion_mnist):
    from lenet_gui.core.checkpoint import load_checkpoint

    model = load_checkpoint(bundled_models["fashion-mnist"]).model
    split = fashion_mnist.test
    result = compute_projection(model, split, "fc2", "pca")
    expected, _, _ = pca_by_covariance(hooked_layers(model, split.images)["fc2"])
    assert len(result) == 10_000
    for axis in range(2):
        sign = np.sign(np.dot(result.coords[:, axis], expected[:, axis]))
        np.testing.assert_allclose(result.coords[:, axis], sign * expected[:, axis], atol=2e-4)
    # The misclassified points are the model's own mistakes (the bundled model: about 9 %).
    assert 0.02 < result.misclassified.mean() < 0.2


@pytest.mark.slow
def test_a_mirror_read_model_is_projected_with_the_predictions_of_every_other_view(bundled_models, fashion_mnist):
    # The bundled garment model is read with each image's mirror image: the map marks as
    # misclassified exactly the images the Test set view and `evaluate` count as wrong.
    from lenet_gui.core.checkpoint import load_checkpoint
    from lenet_gui.core.evaluation import evaluate_split

    loaded = load_checkpoint(bundled_models["fashion-mnist"])
    assert loaded.calibration.average_mirror
    split = fashion_mnist.test
    evaluated = evaluate_split(loaded.model, split, "fashion-mnist", loaded)
    result = compute_projection(loaded.model, split, "fc2", "pca", average_mirror=True)
    np.testing.assert_array_equal(result.predicted, evaluated.predicted)
    assert int(result.misclassified.sum()) == int((evaluated.predicted != evaluated.labels).sum())
    plain = compute_projection(loaded.model, split, "fc2", "pca")  # the image's own pass alone differs
    assert (plain.predicted != result.predicted).sum() > 10
    np.testing.assert_array_equal(plain.coords, result.coords)  # the map itself is the one pass's


def test_a_new_input_is_placed_with_the_maps_own_transform(fake_dataset):
    model, split = _model(seed=1), fake_dataset.test
    features, _ = layer_features(model, split.images, "fc2")
    pca = compute_projection(model, split, "fc2", "pca")
    # A test image's own vector lands on its own point; so does any vector by the same linear map.
    np.testing.assert_allclose(pca.place(features[7]), pca.coords[7:8], atol=1e-4)
    mid = (features[3] + features[9]) / 2
    np.testing.assert_allclose(pca.place(mid)[0], (pca.coords[3] + pca.coords[9]) / 2, atol=1e-4)


def test_tsne_places_a_new_input_among_its_nearest_neighbours(fake_dataset):
    model, split = _model(seed=2), fake_dataset.test
    tsne = compute_projection(model, split, "fc2", "tsne")
    assert np.isfinite(tsne.coords).all() and tsne.coords.std(0).min() > 0
    # A projected image's own vector: exactly its own point.
    np.testing.assert_allclose(tsne.place(tsne.features[5]), tsne.coords[5:6])
    # A vector close to one image lands near it, closer than most other points.
    near = tsne.features[11] + 1e-3 * np.abs(tsne.features).mean()
    placed = tsne.place(near)[0]
    distances = np.linalg.norm(tsne.coords - placed, axis=1)
    assert distances[11] <= np.quantile(distances, 0.1)


def test_tsne_uses_a_fixed_sample_of_a_large_test_set():
    a, b = projection.tsne_sample(10_000), projection.tsne_sample(10_000)
    assert len(a) == projection.TSNE_POINTS and len(np.unique(a)) == len(a)
    np.testing.assert_array_equal(a, b)  # the same images every time: the cache and the picture agree
    assert np.all(np.diff(a) > 0) and a[-1] > 9000  # spread over the whole set, in order
    np.testing.assert_array_equal(projection.tsne_sample(150), np.arange(150))


def test_tsne_reports_progress_and_stops_when_asked(fake_dataset):
    model, split = _model(), fake_dataset.test
    seen: list[float] = []
    compute_projection(model, split, "fc2", "tsne", progress=seen.append)
    assert len(seen) > 10 and seen == sorted(seen) and seen[-1] == 1.0 and 0 < seen[0] < 0.5

    stop = threading.Event()
    after_stop: list[float] = []

    def progress(fraction: float) -> None:
        if stop.is_set():
            after_stop.append(fraction)
        if fraction > 0.3:
            stop.set()

    with pytest.raises(ProjectionCancelled):
        compute_projection(model, split, "fc2", "tsne", progress=progress, should_stop=stop.is_set)
    assert after_stop == []  # it ended at the first check after the request


def test_a_second_look_comes_from_the_cache_with_identical_coordinates(fake_dataset, tmp_path, monkeypatch):
    model, split = _model(), fake_dataset.test
    first = project(model, split, "fc2", "tsne", cache=ProjectionCache(tmp_path))
    assert len(list(tmp_path.glob("*.npz"))) == 1

    def not_again(*args, **kwargs):
        raise AssertionError("computed again instead of read from the cache")

    monkeypatch.setattr(projection, "compute_projection", not_again)
    # A fresh cache on the same folder: the next run of the app.
    again = project(model, split, "fc2", "tsne", cache=ProjectionCache(tmp_path))
    np.testing.assert_array_equal(again.coords, first.coords)
    np.testing.assert_array_equal(again.indices, first.indices)
    np.testing.assert_array_equal(again.predicted, first.predicted)
    np.testing.assert_array_equal(again.place(first.features[0]), first.place(first.features[0]))


def test_other_weights_layer_or_method_are_not_served_from_the_cache(fake_dataset, tmp_path):
    model, split = _model(), fake_dataset.test
    cache = ProjectionCache(tmp_path)
    key = cache.key(model, split, "fc2", "pca")
    changed = _model()
    with torch.no_grad():
        changed.fc3.bias[0] += 1e-3  # one weight of a retrained model
    changed_stats = _model()
    changed_stats.bn4.running_mean[0] += 1e-3
    others = {cache.key(changed, split, "fc2", "pca"), cache.key(changed_stats, split, "fc2", "pca"),
              cache.key(model, split, "fc1", "pca"), cache.key(model, split, "fc2", "tsne"),
              cache.key(model, DataSplit(split.images.flip(0), split.labels.flip(0)), "fc2", "pca"),
              cache.key(model, split, "fc2", "pca", average_mirror=True)}
    assert key not in others and len(others) == 6
    assert cache.key(_model(), split, "fc2", "pca") == key  # the same weights: the same entry


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "wrong shape"])
def test_a_damaged_cache_file_is_ignored_and_rebuilt(fake_dataset, tmp_path, damage):
    model, split = _model(), fake_dataset.test
    good = project(model, split, "fc2", "pca", cache=ProjectionCache(tmp_path))
    (path,) = tmp_path.glob("*.npz")
    data = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(b"not a cache file" * 100)
    elif damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        broken = projection.Projection(**{**good.__dict__, "coords": good.coords[:10]})
        broken.save(path)
    rebuilt = project(model, split, "fc2", "pca", cache=ProjectionCache(tmp_path))
    np.testing.assert_allclose(rebuilt.coords, good.coords, atol=1e-6)
    # The file is whole again: the next look reads it.
    reread = ProjectionCache(tmp_path).get(path.stem, "fc2", "pca")
    assert reread is not None and len(reread) == len(split)


def test_an_unwritable_cache_folder_still_gives_the_projection(fake_dataset, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    result = project(_model(), fake_dataset.test, "fc2", "pca", cache=ProjectionCache(blocker / "cache"))
    assert len(result) == len(fake_dataset.test)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG rule is Linux's")
def test_the_cache_lives_in_the_per_user_cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert ProjectionCache().folder == tmp_path / "xdg" / "lenet-studio" / "projections"
