"""Paper Table 2 (ISIC-DICM-17K, eight models): our numbers beside the paper's.

Usage (no arguments: the synthetic benchmark's dermoscopic images, ``quick`` preset; on it
Table 2's runs are Table 1's dermoscopic runs; see apps/README.md)::

    uv run apps/reproduce_table2.py
    uv run apps/reproduce_table2.py --data-root ~/data/isic-dicm-17k \
        --descriptors-csv ~/data/isic-dicm-17k/monet.csv --preset paper --folds 5
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from semcov_train.experiments.command_line import (
    app_grid,
    app_parser,
    emit,
    not_run_reasons,
    parse_app_args,
    read_paper_table,
    read_rows,
    run_app,
    run_grids,
    select_runs,
)
from semcov_train.reporting import side_by_side, summarize

__all__ = ["MODALITY", "experiment", "grids", "main", "table2"]

ROWS = read_rows(__file__)
METRICS = tuple(ROWS["performance_metrics"])
MODELS = ROWS["models"]
#: --dataset -> the modality of Table 2's runs (the real dataset is dermoscopic only)
MODALITY = {"synthetic": "dermoscopic", "isic_dicm17k": "auto", "csv": "auto"}


def experiment(dataset: str) -> str:
    """``table2`` on real data; ``table1`` on the synthetic benchmark (Table 1's dermoscopic
    runs stand in, trained once by whichever app comes first)."""
    return "table1" if dataset == "synthetic" else "table2"


def grids(args: argparse.Namespace) -> list:
    """Table 2's runs: the selected models on the dataset's dermoscopic images."""
    grid = app_grid(
        args,
        experiment(args.dataset),
        (MODALITY[args.dataset],),
        method_switches=ROWS["method_switches"],
    )
    return [grid]


def table2(args: argparse.Namespace, not_run: dict[str, str]):
    """One row per model of the paper: our mean ± std beside the paper's."""
    modalities = [MODALITY[args.dataset]] if args.dataset == "synthetic" else None
    runs = select_runs(args, experiment(args.dataset), modalities, grids(args))
    return side_by_side(
        summarize(runs, METRICS, keys=("method",)),
        read_paper_table(__file__, "table2_isic_dicm_17k"),
        paper_keys=["model"],
        summary_keys=["method"],
        metrics=METRICS,
        labels=MODELS,
        not_run=not_run_reasons(args.methods, not_run, MODELS),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = app_parser(__doc__.splitlines()[0], "results/reproduce_table2", MODELS)
    parser.add_argument(
        "--descriptors-csv", type=Path, default=None, help="MONET descriptor scores (real data)"
    )
    args = parse_app_args(
        parser,
        argv,
        real_dataset="isic_dicm17k",
        datasets=list(MODALITY),
        choices={"methods": MODELS},
    )
    return run_app(
        "reproduce_table2",
        lambda: run_grids(args, grids(args)),
        lambda not_run: emit(table2(args, not_run), args.out, "table2"),
    )


if __name__ == "__main__":
    raise SystemExit(main())
