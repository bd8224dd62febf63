"""Small file-system rules that several core modules follow."""

from __future__ import annotations

import time
from pathlib import Path


def remove_stale_files(folder: Path, pattern: str, older_than_seconds: float) -> None:
    """Delete the plain files in ``folder`` matching ``pattern`` (a glob whose literal parts the
    caller escaped) last modified more than ``older_than_seconds`` ago. Temporaries that a killed
    process left behind are found this way; one still in use is younger. Errors are ignored: a
    file that cannot be removed is left for the next time."""
    now = time.time()
    try:
        candidates = list(folder.glob(pattern))
    except OSError:
        return
    for candidate in candidates:
        try:
            if now - candidate.lstat().st_mtime > older_than_seconds and candidate.is_file():
                candidate.unlink()
        except OSError:
            pass
