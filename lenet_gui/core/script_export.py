"""A training recipe written out as one standalone Python script, in the tutorial's style.

The script is what a reader of d2l's LeNet chapter would write for the same recipe: a
``class LeNet(nn.Module)`` holding an ``nn.Sequential``, torchvision's data set and
``DataLoader``, a flat training loop and one printed line per epoch. It builds the network
:class:`~lenet_gui.core.model.LeNet` builds for the same config (same layers, in the same
order, so the same seed gives the same initial weights) and trains it with the engine's
settings: optimizer, schedule (stepped per batch), augmentation, label smoothing, input
normalisation, seed. It imports only torch, torchvision and the standard library, and runs as

    python OUT.py --data-root DIR [--epochs N] [--device cpu|cuda] [--download]

A setting of the config that the script cannot reproduce raises :class:`ScriptExportError`
rather than being left out: a script that trains another recipe than the one on screen would be
worse than none.
"""

from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path

from .data import DATASETS
from .engine import TrainConfig

# The config fields the script reproduces; another field, once TrainConfig grows one, is an
# error until this module learns to write it (see unsupported_settings).
WRITTEN_FIELDS = frozenset({
    "dataset", "preset", "epochs", "batch_size", "lr", "optimizer", "momentum", "weight_decay",
    "schedule", "label_smoothing", "augment_shift", "augment_flip", "activation", "pool",
    "batch_norm", "dropout", "normalize", "device", "seed", "threads", "eval_batch_size",
})
SCRIPT_DEVICES = "auto, cpu, cuda or cuda:N"


class ScriptExportError(ValueError):
    """The recipe cannot be written as a script; the message says which setting and why."""


def unsupported_settings(config: TrainConfig) -> list[str]:
    """The fields of ``config`` the script would drop: those it does not write that differ
    from their default."""
    default = type(config)() if _constructible(type(config)) else None
    names = []
    for field in fields(config):
        if field.name in WRITTEN_FIELDS:
            continue
        if default is None or getattr(config, field.name) != getattr(default, field.name):
            names.append(field.name)
    return names


def _constructible(cls) -> bool:
    try:
        cls()
    except TypeError:
        return False
    return True


def default_script_name(config: TrainConfig) -> str:
    return f"lenet-{config.dataset}-{config.preset}.py"


def script_source(config: TrainConfig) -> str:
    """The script's text for ``config`` (validated first)."""
    config.validate()
    dropped = unsupported_settings(config)
    if dropped:
        raise ScriptExportError(
            "The script cannot reproduce these settings, so it was not written: " + ", ".join(dropped) + "."
        )
    if config.dataset not in DATASETS:
        raise ScriptExportError(f"Unknown data set {config.dataset!r}; choose one of: {', '.join(DATASETS)}.")
    if config.device not in ("auto", "cpu") and not config.device.startswith("cuda"):
        raise ScriptExportError(f"The script runs on {SCRIPT_DEVICES}, not on {config.device!r}.")
    info = DATASETS[config.dataset]
    parts = [
        _header(config, info),
        _recipe(config, info),
        _model(config),
        _data(config, info),
        _training(config),
        _main(config, info),
    ]
    return "\n\n\n".join(parts).rstrip() + "\n"


def write_script(config: TrainConfig, path: str | os.PathLike) -> Path:
    """Write the script for ``config`` to ``path`` (replacing it whole, or leaving it as it was
    when writing fails). Raises ScriptExportError, TrainingError (invalid settings) or OSError."""
    from .files import replace_atomically

    source = script_source(config)
    path = Path(path)
    replace_atomically(path, lambda tmp: tmp.write_text(source, encoding="utf-8"), keep_suffix=True)
    return path


# ---------------------------------------------------------------------------------------------
# The script's parts, in reading order.


def _header(c: TrainConfig, info) -> str:
    return f'''"""LeNet on {info.title}: LeNet Studio's "{c.preset}" recipe as a standalone script.

    python {default_script_name(c)} --data-root DIR [--epochs N] [--device cpu|cuda]

DIR holds {info.title} in torchvision's layout ({info.folder}/raw/ with the four IDX files);
add --download to fetch it into DIR first. Needs only PyTorch and torchvision.
"""

import argparse
import math
import os
import time

import torch
import torchvision
from torch import nn
from torch.utils import data
from torchvision import transforms'''


def _recipe(c: TrainConfig, info) -> str:
    lines = ["# The recipe, as it was set in LeNet Studio.", f"num_epochs = {c.epochs!r}",
             f"batch_size = {c.batch_size!r}"]
    lines.append(f"lr = {c.lr!r}" + ("  # the peak of the one-cycle schedule" if c.schedule == "onecycle" else ""))
    if c.optimizer == "sgd" and c.momentum:
        lines.append(f"momentum = {c.momentum!r}")
    if c.weight_decay or c.optimizer == "adamw":
        lines.append(f"weight_decay = {c.weight_decay!r}")
    if c.label_smoothing:
        lines.append(f"label_smoothing = {c.label_smoothing!r}")
    if c.augment_shift:
        lines.append(f"max_shift = {c.augment_shift!r}  # pixels")
    if c.dropout:
        lines.append(f"dropout = {c.dropout!r}")
    lines.append(f"seed = {c.seed!r}")
    lines.append(f"test_batch_size = {c.eval_batch_size!r}")
    if c.normalize:
        lines.append(f"mean, std = {info.mean!r}, {info.std!r}  # of {info.title}'s training images, in [0, 1]")
    return "\n".join(lines)


def _model(c: TrainConfig) -> str:
    act = {"sigmoid": "nn.Sigmoid()", "relu": "nn.ReLU()"}[c.activation]
    pool = {"max": "nn.MaxPool2d", "avg": "nn.AvgPool2d"}[c.pool] + "(kernel_size=2, stride=2)"
    bn = c.batch_norm
    bias = ", bias=False" if bn else ""

    def row(*items: str) -> str:
        return "            " + ", ".join(item for item in items if item) + ","

    rows = [
        row(f"nn.Conv2d(1, 6, kernel_size=5{bias})", "nn.BatchNorm2d(6)" if bn else "", act),
        row(pool),
        row(f"nn.Conv2d(6, 16, kernel_size=5{bias})", "nn.BatchNorm2d(16)" if bn else "", act),
        row(pool),
        row("nn.Flatten()"),
        row(f"nn.Linear(16 * 4 * 4, 120{bias})", "nn.BatchNorm1d(120)" if bn else "", act,
            "nn.Dropout(dropout)" if c.dropout else ""),
        row(f"nn.Linear(120, 84{bias})", "nn.BatchNorm1d(84)" if bn else "", act,
            "nn.Dropout(dropout)" if c.dropout else ""),
        "            nn.Linear(84, 10))",
    ]
    notes = ["# No padding: 1x28x28 -> 6x24x24 -> 6x12x12 -> 16x8x8 -> 16x4x4 = 256 -> 120 -> 84 -> 10."]
    if bn:
        notes.append("# Batch norm follows every layer but the last, whose own bias it makes redundant.")
    return "\n".join([
        "class LeNet(nn.Module):",
        "    def __init__(self):",
        "        super().__init__()",
        *("        " + note for note in notes),
        "        self.net = nn.Sequential(",
        *rows,
        "",
        "    def forward(self, X):",
        "        return self.net(X)",
    ])


def _data(c: TrainConfig, info) -> str:
    train_steps = []
    if c.augment_shift:
        train_steps.append("        # a random shift of up to max_shift pixels each way, the border black")
        train_steps.append("        transforms.RandomCrop(28, padding=max_shift),")
    if c.augment_flip:
        train_steps.append("        transforms.RandomHorizontalFlip(),  # mirrored at random, half of the time")
    common = ["        transforms.ToTensor(),  # 0..255 -> [0, 1]"]
    if c.normalize:
        common.append("        transforms.Normalize((mean,), (std,)),")
    test = "transforms.Compose([\n" + "\n".join(common) + "\n    ])"
    train = "transforms.Compose([\n" + "\n".join(train_steps + common) + "\n    ])"
    dataset = f"torchvision.datasets.{info.folder}"
    return f'''def load_data(root, download, workers):
    """{info.title}'s training and test sets, in batches."""
    train_augs = {train}
    test_augs = {test}
    train_set = {dataset}(root=root, train=True, transform=train_augs, download=download)
    test_set = {dataset}(root=root, train=False, transform=test_augs, download=download)
    order = torch.Generator().manual_seed(seed)  # the shuffle is part of the seed
    return (data.DataLoader(train_set, batch_size, shuffle=True, generator=order, num_workers=workers),
            data.DataLoader(test_set, test_batch_size, shuffle=False, num_workers=workers))'''


def _optimizer(c: TrainConfig) -> str:
    if c.optimizer == "sgd":
        args = ["net.parameters()", "lr=lr"]
        if c.momentum:
            args += ["momentum=momentum", "nesterov=True"]
        if c.weight_decay:
            args.append("weight_decay=weight_decay")
        return f"torch.optim.SGD({', '.join(args)})"
    name = {"adam": "Adam", "adamw": "AdamW"}[c.optimizer]
    wd = ", weight_decay=weight_decay" if (c.weight_decay or c.optimizer == "adamw") else ""
    return f"torch.optim.{name}(net.parameters(), lr=lr{wd})"


def _scheduler(c: TrainConfig) -> list[str]:
    if c.schedule == "onecycle":
        return [
            "    # One cycle, stepped every batch: the rate climbs to lr over the first quarter of",
            "    # the steps, then anneals to nearly zero.",
            "    scheduler = torch.optim.lr_scheduler.OneCycleLR(",
            "        optimizer, max_lr=lr, total_steps=num_epochs * len(train_iter), pct_start=0.25)",
        ]
    if c.schedule == "cosine":
        return [
            "    # A cosine from lr down to zero over the whole run, stepped every batch.",
            "    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=num_epochs * len(train_iter))",
        ]
    return []


def _training(c: TrainConfig) -> str:
    loss = "nn.CrossEntropyLoss(label_smoothing=label_smoothing)" if c.label_smoothing else "nn.CrossEntropyLoss()"
    scheduler = _scheduler(c)
    step = ["            scheduler.step()"] if scheduler else []
    return "\n".join([
        "def accuracy(y_hat, y):",
        '    """The number of right predictions."""',
        "    return float((y_hat.argmax(dim=1) == y).sum())",
        "",
        "",
        "def evaluate_accuracy(net, data_iter, device):",
        "    net.eval()" + ("  # batch norm uses its running statistics" if c.batch_norm else
                           "  # dropout off" if c.dropout else ""),
        "    right, total = 0.0, 0",
        "    with torch.no_grad():",
        "        for X, y in data_iter:",
        "            X, y = X.to(device), y.to(device)",
        "            right += accuracy(net(X), y)",
        "            total += y.numel()",
        "    return right / total",
        "",
        "",
        "def train(net, train_iter, test_iter, num_epochs, device):",
        "    net.to(device)",
        f"    optimizer = {_optimizer(c)}",
        *scheduler,
        f"    loss = {loss}",
        "    step_seconds, examples = 0.0, 0",
        "    for epoch in range(num_epochs):",
        "        net.train()",
        "        loss_sum, right, n = 0.0, 0.0, 0",
        "        for X, y in train_iter:",
        "            start = time.perf_counter()  # as d2l counts: the steps, not the loading",
        "            X, y = X.to(device), y.to(device)",
        "            optimizer.zero_grad()",
        "            y_hat = net(X)",
        "            l = loss(y_hat, y)",
        "            l.backward()",
        "            batch_loss = l.item()",
        "            if not math.isfinite(batch_loss):",
        "                raise SystemExit(f'the loss became {batch_loss} at epoch {epoch + 1}: training '",
        "                                 f'diverged; lower the learning rate (it is {lr:g})')",
        "            optimizer.step()",
        *step,
        "            loss_sum += batch_loss * X.shape[0]",
        "            right += accuracy(y_hat, y)",
        "            n += X.shape[0]",
        "            step_seconds += time.perf_counter() - start",
        "        examples += n",
        "        test_acc = evaluate_accuracy(net, test_iter, device)",
        "        print(f'epoch {epoch + 1}, loss {loss_sum / n:.3f}, train acc {right / n:.3f}, '",
        "              f'test acc {test_acc:.3f}', flush=True)",
        "    print(f'{examples / step_seconds:.1f} examples/sec on {device}')",
    ])


def _main(c: TrainConfig, info) -> str:
    threads = "" if c.threads is None else f", default={c.threads!r}"
    return f'''def pick_device(name):
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("no CUDA GPU is available here; use --device cpu")
    if device.type not in ("cpu", "cuda"):
        raise ValueError("use {SCRIPT_DEVICES}")
    return device


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", metavar="DIR", required=True,
                        help="folder holding {info.folder}/raw/ (torchvision's layout)")
    parser.add_argument("--download", action="store_true", help="download the data set into DIR first")
    parser.add_argument("--epochs", type=int, default=num_epochs, help="default: %(default)s")
    parser.add_argument("--device", default="{c.device}", help="{SCRIPT_DEVICES} (default: %(default)s)")
    parser.add_argument("--threads", type=int{threads},
                        help="PyTorch's threads (default: the cores, at most 4: LeNet's small "
                             "tensors gain nothing from more)")
    parser.add_argument("--workers", type=int, default=0,
                        help="processes that load batches (default: 0, this one)")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    try:
        device = pick_device(args.device)
    except (RuntimeError, ValueError) as exc:
        parser.error(f"--device {{args.device}}: {{exc}}")
    # Threads that outnumber the cores wait for each other at every operation.
    torch.set_num_threads(args.threads or max(1, min(4, os.cpu_count() or 1)))
    torch.manual_seed(seed)
    net = LeNet()
    try:
        train_iter, test_iter = load_data(args.data_root, args.download, args.workers)
    except RuntimeError as exc:  # torchvision: not found, or a failed download
        parser.error(f"{info.title} in {{args.data_root}}: {{exc}}")
    print(f'training on {{device}}', flush=True)
    train(net, train_iter, test_iter, args.epochs, device)


if __name__ == "__main__":
    main()'''
