"""Everything that leaves the app as a file, in one table keyed by the file's suffix.

``lenet-gui export OUTPUT`` and the window's File ▸ Export model… both go through ``export``,
so a format added here is offered by both.

The two model formats take and give the same thing:

    input   ``image``: float32, N x 1 x 28 x 28, values in [0, 1], ink white on black: the
            picture ``lenet-gui predict`` gives the network after its preprocessing (for digits:
            cropped, fitted into 20 x 20 and placed by centre of mass; for garments: trimmed,
            fitted into 28 x 28, a light background inverted). The model's own input
            normalisation is inside the graph. N, the batch, is free.
    outputs ``logits`` (N x 10; for a model read by an image and its mirror image, garments of
            the robust preset, the mean of the two) and ``probabilities`` (N x 10, the softmax
            of the logits divided by the model's temperature, as everywhere in the app: each
            row sums to 1).

The class names and how the model was made travel with the file: in ONNX's ``metadata_props``
(``classes`` is a JSON list in class order; also ``dataset``, ``input_kind``, ``title``,
``lenet_gui_version``, ``input``, ``outputs``, ``average_mirror``, ``temperature`` and ``out_of_distribution``: the
model's check as JSON, the energy -logsumexp(logits) above which an input is unlike the training
data, or empty without one), and for ``.pt2`` in the extra file
``lenet_studio.json`` of ``torch.export.save``, holding the same keys.
"""

from __future__ import annotations

import copy
import csv
import importlib.util
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from .checkpoint import LoadedModel
from .files import replace_atomically


class ExportError(RuntimeError):
    """The export cannot be done; the message says why."""


METRIC_COLUMNS = ("epoch", "loss", "train_acc", "test_acc", "seconds", "samples_per_sec", "lr")

INPUT_NAME = "image"
OUTPUT_NAMES = ("logits", "probabilities")
PT2_METADATA_FILE = "lenet_studio.json"
ONNX_PACKAGES = ("onnx", "onnxscript")  # what torch's ONNX exporter imports
ONNX_EXTRA_HINT = "pip install 'lenet-gui[onnx]'"


def write_metrics_csv(path, history) -> None:
    """Per-epoch figures (EpochResult.to_dict() rows, as checkpoints store them) as CSV.
    Raises OSError when the file cannot be written."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=METRIC_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(history)


def export_metadata(loaded: LoadedModel) -> dict[str, str]:
    """What an exported model carries besides its weights, as strings (ONNX's metadata_props
    hold strings only)."""
    from .. import app_version

    return {
        "classes": json.dumps(list(loaded.classes), ensure_ascii=False),
        "dataset": loaded.dataset or "",
        "input_kind": loaded.input_kind,
        "title": loaded.title,
        "lenet_gui_version": app_version(),
        "input": f"{INPUT_NAME}: float32 N x 1 x 28 x 28 in [0, 1], ink white on black, "
                 "as after LeNet Studio's preprocessing",
        "outputs": f"{OUTPUT_NAMES[0]}: N x 10"
                   + (", the mean of the image's and of its left-right mirror image's"
                      if loaded.calibration.average_mirror else "")
                   + f"; {OUTPUT_NAMES[1]}: N x 10, the softmax of the logits divided by the temperature",
        "average_mirror": "true" if loaded.calibration.average_mirror else "false",
        "temperature": repr(float(loaded.calibration.temperature)),
        "out_of_distribution": json.dumps(loaded.calibration.ood.to_dict()) if loaded.calibration.ood else "",
    }


class _WithProbabilities(torch.nn.Module):
    """The network read as the app reads it (core/calibration.py): its logits, averaged with its
    mirror image's for a model that says so, and their softmax divided by the temperature."""

    def __init__(self, model: torch.nn.Module, temperature: float = 1.0, average_mirror: bool = False):
        super().__init__()
        self.model = model
        self.temperature = float(temperature)
        self.average_mirror = bool(average_mirror)

    def forward(self, image: torch.Tensor):
        logits = self.model(image)
        if self.average_mirror:
            logits = (logits + self.model(torch.flip(image, dims=[3]))) / 2
        return logits, torch.softmax(logits / self.temperature, dim=1)


def _exportable(loaded: LoadedModel):
    """(module, example input, dynamic shapes) for torch.export and the ONNX exporter."""
    # A copy: tracing must not touch the module that the window may be running meanwhile.
    model = copy.deepcopy(loaded.model).cpu().eval()
    # Two images, not one: the exporters take a dimension of size 1 for a constant.
    example = torch.rand(2, 1, 28, 28)
    shapes = {INPUT_NAME: {0: torch.export.Dim("batch", min=1)}}
    calibration = loaded.calibration
    return _WithProbabilities(model, calibration.temperature, calibration.average_mirror).eval(), example, shapes


def _export_metrics(loaded: LoadedModel, path: Path) -> None:
    history = loaded.metadata.get("history") or []
    if not history:
        raise ExportError("the model has no recorded metrics to export")
    replace_atomically(path, lambda tmp: write_metrics_csv(tmp, history), keep_suffix=True)


def _export_program(loaded: LoadedModel, path: Path) -> None:
    module, example, shapes = _exportable(loaded)
    program = torch.export.export(module, (example,), dynamic_shapes=shapes)
    extra = {PT2_METADATA_FILE: json.dumps(export_metadata(loaded), ensure_ascii=False)}
    # torch.export.save refuses a file name without its suffix.
    replace_atomically(path, lambda tmp: torch.export.save(program, str(tmp), extra_files=extra), keep_suffix=True)


def missing_onnx_packages() -> list[str]:
    """The packages of the ``onnx`` extra that ONNX export needs and this Python lacks."""
    return [name for name in ONNX_PACKAGES if importlib.util.find_spec(name) is None]


def _export_onnx(loaded: LoadedModel, path: Path) -> None:
    missing = missing_onnx_packages()
    if missing:
        names = " and ".join(missing)
        raise ExportError(f"ONNX export needs the {names} package{'s' if len(missing) > 1 else ''}: "
                          f"{ONNX_EXTRA_HINT}")
    module, example, shapes = _exportable(loaded)
    with warnings.catch_warnings():
        # torch 2.13's exporter trips over its own deprecation (fixed in 2.14); not the user's concern.
        warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)", category=FutureWarning)
        program = torch.onnx.export(
            module, (example,), input_names=[INPUT_NAME], output_names=list(OUTPUT_NAMES),
            dynamic_shapes=shapes, dynamo=True, verbose=False,
        )
    metadata = export_metadata(loaded)
    program.model.doc_string = f"{loaded.title}, exported by LeNet Studio. {metadata['input']}; {metadata['outputs']}."
    for key, value in metadata.items():
        program.model.metadata_props[key] = value
    replace_atomically(path, lambda tmp: program.save(str(tmp), external_data=False), keep_suffix=True)


@dataclass(frozen=True)
class ExportFormat:
    suffix: str
    description: str  # for help texts (the window has its own, translated, names)
    write: Callable[[LoadedModel, Path], None]
    carries_model: bool  # the network itself, not only figures about it


EXPORT_FORMATS: dict[str, ExportFormat] = {
    ".onnx": ExportFormat(".onnx", "ONNX model (needs the onnx extra)", _export_onnx, True),
    ".pt2": ExportFormat(".pt2", "PyTorch model (torch.export)", _export_program, True),
    ".csv": ExportFormat(".csv", "per-epoch metrics (CSV)", _export_metrics, False),
}


def export_format(path: str | os.PathLike) -> ExportFormat:
    """The format a path asks for by its suffix. Raises ExportError for any other suffix."""
    suffix = Path(path).suffix.lower()
    if suffix in EXPORT_FORMATS:
        return EXPORT_FORMATS[suffix]
    known = ", ".join(EXPORT_FORMATS)
    if suffix == ".pt":
        raise ExportError("TorchScript export (.pt) has given way to torch.export: name the file "
                          f"{Path(path).with_suffix('.pt2').name} (formats: {known})")
    shown = f"the suffix {suffix}" if suffix else "a name without a suffix"
    raise ExportError(f"cannot tell the format from {shown}: use one of {known}")


def export(loaded: LoadedModel, path: str | os.PathLike) -> ExportFormat:
    """Write ``loaded`` to ``path`` in the format its suffix names. Raises ExportError when the
    model cannot be exported that way and OSError when the file cannot be written."""
    fmt = export_format(path)
    fmt.write(loaded, Path(path))
    return fmt
