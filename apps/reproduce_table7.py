"""Paper Table 7 (CelebA curated subset, Smiling, subgroup Male; six models) beside the paper.

With no arguments the synthetic lesion benchmark stands in for CelebA (``quick`` preset, CPU), so
the whole pipeline runs without the real data; ``--data-root`` switches to ``--dataset celeba``::

    uv run apps/reproduce_table7.py
    uv run apps/reproduce_table7.py --data-root ~/data/celeba --preset paper --device cuda
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from collect_results import format_table, paper_table, side_by_side, summarize, write_tables
from reproduce_table1 import (
    TABLE1_METHODS,
    _is_main_process,
    build_parser,
    not_run_reasons,
    run_jobs,
    select_runs,
)

__all__ = ["EXPERIMENT", "TABLE7_METHODS", "main", "table7"]

EXPERIMENT = "table7"
TABLE7_METHODS = ("cbl", "asl", "groupdro", "clip", "monet", "semcovnet")
METRICS = (
    "auc",
    "pr_auc",
    "sens_at_95spec",
    "balanced_accuracy",
    "macro_f1",
    "ece",
    "cdi",
    "tpr_worst",
    "tpr_std",
)
MODALITY = {"synthetic": "dermoscopic", "celeba": "auto"}


def table7(args, not_run: dict[str, str]):
    """The side-by-side table of the selected runs, rows as in the paper."""
    return side_by_side(
        summarize(select_runs(args, EXPERIMENT), METRICS, keys=("method",)),
        paper_table("table7_celeba"),
        paper_keys=["model"],
        summary_keys=["method"],
        metrics=METRICS,
        labels=TABLE1_METHODS,
        not_run=not_run_reasons(args, not_run),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(__doc__.splitlines()[0], "results/reproduce_table7")
    parser.set_defaults(methods=list(TABLE7_METHODS))
    args = parser.parse_args(argv)
    if args.dataset is None:
        args.dataset = "celeba" if args.data_root is not None else "synthetic"
    if args.dataset not in MODALITY:
        parser.error(f"--dataset must be one of {', '.join(MODALITY)}, got {args.dataset!r}")
    unknown = [m for m in args.methods if m not in TABLE7_METHODS]
    if unknown:
        parser.error(f"--methods: {unknown} are not Table 7 methods ({', '.join(TABLE7_METHODS)})")
    if args.folds < 1:
        parser.error("--folds must be >= 1")
    try:
        not_run = run_jobs(args, EXPERIMENT, (MODALITY[args.dataset],))
    except ValueError as error:
        print(f"reproduce_table7: error: {error}", file=sys.stderr)
        return 2
    if not _is_main_process():
        return 0
    table = table7(args, not_run)
    print(format_table(table, "markdown"))
    for path in write_tables(table, args.out, "table7"):
        print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
