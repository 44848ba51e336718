"""Per-run time of the default Table 1 grid and its estimated wall clock on this machine.

Trains one run of each row (ENet-B0, ViT, SemCovNet, ENet-B0 + descriptors (late fusion),
SemCovNet (shuffled descriptors)) on each modality with a preset, one thread each, one run at a
time, from an empty cache folder; it times the one-time data generation separately (the
synthetic pool and, with ``synthetic_test_lesions``, the independent test draw) and
extrapolates to the grid (rows × modalities × ``--seeds``) on ``--workers`` single-thread
worker processes: ``one-time + Σ per-run × seeds / workers``. It prints each run's test AUC too,
so the figures say whether the models learned; the oracle ceiling of the split is printed with
them. Read ``uptime`` beside the figures: on a shared machine they are upper bounds.

    OMP_NUM_THREADS=1 uv run python benchmarks/bench_default_grid.py --preset quick
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

ROWS = ("erm", "vit", "semcovnet", "erm_late_fusion", "semcovnet_shuffled")
MODALITIES = ("dermoscopic", "clinical")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--rows", nargs="+", default=list(ROWS))
    parser.add_argument("--modalities", nargs="+", default=list(MODALITIES))
    parser.add_argument("--seeds", type=int, default=3, help="seeds of the extrapolated grid")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--set", nargs="*", default=[], help="overrides FIELD=VALUE (JSON)")
    args = parser.parse_args()

    from semcov_train import make_config, train
    from semcov_train.inputs.split_parts import prepare_synthetic_parts
    from semcov_train.methods.oracle import oracle_ceiling

    overrides = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.set)}
    with tempfile.TemporaryDirectory() as folder:
        base = make_config(
            args.preset, cache_dir=folder, out=str(Path(folder) / "runs"), num_threads=1,
            progress=False, **overrides,
        )  # fmt: skip
        start = time.perf_counter()
        prepare_synthetic_parts(base)
        generation = time.perf_counter() - start
        print(f"one-time data generation: {generation:.1f} s", flush=True)

        print(f"oracle (scene parameters) test AUC: {oracle_ceiling(base):.3f}", flush=True)
        print("| row | modality | test AUC | seconds |")
        print("|---|---|---|---|")
        per_run = {}
        for modality in args.modalities:
            for row in args.rows:
                config = base.replace(method=row, modality=modality)
                start = time.perf_counter()
                result = train(config)
                seconds = time.perf_counter() - start
                per_run[(row, modality)] = seconds
                print(
                    f"| {row} | {modality} | {result.results['auc']:.3f} | {seconds:.1f} |",
                    flush=True,
                )
        total = sum(per_run.values()) * args.seeds / args.workers
        n_runs = len(per_run) * args.seeds
        print(
            f"estimated grid ({n_runs} runs, {args.workers} workers): {generation + total:.0f} s "
            f"(generation {generation:.0f} s + runs {total:.0f} s); load: {os.getloadavg()[0]:.1f}"
        )


if __name__ == "__main__":
    main()
