"""Paper Table 5 (Semantic Encoder orders, MILK10k dermoscopic and clinical) beside the paper.

Each order is a SemCovNet run with another ``--semcov-order``, in its own experiment
``table5-<order>``, for both modalities. With no arguments: the synthetic benchmark, ``quick``
preset, CPU; the paper reports mean ± std over folds (``--folds 5``)::

    uv run apps/reproduce_table5.py
    uv run apps/reproduce_table5.py --data-root ~/data/milk10k --preset paper --device cuda \
        --folds 5
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import pandas as pd
from collect_results import format_table, paper_table, side_by_side, summarize, write_tables
from reproduce_table1 import MODALITIES, _is_main_process, build_parser, run_jobs, select_runs

__all__ = ["ORDERS", "main", "table5"]

# the paper's row labels are semcov_train's --semcov-order values
ORDERS = ("attn_dam", "dam_attn", "mixture_attn_dam", "mixture_dam_attn", "mixture")
METRICS = ("auc", "sens_at_95spec", "cdi")


def table5(args, orders: Sequence[str], not_run: dict[str, str]):
    """The side-by-side table, one row per (modality, order) of the paper."""
    parts = []
    for order in orders:
        summary = summarize(
            select_runs(args, f"table5-{order}"), METRICS, keys=("method", "modality")
        )
        summary["order"] = order
        parts.append(summary)
    reasons = {o: "not selected (--orders)" for o in ORDERS}
    reasons.update({o: not_run.get(o, "no finished run") for o in orders})
    return side_by_side(
        pd.concat(parts, ignore_index=True),
        paper_table("table5_order_ablation"),
        paper_keys=["order", "modality"],
        summary_keys=["order", "modality"],
        metrics=METRICS,
        not_run=reasons,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(__doc__.splitlines()[0], "results/reproduce_table5")
    parser.add_argument("--orders", nargs="+", default=list(ORDERS), help="subset of the rows")
    args = parser.parse_args(argv)
    if args.dataset is None:
        args.dataset = "milk10k" if args.data_root is not None else "synthetic"
    unknown = [o for o in args.orders if o not in ORDERS]
    if unknown:
        parser.error(f"--orders: {unknown} are not Table 5 rows ({', '.join(ORDERS)})")
    if args.folds < 1:
        parser.error("--folds must be >= 1")
    args.methods = ["semcovnet"]
    not_run = {}
    try:
        for order in args.orders:
            reasons = run_jobs(args, f"table5-{order}", MODALITIES, {"semcov_order": order})
            if reasons:
                not_run[order] = reasons["semcovnet"]
    except ValueError as error:
        print(f"reproduce_table5: error: {error}", file=sys.stderr)
        return 2
    if not _is_main_process():
        return 0
    table = table5(args, args.orders, not_run)
    print(format_table(table, "markdown"))
    for path in write_tables(table, args.out, "table5"):
        print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
