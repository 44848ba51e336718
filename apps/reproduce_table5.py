"""Paper Table 5 (Semantic Encoder orders, MILK10k dermoscopic and clinical) beside the paper.

Usage (no arguments: the synthetic benchmark, ``quick`` preset; one experiment
``table5-<order>`` per encoder order; see apps/README.md)::

    uv run apps/reproduce_table5.py
    uv run apps/reproduce_table5.py --data-root ~/data/milk10k --preset paper --folds 5
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

__all__ = ["ORDERS", "grids", "main", "table5"]

ROWS = read_rows(__file__)
PREFIX = "table5"
# the paper's row labels are semcov_train's --semcov-order values
ORDERS = ("attn_dam", "dam_attn", "mixture_attn_dam", "mixture_dam_attn", "mixture")
METRICS = ("auc", "sens_at_95spec", "cdi")
MODALITIES = tuple(ROWS["milk10k_modalities"])


def grids(args: argparse.Namespace) -> list:
    """One SemCovNet grid per selected order, both modalities."""
    switches = {order: {"semcov_order": order} for order in args.orders}
    return variant_grids(args, PREFIX, switches, MODALITIES, ROWS["method_switches"])


def table5(args: argparse.Namespace, not_run: dict[str, str]):
    """The side-by-side table, one row per (modality, order) of the paper."""
    runs = variant_runs(args, PREFIX, args.orders, "order", grids(args))
    return side_by_side(
        summarize(runs, METRICS, keys=("method", "modality", "order")),
        read_paper_table(__file__, "table5_order_ablation"),
        paper_keys=["order", "modality"],
        summary_keys=["order", "modality"],
        metrics=METRICS,
        not_run=not_run_reasons(args.orders, not_run, ORDERS, "--orders"),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = app_parser(__doc__.splitlines()[0], "results/reproduce_table5")
    add_rows_option(parser, "--orders", ORDERS)
    args = parse_app_args(parser, argv, real_dataset="milk10k", choices={"orders": ORDERS})
    args.methods = ["semcovnet"]
    return run_app(
        "reproduce_table5",
        lambda: run_variants(args, PREFIX, grids(args)),
        lambda not_run: emit(table5(args, not_run), args.out, "table5"),
    )


if __name__ == "__main__":
    raise SystemExit(main())
