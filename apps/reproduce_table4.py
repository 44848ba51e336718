"""Paper Table 4 (SemCovNet's semantic descriptor map variants, MILK10k clinical) beside the paper.

Each variant is a SemCovNet run with another ``--semcov-sdm-mode``, in its own experiment
``table4-<variant>``. With no arguments: the synthetic benchmark, ``quick`` preset, CPU; the
paper reports mean ± std over folds (``--folds 5``)::

    uv run apps/reproduce_table4.py
    uv run apps/reproduce_table4.py --data-root ~/data/milk10k --preset paper --device cuda \
        --folds 5
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import pandas as pd
from collect_results import format_table, paper_table, side_by_side, summarize, write_tables
from reproduce_table1 import _is_main_process, build_parser, run_jobs, select_runs

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
    parts = []
    for variant in variants:
        summary = summarize(select_runs(args, f"table4-{variant}"), METRICS, keys=("method",))
        summary["variant"] = variant
        parts.append(summary)
    reasons = {v: "not selected (--variants)" for v in SDM_VARIANTS}
    reasons.update({v: not_run.get(v, "no finished run") for v in variants})
    return side_by_side(
        pd.concat(parts, ignore_index=True),
        paper_table("table4_sdm_ablation"),
        paper_keys=["sdm_variant"],
        summary_keys=["variant"],
        metrics=METRICS,
        not_run=reasons,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(__doc__.splitlines()[0], "results/reproduce_table4")
    parser.add_argument(
        "--variants", nargs="+", default=list(SDM_VARIANTS), help="subset of the paper's rows"
    )
    args = parser.parse_args(argv)
    if args.dataset is None:
        args.dataset = "milk10k" if args.data_root is not None else "synthetic"
    unknown = [v for v in args.variants if v not in SDM_VARIANTS]
    if unknown:
        parser.error(f"--variants: {unknown} are not Table 4 rows ({', '.join(SDM_VARIANTS)})")
    if args.folds < 1:
        parser.error("--folds must be >= 1")
    args.methods = ["semcovnet"]
    not_run = {}
    try:
        for variant in args.variants:
            reasons = run_jobs(
                args,
                f"table4-{variant}",
                (MODALITY,),
                {"semcov_sdm_mode": SDM_VARIANTS[variant]},
            )
            if reasons:
                not_run[variant] = reasons["semcovnet"]
    except ValueError as error:
        print(f"reproduce_table4: error: {error}", file=sys.stderr)
        return 2
    if not _is_main_process():
        return 0
    table = table4(args, args.variants, not_run)
    print(format_table(table, "markdown"))
    for path in write_tables(table, args.out, "table4"):
        print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
