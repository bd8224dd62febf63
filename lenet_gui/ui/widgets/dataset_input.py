"""A test-set image as the session's current input: what a click in any view of the test set sets."""

from __future__ import annotations

import numpy as np
import torch
from PySide6.QtCore import QCoreApplication

from ...core.preprocess import Preprocessed
from ..session import CurrentInput
from .text import display_class_name, fill


def dataset_image_input(image: np.ndarray, index: int, true_class: str) -> CurrentInput:
    """Test image number ``index`` (uint8, 28 x 28) of class ``true_class`` (core's name): the
    model receives it as it is, scaled to [0, 1], since it is already in the data set's form."""
    image = np.array(image, dtype=np.uint8).reshape(28, 28)
    tensor = torch.from_numpy(image.astype(np.float32) / 255.0).unsqueeze(0)
    return CurrentInput(
        preprocessed=Preprocessed(tensor=tensor, blank=False),
        original=image,
        description=fill(QCoreApplication.translate("DatasetInput", "test image #%1 (true: %2)"), index,
                         display_class_name(true_class)),
    )
