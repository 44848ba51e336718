"""Paper Table 8 (GroupDRO → SemCovNet fairness per subgroup, MILK10k dermoscopic) beside the paper.

The subgroup (site, skin tone, age) defines the SCGs behind CDI, worst-SCG TPR and TPR std, and
GroupDRO's groups; each subgroup is its own experiment ``table8-<subgroup>``. With no arguments:
the synthetic benchmark, ``quick`` preset, CPU::

    uv run apps/reproduce_table8.py
    uv run apps/reproduce_table8.py --data-root ~/data/milk10k --preset paper --device cuda
"""

from __future__ import annotations

from collections.abc import Sequence

from app_runner import (
    add_rows_option,
    build_parser,
    emit,
    parse_args,
    run_app,
    run_variants,
    variant_summary,
)
from collect_results import paper_table, side_by_side
from reproduce_table1 import TABLE1_METHODS

__all__ = ["SUBGROUPS", "main", "table8"]

SUBGROUPS = ("site", "skin_tone", "age")
METHODS = ("groupdro", "semcovnet")
METRICS = ("cdi", "tpr_worst", "tpr_std")
MODALITY = "dermoscopic"


def table8(args, subgroups: Sequence[str]):
    """The side-by-side table, one row per (subgroup, model) of the paper."""
    ours = variant_summary(args, "table8", subgroups, METRICS, column="subgroup")
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
    add_rows_option(parser, "--subgroups", SUBGROUPS)
    args = parse_args(parser, argv, real_dataset="milk10k", choices={"subgroups": SUBGROUPS})
    args.methods = list(METHODS)
    switches = {subgroup: {"subgroup": subgroup} for subgroup in args.subgroups}
    return run_app(
        "reproduce_table8",
        lambda: run_variants(args, "table8", switches, (MODALITY,)),
        lambda _: emit(table8(args, args.subgroups), args.out, "table8"),
    )


if __name__ == "__main__":
    raise SystemExit(main())
