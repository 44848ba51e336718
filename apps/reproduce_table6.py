"""Paper Table 6 (semantic grounding, MILK10k dermoscopic) beside the paper's numbers.

Columns: S@95 on the tail SCGs (bottom 30 % training coverage), its Δ w.r.t. Visual-only,
Align-cos and R@1 (descriptor–image alignment).

Align-cos and R@1 (``align_cos``, ``recall_at_1`` of ``results.json``) compare d = Linear(p)
with the embedding z of a test pass in which every sample's descriptor scores p are replaced
by the training-split mean, so z cannot copy p and the numbers measure descriptor–*image*
alignment (the normal, p-fed pass is ``align_cos_fed`` / ``recall_at_1_fed``). R@1 retrieves
among random test batches of 32, the paper's batch (mean over 10 seeded partitions; chance
1/32); ``recall_at_1_full`` of ``results.json`` retrieves among the whole test split.

The three rows (what Table 6 compares) are SemCovNet runs with switches, one experiment
``grounding-<row>`` each:

- ``visual_only``: ``semcov_sdm_mode="feature"`` (the descriptor map is built from the image
  features alone, no descriptor prior) and ``use_dva=False`` (no alignment term);
- ``sdm``: the default gated SDM (Eq. 3), ``use_dva=False``;
- ``sdm_dva``: full SemCovNet (gated SDM, ``use_dva=True``).

Everything else is the preset's default, the CDI regularizer included (on in all three rows),
and the dermoscopic encoder order of every app (``mixture_dam_attn``, the paper's best in
Table 5). The paper does not say how its Visual-only model is built; ``feature`` mode removes
the descriptor prior from the map only: the descriptor probabilities still reach the encoder
through the cross-attention token and DAM, and the descriptor head is still trained. The model
always outputs the descriptor embedding ``Linear(p)``, so Align-cos and R@1 are measured in
every row; without DVA no loss term trains that projection, so ``visual_only`` and ``sdm``
compare image features with an untrained random projection of p (Align-cos near 0, R@1 near
chance expected); only ``sdm_dva`` is trained to align.

Table 9 (``reproduce_table9.py``) uses the same experiments for both modalities, so the
dermoscopic runs trained here are reused there (and the other way round); finished runs are
skipped. ``Δ (ours)`` is S@95_tail of a row minus S@95_tail of ``visual_only``, averaged over
the (fold, seed) pairs both rows have finished (± sample std of those differences); it needs
finished ``visual_only`` runs, which are read whether or not ``--rows`` selects that row.

S@95_tail is undefined (``n/a``, and the note says so) when the test samples of the tail SCGs
hold one class or none. The tail is the bottom 30 % by training coverage of the SCGs with at
least one expected test member (the SCG set of CDI and TPR_w). On the synthetic benchmark at the
``smoke`` size its test samples are few and the column often reads ``n/a``; Align-cos and R@1
are defined on every test set.
With no arguments: the synthetic benchmark, ``quick`` preset, CPU::

    uv run apps/reproduce_table6.py
    uv run apps/reproduce_table6.py --data-root ~/data/milk10k --preset paper --device cuda \
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
    select_runs,
    variant_summary,
)
from collect_results import paper_table, side_by_side

__all__ = ["BASELINE", "GROUNDING_ROWS", "PREFIX", "grounding_summary", "main", "table6"]

PREFIX = "grounding"
BASELINE = "visual_only"
#: the paper's row label -> the SemCovNet config switches of that row
GROUNDING_ROWS: dict[str, dict] = {
    "visual_only": {"semcov_sdm_mode": "feature", "use_dva": False},
    "sdm": {"semcov_sdm_mode": "gated", "use_dva": False},
    "sdm_dva": {"semcov_sdm_mode": "gated", "use_dva": True},
}
MODALITY = "dermoscopic"
# results.json key -> the paper table's column
RENAMED = {"s95_tail": "sens_at_95spec_tail"}
METRICS = ("sens_at_95spec_tail", "delta", "align_cos", "recall_at_1")
RUN_METRICS = ("s95_tail", "align_cos", "recall_at_1")
UNDEFINED_TAIL = (
    "S@95_tail undefined in every run: the tail SCGs' test samples hold one class or none"
)
NO_BASELINE = "Δ n/a: no visual_only run with a defined S@95_tail for the same fold and seed"


def _tail_by_run(args: argparse.Namespace, row: str) -> pd.Series:
    """S@95_tail of the row's finished dermoscopic runs, indexed by (fold, seed)."""
    runs = select_runs(args, f"{PREFIX}-{row}")
    runs = runs[runs["modality"] == MODALITY]
    return runs.set_index(["fold", "seed"])["s95_tail"].dropna()


def grounding_summary(args: argparse.Namespace, rows: Sequence[str]) -> pd.DataFrame:
    """Mean ± std per row (column ``row``) of the paper's columns, numbers not text.

    ``delta`` is the mean (``delta_std`` the sample std) over the (fold, seed) pairs finished
    in both the row and ``visual_only`` of the row's S@95_tail minus the baseline's; NaN
    without such a pair. ``delta_pairs`` counts the pairs.
    """
    summary = variant_summary(args, PREFIX, rows, RUN_METRICS, ("method", "modality"), "row")
    summary = summary[summary["modality"] == MODALITY].rename(
        columns={**RENAMED, **{f"{k}_std": f"{v}_std" for k, v in RENAMED.items()}}
    )
    baseline = _tail_by_run(args, BASELINE)
    deltas = {}
    for row in summary["row"]:
        pairs = _tail_by_run(args, row).to_frame("row").join(baseline.rename("base"), how="inner")
        differences = pairs["row"] - pairs["base"]
        deltas[row] = (
            differences.mean() if len(differences) else math.nan,
            differences.std(ddof=1) if len(differences) > 1 else math.nan,
            len(differences),
        )
    summary["delta"] = [deltas[row][0] for row in summary["row"]]
    summary["delta_std"] = [deltas[row][1] for row in summary["row"]]
    summary["delta_pairs"] = [deltas[row][2] for row in summary["row"]]
    return summary.reset_index(drop=True)


def table6(args: argparse.Namespace, rows: Sequence[str], not_run: dict[str, str]):
    """The side-by-side table, one row per method of the paper (Visual-only, SDM, SDM+DVA)."""
    reasons = {row: "not selected (--rows)" for row in GROUNDING_ROWS}
    reasons.update({row: not_run.get(row, "no finished run") for row in rows})
    summary = grounding_summary(args, rows)
    table = side_by_side(
        summary,
        paper_table("table6_grounding"),
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
    parser = build_parser(__doc__.splitlines()[0], "results/reproduce_table6")
    add_rows_option(parser, "--rows", GROUNDING_ROWS)
    args = parse_args(parser, argv, real_dataset="milk10k", choices={"rows": GROUNDING_ROWS})
    args.methods = ["semcovnet"]
    switches = {row: GROUNDING_ROWS[row] for row in args.rows}
    return run_app(
        "reproduce_table6",
        lambda: run_variants(args, PREFIX, switches, (MODALITY,)),
        lambda not_run: emit(table6(args, args.rows, not_run), args.out, "table6"),
    )


if __name__ == "__main__":
    raise SystemExit(main())
