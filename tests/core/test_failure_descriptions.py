"""What the window says when a run fails: one title and message per kind of failure, a
traceback only for the unexpected ones (``describe_failure``; no window is needed)."""

from __future__ import annotations

import pytest
import torch

from lenet_gui.core.data import DatasetError
from lenet_gui.core.engine import NonFiniteLossError, TrainingError
from lenet_gui.core import runs
from lenet_gui.core.runs import describe_failure


def _raised(exc: BaseException) -> BaseException:
    """``exc`` with a traceback, as the worker catches it."""
    try:
        raise exc
    except BaseException as caught:  # noqa: BLE001
        return caught


def test_divergence_says_so_even_though_it_is_a_training_error():
    failure = describe_failure(_raised(NonFiniteLossError("The loss became nan at epoch 2, batch 7.")))
    assert (failure.kind, failure.message, failure.details) == (
        runs.DIVERGED, "The loss became nan at epoch 2, batch 7.", "")


def test_a_data_set_problem_passes_its_advice_on():
    advice = "train-images-idx3-ubyte is truncated. Delete it so that it is downloaded again."
    failure = describe_failure(_raised(DatasetError(advice)))
    assert (failure.kind, failure.message, failure.details) == (runs.DATA_SET, advice, "")


def test_a_setting_the_engine_refuses_is_cannot_train():
    failure = describe_failure(_raised(TrainingError("The training set is empty.")))
    assert (failure.kind, failure.message, failure.details) == (runs.INVALID_SETTINGS, "The training set is empty.", "")


@pytest.mark.parametrize("exc", [
    torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB\nmore advice"),
    RuntimeError("CUDA error: OUT OF MEMORY. Tried to allocate 2.00 GiB\nmore advice"),
], ids=["cuda-error", "runtime-error"])
def test_the_device_running_out_of_memory_suggests_a_smaller_batch(exc):
    failure = describe_failure(_raised(exc))
    assert failure.kind == runs.OUT_OF_MEMORY
    assert failure.message.startswith(
        "The device ran out of memory during training. Choose a smaller batch size, or train on the CPU. (")
    assert failure.message.endswith("Tried to allocate 2.00 GiB)")  # its first line only
    assert "more advice" not in failure.message and failure.details == ""


def test_a_long_out_of_memory_line_is_cut():
    failure = describe_failure(_raised(RuntimeError("out of memory " + "x" * 1000)))
    assert failure.message.endswith("(out of memory " + "x" * (200 - len("out of memory ")) + ")")


def test_the_computer_running_out_of_memory_suggests_closing_programs():
    failure = describe_failure(_raised(MemoryError()))
    assert (failure.kind, failure.message, failure.details) == (
        runs.OUT_OF_MEMORY,
        "The computer ran out of memory during training. Close other programs or choose a smaller batch size.",
        "")


def test_a_runtime_error_about_something_else_is_unexpected():
    failure = describe_failure(_raised(RuntimeError("mat1 and mat2 shapes cannot be multiplied")))
    assert failure.kind == runs.UNEXPECTED
    assert failure.message == ("Training stopped because of an unexpected error: RuntimeError: mat1 and "
                               "mat2 shapes cannot be multiplied. The details are in the log.")


def test_an_unexpected_error_names_itself_and_keeps_its_traceback_for_the_log():
    failure = describe_failure(_raised(KeyError("conv1.weight")))
    assert failure.kind == runs.UNEXPECTED
    assert failure.message == ("Training stopped because of an unexpected error: KeyError: "
                               "'conv1.weight'. The details are in the log.")
    assert failure.details.startswith("Traceback (most recent call last):")
    assert failure.details.rstrip().endswith("KeyError: 'conv1.weight'")
    assert "_raised" in failure.details  # where it was raised


def test_an_unexpected_error_without_a_message_or_with_many_lines():
    bare = describe_failure(_raised(ValueError()))
    assert bare.message == "Training stopped because of an unexpected error: ValueError. The details are in the log."
    long = describe_failure(_raised(ValueError("first line " + "y" * 500 + "\nsecond line")))
    first = ("first line " + "y" * 500)[:300]
    assert long.message == f"Training stopped because of an unexpected error: ValueError: {first}. The details are in the log."
    assert "second line" in long.details
