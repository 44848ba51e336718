"""Paper Table 7 (CelebA curated subset, Smiling, subgroup Male; six models) beside the paper.

Usage (no arguments: the synthetic lesion benchmark stands in for CelebA, ``quick`` preset;
see apps/README.md)::

    uv run apps/reproduce_table7.py
    uv run apps/reproduce_table7.py --data-root ~/data/celeba --preset paper
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

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

__all__ = ["EXPERIMENT", "METRICS", "TABLE7_METHODS", "grids", "main", "table7"]

ROWS = read_rows(__file__)
EXPERIMENT = "table7"
TABLE7_METHODS = ("cbl", "asl", "groupdro", "clip", "monet", "semcovnet")
# Table 1's six metrics and Table 3's three fairness columns
METRICS = (*ROWS["performance_metrics"], *ROWS["fairness_metrics"])
MODALITY = {"synthetic": "dermoscopic", "celeba": "auto", "csv": "auto"}


def grids(args: argparse.Namespace) -> list:
    """Table 7's runs: the selected models on the dataset's one modality."""
    return [
        app_grid(
            args,
            EXPERIMENT,
            (MODALITY[args.dataset],),
            method_switches=ROWS["method_switches"],
        )
    ]


def table7(args: argparse.Namespace, not_run: dict[str, str]):
    """One row per model of the paper: our mean ± std beside the paper's."""
    runs = select_runs(args, EXPERIMENT, grids=grids(args))
    return side_by_side(
        summarize(runs, METRICS, keys=("method",)),
        read_paper_table(__file__, "table7_celeba"),
        paper_keys=["model"],
        summary_keys=["method"],
        metrics=METRICS,
        labels=ROWS["models"],
        not_run=not_run_reasons(args.methods, not_run, ROWS["models"]),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = app_parser(__doc__.splitlines()[0], "results/reproduce_table7", TABLE7_METHODS)
    args = parse_app_args(
        parser,
        argv,
        real_dataset="celeba",
        datasets=list(MODALITY),
        choices={"methods": TABLE7_METHODS},
    )
    return run_app(
        "reproduce_table7",
        lambda: run_grids(args, grids(args)),
        lambda not_run: emit(table7(args, not_run), args.out, "table7"),
    )


if __name__ == "__main__":
    raise SystemExit(main())
