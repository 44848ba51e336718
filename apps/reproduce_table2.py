"""Paper Table 2 (ISIC-DICM-17K, eight models): our numbers beside the paper's.

With no arguments: Table 2's methods on the synthetic benchmark (dermoscopic images) with the
``quick`` preset on the CPU, one fold and seed; finished runs are skipped, unfinished ones
resume. With ``--data-root`` the real ISIC-DICM-17K (``--descriptors-csv`` gives its MONET
descriptor scores)::

    uv run apps/reproduce_table2.py
    uv run apps/reproduce_table2.py --data-root ~/data/isic-dicm-17k \
        --descriptors-csv ~/data/isic-dicm-17k/monet.csv --preset paper --device cuda --folds 5
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from app_runner import build_parser, emit, parse_args, run_app, run_jobs
from reproduce_table1 import METRICS, TABLE1_METHODS, method_table

__all__ = ["EXPERIMENT", "experiment", "main", "table2"]

EXPERIMENT = "table2"


def experiment(dataset: str) -> str:
    """The experiment of Table 2's runs: ``table2`` on ISIC-DICM-17K. The synthetic stand-in is
    Table 1's dermoscopic benchmark, so there Table 2's runs are Table 1's dermoscopic runs
    (experiment ``table1``): trained once, by whichever app comes first."""
    return "table1" if dataset == "synthetic" else EXPERIMENT


# Table 2 has the same eight rows as Table 1; the real dataset is single-modality (dermoscopic).
MODALITY = {"synthetic": "dermoscopic", "isic_dicm17k": "auto"}


def table2(args, not_run: dict[str, str]):
    """The side-by-side table of the selected runs (collected from their run directories)."""
    return method_table(
        args,
        not_run,
        experiment=experiment(args.dataset),
        paper="table2_isic_dicm_17k",
        metrics=METRICS,
        by_modality=False,
        modalities=[MODALITY[args.dataset]] if args.dataset == "synthetic" else None,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(__doc__.splitlines()[0], "results/reproduce_table2", TABLE1_METHODS)
    parser.add_argument(
        "--descriptors-csv", type=Path, default=None, help="MONET descriptor scores (real data)"
    )
    args = parse_args(
        parser,
        argv,
        real_dataset="isic_dicm17k",
        datasets=list(MODALITY),
        choices={"methods": TABLE1_METHODS},
    )
    return run_app(
        "reproduce_table2",
        lambda: run_jobs(args, experiment(args.dataset), (MODALITY[args.dataset],)),
        lambda not_run: emit(table2(args, not_run), args.out, "table2"),
    )


if __name__ == "__main__":
    raise SystemExit(main())
