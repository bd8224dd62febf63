"""Pull the plug during a save, many times in a row: the checkpoint must always stay whole.

A child process saves checkpoints over one path in a tight loop; the parent SIGKILLs it at a
random moment (spread over a few save durations, so kills land before, inside and between
writes), then checks that the file on disk loads, and that its weights and metadata belong to
the same save (every save writes its generation number into both). Temporary files left by
kills are counted, then the cleanup of stale ones is checked.

    python benchmarks/kill_during_save.py              # 200 kills
    python benchmarks/kill_during_save.py --kills 15 --json   # what the test suite runs

Children are forked from this process after torch is imported, so a kill costs milliseconds,
not a Python start-up. POSIX only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from lenet_gui.core.checkpoint import (  # noqa: E402
    STALE_TEMPORARY_SECONDS,
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
)
from lenet_gui.core.model import LeNet  # noqa: E402


def _stamp(model: LeNet, generation: int) -> None:
    with torch.no_grad():
        model.fc3.bias.fill_(float(generation))


def _check(path: Path) -> tuple[int | None, str | None]:
    """(generation, problem): the generation on disk, or what is wrong with the file."""
    try:
        loaded = load_checkpoint(path)
    except CheckpointError as exc:
        return None, f"unloadable: {exc}"
    generation = loaded.metadata.get("generation")
    weights = loaded.model.fc3.bias.detach()
    if not isinstance(generation, int) or not torch.all(weights == float(generation)):
        return generation, f"weights ({weights[0].item()}) and metadata ({generation}) from different saves"
    return generation, None


def _temporaries(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f".{path.name}.*.tmp"))


def _save_forever(path: Path, model: LeNet, first_generation: int) -> None:
    generation = first_generation
    while True:
        _stamp(model, generation)
        save_checkpoint(path, model, {"generation": generation})
        generation += 1


def _child_save_times(path: Path, model: LeNet, saves: int) -> list[float]:
    """Seconds from fork to the end of each of a child's first saves."""
    read_end, write_end = os.pipe()
    forked = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            times = []
            for generation in range(saves):
                save_checkpoint(path, model, {"generation": generation})
                times.append(time.perf_counter() - forked)
            os.write(write_end, json.dumps(times).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        times = json.loads(pipe.read().decode())
    os.waitpid(pid, 0)
    path.unlink(missing_ok=True)
    return times


def run(kills: int, folder: Path, seed: int = 0, verbose: bool = True) -> dict:
    torch.set_num_threads(1)
    rng = random.Random(seed)
    path = folder / "model.pt"
    model = LeNet()
    _stamp(model, 0)
    save_checkpoint(path, model, {"generation": 0})

    # How long one save takes here, and when a freshly forked child finishes its first saves
    # (copy-on-write page faults make its first save slower): the kills are spread from the
    # fork to the end of the child's fourth save, so that they land before, inside and
    # between writes.
    durations = []
    for _ in range(5):
        started = time.perf_counter()
        save_checkpoint(path, model, {"generation": 0})
        durations.append(time.perf_counter() - started)
    save_seconds = statistics.median(durations)
    kill_window = _child_save_times(folder / "calibration.pt", model, saves=4)[-1]

    failures: list[str] = []
    mid_write = 0  # kills that left a temporary file behind: they hit a save in progress
    saves_landed = 0  # kills after which the file on disk was newer than before
    generation_on_disk = 0
    for kill in range(kills):
        temporaries_before = len(_temporaries(path))
        first = (kill + 1) * 1_000_000
        pid = os.fork()
        if pid == 0:  # the child: save until killed
            try:
                _save_forever(path, model, first)
            finally:
                os._exit(1)
        time.sleep(rng.uniform(0.0, kill_window))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        generation, problem = _check(path)
        if problem:
            failures.append(f"kill {kill + 1}: {problem}")
        elif generation < generation_on_disk or not (generation == generation_on_disk or generation >= first):
            failures.append(f"kill {kill + 1}: generation went from {generation_on_disk} to {generation}")
        else:
            saves_landed += generation != generation_on_disk
            generation_on_disk = generation
        mid_write += len(_temporaries(path)) > temporaries_before
        if verbose and (kill + 1) % 25 == 0:
            print(f"  {kill + 1} kills, {len(failures)} failures", flush=True)

    left = _temporaries(path)
    # Age the leftovers past the threshold, as if a minute went by, then save once more.
    old = time.time() - STALE_TEMPORARY_SECONDS - 5
    for temporary in left:
        os.utime(temporary, (old, old))
    fresh = folder / f".{path.name}.inprogress.tmp"  # a save still running elsewhere: must stay
    fresh.write_bytes(b"partial")
    _stamp(model, 42)
    save_checkpoint(path, model, {"generation": 42})
    after_cleanup = [p for p in _temporaries(path) if p != fresh]
    if after_cleanup:
        failures.append(f"{len(after_cleanup)} stale temporary file(s) not cleaned up")
    if not fresh.exists():
        failures.append("a fresh temporary file (a save in progress elsewhere) was deleted")
    final, problem = _check(path)
    if problem or final != 42:
        failures.append(f"final save: {problem or final}")
    fresh.unlink(missing_ok=True)
    return {
        "kills": kills,
        "survived": kills - sum(f.startswith("kill ") for f in failures),
        "killed_mid_write": mid_write,
        "kills_after_a_completed_save": saves_landed,
        "median_save_ms": round(save_seconds * 1000, 2),
        "kill_window_ms": round(kill_window * 1000, 2),
        "temporaries_left_by_kills": len(left),
        "temporaries_after_cleanup": len(after_cleanup),
        "failures": failures,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--folder", type=Path, help="where to save (default: a temporary folder)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    args = parser.parse_args(argv)
    if not hasattr(os, "fork"):
        print("kill_during_save needs os.fork (POSIX)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="kill-during-save-") as scratch:
        folder = args.folder or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        result = run(args.kills, folder, args.seed, verbose=not args.json)
        result["seconds"] = round(time.perf_counter() - started, 1)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"kills: {result['kills']}, survived: {result['survived']} "
              f"(checkpoint loadable, weights and metadata from one save)")
        print(f"kills that hit a save in progress (temporary file left): {result['killed_mid_write']}")
        print(f"kills after which a newer save was on disk: {result['kills_after_a_completed_save']}")
        print(f"median save: {result['median_save_ms']} ms; kills spread over the first "
              f"{result['kill_window_ms']} ms after each fork (a child's first four saves)")
        print(f"temporary files left by kills: "
              f"{result['temporaries_left_by_kills']}, after the stale-file cleanup: "
              f"{result['temporaries_after_cleanup']}")
        print(f"time: {result['seconds']} s")
        for failure in result["failures"]:
            print(f"FAILURE: {failure}")
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
