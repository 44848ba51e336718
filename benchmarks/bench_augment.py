"""Milliseconds per batch of the two training augmentation recipes.

``light``: semcov-data's per-sample torchvision v2 recipe (what each loader worker runs, here
on one thread for a whole batch); ``siim2020``: the full SIIM-ISIC 2020 recipe with kornia on
the batch (:mod:`semcov_train.inputs.augment`), on the chosen device. Median of ``--repeats``
batches after one warm-up batch. Run:

    uv run python benchmarks/bench_augment.py --size 64 224 --batch-size 32 --device cpu
    uv run python benchmarks/bench_augment.py --size 224 --device cuda
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from semcov_data import train_transform
from semcov_train.inputs.augment import siim2020


def _time(function, repeats: int, sync) -> float:
    function()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        sync()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, nargs="+", default=[64, 224])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    print(f"device {device}, batch {args.batch_size}, {args.threads} CPU thread(s)")
    print("| size | light, per sample, CPU (ms/batch) | siim2020, batch on the device (ms/batch) |")
    print("|---|---|---|")
    for size in args.size:
        torch.manual_seed(0)
        images = torch.randint(0, 256, (args.batch_size, 3, size, size), dtype=torch.uint8)
        light = train_transform(size)
        full = siim2020(image_size=size).to(device)
        on_device = images.to(device)
        light_ms = _time(
            lambda light=light, images=images: [light(image) for image in images],
            args.repeats,
            lambda: None,
        )
        full_ms = _time(lambda full=full, x=on_device: full(x), args.repeats, sync)
        print(f"| {size} | {light_ms:.0f} | {full_ms:.0f} |")


if __name__ == "__main__":
    main()
