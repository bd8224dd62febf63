"""Files that grow while they are read: a size check made on the open file reports less."""

from __future__ import annotations

import os


def report_an_earlier_size(monkeypatch, size: int = 1000) -> None:
    """Make ``os.fstat`` report ``size`` bytes, as a file still being written reports a moment
    before it grew; the file itself is as large as it is."""
    real_fstat = os.fstat

    def size_before_it_grew(fd):
        fields = list(real_fstat(fd))[:10]
        fields[6] = size  # st_size
        return os.stat_result(fields)

    monkeypatch.setattr(os, "fstat", size_before_it_grew)
