"""Paper Table 7 (CelebA curated subset, Smiling, subgroup Male; six models) beside the paper.

With no arguments the synthetic lesion benchmark stands in for CelebA (``quick`` preset, CPU), so
the whole pipeline runs without the real data; ``--data-root`` switches to ``--dataset celeba``::

    uv run apps/reproduce_table7.py
    uv run apps/reproduce_table7.py --data-root ~/data/celeba --preset paper --device cuda
"""

from __future__ import annotations

from collections.abc import Sequence

from app_runner import build_parser, emit, parse_args, run_app, run_jobs
from reproduce_table1 import METRICS as TABLE1_METRICS
from reproduce_table1 import method_table
from reproduce_table3 import FAIRNESS_METRICS

__all__ = ["EXPERIMENT", "TABLE7_METHODS", "main", "table7"]

EXPERIMENT = "table7"
TABLE7_METHODS = ("cbl", "asl", "groupdro", "clip", "monet", "semcovnet")
# Table 1's six metrics and Table 3's three fairness columns
METRICS = (*TABLE1_METRICS, *FAIRNESS_METRICS)
MODALITY = {"synthetic": "dermoscopic", "celeba": "auto"}


def table7(args, not_run: dict[str, str]):
    """The side-by-side table of the selected runs, rows as in the paper."""
    return method_table(
        args,
        not_run,
        experiment=EXPERIMENT,
        paper="table7_celeba",
        metrics=METRICS,
        by_modality=False,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(__doc__.splitlines()[0], "results/reproduce_table7", TABLE7_METHODS)
    args = parse_args(
        parser,
        argv,
        real_dataset="celeba",
        datasets=list(MODALITY),
        choices={"methods": TABLE7_METHODS},
    )
    return run_app(
        "reproduce_table7",
        lambda: run_jobs(args, EXPERIMENT, (MODALITY[args.dataset],)),
        lambda not_run: emit(table7(args, not_run), args.out, "table7"),
    )


if __name__ == "__main__":
    raise SystemExit(main())
