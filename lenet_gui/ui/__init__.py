"""The Qt layer of LeNet Studio: widgets and windows on top of lenet_gui.core."""

import sys

import shiboken6


def _guard_none_refcount() -> None:
    """PySide6 6.12 on Python < 3.12 gives back None from every void Qt call without taking a
    reference (written for 3.12's immortal None): each ``update()``, ``setText()``, ``drawPath()``
    ... costs None one reference, and after a few thousand calls the interpreter aborts with
    "none_dealloc: deallocating None". pyproject.toml keeps 6.12 off Python 3.11; this keeps an
    environment that has it anyway alive, by giving None references it can never run out of."""
    if sys.version_info >= (3, 12) or not shiboken6.__version__.startswith("6.12"):
        return
    import ctypes

    ctypes.c_ssize_t.from_address(id(None)).value += 1 << 40


_guard_none_refcount()
