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


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash at any moment leaves the old file or the
    new one, whole: a temporary file in the same folder, flushed to disk, renamed over the
    target, and the rename made durable. Raises OSError."""
    import os
    import tempfile

    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if hasattr(os, "fchmod"):  # mkstemp creates the file private (0600)
            mask = os.umask(0)
            os.umask(mask)
            os.fchmod(fd, 0o666 & ~mask)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except OSError:
            pass
        raise
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass
