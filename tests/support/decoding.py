"""Waiting for the Classify tab's background image decode, as an event wait."""

from __future__ import annotations

from PySide6.QtCore import QEventLoop, QTimer

HANG_GUARD_MS = 30_000


def wait_for_decoding(tab) -> None:
    """Return once the tab shows the result of its latest decode (at once if none runs)."""
    if not tab.decoding:
        return
    loop = QEventLoop()
    tab.image_decoded.connect(loop.quit)
    guard = QTimer()
    guard.setSingleShot(True)
    guard.timeout.connect(loop.quit)
    guard.start(HANG_GUARD_MS)
    try:
        loop.exec()
    finally:
        tab.image_decoded.disconnect(loop.quit)
    assert not tab.decoding, f"the image was still decoding after {HANG_GUARD_MS / 1000:.0f} s"
