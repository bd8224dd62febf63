"""Where the bundled files live: pretrained checkpoints, the icon and the sample inputs."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHECKPOINTS = PROJECT_ROOT / "checkpoints"
ASSETS = PROJECT_ROOT / "assets"
SAMPLES = ASSETS / "samples"
ICON = ASSETS / "icon.png"

BUNDLED_MODELS = {
    "mnist": CHECKPOINTS / "lenet-mnist.pt",
    "fashion-mnist": CHECKPOINTS / "lenet-fashion-mnist.pt",
}


def model_path(name_or_path: str) -> Path:
    """``mnist``, ``fashion-mnist`` (the bundled models) or a path to a checkpoint."""
    return BUNDLED_MODELS.get(name_or_path, Path(name_or_path).expanduser())
