"""Speed-up of the local worker launcher over sequential runs on this machine.

The same small grid (``--runs`` quick-preset runs: ``erm`` on folds 0..N-1 of the synthetic
benchmark, ``--epochs`` epochs each) is trained twice into fresh run directories: one run after
the other in this process with ``--threads`` torch threads (``InProcess``), then by
``--workers`` single-thread worker processes (``LocalWorkers``). The synthetic benchmark and
its image cache are built before either is timed. Reported: both wall times (worker start-up
included) and their ratio, sequential / parallel, with the machine's load average before and
after (other processes sharing the cores make both slower and the ratio noisier).

    uv run python benchmarks/bench_launchers.py
    uv run python benchmarks/bench_launchers.py --runs 4 --epochs 1 --lesions 300
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from semcov_train import make_config, prepare_synthetic
from semcov_train.experiments import Grid, InProcess, LocalWorkers, plan, run_plan


def _time_grid(launcher, grid: Grid, settings: dict) -> float:
    jobs = plan(grid, "quick", settings)
    start = time.perf_counter()
    run_plan(jobs, launcher, log=lambda _: None)
    seconds = time.perf_counter() - start
    if plan(grid, "quick", settings).pending:
        raise RuntimeError("some runs did not finish")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4, help="runs in the grid (default 4)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per run (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--threads", type=int, default=2, help="sequential threads (default 2)")
    parser.add_argument(
        "--lesions", type=int, default=None, help="synthetic lesions (default: the quick preset's)"
    )
    parser.add_argument("--cache-dir", type=Path, default=None, help="semcov cache (default tmp)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        cache = str(args.cache_dir or Path(folder) / "cache")
        size = {} if args.lesions is None else {"synthetic_lesions": args.lesions}
        prepare_synthetic(make_config("quick", cache_dir=cache, **size))
        grid = Grid("bench", ["erm"], ["dermoscopic"], folds=range(args.runs))
        common = {
            "dataset": "synthetic",
            "cache_dir": cache,
            "epochs": args.epochs,
            "device": "cpu",
            "progress": False,
            "num_workers": 0,
            **size,
        }
        load_before = os.getloadavg()
        sequential = _time_grid(
            InProcess(),
            grid,
            {**common, "out": f"{folder}/sequential", "num_threads": args.threads},
        )
        parallel = _time_grid(
            LocalWorkers(args.workers), grid, {**common, "out": f"{folder}/parallel"}
        )
        load_after = os.getloadavg()
    print(
        json.dumps(
            {
                "runs": args.runs,
                "epochs": args.epochs,
                "lesions": args.lesions or make_config("quick").synthetic_lesions,
                "cpus": os.cpu_count(),
                "sequential_threads": args.threads,
                "workers": args.workers,
                "sequential_s": round(sequential, 1),
                "parallel_s": round(parallel, 1),
                "speedup": round(sequential / parallel, 2),
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in load_after],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
