"""Paper Table 1 (MILK10k dermoscopic and clinical, eight models): our numbers beside the paper's.

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
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from collect_results import (
    collect,
    format_cell,
    format_table,
    paper_table,
    side_by_side,
    summarize,
    write_tables,
)

__all__ = [
    "EXPERIMENT",
    "METRICS",
    "MODALITIES",
    "TABLE1_METHODS",
    "build_parser",
    "main",
    "not_run_reasons",
    "run_jobs",
    "run_table1",
    "select_runs",
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
# The paper's best SemCovNet order for dermoscopic images (Table 5); clinical keeps the default.
SEMCOVNET_ORDER = {"dermoscopic": "mixture_dam_attn"}


def _is_main_process() -> bool:
    """Rank 0 under ``torchrun`` (every process trains; only rank 0 reports)."""
    return int(os.environ.get("RANK", "0")) == 0


def _report(message: str) -> None:
    if _is_main_process():
        print(message, file=sys.stderr)


def _config(
    args: argparse.Namespace,
    experiment: str,
    method: str,
    modality: str,
    fold: int,
    seed: int,
    extra: dict | None = None,
):
    from semcov_train import make_config

    overrides = {
        "method": method,
        "dataset": args.dataset,
        "modality": modality,
        "fold": fold,
        "seed": seed,
        "out": str(args.runs),
        "experiment": experiment,
        "device": args.device,
        "progress": args.progress,
    }
    if args.data_root is not None:
        overrides["data_root"] = str(args.data_root)
    if args.cache_dir is not None:
        overrides["cache_dir"] = str(args.cache_dir)
    if getattr(args, "descriptors_csv", None) is not None:
        overrides["descriptors_csv"] = str(args.descriptors_csv)
    if args.num_workers is not None:
        overrides["num_workers"] = args.num_workers
    if args.num_threads is not None:
        overrides["num_threads"] = args.num_threads
    if method == "semcovnet" and modality in SEMCOVNET_ORDER:
        overrides["semcov_order"] = SEMCOVNET_ORDER[modality]
    overrides.update(extra or {})
    return make_config(args.preset, **overrides)


def run_table1(args: argparse.Namespace) -> dict[str, str]:
    """Train every (method, modality, fold, seed) not finished yet; method -> reason not run."""
    return run_jobs(args, EXPERIMENT, MODALITIES)


def run_jobs(
    args: argparse.Namespace,
    experiment: str,
    modalities: Sequence[str],
    extra: dict | None = None,
) -> dict[str, str]:
    """Train `args.methods` × `modalities` × folds × seeds under `experiment`, skipping
    finished runs and resuming unfinished ones; method -> reason it was not run.

    `extra` holds config fields set for every run (an ablation's switches)."""
    from semcov_train import MethodNotAvailableError, MissingWeightsError, train
    from semcov_train.methods import check_available
    from semcov_train.trainer import DONE, run_directory

    jobs = [
        (method, modality, fold, seed)
        for method in args.methods
        for modality in modalities
        for fold in range(args.folds)
        for seed in args.seeds
    ]
    not_run: dict[str, str] = {}
    for index, (method, modality, fold, seed) in enumerate(jobs, start=1):
        label = f"[{index}/{len(jobs)}] {experiment} {method} {modality} fold{fold} seed{seed}"
        if method in not_run:
            continue
        config = _config(args, experiment, method, modality, fold, seed, extra)
        try:
            check_available(config)
        except (MissingWeightsError, MethodNotAvailableError) as error:
            not_run[method] = str(error)
            _report(f"{label}: not run: {error}")
            continue
        run_dir = run_directory(config)
        if (run_dir / DONE).is_file():
            _report(f"{label}: finished earlier ({run_dir})")
            continue
        resuming = (run_dir / "checkpoints" / "last.pt").is_file()
        _report(f"{label}: {'resuming' if resuming else 'training'}")
        start = time.perf_counter()
        result = train(config, resume=True)
        elapsed = time.perf_counter() - start
        auc = format_cell(result.results.get("auc"))
        _report(f"{label}: test AUC {auc} ({elapsed:.0f} s)")
    return not_run


def select_runs(args: argparse.Namespace, experiment: str):
    """Finished runs of `experiment` matching the command line (dataset, methods, folds, seeds)."""
    runs = collect(args.runs)
    return runs[
        (runs["experiment"] == experiment)
        & (runs["dataset"] == args.dataset)
        & runs["method"].isin(args.methods)
        & runs["fold"].isin(range(args.folds))
        & runs["seed"].isin(args.seeds)
    ]


def not_run_reasons(args: argparse.Namespace, not_run: dict[str, str]) -> dict[str, str]:
    """Paper row label -> why our cell may be empty (unselected, unfinished, unavailable)."""
    reasons = {TABLE1_METHODS[m]: "not selected (--methods)" for m in TABLE1_METHODS}
    reasons.update({TABLE1_METHODS[m]: "no finished run" for m in args.methods})
    reasons.update({TABLE1_METHODS[m]: reason for m, reason in not_run.items()})
    return reasons


def table1(args: argparse.Namespace, not_run: dict[str, str]):
    """The side-by-side table of the selected runs (collected from their run directories)."""
    runs = select_runs(args, EXPERIMENT)
    reasons = not_run_reasons(args, not_run)
    return side_by_side(
        summarize(runs, METRICS, keys=("method", "modality")),
        paper_table("table1_milk10k"),
        paper_keys=["model", "modality"],
        summary_keys=["method", "modality"],
        metrics=METRICS,
        labels=TABLE1_METHODS,
        not_run=reasons,
    )


def build_parser(description: str, out: str) -> argparse.ArgumentParser:
    """The options every table app shares (`out`: the default ``--out``)."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--preset", default="quick", help="smoke, quick or paper (default quick)")
    parser.add_argument("--dataset", default=None, help="synthetic (default) or the real one")
    parser.add_argument("--data-root", type=Path, default=None, help="the dataset's folder")
    parser.add_argument("--folds", type=int, default=1, help="folds 0..K-1 (default 1)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="training seeds")
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:1, auto")
    parser.add_argument(
        "--methods",
        nargs="+",
        default=list(TABLE1_METHODS),
        help=f"subset of {', '.join(TABLE1_METHODS)}",
    )
    parser.add_argument("--runs", type=Path, default=Path("runs"), help="run directories")
    parser.add_argument("--out", type=Path, default=Path(out), help="tables go here")
    parser.add_argument("--cache-dir", type=Path, default=None, help="semcov cache folder")
    parser.add_argument("--num-workers", type=int, default=None, help="DataLoader workers")
    parser.add_argument("--num-threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=True, help="progress bars"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(__doc__.splitlines()[0], "results/reproduce_table1")
    args = parser.parse_args(argv)
    if args.dataset is None:
        args.dataset = "milk10k" if args.data_root is not None else "synthetic"
    unknown = [m for m in args.methods if m not in TABLE1_METHODS]
    if unknown:
        parser.error(f"--methods: {unknown} are not Table 1 methods ({', '.join(TABLE1_METHODS)})")
    if args.folds < 1:
        parser.error("--folds must be >= 1")
    try:
        not_run = run_table1(args)
    except ValueError as error:
        print(f"reproduce_table1: error: {error}", file=sys.stderr)
        return 2
    if not _is_main_process():
        return 0
    table = table1(args, not_run)
    print(format_table(table, "markdown"))
    for path in write_tables(table, args.out, "table1"):
        print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
