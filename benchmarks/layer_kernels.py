"""LeNet's convolution + pooling stages, forward and backward: torch's layers against the fast
CPU kernels of ``lenet_gui.core.fast_layers``, interleaved in one run.

    python benchmarks/layer_kernels.py [--threads 2] [--batch 256] [--rounds 15]

Prints, per stage, the median milliseconds of each way and the ratio (textbook / fast).
The textbook ways run in channels-last, the layout the engine trained them in before (the
fastest for the stages without batch norm); batch norm's case is modern's conv1 stage.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's lenet_gui

from lenet_gui.core.fast_layers import conv2d_mixed_layouts, conv_max_pool2x2  # noqa: E402


def stage(inputs, weight, bias, forward):
    """One forward + backward of a stage, with fresh leaf tensors each time."""
    x = inputs.detach().requires_grad_(inputs.shape[1] > 1)  # conv1's images need no gradient
    w = weight.detach().requires_grad_()
    b = bias.detach().requires_grad_()
    out = forward(x, w, b)
    out.backward(torch.ones_like(out))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cl = torch.channels_last
    images = torch.rand(args.batch, 1, 28, 28)
    maps = torch.rand(args.batch, 6, 12, 12)
    w1, b1 = torch.randn(6, 1, 5, 5), torch.randn(6)
    w2, b2 = torch.randn(16, 6, 5, 5), torch.randn(16)
    batch_norm = torch.nn.BatchNorm2d(6).train()  # as modern's conv1 has it (and no bias)
    cases = {
        "conv1 + pool1, textbook": lambda: stage(
            images.contiguous(memory_format=cl), w1.contiguous(memory_format=cl), b1,
            lambda x, w, b: F.max_pool2d(F.conv2d(x, w, b), 2, 2)),
        "conv1 + pool1, fast": lambda: stage(images, w1, b1, conv_max_pool2x2),
        "conv1 + batch norm + pool1, textbook": lambda: stage(
            images.contiguous(memory_format=cl), w1.contiguous(memory_format=cl), b1,
            lambda x, w, b: F.max_pool2d(batch_norm(F.conv2d(x, w)), 2, 2)),
        "conv1 + batch norm + pool1, fast": lambda: stage(
            images, w1, b1, lambda x, w, b: conv_max_pool2x2(x, w, None, batch_norm)),
        "conv2 + pool2, textbook": lambda: stage(
            maps.contiguous(memory_format=cl), w2.contiguous(memory_format=cl), b2,
            lambda x, w, b: F.max_pool2d(F.conv2d(x, w, b), 2, 2)),
        "conv2 + pool2, fast": lambda: stage(maps, w2, b2, lambda x, w, b: F.max_pool2d(conv2d_mixed_layouts(x, w, b), 2, 2)),
    }
    times = {name: [] for name in cases}
    for run in cases.values():
        run()
    for _ in range(args.rounds):
        for name, run in cases.items():
            started = time.perf_counter()
            run()
            times[name].append((time.perf_counter() - started) * 1000)
    print(f"torch {torch.__version__}; threads {args.threads}; batch {args.batch}; {args.rounds} rounds, forward + backward")
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, median in medians.items():
        print(f"  {name:38s} median {median:6.2f} ms")
    for stage_name in ("conv1 + pool1", "conv1 + batch norm + pool1", "conv2 + pool2"):
        ratio = medians[f"{stage_name}, textbook"] / medians[f"{stage_name}, fast"]
        print(f"{stage_name}: fast kernels {ratio:.2f}x faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
