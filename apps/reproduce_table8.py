"""Paper Table 8 (GroupDRO → SemCovNet fairness per subgroup, MILK10k dermoscopic) beside the paper.

The subgroup (site, skin tone, age) defines the SCGs behind CDI, worst-SCG TPR and TPR std, and
GroupDRO's groups; each subgroup is its own experiment ``table8-<subgroup>``. With no arguments:
the synthetic benchmark, ``quick`` preset, CPU::

    uv run apps/reproduce_table8.py
    uv run apps/reproduce_table8.py --data-root ~/data/milk10k --preset paper --device cuda
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import pandas as pd
from collect_results import format_table, paper_table, side_by_side, summarize, write_tables
from reproduce_table1 import (
    TABLE1_METHODS,
    _is_main_process,
    build_parser,
    run_jobs,
    select_runs,
)

__all__ = ["SUBGROUPS", "main", "table8"]

SUBGROUPS = ("site", "skin_tone", "age")
METHODS = ("groupdro", "semcovnet")
METRICS = ("cdi", "tpr_worst", "tpr_std")
MODALITY = "dermoscopic"


def table8(args, subgroups: Sequence[str]):
    """The side-by-side table, one row per (subgroup, model) of the paper."""
    parts = []
    for subgroup in subgroups:
        summary = summarize(select_runs(args, f"table8-{subgroup}"), METRICS, keys=("method",))
        summary["subgroup"] = subgroup
        parts.append(summary)
    ours = pd.concat(parts, ignore_index=True)
    ours["model"] = ours["method"].map(TABLE1_METHODS)
    # rows are keyed by subgroup first; both methods need no weights, so a missing cell means
    # an unselected subgroup or an unfinished run
    reasons = {s: "not selected (--subgroups)" for s in SUBGROUPS}
    reasons.update({s: "no finished run" for s in subgroups})
    return side_by_side(
        ours,
        paper_table("table8_subgroups"),
        paper_keys=["subgroup", "model"],
        summary_keys=["subgroup", "model"],
        metrics=METRICS,
        not_run=reasons,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(__doc__.splitlines()[0], "results/reproduce_table8")
    parser.add_argument(
        "--subgroups", nargs="+", default=list(SUBGROUPS), help="subset of the paper's subgroups"
    )
    args = parser.parse_args(argv)
    if args.dataset is None:
        args.dataset = "milk10k" if args.data_root is not None else "synthetic"
    unknown = [s for s in args.subgroups if s not in SUBGROUPS]
    if unknown:
        parser.error(f"--subgroups: {unknown} are not Table 8 rows ({', '.join(SUBGROUPS)})")
    if args.folds < 1:
        parser.error("--folds must be >= 1")
    args.methods = list(METHODS)
    try:
        for subgroup in args.subgroups:
            run_jobs(args, f"table8-{subgroup}", (MODALITY,), {"subgroup": subgroup})
    except ValueError as error:
        print(f"reproduce_table8: error: {error}", file=sys.stderr)
        return 2
    if not _is_main_process():
        return 0
    table = table8(args, args.subgroups)
    print(format_table(table, "markdown"))
    for path in write_tables(table, args.out, "table8"):
        print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
