"""The Qt layer of LeNet Studio: widgets and windows on top of lenet_gui.core."""

import sys

import shiboken6


def _guard_singleton_refcounts() -> None:
    """Work around a reference-counting bug of PySide6 6.12.0 on Python < 3.12.

    Every call of a Qt method returning void drops one reference to None without having taken
    it (Signal.emit does the same to True). From Python 3.12 these objects are immortal and
    nothing happens; before, None's count (about 65 000 once torch is imported) reaches zero
    after that many calls, and CPython aborts with "deallocating None" - after a few hundred
    repaints of a busy widget. pyproject.toml keeps 6.12 off Python 3.11; this keeps an
    environment that has it anyway alive. None, True and False are static objects that are
    never freed, so giving them a huge count is harmless.
    """
    if sys.version_info >= (3, 12) or not shiboken6.__version__.startswith("6.12"):
        return
    if sys.implementation.name != "cpython" or hasattr(sys, "getobjects"):
        return  # another runtime, or a trace-refs build with another object layout
    import ctypes

    for singleton in (None, True, False):
        # ob_refcnt is the first field of every CPython object, at the address id() returns.
        ctypes.c_ssize_t.from_address(id(singleton)).value += 1 << 40


_guard_singleton_refcounts()
