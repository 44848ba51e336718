"""Paper Table 5 (Semantic Encoder orders, MILK10k dermoscopic and clinical) beside the paper.

Each order is a SemCovNet run with another ``--semcov-order``, in its own experiment
``table5-<order>``, for both modalities. With no arguments: the synthetic benchmark, ``quick``
preset, CPU; the paper reports mean ± std over folds (``--folds 5``)::

    uv run apps/reproduce_table5.py
    uv run apps/reproduce_table5.py --data-root ~/data/milk10k --preset paper --device cuda \
        --folds 5
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
from reproduce_table1 import MODALITIES

__all__ = ["ORDERS", "main", "table5"]

# the paper's row labels are semcov_train's --semcov-order values
ORDERS = ("attn_dam", "dam_attn", "mixture_attn_dam", "mixture_dam_attn", "mixture")
METRICS = ("auc", "sens_at_95spec", "cdi")


def table5(args, orders: Sequence[str], not_run: dict[str, str]):
    """The side-by-side table, one row per (modality, order) of the paper."""
    reasons = {o: "not selected (--orders)" for o in ORDERS}
    reasons.update({o: not_run.get(o, "no finished run") for o in orders})
    return side_by_side(
        variant_summary(args, "table5", orders, METRICS, ("method", "modality"), "order"),
        paper_table("table5_order_ablation"),
        paper_keys=["order", "modality"],
        summary_keys=["order", "modality"],
        metrics=METRICS,
        not_run=reasons,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(__doc__.splitlines()[0], "results/reproduce_table5")
    add_rows_option(parser, "--orders", ORDERS)
    args = parse_args(parser, argv, real_dataset="milk10k", choices={"orders": ORDERS})
    args.methods = ["semcovnet"]
    switches = {order: {"semcov_order": order} for order in args.orders}
    return run_app(
        "reproduce_table5",
        lambda: run_variants(args, "table5", switches, MODALITIES),
        lambda not_run: emit(table5(args, args.orders, not_run), args.out, "table5"),
    )


if __name__ == "__main__":
    raise SystemExit(main())
