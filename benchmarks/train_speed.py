"""Training speed: the tutorial's loop against LeNet Studio's engine, alternating, in one run.

The reference is the d2l tutorial's loop as it is written: ``torchvision.datasets.FashionMNIST``
with ``ToTensor()``, a ``DataLoader`` (batch 256, shuffled, the tutorial's worker count), the
sigmoid / max-pool LeNet written as the tutorial writes it (an ``nn.Sequential``, each sigmoid
before its pooling), Adam 0.001, cross-entropy, and the test accuracy through a DataLoader
too. The engine is ``Trainer`` with the ``classic`` preset: the same model, initialised from the
same seed, the same recipe, on tensors preloaded once. Both use the same torch thread count.
Each timed epoch includes its test-set evaluation, as the tutorial's printed time does.

    python benchmarks/train_speed.py --data-root DIR            # 5 rounds of 1 epoch
    python benchmarks/train_speed.py --rounds 1 --epochs 5      # compare final accuracies
    python benchmarks/train_speed.py --preset modern            # another recipe's engine epoch

With ``--preset`` other than classic the engine trains that recipe (its own batch size, layers
and optimizer) against the same tutorial loop: a figure to keep from regressing, not a like for
like comparison.

Rounds alternate (ref, engine, ref, engine, ...) so that a machine whose load drifts penalises
both alike; the figures are medians over rounds.
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
from lenet_gui.core.engine import EpochResult, Trainer  # noqa: E402
from lenet_gui.core.presets import PRESET_NAMES, preset_config  # noqa: E402
from lenet_gui.core.model import LeNet, ModelConfig  # noqa: E402


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the DataLoader's workers): on a
    machine shared with other work, a steadier measure of cost than the wall clock."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def tutorial_workers() -> int:
    """d2l's ``get_dataloader_workers()``: 4 processes, except on Windows."""
    return 0 if sys.platform.startswith("win") else 4


def tutorial_lenet(seed: int):
    """The tutorial's network as it writes it: an ``nn.Sequential`` with each sigmoid before its
    pooling. It starts from the weights that the engine's LeNet gets from the same seed."""
    from torch import nn

    net = nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5), nn.Sigmoid(), nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(), nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 4 * 4, 120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, 10),
    )
    torch.manual_seed(seed)
    engine_model = LeNet(ModelConfig())
    engine_layers = [engine_model.conv1, engine_model.conv2, engine_model.fc1, engine_model.fc2, engine_model.fc3]
    tutorial_layers = [layer for layer in net if isinstance(layer, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        for mine, theirs in zip(engine_layers, tutorial_layers, strict=True):
            theirs.weight.copy_(mine.weight)
            theirs.bias.copy_(mine.bias)
    return net


def run_reference(root: Path, epochs: int, seed: int, workers: int, device: torch.device) -> list[tuple[float, float, float]]:
    """The tutorial's loop. Returns (seconds, test accuracy, CPU seconds) per epoch."""
    import torchvision
    from torch import nn
    from torch.utils.data import DataLoader
    from torchvision.transforms import ToTensor

    train_set = torchvision.datasets.FashionMNIST(root=str(root), train=True, transform=ToTensor(), download=False)
    test_set = torchvision.datasets.FashionMNIST(root=str(root), train=False, transform=ToTensor(), download=False)
    train_iter = DataLoader(train_set, batch_size=256, shuffle=True, num_workers=workers)
    test_iter = DataLoader(test_set, batch_size=256, shuffle=False, num_workers=workers)

    net = tutorial_lenet(seed).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.001)
    loss_fn = nn.CrossEntropyLoss()
    results = []
    for epoch in range(1, epochs + 1):
        started, cpu_started = time.perf_counter(), cpu_seconds()
        net.train()
        loss_sum, correct, count = 0.0, 0, 0
        for X, y in train_iter:
            X, y = X.to(device), y.to(device)
            optimizer.zero_grad()
            y_hat = net(X)
            loss = loss_fn(y_hat, y)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                loss_sum += float(loss) * X.shape[0]
                correct += int((y_hat.argmax(1) == y).sum())
                count += X.shape[0]
        net.eval()
        test_correct, test_count = 0, 0
        with torch.no_grad():
            for X, y in test_iter:
                X, y = X.to(device), y.to(device)
                test_correct += int((net(X).argmax(1) == y).sum())
                test_count += X.shape[0]
        seconds = time.perf_counter() - started
        cpu = cpu_seconds() - cpu_started
        test_acc = test_correct / test_count
        print(f"  ref     epoch {epoch}, loss {loss_sum / count:.4f}, train acc {correct / count:.3f}, "
              f"test acc {test_acc:.3f}, time {seconds:.1f} sec (cpu {cpu:.1f} sec)", flush=True)
        results.append((seconds, test_acc, cpu))
    return results


def run_engine(dataset, epochs: int, seed: int, threads: int, device: str,
               preset: str = "classic") -> list[tuple[float, float, float]]:
    config = preset_config(preset, "fashion-mnist", epochs=epochs, seed=seed, threads=threads, device=device)
    results = []
    cpu_started = cpu_seconds()
    for event in Trainer(config, dataset).run():
        if isinstance(event, EpochResult):
            cpu = cpu_seconds() - cpu_started
            print(f"  engine  {event.line()} (cpu {cpu:.1f} sec)", flush=True)
            results.append((event.seconds, event.test_acc, cpu))
            cpu_started = cpu_seconds()
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", help="folder holding FashionMNIST/raw (default: $LENET_DATA_ROOT)")
    parser.add_argument("--rounds", type=int, default=5, help="ref/engine pairs (default 5)")
    parser.add_argument("--epochs", type=int, default=1, help="epochs per run (default 1)")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads for both (default 2)")
    parser.add_argument("--workers", type=int, default=tutorial_workers(),
                        help=f"DataLoader workers of the reference (default {tutorial_workers()}, as the tutorial)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default cpu)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--preset", default="classic", choices=PRESET_NAMES,
                        help="the engine's recipe (default classic, the tutorial's)")
    args = parser.parse_args(argv)

    root = resolve_data_root(args.data_root)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    dataset = load_dataset("fashion-mnist", root, download=False)
    print(f"data {root}; torch {torch.__version__}; device {device}; threads {args.threads}; "
          f"reference DataLoader workers {args.workers}; engine preset {args.preset}; cpus {os.cpu_count()}; "
          f"{args.rounds} round(s) of {args.epochs} epoch(s)", flush=True)

    ref_seconds, eng_seconds, ref_acc, eng_acc, ref_cpu, eng_cpu = [], [], [], [], [], []
    for round_index in range(args.rounds):
        seed = args.seed + round_index  # both runs of a round start from the same weights
        print(f"round {round_index + 1}", flush=True)
        torch.set_num_threads(args.threads)
        ref = run_reference(root, args.epochs, seed, args.workers, device)
        eng = run_engine(dataset, args.epochs, seed, args.threads, args.device, args.preset)
        ref_seconds.append(statistics.mean(r[0] for r in ref))
        eng_seconds.append(statistics.mean(r[0] for r in eng))
        ref_cpu.append(statistics.mean(r[2] for r in ref))
        eng_cpu.append(statistics.mean(r[2] for r in eng))
        ref_acc.append(ref[-1][1])
        eng_acc.append(eng[-1][1])
        print(f"  seconds per epoch: ref {ref_seconds[-1]:.2f}, engine {eng_seconds[-1]:.2f}", flush=True)

    ref_median, eng_median = statistics.median(ref_seconds), statistics.median(eng_seconds)
    print()
    print(f"per-round seconds/epoch  ref:    {' '.join(f'{s:.2f}' for s in ref_seconds)}")
    print(f"per-round seconds/epoch  engine: {' '.join(f'{s:.2f}' for s in eng_seconds)}")
    print(f"median seconds per epoch: ref {ref_median:.2f}, engine {eng_median:.2f}")
    print(f"speed-up (ref / engine): {ref_median / eng_median:.2f}x")
    # Each round's pair ran back to back: their ratio is the least exposed to load that drifts.
    paired = [r / e for r, e in zip(ref_seconds, eng_seconds)]
    print(f"per-round ratios: {' '.join(f'{x:.2f}' for x in paired)} (median {statistics.median(paired):.2f}x)")
    ref_cpu_median, eng_cpu_median = statistics.median(ref_cpu), statistics.median(eng_cpu)
    print(f"median CPU seconds per epoch (all processes): ref {ref_cpu_median:.2f}, engine {eng_cpu_median:.2f} "
          f"(ratio {ref_cpu_median / eng_cpu_median:.2f}x)")
    print(f"test acc after {args.epochs} epoch(s), mean over rounds: ref {statistics.mean(ref_acc):.4f}, "
          f"engine {statistics.mean(eng_acc):.4f} (per round: ref {' '.join(f'{a:.3f}' for a in ref_acc)}; "
          f"engine {' '.join(f'{a:.3f}' for a in eng_acc)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
