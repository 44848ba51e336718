"""Paper Table 4 (SemCovNet's semantic descriptor map variants, MILK10k clinical) beside the paper.

Each variant is a SemCovNet run with another ``--semcov-sdm-mode``, in its own experiment
``table4-<variant>``. With no arguments: the synthetic benchmark, ``quick`` preset, CPU; the
paper reports mean ± std over folds (``--folds 5``)::

    uv run apps/reproduce_table4.py
    uv run apps/reproduce_table4.py --data-root ~/data/milk10k --preset paper --device cuda \
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

__all__ = ["SDM_VARIANTS", "main", "table4"]

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


def table4(args, variants: Sequence[str], not_run: dict[str, str]):
    """The side-by-side table, one row per SDM variant of the paper."""
    reasons = {v: "not selected (--variants)" for v in SDM_VARIANTS}
    reasons.update({v: not_run.get(v, "no finished run") for v in variants})
    return side_by_side(
        variant_summary(args, "table4", variants, METRICS),
        paper_table("table4_sdm_ablation"),
        paper_keys=["sdm_variant"],
        summary_keys=["variant"],
        metrics=METRICS,
        not_run=reasons,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(__doc__.splitlines()[0], "results/reproduce_table4")
    add_rows_option(parser, "--variants", SDM_VARIANTS)
    args = parse_args(parser, argv, real_dataset="milk10k", choices={"variants": SDM_VARIANTS})
    args.methods = ["semcovnet"]
    switches = {v: {"semcov_sdm_mode": SDM_VARIANTS[v]} for v in args.variants}
    return run_app(
        "reproduce_table4",
        lambda: run_variants(args, "table4", switches, (MODALITY,)),
        lambda not_run: emit(table4(args, args.variants, not_run), args.out, "table4"),
    )


if __name__ == "__main__":
    raise SystemExit(main())
