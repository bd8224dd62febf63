"""References for the projector's numbers, computed without the code under test: a layer's
outputs captured by forward hooks on the modules, and PCA as the eigen-decomposition of the
covariance matrix."""

from __future__ import annotations

import numpy as np
import torch

from lenet_gui.core.model import LeNet


def hooked_layers(model: LeNet, images: torch.Tensor) -> dict[str, np.ndarray]:
    """pool2, fc1 and fc2 (N x D) for uint8 images N x 28 x 28 (or floats in [0, 1], N x 1 x 28 x 28)
    as the modules output them after activation and dropout, captured by forward hooks on a
    plain eval-mode forward: independent of the model's return_activations path."""
    modules = {"pool2": model.pool2, "fc1": model.drop1, "fc2": model.drop2}
    captured: dict[str, list[np.ndarray]] = {name: [] for name in modules}
    handles = [module.register_forward_hook(
        lambda _m, _i, out, name=name: captured[name].append(out.detach().flatten(1).numpy().copy()))
        for name, module in modules.items()]
    x = images.float().div(255).unsqueeze(1) if images.dtype == torch.uint8 else images.float()
    try:
        with torch.no_grad():
            model.eval()(x.reshape(-1, 1, 28, 28))
    finally:
        for handle in handles:
            handle.remove()
    return {name: np.concatenate(parts) for name, parts in captured.items()}


def pca_by_covariance(features: np.ndarray, new: np.ndarray | None = None):
    """(coordinates of the rows on the top two principal axes, those axes' shares of the
    variance, coordinates of the rows of ``new`` on the same axes), from the covariance matrix.
    Each axis's sign is arbitrary."""
    x = features.astype(np.float64)
    mean = x.mean(0)
    cov = (x - mean).T @ (x - mean) / (len(x) - 1)
    values, vectors = np.linalg.eigh(cov)
    order = np.argsort(values)[::-1][:2]
    axes = vectors[:, order]
    placed = None if new is None else (np.asarray(new, np.float64).reshape(-1, x.shape[1]) - mean) @ axes
    return (x - mean) @ axes, values[order] / values.sum(), placed
