"""Paper Table 9 (cross-domain semantic alignment, MILK10k) beside the paper's numbers.

Usage (no arguments: the synthetic benchmark, ``quick`` preset; Table 6's rows on both
modalities, its dermoscopic runs shared with Table 6; see apps/README.md)::

    uv run apps/reproduce_table9.py
    uv run apps/reproduce_table9.py --data-root ~/data/milk10k --preset paper --folds 5
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
    variant_grids,
    variant_runs,
)
from semcov_train.reporting import side_by_side, summarize

__all__ = ["ALIGNMENT_METRICS", "cross_domain_summary", "grids", "main", "table9"]

ROWS = read_rows(__file__)
PREFIX = ROWS["grounding_prefix"]
GROUNDING_ROWS: dict[str, dict] = ROWS["grounding_rows"]
MODALITIES = tuple(ROWS["milk10k_modalities"])
#: a summary's columns per metric: mean, 95 % half-width, values behind it, sample std
SUFFIXES = ("", "_h", "_n", "_std")

ALIGNMENT_METRICS = ("align_cos", "recall_at_1")
METRICS = (*(f"{m}_{a}" for m in MODALITIES for a in ALIGNMENT_METRICS), "align_gap")


def grids(args: argparse.Namespace, rows: Sequence[str] | None = None) -> list:
    """One SemCovNet grid per selected row, both modalities (Table 6's experiments)."""
    switches = {row: GROUNDING_ROWS[row] for row in (args.rows if rows is None else rows)}
    return variant_grids(args, PREFIX, switches, MODALITIES, ROWS["method_switches"])


def cross_domain_summary(args: argparse.Namespace, rows: Sequence[str]) -> pd.DataFrame:
    """One record per row (column ``row``) that has a finished run in either modality:
    ``<modality>_<metric>`` mean and ``_std`` per modality, ``align_gap`` (|difference of the
    two Align-cos means|, NaN when a modality has no run), ``n`` (runs, both modalities) and
    ``missing`` (the modalities without a finished run)."""
    selected = variant_runs(args, PREFIX, rows, "row", grids(args, rows))
    summary = summarize(selected, ALIGNMENT_METRICS, keys=("method", "modality", "row"))
    records = []
    for row in rows:
        part = summary[summary["row"] == row].set_index("modality")
        if part.empty:
            continue
        record: dict = {"row": row, "n": int(part["n"].sum()), "missing": []}
        for modality in MODALITIES:
            for metric in ALIGNMENT_METRICS:
                for suffix in SUFFIXES:
                    value = part.at[modality, metric + suffix] if modality in part.index else None
                    record[f"{modality}_{metric}{suffix}"] = (
                        math.nan if value is None else float(value)
                    )
            if modality not in part.index:
                record["missing"].append(modality)
        dermoscopic, clinical = (record[f"{m}_align_cos"] for m in MODALITIES)
        record["align_gap"] = abs(dermoscopic - clinical)
        records.append(record)
    columns = ["row", "n", *(f"{m}{s}" for m in METRICS for s in SUFFIXES), "missing"]
    gap_columns = [f"align_gap{s}" for s in SUFFIXES[1:]]
    return pd.DataFrame(records, columns=columns).drop(columns=gap_columns)


def table9(args: argparse.Namespace, rows: Sequence[str], not_run: dict[str, str]):
    """The side-by-side table, one row per method of the paper (Visual-only, SDM, SDM+DVA)."""
    reasons = not_run_reasons(rows, not_run, tuple(GROUNDING_ROWS), "--rows")
    summary = cross_domain_summary(args, rows)
    table = side_by_side(
        summary,
        read_paper_table(__file__, "table9_cross_domain"),
        paper_keys=["method"],
        summary_keys=["row"],
        metrics=METRICS,
        not_run=reasons,
    )
    for record in summary.to_dict("records"):
        if record["missing"]:
            index = table.index[table["method"] == record["row"]]
            table.loc[index, "note"] = f"no finished {' or '.join(record['missing'])} run"
    return table


def main(argv: Sequence[str] | None = None) -> int:
    parser = app_parser(__doc__.splitlines()[0], "results/reproduce_table9")
    add_rows_option(parser, "--rows", GROUNDING_ROWS)
    args = parse_app_args(parser, argv, real_dataset="milk10k", choices={"rows": GROUNDING_ROWS})
    args.methods = ["semcovnet"]
    return run_app(
        "reproduce_table9",
        lambda: run_variants(args, PREFIX, grids(args)),
        lambda not_run: emit(table9(args, args.rows, not_run), args.out, "table9"),
    )


if __name__ == "__main__":
    raise SystemExit(main())
