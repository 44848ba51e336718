"""Paper Table 8 (GroupDRO → SemCovNet fairness per subgroup, MILK10k dermoscopic) beside the paper.

Usage (no arguments: the synthetic benchmark, ``quick`` preset; one experiment
``table8-<subgroup>`` per subgroup; see apps/README.md)::

    uv run apps/reproduce_table8.py
    uv run apps/reproduce_table8.py --data-root ~/data/milk10k --preset paper
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from semcov_train.experiments.command_line import (
    add_rows_option,
    app_parser,
    emit,
    not_run_reasons,
    parse_app_args,
    read_paper_table,
    read_rows,
    run_app,
    run_variants,
    variant_grids,
    variant_runs,
)
from semcov_train.reporting import side_by_side, summarize

__all__ = ["SUBGROUPS", "grids", "main", "table8"]

ROWS = read_rows(__file__)
PREFIX = "table8"
SUBGROUPS = ("site", "skin_tone", "age")
METHODS = ("groupdro", "semcovnet")
METRICS = tuple(ROWS["fairness_metrics"])
MODALITY = "dermoscopic"


def grids(args: argparse.Namespace) -> list:
    """GroupDRO and SemCovNet, one grid per selected subgroup."""
    switches = {subgroup: {"subgroup": subgroup} for subgroup in args.subgroups}
    return variant_grids(args, PREFIX, switches, (MODALITY,), ROWS["method_switches"])


def table8(args: argparse.Namespace):
    """The side-by-side table, one row per (subgroup, model) of the paper."""
    runs = variant_runs(args, PREFIX, args.subgroups, "subgroup", grids(args))
    ours = summarize(runs, METRICS, keys=("method", "subgroup"))
    ours["model"] = ours["method"].map(ROWS["models"])
    # both methods need no weights, so a missing cell is an unselected subgroup or no run
    return side_by_side(
        ours,
        read_paper_table(__file__, "table8_subgroups"),
        paper_keys=["subgroup", "model"],
        summary_keys=["subgroup", "model"],
        metrics=METRICS,
        not_run=not_run_reasons(args.subgroups, {}, SUBGROUPS, "--subgroups"),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = app_parser(__doc__.splitlines()[0], "results/reproduce_table8")
    add_rows_option(parser, "--subgroups", SUBGROUPS)
    args = parse_app_args(parser, argv, real_dataset="milk10k", choices={"subgroups": SUBGROUPS})
    args.methods = list(METHODS)
    return run_app(
        "reproduce_table8",
        lambda: run_variants(args, PREFIX, grids(args)),
        lambda _: emit(table8(args), args.out, "table8"),
    )


if __name__ == "__main__":
    raise SystemExit(main())
