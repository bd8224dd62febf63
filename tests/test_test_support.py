"""The test suite's own safety nets: what a missing prerequisite does (tests/prerequisites.py)."""

from __future__ import annotations

import pytest

from tests import prerequisites


# -- missing prerequisites ---------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", "0", "false", "no"])
def test_outside_ci_a_missing_prerequisite_skips_and_says_why(monkeypatch, value):
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.skip.Exception) as caught:
        prerequisites.missing("The widget is not there.", "Put one there")
    assert str(caught.value) == "The widget is not there. Put one there."


@pytest.mark.parametrize("value", ["true", "1", "yes"])
def test_under_ci_a_missing_prerequisite_fails_the_run(monkeypatch, value):
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception) as caught:
        prerequisites.missing("The widget is not there", "Put one there")
    assert "CI is set" in str(caught.value) and "The widget is not there. Put one there." in str(caught.value)


def test_unset_data_root_says_how_to_set_it(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("LENET_DATA_ROOT", raising=False)
    with pytest.raises(pytest.skip.Exception) as caught:
        prerequisites.real_data_root()
    message = str(caught.value)
    assert "LENET_DATA_ROOT is not set" in message
    assert "MNIST/raw/" in message and "LENET_DATA_ROOT=/path/to/datasets" in message


def test_a_data_root_without_the_data_set_names_the_folder_looked_in(monkeypatch, tmp_path, make_fake_dataset):
    monkeypatch.delenv("CI", raising=False)
    make_fake_dataset(tmp_path, "fashion-mnist")  # Fashion-MNIST only
    monkeypatch.setenv("LENET_DATA_ROOT", str(tmp_path))
    assert prerequisites.real_data_root(holding="fashion-mnist") == tmp_path
    with pytest.raises(pytest.skip.Exception) as caught:
        prerequisites.real_dataset("mnist")
    assert str(tmp_path / "MNIST" / "raw") in str(caught.value)
    monkeypatch.setenv("LENET_DATA_ROOT", str(tmp_path / "absent"))
    with pytest.raises(pytest.skip.Exception, match="absent is not a folder"):
        prerequisites.real_data_root()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="absent is not a folder"):
        prerequisites.real_data_root()


def test_a_readable_data_root_gives_the_data_set(monkeypatch, fake_data_root):
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("LENET_DATA_ROOT", str(fake_data_root))
    assert len(prerequisites.real_dataset("mnist").train) == 200
