"""The Projector's costs: a map computed, the same map read back from the cache, and placing one
new input (a pen stroke's drawing) on it.

Rounds alternate between computing PCA of fc2 for the whole test set and reading that map from
a fresh cache on disk (the next run of the app), so both see the same machine load; t-SNE is
computed once per round on its fixed sample (it takes seconds). Placing an input is timed for
the PCA transform, for the t-SNE map's nearest-neighbour placement the window uses, and, as the
baseline that placement replaces, openTSNE's own transform of one point.

    python benchmarks/projection.py [--data-root DIR] [--model mnist|fashion-mnist|PATH] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402


def _median_ms(samples: list[float]) -> float:
    return 1000 * statistics.median(samples)


def main(argv: list[str] | None = None) -> int:
    from lenet_gui.core import projection
    from lenet_gui.core.checkpoint import load_checkpoint
    from lenet_gui.core.data import load_dataset
    from lenet_gui.core.resources import model_path

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root")
    parser.add_argument("--model", default="fashion-mnist")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    loaded = load_checkpoint(model_path(args.model))
    split = load_dataset(loaded.dataset, args.data_root, download=False).test
    compute, cached, tsne = [], [], []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.rounds):
            for path in Path(folder).glob("*.npz"):
                path.unlink()
            start = time.perf_counter()
            pca = projection.project(loaded.model, split, "fc2", "pca", cache=projection.ProjectionCache(folder))
            compute.append(time.perf_counter() - start)
            start = time.perf_counter()
            again = projection.project(loaded.model, split, "fc2", "pca", cache=projection.ProjectionCache(folder))
            cached.append(time.perf_counter() - start)
            assert np.array_equal(again.coords, pca.coords)
            start = time.perf_counter()
            tsne_map = projection.compute_projection(loaded.model, split, "fc2", "tsne", threads=args.threads)
            tsne.append(time.perf_counter() - start)

    features, _ = projection.layer_features(loaded.model, split.images[:50], "fc2")
    place_pca, place_tsne = [], []
    for row in features:
        start = time.perf_counter()
        pca.place(row)
        place_pca.append(time.perf_counter() - start)
        start = time.perf_counter()
        tsne_map.place(row)
        place_tsne.append(time.perf_counter() - start)
    # openTSNE's transform needs the embedding object itself (not kept in the cache), made here
    # on the same sample with the same settings.
    from openTSNE import TSNE

    embedding = TSNE(random_state=projection.TSNE_SEED, n_jobs=args.threads).fit(tsne_map.features.astype(np.float64))
    transform = []
    for row in features[:5]:
        start = time.perf_counter()
        embedding.transform(row[None].astype(np.float64))
        transform.append(time.perf_counter() - start)

    n, m = len(split), len(tsne_map)
    print(f"model {loaded.title}, {n} test images, {args.rounds} rounds, {args.threads} threads")
    print(f"PCA of fc2, {n} images, computed:        {_median_ms(compute):9.1f} ms (median)")
    print(f"PCA of fc2, read from the disk cache:    {_median_ms(cached):9.1f} ms  "
          f"(x{statistics.median(compute) / statistics.median(cached):.0f} faster)")
    print(f"t-SNE of fc2, {m} images, computed:      {_median_ms(tsne):9.1f} ms")
    print(f"placing one input, PCA transform:        {_median_ms(place_pca):9.3f} ms")
    print(f"placing one input, t-SNE neighbours:     {_median_ms(place_tsne):9.3f} ms")
    print(f"placing one input, openTSNE transform:   {_median_ms(transform):9.1f} ms  "
          f"(baseline: x{statistics.median(transform) / statistics.median(place_tsne):.0f} the neighbours' time)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
