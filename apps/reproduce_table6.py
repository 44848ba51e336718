"""Paper Table 6 (semantic grounding, MILK10k dermoscopic) beside the paper's numbers.

Usage (no arguments: the synthetic benchmark, ``quick`` preset; the rows are SemCovNet runs in
experiments ``grounding-<row>``, shared with Table 9; see apps/README.md)::

    uv run apps/reproduce_table6.py
    uv run apps/reproduce_table6.py --data-root ~/data/milk10k --preset paper --folds 5
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence

import pandas as pd

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
    select_runs,
    variant_grids,
    variant_runs,
)
from semcov_train.reporting import side_by_side, summarize, t_interval

__all__ = ["BASELINE", "GROUNDING_ROWS", "grids", "grounding_summary", "main", "table6"]

ROWS = read_rows(__file__)
PREFIX = ROWS["grounding_prefix"]
BASELINE = "visual_only"
#: the paper's row label -> the SemCovNet config switches of that row
GROUNDING_ROWS: dict[str, dict] = ROWS["grounding_rows"]
MODALITY = "dermoscopic"
# results.json key -> the paper table's column
RENAMED = {"s95_tail": "sens_at_95spec_tail"}
METRICS = ("sens_at_95spec_tail", "delta", "align_cos", "recall_at_1")
RUN_METRICS = ("s95_tail", "align_cos", "recall_at_1")
UNDEFINED_TAIL = (
    "S@95_tail undefined in every run: the tail SCGs' test samples hold one class or none"
)
NO_BASELINE = "Δ n/a: no visual_only run with a defined S@95_tail for the same fold and seed"


def grids(args: argparse.Namespace, rows: Sequence[str] | None = None) -> list:
    """One SemCovNet grid per selected row (dermoscopic)."""
    switches = {row: GROUNDING_ROWS[row] for row in (args.rows if rows is None else rows)}
    return variant_grids(args, PREFIX, switches, (MODALITY,), ROWS["method_switches"])


def _tail_by_run(args: argparse.Namespace, row: str) -> pd.Series:
    """S@95_tail of the row's finished dermoscopic runs, indexed by (fold, seed)."""
    row_grids = variant_grids(
        args, PREFIX, {row: GROUNDING_ROWS[row]}, (MODALITY,), ROWS["method_switches"]
    )
    runs = select_runs(args, f"{PREFIX}-{row}", grids=row_grids)
    runs = runs[runs["modality"] == MODALITY]
    return runs.set_index(["fold", "seed"])["s95_tail"].dropna()


def grounding_summary(args: argparse.Namespace, rows: Sequence[str]) -> pd.DataFrame:
    """Mean, 95 % t-interval half-width (``_h``), count (``_n``) and std per row (column
    ``row``) of the paper's columns, numbers not text.

    ``delta`` is the mean (``delta_h`` the half-width, ``delta_std`` the sample std) over the
    (fold, seed) pairs finished in both the row and ``visual_only`` of the row's S@95_tail minus
    the baseline's; NaN without such a pair. ``delta_pairs`` counts the pairs.
    """
    selected = variant_runs(args, PREFIX, rows, "row", grids(args, rows))
    summary = summarize(selected, RUN_METRICS, keys=("method", "modality", "row"))
    summary = summary[summary["modality"] == MODALITY].rename(
        columns={f"{k}{s}": f"{v}{s}" for k, v in RENAMED.items() for s in ("", "_h", "_n", "_std")}
    )
    baseline = _tail_by_run(args, BASELINE)
    deltas = {}
    for row in summary["row"]:
        pairs = _tail_by_run(args, row).to_frame("row").join(baseline.rename("base"), how="inner")
        deltas[row] = t_interval(pairs["row"] - pairs["base"])
    summary["delta"] = [deltas[row].mean for row in summary["row"]]
    summary["delta_h"] = [deltas[row].half_width for row in summary["row"]]
    summary["delta_n"] = [deltas[row].n for row in summary["row"]]
    summary["delta_std"] = [deltas[row].std for row in summary["row"]]
    summary["delta_pairs"] = summary["delta_n"]
    return summary.reset_index(drop=True)


def table6(args: argparse.Namespace, rows: Sequence[str], not_run: dict[str, str]):
    """The side-by-side table, one row per method of the paper (Visual-only, SDM, SDM+DVA)."""
    reasons = not_run_reasons(rows, not_run, tuple(GROUNDING_ROWS), "--rows")
    summary = grounding_summary(args, rows)
    table = side_by_side(
        summary,
        read_paper_table(__file__, "table6_grounding"),
        paper_keys=["method"],
        summary_keys=["row"],
        metrics=METRICS,
        not_run=reasons,
    )
    for record in summary.to_dict("records"):
        index = table.index[table["method"] == record["row"]]
        if math.isnan(record["sens_at_95spec_tail"]):
            table.loc[index, "note"] = UNDEFINED_TAIL
        elif record["delta_pairs"] == 0:
            table.loc[index, "note"] = NO_BASELINE
    return table


def main(argv: Sequence[str] | None = None) -> int:
    parser = app_parser(__doc__.splitlines()[0], "results/reproduce_table6")
    add_rows_option(parser, "--rows", GROUNDING_ROWS)
    args = parse_app_args(parser, argv, real_dataset="milk10k", choices={"rows": GROUNDING_ROWS})
    args.methods = ["semcovnet"]
    return run_app(
        "reproduce_table6",
        lambda: run_variants(args, PREFIX, grids(args)),
        lambda not_run: emit(table6(args, args.rows, not_run), args.out, "table6"),
    )


if __name__ == "__main__":
    raise SystemExit(main())
