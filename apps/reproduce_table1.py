"""Paper Table 1 (MILK10k dermoscopic and clinical, eight models): our numbers beside the paper's.

Usage (no arguments: the synthetic benchmark, ``quick`` preset, three seeds; apps/README.md)::

    uv run apps/reproduce_table1.py
    uv run apps/reproduce_table1.py --data-root ~/data/milk10k --preset paper --folds 5
    uv run torchrun --nproc-per-node 4 apps/reproduce_table1.py --preset paper ...
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import pandas as pd

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
from semcov_train.experiments.evidence import delta_sentences, oracle_rows, paper_differences
from semcov_train.reporting import extra_rows, side_by_side, summarize

__all__ = ["EXPERIMENT", "METRICS", "MODALITIES", "MODELS", "grids", "main", "table1"]

ROWS = read_rows(__file__)
EXPERIMENT = "table1"
MODALITIES = tuple(ROWS["milk10k_modalities"])
METRICS = tuple(ROWS["performance_metrics"])
MODELS = ROWS["models"]  # registry name -> the paper's row label
CONTROLS = ROWS["controls"]  # registry name -> label of a row the paper does not have
LABELS = {**MODELS, **CONTROLS}
PAIRS = [tuple(pair) for pair in ROWS["comparisons"]["pairs"]]

NOTES = (
    "BAcc and Macro-F1 are at argmax (class 1 when its probability exceeds 0.5), the paper's "
    "convention; Table 3's per-SCG metrics use each run's validation-chosen decision threshold.",
    "Our cells: mean ± half-width of the 95 % t-interval over n runs (x (n = 1) for one run); "
    "the paper's ± is its standard deviation. Rows marked — in the paper's cells are controls "
    "we add (apps/README.md, Table 1).",
)


def grids(args: argparse.Namespace) -> list:
    """Table 1's runs: the selected models and controls on both modalities, every fold, seed."""
    return [app_grid(args, EXPERIMENT, MODALITIES, method_switches=ROWS["method_switches"])]


def table1(args: argparse.Namespace, not_run: dict[str, str]) -> tuple[pd.DataFrame, list]:
    """One row per (model, modality) of the paper, then the controls and, on synthetic data,
    the oracle ceiling; and the notes with the paired AUC differences."""
    runs = select_runs(args, EXPERIMENT, grids=grids(args))
    summary = summarize(runs, METRICS, keys=("method", "modality"))
    summary = summary.sort_values("modality", key=lambda m: m.map(MODALITIES.index), kind="stable")
    paper = read_paper_table(__file__, "table1_milk10k")
    table = side_by_side(
        summary[summary["method"].isin(list(MODELS))],
        paper,
        paper_keys=["model", "modality"],
        summary_keys=["method", "modality"],
        metrics=METRICS,
        labels=MODELS,
        not_run=not_run_reasons(args.methods, not_run, MODELS),
    )
    parts = [table]
    parts.append(
        extra_rows(
            summary,
            keys=["model", "modality"],
            summary_keys=["method", "modality"],
            metrics=METRICS,
            labels=CONTROLS,
            note="control, not in the paper",
        )
    )
    if args.dataset == "synthetic":
        parts.append(oracle_rows(args, MODALITIES, METRICS, ROWS["oracle"]))
    reported = {
        pair: paper_differences(paper, LABELS[pair[0]], LABELS[pair[1]], ["auc"], "modality")
        for pair in PAIRS
    }
    sentences = delta_sentences(
        runs, PAIRS, LABELS, "auc", run_key="modality", name="test AUC", paper=reported
    )
    table = pd.concat([part for part in parts if not part.empty], ignore_index=True)
    return table, [*NOTES, *sentences]


def main(argv: Sequence[str] | None = None) -> int:
    parser = app_parser(__doc__.splitlines()[0], "results/reproduce_table1", LABELS)
    args = parse_app_args(parser, argv, real_dataset="milk10k", choices={"methods": LABELS})

    def finish(not_run: dict[str, str]) -> None:
        table, notes = table1(args, not_run)
        emit(table, args.out, "table1", notes)

    return run_app("reproduce_table1", lambda: run_grids(args, grids(args)), finish)


if __name__ == "__main__":
    raise SystemExit(main())
