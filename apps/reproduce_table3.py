"""Paper Table 3 (semantic fairness: CDI, worst-SCG TPR, TPR std) beside the paper's numbers.

Usage (no arguments: Table 1's and Table 2's runs on the synthetic benchmark, ``quick``
preset; see apps/README.md)::

    uv run apps/reproduce_table3.py
    uv run apps/reproduce_table3.py --milk10k-root ~/data/milk10k \
        --isic-root ~/data/isic-dicm-17k --descriptors-csv ~/data/isic-dicm-17k/monet.csv \
        --preset paper --folds 5
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

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
from semcov_train.experiments.evidence import delta_rows, delta_sentences, paper_differences
from semcov_train.reporting import extra_rows, side_by_side, summarize

__all__ = ["FAIRNESS_METRICS", "main", "table3"]

ROWS = read_rows(__file__)
FAIRNESS_METRICS = tuple(ROWS["fairness_metrics"])
MILK10K_MODALITIES = tuple(ROWS["milk10k_modalities"])
MODELS = ROWS["models"]
CONTROLS = ROWS["controls"]  # registry name -> label of a row the paper does not have
LABELS = {**MODELS, **CONTROLS}
PAIRS = [tuple(pair) for pair in ROWS["comparisons"]["pairs"]]
#: The paired-difference row of the table: SemCovNet against ENet-B0, as the paper compares.
DELTA = ("semcovnet", "erm")


NOTES = (
    "CDI, TPR_w and TPR_std count decisions at each run's decision threshold, chosen on its "
    "validation split (maximal balanced accuracy), over the SCGs with at least one expected test "
    "member; read a CDI against its run's cdi_null in results.json (about 0.08 with 91 SCGs).",
    "Our cells: mean ± half-width of the 95 % t-interval over n runs (x (n = 1) for one run); "
    "Δ rows: mean ± half-width of the paired differences over matched (fold, seed). Rows marked "
    "— in the paper's cells are controls we add (apps/README.md, Table 1).",
)


def _parts(args: argparse.Namespace) -> tuple[argparse.Namespace, argparse.Namespace]:
    """The Table 1 (MILK10k) and Table 2 (ISIC-DICM-17K) halves of the command line; on the
    synthetic benchmark Table 1's dermoscopic runs (experiment ``table1``) stand for Table 2."""
    milk = argparse.Namespace(**vars(args))
    milk.data_root = args.milk10k_root
    milk.dataset = "milk10k" if args.milk10k_root is not None else "synthetic"
    milk.descriptors_csv = None
    milk.experiment = "table1"
    isic = argparse.Namespace(**vars(args))
    isic.data_root = args.isic_root
    isic.dataset = "isic_dicm17k" if args.isic_root is not None else "synthetic"
    isic.modality = "dermoscopic" if isic.dataset == "synthetic" else "auto"
    isic.experiment = "table1" if isic.dataset == "synthetic" else "table2"
    return milk, isic


def _grids(milk: argparse.Namespace, isic: argparse.Namespace) -> tuple[list, list]:
    switches = ROWS["method_switches"]
    return (
        [app_grid(milk, milk.experiment, MILK10K_MODALITIES, method_switches=switches)],
        [app_grid(isic, isic.experiment, (isic.modality,), method_switches=switches)],
    )


def table3(milk: argparse.Namespace, isic: argparse.Namespace, not_run: dict[str, str]):
    """The side-by-side table, rows as in the paper (model × dataset), then the controls and the
    paired "Δ SemCovNet − ENet-B0" row of each dataset; and the notes (null floors, paired
    differences in words)."""
    milk_grids, isic_grids = _grids(milk, isic)
    milk_runs = select_runs(milk, milk.experiment, grids=milk_grids)
    milk_runs["table_dataset"] = "milk10k-" + milk_runs["modality"].astype(str)
    synthetic = isic.dataset == "synthetic"
    isic_runs = select_runs(
        isic,
        isic.experiment,
        [isic.modality] if synthetic else None,
        isic_grids,
    )
    isic_runs["table_dataset"] = "isic-dicm-17k"
    runs = pd.concat([milk_runs, isic_runs], ignore_index=True)
    keys = ("method", "table_dataset")
    summary = summarize(runs, [*FAIRNESS_METRICS, "cdi_null"], keys=keys)
    order = list(pd.unique(runs["table_dataset"]))
    summary = summary.sort_values("table_dataset", key=lambda d: d.map(order.index), kind="stable")
    paper = read_paper_table(__file__, "table3_fairness")
    table = side_by_side(
        summary[summary["method"].isin(list(MODELS))],
        paper,
        paper_keys=["model", "dataset"],
        summary_keys=list(keys),
        metrics=FAIRNESS_METRICS,
        labels=MODELS,
        not_run=not_run_reasons(milk.methods, not_run, MODELS),
    )
    controls = extra_rows(
        summary,
        keys=["model", "dataset"],
        summary_keys=list(keys),
        metrics=FAIRNESS_METRICS,
        labels=CONTROLS,
        note="control, not in the paper",
    )
    reported = {
        pair: paper_differences(
            paper, LABELS[pair[0]], LABELS[pair[1]], FAIRNESS_METRICS, "dataset"
        )
        for pair in PAIRS
    }
    deltas = delta_rows(
        runs,
        *DELTA,
        FAIRNESS_METRICS,
        label=f"Δ {LABELS[DELTA[0]]} − {LABELS[DELTA[1]]}",
        key="dataset",
        run_key="table_dataset",
        paper=reported.get(DELTA),
    )
    notes = [*NOTES, *_null_floors(summary)]
    notes += delta_sentences(
        runs, PAIRS, LABELS, "cdi", run_key="table_dataset", name="CDI", paper=reported
    )
    parts = [part for part in (table, controls, deltas) if not part.empty]
    return pd.concat(parts, ignore_index=True), notes


def _null_floors(summary: pd.DataFrame) -> list[str]:
    """One note per dataset: the mean null floor of CDI over the runs behind it."""
    lines = []
    for dataset, part in summary.groupby("table_dataset", sort=False):
        values = part["cdi_null"].dropna()
        if len(values):
            lines.append(
                f"{dataset}: CDI null floor (mean |r| with the per-SCG errors permuted across "
                f"SCGs, cdi_null) {values.mean():.4f} on average over its models; a CDI near it "
                "does not show coverage-linked error"
            )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = app_parser(__doc__.splitlines()[0], "results/reproduce_table3", LABELS)
    parser.add_argument("--milk10k-root", type=Path, default=None, help="real MILK10k folder")
    parser.add_argument("--isic-root", type=Path, default=None, help="real ISIC-DICM-17K folder")
    parser.add_argument(
        "--descriptors-csv", type=Path, default=None, help="ISIC-DICM-17K MONET scores"
    )
    args = parse_app_args(parser, argv, real_dataset=None, choices={"methods": LABELS})
    if args.data_root is not None or args.dataset is not None:
        parser.error("use --milk10k-root and --isic-root (Table 3 spans two datasets)")
    milk, isic = _parts(args)

    def train() -> dict[str, str]:
        milk_grids, isic_grids = _grids(milk, isic)
        not_run = run_grids(milk, milk_grids)
        not_run.update(run_grids(isic, isic_grids))
        return not_run

    def finish(not_run: dict[str, str]) -> None:
        table, notes = table3(milk, isic, not_run)
        emit(table, args.out, "table3", notes)

    return run_app("reproduce_table3", train, finish)


if __name__ == "__main__":
    raise SystemExit(main())
