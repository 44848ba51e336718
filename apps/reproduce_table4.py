"""Paper Table 4 (SemCovNet's semantic descriptor map variants, MILK10k clinical) beside the paper.

Usage (no arguments: the synthetic benchmark, ``quick`` preset; one experiment
``table4-<variant>`` per SDM variant; see apps/README.md)::

    uv run apps/reproduce_table4.py
    uv run apps/reproduce_table4.py --data-root ~/data/milk10k --preset paper --folds 5
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

__all__ = ["SDM_VARIANTS", "grids", "main", "table4"]

ROWS = read_rows(__file__)
PREFIX = "table4"
# the paper's row label -> semcov_train's --semcov-sdm-mode
SDM_VARIANTS = {
    "descriptor_only": "descriptor",
    "feature_only": "feature",
    "hybrid_add": "add",
    "hybrid_mul": "mul",
    "hybrid_gated": "gated",
}
METRICS = ("auc", "sens_at_95spec", "cdi")
MODALITY = "clinical"


def grids(args: argparse.Namespace) -> list:
    """One SemCovNet grid per selected SDM variant."""
    switches = {v: {"semcov_sdm_mode": SDM_VARIANTS[v]} for v in args.variants}
    return variant_grids(args, PREFIX, switches, (MODALITY,), ROWS["method_switches"])


def table4(args: argparse.Namespace, not_run: dict[str, str]):
    """The side-by-side table, one row per SDM variant of the paper."""
    runs = variant_runs(args, PREFIX, args.variants, grids=grids(args))
    return side_by_side(
        summarize(runs, METRICS, keys=("method", "variant")),
        read_paper_table(__file__, "table4_sdm_ablation"),
        paper_keys=["sdm_variant"],
        summary_keys=["variant"],
        metrics=METRICS,
        not_run=not_run_reasons(args.variants, not_run, tuple(SDM_VARIANTS), "--variants"),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = app_parser(__doc__.splitlines()[0], "results/reproduce_table4")
    add_rows_option(parser, "--variants", SDM_VARIANTS)
    args = parse_app_args(parser, argv, real_dataset="milk10k", choices={"variants": SDM_VARIANTS})
    args.methods = ["semcovnet"]
    return run_app(
        "reproduce_table4",
        lambda: run_variants(args, PREFIX, grids(args)),
        lambda not_run: emit(table4(args, not_run), args.out, "table4"),
    )


if __name__ == "__main__":
    raise SystemExit(main())
