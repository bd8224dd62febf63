#!/usr/bin/env python
"""How fast hostile images are refused: each case of tests/support/hostile.py that
preprocessing must refuse, timed from the path to the ImageError, with the peak memory the
refusal added.

The tests check that these files are refused, and with how little memory; the time it takes
is a figure, and figures live here, not in the tests.

    python benchmarks/refusal_speed.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lenet_gui.core.preprocess import ImageError, preprocess_image  # noqa: E402
from tests.support import hostile  # noqa: E402


def _kib(field: str) -> int:
    return int(re.search(field + r":\s+(\d+)", Path("/proc/self/status").read_text()).group(1))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="refusals timed per case (the median is shown)")
    args = parser.parse_args(argv)
    on_linux = Path("/proc/self/clear_refs").exists()
    cases = [c for c in hostile.applicable_image_cases() if c.expect == "error"]
    with tempfile.TemporaryDirectory() as folder:
        paths = hostile.write_image_cases(Path(folder), cases)
        print(f"{'case':<34} {'median ms':>10} {'max ms':>8} {'peak +MB':>9}")
        for case in cases:
            times, growth = [], 0.0
            for _ in range(args.rounds):
                if on_linux:
                    Path("/proc/self/clear_refs").write_text("5")
                    before = _kib("VmRSS")
                started = time.perf_counter()
                try:
                    preprocess_image(paths[case.name], "digit")
                    print(f"{case.name}: not refused (the tests should fail too)")
                except ImageError:
                    pass
                times.append((time.perf_counter() - started) * 1000)
                if on_linux:
                    growth = max(growth, (_kib("VmHWM") - before) / 1024)
            peak = f"{growth:9.1f}" if on_linux else f"{'n/a':>9}"
            print(f"{case.name:<34} {statistics.median(times):10.1f} {max(times):8.1f} {peak}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
