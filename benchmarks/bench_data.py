"""Images per second for one epoch: reading the semcov-data image cache vs decoding the JPEGs.

Generates JPEGs (default 1,000 of 600×450), builds the cache once, then times one epoch of a
DataLoader (2 persistent workers, batch 64, 224 px; median of 3 epochs after a warm-up
epoch) over each source: uint8 batches (normalised later on
the device with ``normalize_batch``), and, for comparison, float batches normalised in the
workers. Run:

    uv run python benchmarks/bench_data.py --images 1000 --workers 2 --size 224
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image
from torch.utils.data import DataLoader
from torchvision.transforms import v2

from semcov_data import SemCovDataset, build_image_cache, eval_transform, load_csv
from semcov_data.transforms import IMAGENET_MEAN, IMAGENET_STD


def make_images(folder: Path, n: int, width: int, height: int, seed: int = 0) -> Path:
    """Smooth random JPEGs (closer to photographs than white noise) and a CSV describing them."""
    rng = np.random.default_rng(seed)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n):
        low = rng.integers(0, 256, (height // 16, width // 16, 3), dtype=np.uint8)
        image = Image.fromarray(low).resize((width, height), Image.Resampling.BICUBIC)
        name = f"images/{i:05d}.jpg"
        image.save(folder / name, quality=90)
        rows.append({"image": name, "label": i % 2, "hair": rng.uniform(), "site": "a"})
    pd.DataFrame(rows).to_csv(folder / "labels.csv", index=False)
    return folder / "labels.csv"


def throughput(dataset: SemCovDataset, workers: int, batch: int, epochs: int) -> float:
    """Median images/s over ``epochs`` timed epochs, after one warm-up epoch.

    Workers persist across epochs, as in training, so worker start-up is not counted; the
    warm-up epoch also pages the cache file in (as every epoch after the first sees it).
    """
    loader = DataLoader(
        dataset, batch_size=batch, num_workers=workers, persistent_workers=workers > 0
    )
    rates = []
    for i in range(epochs + 1):
        start = time.perf_counter()
        for _ in loader:
            pass
        if i:
            rates.append(len(dataset) / (time.perf_counter() - start))
    return float(np.median(rates))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--width", type=int, default=600)
    parser.add_argument("--height", type=int, default=450)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs (median)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        table = load_csv(
            make_images(folder, args.images, args.width, args.height),
            descriptor_columns=["hair"],
            subgroup_columns="site",
        )
        start = time.perf_counter()
        cache = build_image_cache(table.image_paths(), folder / "cache", size=args.size)
        build = time.perf_counter() - start
        # Same output both ways: shorter side to size, centre crop, uint8.
        crop = v2.Compose([v2.Resize(args.size, antialias=True), v2.CenterCrop(args.size)])
        results = {}
        for label, normalize in (("uint8", False), ("float", True)):
            to_float = [
                v2.ToDtype(torch.float32, scale=True),
                v2.Normalize(IMAGENET_MEAN, IMAGENET_STD),
            ]
            decode_tf = v2.Compose([crop, *to_float]) if normalize else crop
            decoded = SemCovDataset(table, transform=decode_tf, check_images=False)
            cached = SemCovDataset(
                table, transform=eval_transform(args.size, normalize=normalize), cache=cache
            )
            results[label] = (
                throughput(decoded, args.workers, args.batch, args.epochs),
                throughput(cached, args.workers, args.batch, args.epochs),
            )
    n = len(table)
    setup = f"{args.size} px, {args.workers} workers, batch {args.batch}"
    print(f"{n} JPEGs {args.width}x{args.height}, {setup}")
    print(f"cache build (one time): {build:.2f} s ({n / build:.0f} images/s)")
    for label, (jpeg, cached) in results.items():
        print(
            f"{label:5s} batches: decode JPEGs {jpeg:6.0f} images/s, "
            f"read cache {cached:6.0f} images/s, speed-up {cached / jpeg:.1f}x"
        )


if __name__ == "__main__":
    main()
