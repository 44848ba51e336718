"""Paper Table 3 (semantic fairness: CDI, worst-SCG TPR, TPR std) beside the paper's numbers.

CDI, TPR_w and TPR_std count each run's test decisions at its ``decision_threshold``, the
threshold of maximal balanced accuracy on that run's validation split (at argmax a weak model on
imbalanced data predicts almost no positive, and CDI would measure the class imbalance), over
the SCGs with at least one expected test member. Each run's ``results.json`` also holds
``cdi_hard``, ``cdi_null`` (the noise floor) and ``cdi_per_class``.

Table 3 is measured on the models of Tables 1 and 2, so this app trains (or reuses) exactly those
runs: experiment ``table1`` for MILK10k dermoscopic and clinical, ``table2`` for ISIC-DICM-17K.
With no arguments both stand on the synthetic benchmark with the ``quick`` preset on the CPU::

    uv run apps/reproduce_table3.py
    uv run apps/reproduce_table3.py --milk10k-root ~/data/milk10k \
        --isic-root ~/data/isic-dicm-17k --descriptors-csv ~/data/isic-dicm-17k/monet.csv \
        --preset paper --device cuda --folds 5
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from app_runner import build_parser, emit, parse_args, run_app, run_jobs, select_runs
from collect_results import paper_table, side_by_side, summarize
from reproduce_table1 import MODALITIES, TABLE1_METHODS, not_run_reasons
from reproduce_table2 import MODALITY
from reproduce_table2 import experiment as table2_experiment

__all__ = ["FAIRNESS_METRICS", "main", "table3"]

FAIRNESS_METRICS = ("cdi", "tpr_worst", "tpr_std")


def _parts(args: argparse.Namespace) -> tuple[argparse.Namespace, argparse.Namespace]:
    """The Table 1 (MILK10k) and Table 2 (ISIC-DICM-17K) halves of the command line."""
    milk = argparse.Namespace(**vars(args))
    milk.data_root = args.milk10k_root
    milk.dataset = "milk10k" if args.milk10k_root is not None else "synthetic"
    isic = argparse.Namespace(**vars(args))
    isic.data_root = args.isic_root
    isic.dataset = "isic_dicm17k" if args.isic_root is not None else "synthetic"
    isic.modality = MODALITY[isic.dataset]
    return milk, isic


def table3(milk: argparse.Namespace, isic: argparse.Namespace, not_run: dict[str, str]):
    """The side-by-side table, rows as in the paper (model × dataset)."""
    milk_summary = summarize(
        select_runs(milk, "table1"), FAIRNESS_METRICS, keys=("method", "modality")
    )
    milk_summary["table_dataset"] = "milk10k-" + milk_summary["modality"].astype(str)
    synthetic = isic.dataset == "synthetic"  # then Table 1's dermoscopic runs stand in
    isic_runs = select_runs(
        isic, table2_experiment(isic.dataset), [isic.modality] if synthetic else None
    )
    isic_summary = summarize(isic_runs, FAIRNESS_METRICS, keys=("method",))
    isic_summary["table_dataset"] = "isic-dicm-17k"
    return side_by_side(
        pd.concat([milk_summary, isic_summary], ignore_index=True),
        paper_table("table3_fairness"),
        paper_keys=["model", "dataset"],
        summary_keys=["method", "table_dataset"],
        metrics=FAIRNESS_METRICS,
        labels=TABLE1_METHODS,
        not_run=not_run_reasons(milk, not_run),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(__doc__.splitlines()[0], "results/reproduce_table3", TABLE1_METHODS)
    parser.add_argument("--milk10k-root", type=Path, default=None, help="real MILK10k folder")
    parser.add_argument("--isic-root", type=Path, default=None, help="real ISIC-DICM-17K folder")
    parser.add_argument(
        "--descriptors-csv", type=Path, default=None, help="ISIC-DICM-17K MONET scores"
    )
    args = parse_args(parser, argv, real_dataset=None, choices={"methods": TABLE1_METHODS})
    if args.data_root is not None or args.dataset is not None:
        parser.error("use --milk10k-root and --isic-root (Table 3 spans two datasets)")
    milk, isic = _parts(args)
    milk.descriptors_csv = None

    def train() -> dict[str, str]:
        not_run = run_jobs(milk, "table1", MODALITIES)
        not_run.update(run_jobs(isic, table2_experiment(isic.dataset), (isic.modality,)))
        return not_run

    return run_app(
        "reproduce_table3",
        train,
        lambda not_run: emit(table3(milk, isic, not_run), args.out, "table3"),
    )


if __name__ == "__main__":
    raise SystemExit(main())
