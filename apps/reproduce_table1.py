"""Paper Table 1 (MILK10k dermoscopic and clinical, eight models): our numbers beside the paper's.

BAcc and Macro-F1 are at argmax (class 1 when its probability exceeds 0.5), the paper's
convention: they come from ``semcov_metrics.performance_report`` on the test probabilities. The
decision threshold each run chooses on its validation split (``decision_threshold`` in
``results.json``) is used only by the per-SCG fairness metrics of Table 3.

With no arguments: Table 1's methods on the synthetic benchmark with the ``quick`` preset on the
CPU, both modalities, one fold and seed. Finished runs (``DONE``) are skipped, unfinished ones
resume from their last checkpoint::

    uv run apps/reproduce_table1.py
    uv run apps/reproduce_table1.py --data-root ~/data/milk10k --preset paper --device cuda \
        --folds 5 --seeds 0
    uv run torchrun --nproc-per-node 4 apps/reproduce_table1.py --preset paper --device cuda ...
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from app_runner import build_parser, emit, parse_args, run_app, run_jobs, select_runs
from collect_results import paper_table, side_by_side, summarize

__all__ = [
    "EXPERIMENT",
    "METRICS",
    "MODALITIES",
    "TABLE1_METHODS",
    "main",
    "method_table",
    "not_run_reasons",
]

EXPERIMENT = "table1"
MODALITIES = ("dermoscopic", "clinical")
METRICS = ("auc", "pr_auc", "sens_at_95spec", "balanced_accuracy", "macro_f1", "ece")
# registry name -> the paper's row label, in the paper's order
TABLE1_METHODS = {
    "erm": "ENet-B0",
    "vit": "ViT",
    "cbl": "ENet-B0+CBL",
    "asl": "ENet-B0+ASL",
    "groupdro": "GroupDRO",
    "clip": "CLIP",
    "monet": "MONET",
    "semcovnet": "SemCovNet",
}


def not_run_reasons(args: argparse.Namespace, not_run: dict[str, str]) -> dict[str, str]:
    """Paper row label -> why our cell may be empty (unselected, unfinished, unavailable)."""
    reasons = {TABLE1_METHODS[m]: "not selected (--methods)" for m in TABLE1_METHODS}
    reasons.update({TABLE1_METHODS[m]: "no finished run" for m in args.methods})
    reasons.update({TABLE1_METHODS[m]: reason for m, reason in not_run.items()})
    return reasons


def method_table(
    args: argparse.Namespace,
    not_run: dict[str, str],
    *,
    experiment: str,
    paper: str,
    metrics: Sequence[str],
    by_modality: bool,
    modalities: Sequence[str] | None = None,
):
    """The side-by-side table of a table whose rows are models (Tables 1, 2, 7): the selected
    finished runs of `experiment` (of `modalities`, when given) beside the paper CSV `paper`,
    one row per model (and modality when `by_modality`)."""
    keys = ["method", "modality"] if by_modality else ["method"]
    return side_by_side(
        summarize(select_runs(args, experiment, modalities), metrics, keys=keys),
        paper_table(paper),
        paper_keys=["model", "modality"] if by_modality else ["model"],
        summary_keys=keys,
        metrics=metrics,
        labels=TABLE1_METHODS,
        not_run=not_run_reasons(args, not_run),
    )


def table1(args: argparse.Namespace, not_run: dict[str, str]):
    """The side-by-side table of the selected runs (collected from their run directories)."""
    return method_table(
        args,
        not_run,
        experiment=EXPERIMENT,
        paper="table1_milk10k",
        metrics=METRICS,
        by_modality=True,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(__doc__.splitlines()[0], "results/reproduce_table1", TABLE1_METHODS)
    args = parse_args(parser, argv, real_dataset="milk10k", choices={"methods": TABLE1_METHODS})
    return run_app(
        "reproduce_table1",
        lambda: run_jobs(args, EXPERIMENT, MODALITIES),
        lambda not_run: emit(table1(args, not_run), args.out, "table1"),
    )


if __name__ == "__main__":
    raise SystemExit(main())
