"""The test set as the network sees it: one layer's activations per image, projected to 2-D.

Each test image becomes the vector of a layer's outputs (fc2's 84 values by default; fc1's 120
or pool2's 256 on request), computed by the model's own forward pass. PCA projects every test
image at once; t-SNE (openTSNE) runs on a fixed sample of them, reporting its progress and
stopping when asked. Either projection places a new input (the user's drawing) with the same
transform: PCA exactly, t-SNE by the mean position of the input's nearest neighbours in the
layer's space (openTSNE's own transform optimises for each new point, too slow for every
stroke of a pen).

Results are cached per model, layer and method, in memory and as ``.npz`` files in the per-user
cache folder, keyed by a digest of the model's weights and of the test images, so that a
second look is instant and a retrained model is never shown an old map. A damaged cache file
is ignored and made again.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .data import DataSplit, user_cache_folder
from .evaluation import mean_with_mirror
from .files import remove_stale_files
from .model import LAYER_SHAPES, LeNet

# The layers on offer, the default first: the last hidden layer is the space the classifier reads.
LAYERS = ("fc2", "fc1", "pool2")
METHODS = ("pca", "tsne")
# t-SNE's cost grows faster than linearly: a fixed sample keeps it to seconds on two cores.
TSNE_POINTS = 2000
TSNE_SEED = 0
TSNE_NEIGHBOURS = 10  # for placing a new input in a t-SNE map
# openTSNE's two phases (early exaggeration, then the main optimisation), in iterations.
TSNE_EARLY_ITERATIONS = 250
TSNE_ITERATIONS = 500
CALLBACK_EVERY = 10
BATCH = 1000
CACHE_FORMAT = 1  # bump when the stored arrays change meaning
MEMORY_ENTRIES = 12

Progress = Callable[[float], None]
"""Called with the fraction done, 0 to 1."""


class ProjectionError(RuntimeError):
    """A projection cannot be computed; the message says why."""


class ProjectionCancelled(Exception):
    """``should_stop`` asked for the computation to end."""


def layer_size(layer: str) -> int:
    return int(np.prod(LAYER_SHAPES[layer]))


@dataclass
class Projection:
    layer: str
    method: str  # "pca" | "tsne"
    indices: np.ndarray  # int64 (N,): which test images, in the split's order
    coords: np.ndarray  # float32 (N, 2)
    labels: np.ndarray  # int64 (N,): true classes
    predicted: np.ndarray  # int64 (N,): the model's classes
    # PCA: the centre and the two principal directions of the layer's space, and the share of
    # the variance each explains. t-SNE: empty.
    mean: np.ndarray
    components: np.ndarray
    explained: np.ndarray
    # t-SNE: the layer's vectors of the projected images, to place a new input among them. PCA: empty.
    features: np.ndarray

    def __len__(self) -> int:
        return int(self.indices.shape[0])

    @property
    def misclassified(self) -> np.ndarray:
        return self.labels != self.predicted

    def place(self, features: np.ndarray) -> np.ndarray:
        """Where inputs with these layer vectors (D,) or (M, D) fall on this map: (M, 2)."""
        x = np.asarray(features, dtype=np.float64).reshape(-1, layer_size(self.layer))
        if self.method == "pca":
            return ((x - self.mean) @ self.components.T).astype(np.float32)
        return place_by_neighbours(self.features, self.coords, x)

    # -- storage -------------------------------------------------------------------------------

    _ARRAYS = ("indices", "coords", "labels", "predicted", "mean", "components", "explained", "features")

    def save(self, path: Path) -> None:
        """Write atomically (a reader never sees half a file); OSError when the folder is not writable."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, format=np.array(CACHE_FORMAT), layer=np.array(self.layer), method=np.array(self.method),
                         **{name: getattr(self, name) for name in self._ARRAYS})
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    @classmethod
    def load(cls, path: Path, layer: str, method: str) -> "Projection | None":
        """The projection stored at ``path``, or None when it is missing, damaged or not what was asked."""
        try:
            with np.load(path, allow_pickle=False) as data:
                if int(data["format"]) != CACHE_FORMAT or str(data["layer"]) != layer or str(data["method"]) != method:
                    return None
                arrays = {name: np.array(data[name]) for name in cls._ARRAYS}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, TypeError):
            return None
        projection = cls(layer=layer, method=method, **arrays)
        return projection if projection._consistent() else None

    def _consistent(self) -> bool:
        n, d = len(self.indices), layer_size(self.layer)
        ok = (self.coords.shape == (n, 2) and self.labels.shape == (n,) and self.predicted.shape == (n,)
              and np.isfinite(self.coords).all())
        if self.method == "pca":
            return ok and self.mean.shape == (d,) and self.components.shape == (2, d)
        return ok and self.features.shape == (n, d)


# ---------------------------------------------------------------------------------------------
# Computing


@torch.no_grad()
def layer_features(model: LeNet, images: torch.Tensor, layer: str,
                   should_stop: Callable[[], bool] = lambda: False,
                   progress: Progress | None = None, average_mirror: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``layer``'s outputs (N x D, float32) and the predicted classes (N,) of uint8 images N x 28 x 28,
    by the model's own forward pass in eval mode. ``average_mirror``: the classes predicted as
    everywhere else for a model read with the mirror image (``Calibration.average_mirror``); the
    outputs stay those of the image's own pass, as the Inspect views show them."""
    if layer not in LAYERS:
        raise ProjectionError(f"unknown layer {layer!r}; choose one of: {', '.join(LAYERS)}")
    model.eval()
    feats, predicted = [], []
    n = int(images.shape[0])
    for start in range(0, n, BATCH):
        if should_stop():
            raise ProjectionCancelled()
        x = images[start:start + BATCH].float().div_(255).unsqueeze_(1)
        logits, acts = model(x, return_activations=True)
        feats.append(acts[layer].flatten(1).float().numpy())
        read = logits.double().numpy()
        predicted.append((mean_with_mirror(model, x, read) if average_mirror else read).argmax(1))
        if progress is not None:
            progress(min(n, start + BATCH) / max(1, n))
    if not feats:
        return np.zeros((0, layer_size(layer)), np.float32), np.zeros(0, np.int64)
    return np.concatenate(feats), np.concatenate(predicted).astype(np.int64)


def fit_pca(features: np.ndarray, components: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean, the leading principal directions, the share of the variance each explains) of
    the rows of ``features``, by the SVD of the centred data. Each direction's sign is chosen
    so that its largest loading is positive: the same data always gives the same picture."""
    x = np.asarray(features, dtype=np.float64)
    mean = x.mean(axis=0)
    centred = x - mean
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    vt = vt[:components]
    largest = np.argmax(np.abs(vt), axis=1)
    vt = vt * np.sign(vt[np.arange(len(vt)), largest])[:, None]
    total = float((s ** 2).sum())
    explained = (s[:components] ** 2) / total if total > 0 else np.zeros(len(vt))
    if len(vt) < components:  # fewer samples or dimensions than asked: the missing axes are 0
        vt = np.vstack([vt, np.zeros((components - len(vt), x.shape[1]))])
        explained = np.concatenate([explained, np.zeros(components - len(explained))])
    return mean, vt, explained


def place_by_neighbours(features: np.ndarray, coords: np.ndarray, new: np.ndarray,
                        k: int = TSNE_NEIGHBOURS) -> np.ndarray:
    """Positions (M, 2) for new rows: the mean of the map positions of their ``k`` nearest
    rows of ``features`` (Euclidean, as t-SNE measured), weighted by inverse distance; a new
    row equal to a known one lands on it."""
    ref = np.asarray(features, dtype=np.float64)
    new = np.asarray(new, dtype=np.float64).reshape(-1, ref.shape[1])
    if len(ref) == 0:
        return np.zeros((len(new), 2), np.float32)
    k = min(k, len(ref))
    d2 = (new ** 2).sum(1)[:, None] - 2 * new @ ref.T + (ref ** 2).sum(1)[None, :]
    d = np.sqrt(np.maximum(d2, 0.0))
    nearest = np.argpartition(d, k - 1, axis=1)[:, :k]
    out = np.empty((len(new), 2))
    for row, idx in enumerate(nearest):
        dist = d[row, idx]
        if dist.min() <= 1e-9 * (1 + np.abs(ref[idx]).max()):
            out[row] = coords[idx[np.argmin(dist)]]
            continue
        w = 1.0 / dist
        out[row] = (w[:, None] * coords[idx]).sum(0) / w.sum()
    return out.astype(np.float32)


def tsne_sample(count: int, points: int | None = None) -> np.ndarray:
    """The test images t-SNE maps: a fixed random sample (of TSNE_POINTS), in the split's order."""
    points = TSNE_POINTS if points is None else points
    if count <= points:
        return np.arange(count, dtype=np.int64)
    return np.sort(np.random.default_rng(TSNE_SEED).choice(count, size=points, replace=False)).astype(np.int64)


def run_tsne(features: np.ndarray, progress: Progress | None = None,
             should_stop: Callable[[], bool] = lambda: False, threads: int = 1) -> np.ndarray:
    """openTSNE's embedding (N, 2) of the rows of ``features``; ProjectionCancelled when stopped."""
    try:
        from openTSNE import TSNE
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise ProjectionError(f"t-SNE needs the openTSNE package ({exc}): pip install openTSNE") from None
    n = len(features)
    if n < 4:
        raise ProjectionError(f"t-SNE needs at least 4 images; there are {n}")
    total = TSNE_EARLY_ITERATIONS + TSNE_ITERATIONS
    done = [0]

    def callback(iteration, error, embedding) -> bool:
        done[0] += CALLBACK_EVERY
        if should_stop():
            raise ProjectionCancelled()  # not openTSNE's interrupt: that would return a half-made map
        if progress is not None:
            progress(min(1.0, done[0] / total))
        return False

    if should_stop():
        raise ProjectionCancelled()
    tsne = TSNE(
        n_components=2,
        perplexity=min(30.0, max(1.0, (n - 1) / 3.0)),
        early_exaggeration_iter=TSNE_EARLY_ITERATIONS,
        n_iter=TSNE_ITERATIONS,
        random_state=TSNE_SEED,
        n_jobs=max(1, int(threads)),
        callbacks=callback,
        callbacks_every_iters=CALLBACK_EVERY,
        verbose=False,
    )
    embedding = tsne.fit(np.ascontiguousarray(features, dtype=np.float64))
    return np.asarray(embedding, dtype=np.float32)


def compute_projection(model: LeNet, split: DataSplit, layer: str = "fc2", method: str = "pca", *,
                       progress: Progress | None = None, should_stop: Callable[[], bool] = lambda: False,
                       threads: int = 1, tsne_points: int | None = None, average_mirror: bool = False) -> Projection:
    """Project ``split`` (the test set) as ``model`` sees it at ``layer``. PCA: every image;
    t-SNE: a fixed sample of ``tsne_points`` (default TSNE_POINTS). ``average_mirror``: see
    layer_features. Raises ProjectionCancelled, ProjectionError."""
    if method not in METHODS:
        raise ProjectionError(f"unknown projection method {method!r}; choose one of: {', '.join(METHODS)}")
    if len(split) == 0:
        raise ProjectionError("the test set holds no images")
    report = progress or (lambda _fraction: None)
    indices = tsne_sample(len(split), tsne_points) if method == "tsne" else np.arange(len(split), dtype=np.int64)
    # The forward pass is a small part of t-SNE's time and most of PCA's.
    share = 0.05 if method == "tsne" else 0.9
    images = split.images[torch.from_numpy(indices)]
    features, predicted = layer_features(model, images, layer, should_stop, lambda f: report(share * f),
                                         average_mirror)
    labels = split.labels.numpy()[indices].astype(np.int64)
    d = features.shape[1]
    if method == "pca":
        mean, components, explained = fit_pca(features)
        coords = ((features - mean) @ components.T).astype(np.float32)
        empty = np.zeros((0, d), np.float32)
        result = Projection(layer, method, indices, coords, labels, predicted, mean, components, explained, empty)
    else:
        coords = run_tsne(features, lambda f: report(share + (1 - share) * f), should_stop, threads)
        result = Projection(layer, method, indices, coords, labels, predicted, np.zeros(d), np.zeros((2, d)),
                            np.zeros(2), features.astype(np.float32))
    report(1.0)
    return result


# ---------------------------------------------------------------------------------------------
# The cache


def model_digest(model: LeNet) -> str:
    """A digest of everything that decides the model's outputs: its settings and every tensor of
    its state (weights, batch-norm statistics, the input normalisation)."""
    h = hashlib.sha256(json.dumps(model.config.to_dict(), sort_keys=True).encode())
    for name, tensor in model.state_dict().items():
        t = tensor.detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.float().numpy().tobytes())
    return h.hexdigest()


def split_digest(split: DataSplit) -> str:
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(split.images.numpy()).tobytes())
    h.update(np.ascontiguousarray(split.labels.numpy()).tobytes())
    return h.hexdigest()


def default_cache_folder() -> Path:
    return user_cache_folder() / "projections"


class ProjectionCache:
    """Projections by (model, test set, layer, method): the recent ones in memory, all on disk.

    Thread-safe: a worker thread stores what it computed while the window looks entries up.
    ``folder=None``: memory only."""

    def __init__(self, folder: Path | None | str = "default", memory_entries: int = MEMORY_ENTRIES):
        self.folder = default_cache_folder() if folder == "default" else (Path(folder) if folder else None)
        self.memory_entries = memory_entries
        self._memory: "OrderedDict[str, Projection]" = OrderedDict()
        self._split_digests: dict[int, tuple[torch.Tensor, str]] = {}
        self._lock = threading.Lock()

    def key(self, model: LeNet, split: DataSplit, layer: str, method: str, average_mirror: bool = False) -> str:
        images = split.images
        with self._lock:
            known = self._split_digests.get(id(images))
        if known is None or known[0] is not images:
            known = (images, split_digest(split))
            with self._lock:
                self._split_digests[id(images)] = known
        extra = f"tsne{TSNE_POINTS}-{TSNE_SEED}-{TSNE_EARLY_ITERATIONS}-{TSNE_ITERATIONS}" if method == "tsne" else ""
        extra += "|mirror" if average_mirror else ""
        h = hashlib.sha256(f"{CACHE_FORMAT}|{model_digest(model)}|{known[1]}|{layer}|{method}|{extra}".encode())
        return h.hexdigest()[:40]

    def path(self, key: str) -> Path | None:
        return self.folder / f"{key}.npz" if self.folder is not None else None

    def peek(self, key: str) -> Projection | None:
        """From memory only: cheap enough for the window thread."""
        with self._lock:
            found = self._memory.get(key)
            if found is not None:
                self._memory.move_to_end(key)
            return found

    def get(self, key: str, layer: str, method: str) -> Projection | None:
        """From memory, else from disk (a damaged or foreign file counts as missing)."""
        found = self.peek(key)
        if found is not None:
            return found
        path = self.path(key)
        if path is None or not path.is_file():
            return None
        found = Projection.load(path, layer, method)
        if found is not None:
            self._remember(key, found)
        return found

    def put(self, key: str, projection: Projection) -> None:
        """Keep it in memory and write it to disk; a cache folder that cannot be written only
        costs the next run the time to compute it again."""
        self._remember(key, projection)
        path = self.path(key)
        if path is None:
            return
        remove_stale_files(path.parent, ".*.npz.*.tmp", 3600)
        try:
            projection.save(path)
        except OSError:
            pass

    def _remember(self, key: str, projection: Projection) -> None:
        with self._lock:
            self._memory[key] = projection
            self._memory.move_to_end(key)
            while len(self._memory) > self.memory_entries:
                self._memory.popitem(last=False)


def project(model: LeNet, split: DataSplit, layer: str = "fc2", method: str = "pca", *,
            cache: ProjectionCache | None = None, progress: Progress | None = None,
            should_stop: Callable[[], bool] = lambda: False, threads: int = 1,
            average_mirror: bool = False) -> Projection:
    """The cached projection if there is one, else computed (and cached)."""
    if cache is None:
        return compute_projection(model, split, layer, method, progress=progress, should_stop=should_stop,
                                  threads=threads, average_mirror=average_mirror)
    key = cache.key(model, split, layer, method, average_mirror)
    found = cache.get(key, layer, method)
    if found is not None:
        if progress is not None:
            progress(1.0)
        return found
    result = compute_projection(model, split, layer, method, progress=progress, should_stop=should_stop,
                                threads=threads, average_mirror=average_mirror)
    cache.put(key, result)
    return result
