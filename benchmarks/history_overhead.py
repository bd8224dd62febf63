"""What recording a run costs: epochs of the ``classic`` preset with the run-history recorder
(core/history.py: batch lines, the epoch line and the weights saved atomically at each epoch's
end) against the same epochs unrecorded, alternating, in one run.

    python benchmarks/history_overhead.py --data-root DIR [--rounds 5] [--epochs 1] [--limit N]

Each round trains a fresh model from the same seed once without and once with a recorder
(the order swaps every round, so that a machine whose load drifts penalises both alike); the
figures are medians over rounds, wall clock and this process's CPU time. On a machine shared
with other work those two swing by more than the recorder costs, so the recorded runs also time
the calls into the recorder themselves: its share of the run is the steadier figure.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's lenet_gui

from lenet_gui.core import history  # noqa: E402
from lenet_gui.core.data import load_dataset  # noqa: E402
from lenet_gui.core.engine import Trainer  # noqa: E402
from lenet_gui.core.presets import preset_config  # noqa: E402


def one_run(dataset, epochs: int, limit: int | None, threads: int,
            runs_dir: Path | None) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds, and wall seconds spent inside the recorder."""
    config = preset_config("classic", "fashion-mnist", epochs=epochs, threads=threads, device="cpu")
    trainer = Trainer(config, dataset, train_limit=limit)
    recorder = history.RunRecorder(runs_dir, config, source="benchmark") if runs_dir else None
    inside = 0.0
    wall, cpu = time.perf_counter(), time.process_time()
    for event in trainer.run():
        if recorder is not None:
            before = time.perf_counter()
            recorder.record(event, trainer)
            inside += time.perf_counter() - before
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if recorder is not None:
        assert recorder.ok, recorder.problem
    return wall, cpu, inside


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None, help="train on the first N images only")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    dataset = load_dataset("fashion-mnist", args.data_root, download=False)
    times = {"off": [], "on": []}
    with tempfile.TemporaryDirectory() as folder:
        for round_ in range(args.rounds):
            order = ("off", "on") if round_ % 2 == 0 else ("on", "off")
            for kind in order:
                wall, cpu, inside = one_run(dataset, args.epochs, args.limit, args.threads,
                                            Path(folder) if kind == "on" else None)
                times[kind].append((wall, cpu, inside))
                print(f"round {round_ + 1} {kind:>3}: {wall:.3f} s wall, {cpu:.3f} s CPU"
                      + (f", {inside:.3f} s in the recorder" if kind == "on" else ""), flush=True)
    for index, name in ((0, "wall"), (1, "CPU")):
        off = statistics.median(t[index] for t in times["off"])
        on = statistics.median(t[index] for t in times["on"])
        print(f"median {name}: unrecorded {off:.3f} s, recorded {on:.3f} s, ratio {on / off:.3f}")
    share = statistics.median(t[2] / t[0] for t in times["on"])
    print(f"median share of a recorded run spent in the recorder: {share:.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
