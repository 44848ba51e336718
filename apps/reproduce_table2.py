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

import sys
from collections.abc import Sequence
from pathlib import Path

from collect_results import format_table, paper_table, side_by_side, summarize, write_tables
from reproduce_table1 import (
    METRICS,
    TABLE1_METHODS,
    _is_main_process,
    build_parser,
    not_run_reasons,
    run_jobs,
    select_runs,
)

__all__ = ["EXPERIMENT", "main", "table2"]

EXPERIMENT = "table2"
# Table 2 has the same eight rows as Table 1; the real dataset is single-modality (dermoscopic).
MODALITY = {"synthetic": "dermoscopic", "isic_dicm17k": "auto"}


def table2(args, not_run: dict[str, str]):
    """The side-by-side table of the selected runs (collected from their run directories)."""
    return side_by_side(
        summarize(select_runs(args, EXPERIMENT), METRICS, keys=("method",)),
        paper_table("table2_isic_dicm_17k"),
        paper_keys=["model"],
        summary_keys=["method"],
        metrics=METRICS,
        labels=TABLE1_METHODS,
        not_run=not_run_reasons(args, not_run),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(__doc__.splitlines()[0], "results/reproduce_table2")
    parser.add_argument(
        "--descriptors-csv", type=Path, default=None, help="MONET descriptor scores (real data)"
    )
    args = parser.parse_args(argv)
    if args.dataset is None:
        args.dataset = "isic_dicm17k" if args.data_root is not None else "synthetic"
    if args.dataset not in MODALITY:
        parser.error(f"--dataset must be one of {', '.join(MODALITY)}, got {args.dataset!r}")
    unknown = [m for m in args.methods if m not in TABLE1_METHODS]
    if unknown:
        parser.error(f"--methods: {unknown} are not Table 2 methods ({', '.join(TABLE1_METHODS)})")
    if args.folds < 1:
        parser.error("--folds must be >= 1")
    try:
        not_run = run_jobs(args, EXPERIMENT, (MODALITY[args.dataset],))
    except ValueError as error:
        print(f"reproduce_table2: error: {error}", file=sys.stderr)
        return 2
    if not _is_main_process():
        return 0
    table = table2(args, not_run)
    print(format_table(table, "markdown"))
    for path in write_tables(table, args.out, "table2"):
        print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
