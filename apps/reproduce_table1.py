"""Paper Table 1 (MILK10k dermoscopic and clinical, eight models): our numbers beside the paper's.

Usage (no arguments: the synthetic benchmark, ``quick`` preset; see apps/README.md)::

    uv run apps/reproduce_table1.py
    uv run apps/reproduce_table1.py --data-root ~/data/milk10k --preset paper --folds 5
    uv run torchrun --nproc-per-node 4 apps/reproduce_table1.py --preset paper ...
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

__all__ = ["EXPERIMENT", "METRICS", "MODALITIES", "MODELS", "grids", "main", "table1"]

ROWS = read_rows(__file__)
EXPERIMENT = "table1"
MODALITIES = tuple(ROWS["milk10k_modalities"])
METRICS = tuple(ROWS["performance_metrics"])
MODELS = ROWS["models"]  # registry name -> the paper's row label


NOTES = (
    "BAcc and Macro-F1 are at argmax (class 1 when its probability exceeds 0.5), the paper's "
    "convention; Table 3's per-SCG metrics use each run's validation-chosen decision threshold.",
    "Our cells: mean ± half-width of the 95 % t-interval over n runs (x (n = 1) for one run); "
    "the paper's ± is its standard deviation.",
)


def grids(args: argparse.Namespace) -> list:
    """Table 1's runs: the selected models on both modalities, every fold and seed."""
    return [app_grid(args, EXPERIMENT, MODALITIES, method_switches=ROWS["method_switches"])]


def table1(args: argparse.Namespace, not_run: dict[str, str]):
    """One row per (model, modality) of the paper: our mean ± std beside the paper's."""
    runs = select_runs(args, EXPERIMENT, grids=grids(args))
    return side_by_side(
        summarize(runs, METRICS, keys=("method", "modality")),
        read_paper_table(__file__, "table1_milk10k"),
        paper_keys=["model", "modality"],
        summary_keys=["method", "modality"],
        metrics=METRICS,
        labels=MODELS,
        not_run=not_run_reasons(args.methods, not_run, MODELS),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = app_parser(__doc__.splitlines()[0], "results/reproduce_table1", MODELS)
    args = parse_app_args(parser, argv, real_dataset="milk10k", choices={"methods": MODELS})
    return run_app(
        "reproduce_table1",
        lambda: run_grids(args, grids(args)),
        lambda not_run: emit(table1(args, not_run), args.out, "table1", NOTES),
    )


if __name__ == "__main__":
    raise SystemExit(main())
