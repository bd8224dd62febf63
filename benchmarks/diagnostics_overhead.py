"""The cost of the live training diagnostics: one epoch with them on against off, paired.

Each round trains one epoch of a preset twice from the same seed, diagnostics off and on, in an
order that alternates between rounds (off/on, on/off, ...) so that a machine whose load drifts
penalises both alike. Threads are those the window trains with (``training_threads()``). The
time is the epoch's training batches (until its test-set evaluation starts, which diagnostics do
not touch) and the whole epoch as the log prints it, on the wall clock and as this process's CPU
time (steadier on a machine shared with other work); the figures are medians over rounds and
the median of the rounds' on/off ratios (the target is at most 1.05).

    python benchmarks/diagnostics_overhead.py --data-root DIR              # classic and modern
    python benchmarks/diagnostics_overhead.py --presets classic --rounds 7 --every 10
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's lenet_gui

from lenet_gui.core.data import load_dataset, resolve_data_root  # noqa: E402
from lenet_gui.core.diagnostics import DIAGNOSTICS_EVERY, DiagnosticsSample  # noqa: E402
from lenet_gui.core.engine import EpochResult, EvaluationStarted, Trainer, training_threads  # noqa: E402
from lenet_gui.core.presets import preset_config  # noqa: E402


def one_epoch(dataset, preset: str, every: int, seed: int, threads: int, device: str,
              limit: int | None) -> tuple[float, float, float, int]:
    """(training seconds, epoch seconds, training CPU seconds, diagnostics samples) of one epoch."""
    config = preset_config(preset, dataset.info.key, epochs=1, seed=seed, threads=threads, device=device)
    trainer = Trainer(config, dataset, train_limit=limit, diagnostics_every=every)
    started, cpu_started = time.perf_counter(), time.process_time()
    train_seconds, epoch_seconds, cpu_seconds, samples = 0.0, 0.0, 0.0, 0
    for event in trainer.run():
        if isinstance(event, EvaluationStarted):
            train_seconds = time.perf_counter() - started
            cpu_seconds = time.process_time() - cpu_started
        elif isinstance(event, DiagnosticsSample):
            samples += 1
        elif isinstance(event, EpochResult):
            epoch_seconds = event.seconds
    return train_seconds, epoch_seconds, cpu_seconds, samples


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", help="folder holding FashionMNIST/raw (default: $LENET_DATA_ROOT)")
    parser.add_argument("--presets", nargs="+", default=["classic", "modern"])
    parser.add_argument("--rounds", type=int, default=5, help="off/on pairs per preset (default 5)")
    parser.add_argument("--every", type=int, default=DIAGNOSTICS_EVERY,
                        help=f"sample every N steps (default {DIAGNOSTICS_EVERY}, the app's)")
    parser.add_argument("--threads", type=int, default=training_threads(),
                        help=f"torch threads (default {training_threads()}, as the window trains)")
    parser.add_argument("--limit", type=int, help="train on the first N images only (default: all)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    root = resolve_data_root(args.data_root)
    dataset = load_dataset("fashion-mnist", root, download=False)
    print(f"data {root}; torch {torch.__version__}; device {args.device}; threads {args.threads}; "
          f"cpus {os.cpu_count()}; diagnostics every {args.every} steps; {args.rounds} round(s) per preset",
          flush=True)
    one_epoch(dataset, args.presets[0], args.every, args.seed, args.threads, args.device, 2048)  # warm-up
    for preset in args.presets:
        times = {"off": [], "on": []}
        epochs = {"off": [], "on": []}
        cpu = {"off": [], "on": []}
        for round_index in range(args.rounds):
            order = ("off", "on") if round_index % 2 == 0 else ("on", "off")
            for mode in order:
                train_s, epoch_s, cpu_s, samples = one_epoch(dataset, preset, args.every if mode == "on" else 0,
                                                      args.seed + round_index, args.threads, args.device, args.limit)
                times[mode].append(train_s)
                epochs[mode].append(epoch_s)
                cpu[mode].append(cpu_s)
                print(f"  {preset} round {round_index + 1} {mode:>3}: training {train_s:.2f} s (cpu {cpu_s:.2f} s), "
                      f"epoch {epoch_s:.2f} s"
                      f"{f', {samples} samples' if mode == 'on' else ''}", flush=True)
        ratios = [on / off for on, off in zip(times["on"], times["off"])]
        epoch_ratios = [on / off for on, off in zip(epochs["on"], epochs["off"])]
        cpu_ratios = [on / off for on, off in zip(cpu["on"], cpu["off"])]
        print(f"{preset}: median training seconds off {statistics.median(times['off']):.2f}, "
              f"on {statistics.median(times['on']):.2f}; paired on/off ratio median {statistics.median(ratios):.3f}x "
              f"(rounds {' '.join(f'{r:.3f}' for r in ratios)}); whole epoch median {statistics.median(epoch_ratios):.3f}x; "
              f"training CPU seconds off {statistics.median(cpu['off']):.2f}, on {statistics.median(cpu['on']):.2f}, "
              f"paired ratio median {statistics.median(cpu_ratios):.3f}x",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
