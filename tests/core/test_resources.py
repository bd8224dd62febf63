"""The bundled files: found by name, and present in this checkout (core/resources.py)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from lenet_gui.core import resources
from lenet_gui.core.checkpoint import load_checkpoint


def test_the_two_bundled_models_are_found_by_their_data_set_name():
    assert set(resources.BUNDLED_MODELS) == {"mnist", "fashion-mnist"}
    for key in ("mnist", "fashion-mnist"):
        path = resources.model_path(key)
        assert path == resources.BUNDLED_MODELS[key] and path.is_file()
        assert load_checkpoint(path).dataset == key


def test_any_other_name_is_a_path_with_the_home_folder_expanded(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resources.model_path("~/models/mine.pt") == tmp_path / "models" / "mine.pt"
    assert resources.model_path("runs/fashion.pt") == Path("runs/fashion.pt")
    assert resources.model_path("MNIST") == Path("MNIST")  # the names are exact


def test_the_icon_and_the_samples_are_images():
    with Image.open(resources.ICON) as icon:
        assert icon.format == "PNG" and min(icon.size) >= 64
    samples = resources.sample_paths()
    assert len(samples) >= 13, samples
    assert resources.sample_path("digit-7-chalk.png") in samples
    for path in samples:
        with Image.open(path) as image:
            image.verify()


def test_a_translation_the_package_lacks_is_none():
    assert resources.translation_path("lenet_gui_no_such_locale") is None
