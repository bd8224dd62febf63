#!/usr/bin/env python
"""Accuracy per kind of real input, through the same code as ``lenet-gui predict``.

Reads the sets that scripts/make_eval_sets.py wrote and classifies every file's bytes with
``lenet_gui.core.inference.classify`` (decoding, preprocessing, the model, its temperature and
its out-of-distribution check, exactly as the command line does). For the kinds the model knows
it reports accuracy, mean top-1 probability and how many were wrongly called unfamiliar; for the
others, how many were recognised as not what the model knows (blank or unfamiliar).

    python scripts/eval_real_inputs.py --sets /tmp/lenet-eval --model mnist [--split heldout]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lenet_gui.core.checkpoint import load_checkpoint  # noqa: E402
from lenet_gui.core.inference import Predictor, classify  # noqa: E402
from lenet_gui.core.resources import model_path  # noqa: E402

KNOWN = {"mnist": ("scan", "canvas", "png"), "fashion-mnist": ("photo",)}
UNKNOWN = {"mnist": ("garment", "noise", "scene", "text", "blank"),
           "fashion-mnist": ("digit", "noise", "scene", "text", "blank")}


def rows_for(manifest: Path, dataset: str, splits: list[str]) -> list[dict]:
    with open(manifest, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    wanted = set(KNOWN[dataset]) | set(UNKNOWN[dataset])
    return [r for r in rows if r["kind"] in wanted and r["split"] in splits and r["model"] in (dataset, "any")]


def evaluate(loaded, root: Path, rows: list[dict], dump: bool = False):
    predictor = Predictor(loaded)
    results = []
    logits = []
    for row in rows:
        data = (root / row["file"]).read_bytes()
        _pre, prediction = classify(loaded, data, predictor)
        label = int(row["label"])
        record = dict(row, label=label, blank=prediction is None)
        if prediction is not None:
            record.update(index=prediction.index, confidence=prediction.confidence,
                          unfamiliar=prediction.unfamiliar, novelty=prediction.novelty)
            if dump:
                logits.append(prediction.logits.ravel())
        else:
            record.update(index=-1, confidence=0.0, unfamiliar=False, novelty=None)
            if dump:
                logits.append(np.full(10, np.nan))
        results.append(record)
    return results, logits


def summarise(results: list[dict], dataset: str) -> list[dict]:
    table = []
    groups = defaultdict(list)
    for r in results:
        groups[(r["kind"], r["split"])].append(r)
    for (kind, split), group in sorted(groups.items(), key=lambda item: (item[0][0] not in KNOWN[dataset], item[0])):
        n = len(group)
        if kind in KNOWN[dataset]:
            correct = sum(r["index"] == r["label"] for r in group)
            table.append(dict(kind=kind, split=split, n=n, accuracy=correct / n,
                              confidence=float(np.mean([r["confidence"] for r in group])),
                              unfamiliar=sum(r["unfamiliar"] for r in group) / n,
                              correct_and_familiar=sum(r["index"] == r["label"] and not r["unfamiliar"] for r in group) / n))
        else:
            caught = sum(r["blank"] or r["unfamiliar"] for r in group)
            table.append(dict(kind=kind, split=split, n=n, caught=caught / n,
                              blank=sum(r["blank"] for r in group) / n,
                              confidence=float(np.mean([r["confidence"] for r in group]))))
    return table


def print_table(table: list[dict], title: str) -> None:
    print(title)
    for t in table:
        if "accuracy" in t:
            print(f"  {t['kind']:<8} {t['split']:<8} n={t['n']:<5} accuracy {t['accuracy']:.4f}  "
                  f"mean top-1 {t['confidence']:.3f}  called unfamiliar {t['unfamiliar']:.3f}")
        else:
            print(f"  {t['kind']:<8} {t['split']:<8} n={t['n']:<5} recognised as unknown {t['caught']:.3f} "
                  f"(blank {t['blank']:.3f})  mean top-1 {t['confidence']:.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", required=True, help="the folder make_eval_sets.py wrote")
    parser.add_argument("--model", default="mnist", help="mnist, fashion-mnist or a checkpoint path")
    parser.add_argument("--split", action="append", choices=["tune", "heldout"],
                        help="which split(s) to run (default: both)")
    parser.add_argument("--json", metavar="PATH", help="write every image's result here")
    parser.add_argument("--dump", metavar="PATH", help="write every image's logits (npz) for analysis")
    parser.add_argument("--errors", type=int, default=0, help="list up to N misread files per kind")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    root = Path(args.sets)
    loaded = load_checkpoint(model_path(args.model))
    dataset = loaded.dataset or "mnist"
    rows = rows_for(root / "manifest.csv", dataset, args.split or ["tune", "heldout"])
    results, logits = evaluate(loaded, root, rows, dump=bool(args.dump))
    table = summarise(results, dataset)
    print_table(table, f"model: {loaded.title} ({loaded.path})")
    if args.errors:
        by_kind = defaultdict(list)
        for r in results:
            if r["kind"] in KNOWN[dataset] and r["index"] != r["label"]:
                by_kind[r["kind"]].append(r)
        for kind, wrong in by_kind.items():
            print(f"misread {kind}:")
            for r in wrong[: args.errors]:
                print(f"  {r['file']}: {r['label']} read as {r['index']} ({r['confidence']:.2f}) {r['note']}")
    if args.json:
        Path(args.json).write_text(json.dumps(dict(table=table, results=results), indent=1))
    if args.dump:
        np.savez(args.dump, logits=np.stack(logits),
                 kind=np.array([r["kind"] for r in results]), split=np.array([r["split"] for r in results]),
                 label=np.array([r["label"] for r in results]), blank=np.array([r["blank"] for r in results]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
