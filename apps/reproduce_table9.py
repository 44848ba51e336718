"""Paper Table 9 (cross-domain semantic alignment, MILK10k) beside the paper's numbers.

Columns: Align-cos and R@1 (descriptor–image alignment) on dermoscopic and on clinical images,
and Align-gap = |Align-cos(dermoscopic) − Align-cos(clinical)|. The rows are those of Table 6
(``reproduce_table6.py``): SemCovNet runs in the experiments ``grounding-<row>``, with

- ``visual_only``: ``semcov_sdm_mode="feature"`` (no descriptor prior in the map) and
  ``use_dva=False``;
- ``sdm``: the default gated SDM, ``use_dva=False``;
- ``sdm_dva``: full SemCovNet (gated SDM, ``use_dva=True``),

everything else at the preset's defaults (the CDI regularizer on in all three rows; the
dermoscopic encoder order ``mixture_dam_attn`` of every app). This app trains both modalities;
the dermoscopic runs are Table 6's own (same experiment, same config), so after Table 6 only the
clinical runs are trained, and the other way round. ``Align-gap (ours)`` is computed from our
two per-row means, as the paper computes it from its two cells; ``n`` counts the runs behind a
row, both modalities together. With no arguments: the synthetic benchmark, ``quick`` preset,
CPU::

    uv run apps/reproduce_table9.py
    uv run apps/reproduce_table9.py --data-root ~/data/milk10k --preset paper --device cuda \
        --folds 5
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence

import pandas as pd
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
from reproduce_table1 import MODALITIES
from reproduce_table6 import GROUNDING_ROWS, PREFIX

__all__ = ["ALIGNMENT_METRICS", "cross_domain_summary", "main", "table9"]

ALIGNMENT_METRICS = ("align_cos", "recall_at_1")
METRICS = (*(f"{m}_{a}" for m in MODALITIES for a in ALIGNMENT_METRICS), "align_gap")


def cross_domain_summary(args: argparse.Namespace, rows: Sequence[str]) -> pd.DataFrame:
    """One record per row (column ``row``) that has a finished run in either modality:
    ``<modality>_<metric>`` mean and ``_std`` per modality, ``align_gap`` (|difference of the
    two Align-cos means|, NaN when a modality has no run), ``n`` (runs, both modalities) and
    ``missing`` (the modalities without a finished run)."""
    summary = variant_summary(args, PREFIX, rows, ALIGNMENT_METRICS, ("method", "modality"), "row")
    records = []
    for row in rows:
        part = summary[summary["row"] == row].set_index("modality")
        if part.empty:
            continue
        record: dict = {"row": row, "n": int(part["n"].sum()), "missing": []}
        for modality in MODALITIES:
            for metric in ALIGNMENT_METRICS:
                for suffix in ("", "_std"):
                    value = part.at[modality, metric + suffix] if modality in part.index else None
                    record[f"{modality}_{metric}{suffix}"] = (
                        math.nan if value is None else float(value)
                    )
            if modality not in part.index:
                record["missing"].append(modality)
        dermoscopic, clinical = (record[f"{m}_align_cos"] for m in MODALITIES)
        record["align_gap"] = abs(dermoscopic - clinical)
        records.append(record)
    columns = ["row", "n", *(f"{m}{s}" for m in METRICS for s in ("", "_std")), "missing"]
    return pd.DataFrame(records, columns=columns).drop(columns="align_gap_std")


def table9(args: argparse.Namespace, rows: Sequence[str], not_run: dict[str, str]):
    """The side-by-side table, one row per method of the paper (Visual-only, SDM, SDM+DVA)."""
    reasons = {row: "not selected (--rows)" for row in GROUNDING_ROWS}
    reasons.update({row: not_run.get(row, "no finished run") for row in rows})
    summary = cross_domain_summary(args, rows)
    table = side_by_side(
        summary,
        paper_table("table9_cross_domain"),
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
    parser = build_parser(__doc__.splitlines()[0], "results/reproduce_table9")
    add_rows_option(parser, "--rows", GROUNDING_ROWS)
    args = parse_args(parser, argv, real_dataset="milk10k", choices={"rows": GROUNDING_ROWS})
    args.methods = ["semcovnet"]
    switches = {row: GROUNDING_ROWS[row] for row in args.rows}
    return run_app(
        "reproduce_table9",
        lambda: run_variants(args, PREFIX, switches, MODALITIES),
        lambda not_run: emit(table9(args, args.rows, not_run), args.out, "table9"),
    )


if __name__ == "__main__":
    raise SystemExit(main())
