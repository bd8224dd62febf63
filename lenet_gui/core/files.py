"""Small file-system rules that several core modules follow."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Callable


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


def replace_atomically(path: Path, fill: Callable[[Path], None], *, keep_suffix: bool = False,
                       keep_mode: bool = False) -> None:
    """Replace ``path`` so that a crash at any moment leaves the old file or the new one, whole:
    ``fill(tmp)`` writes the new contents into a temporary file in the same folder, which is then
    flushed to disk, renamed over the target, and the rename made durable. The new file gets
    ordinary permissions (the umask's), or with ``keep_mode`` those of the file it replaces.
    ``keep_suffix``: the temporary ends in the target's suffix, for writers that insist on one
    (torch.export). On any failure the temporary is removed and the error raised (OSError, or
    whatever ``fill`` raised); ``path`` is untouched."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if keep_suffix:
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}")
    else:
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        fill(tmp)
        written = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(written)
        finally:
            os.close(written)
        mode = 0o666 & ~_umask()  # mkstemp creates the file private (0600)
        if keep_mode and path.is_file():
            try:
                mode = path.stat().st_mode & 0o777
            except OSError:
                pass
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
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


def write_atomically(path: Path, data: bytes) -> None:
    """``replace_atomically`` with these bytes. Raises OSError."""
    replace_atomically(path, lambda tmp: tmp.write_bytes(data))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
