"""What every app shares: its command line, training the runs it needs, and writing its table.

An app names its runs (experiment, methods, modalities, config switches), trains the ones that
are not finished through :func:`run_jobs`, reads the finished ones back with :func:`select_runs`
and hands a side-by-side table to :func:`emit`. Every process of a ``torchrun`` launch trains;
only rank 0 reads results and writes files.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pandas as pd
from collect_results import collect, format_cell, format_table, summarize, write_tables

__all__ = [
    "SEMCOVNET_BY_MODALITY",
    "add_rows_option",
    "build_parser",
    "emit",
    "is_main_process",
    "make_run_config",
    "parse_args",
    "report",
    "run_app",
    "run_jobs",
    "run_variants",
    "select_runs",
    "variant_summary",
]


#: SemCovNet's settings per modality in every app: the paper's best encoder order on
#: dermoscopic images (Table 5); other modalities keep the default. An app's own switches win.
SEMCOVNET_BY_MODALITY: dict[str, dict] = {"dermoscopic": {"semcov_order": "mixture_dam_attn"}}


def is_main_process() -> bool:
    """Rank 0 under ``torchrun`` (every process trains; only rank 0 reports)."""
    return int(os.environ.get("RANK", "0")) == 0


def report(message: str) -> None:
    """A progress line on stderr (rank 0 only)."""
    if is_main_process():
        print(message, file=sys.stderr)


def build_parser(
    description: str, out: str, methods: Sequence[str] | None = None
) -> argparse.ArgumentParser:
    """The options every app shares; `out` is the default ``--out``.

    `methods`: the registry names the app can train, offered as ``--methods`` (all by default);
    None for apps whose rows are switches of one method (no ``--methods`` option).
    """
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--preset", default="quick", help="smoke, quick or paper (default quick)")
    parser.add_argument("--dataset", default=None, help="synthetic (default) or the real one")
    parser.add_argument("--data-root", type=Path, default=None, help="the dataset's folder")
    parser.add_argument("--folds", type=int, default=1, help="folds 0..K-1 (default 1)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="training seeds")
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:1, auto")
    if methods is not None:
        parser.add_argument(
            "--methods", nargs="+", default=list(methods), help=f"subset of {', '.join(methods)}"
        )
    parser.add_argument("--runs", type=Path, default=Path("runs"), help="run directories")
    parser.add_argument("--out", type=Path, default=Path(out), help="tables and figures go here")
    parser.add_argument("--cache-dir", type=Path, default=None, help="semcov cache folder")
    parser.add_argument("--num-workers", type=int, default=None, help="DataLoader workers")
    parser.add_argument("--num-threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=True, help="progress bars"
    )
    return parser


def add_rows_option(parser: argparse.ArgumentParser, flag: str, rows: Sequence[str]) -> None:
    """A ``--variants``-style option picking a subset of the paper's rows (all by default)."""
    parser.add_argument(flag, nargs="+", default=list(rows), help=f"subset of {', '.join(rows)}")


def parse_args(
    parser: argparse.ArgumentParser,
    argv: Sequence[str] | None,
    *,
    real_dataset: str | None,
    datasets: Sequence[str] | None = None,
    choices: Mapping[str, Sequence[str]] | None = None,
) -> argparse.Namespace:
    """Parse and check the command line (exits with a usage error naming the option).

    `real_dataset`: ``--dataset`` when ``--data-root`` is given (else ``synthetic``); None for
    apps without a ``--data-root`` of their own. `datasets`: the ``--dataset`` values the app
    accepts (None: any). `choices`: option dest -> its allowed values (``methods``,
    ``variants``, ...).
    """
    args = parser.parse_args(argv)
    if real_dataset is not None and args.dataset is None:
        args.dataset = real_dataset if args.data_root is not None else "synthetic"
    if datasets is not None and args.dataset not in datasets:
        parser.error(f"--dataset must be one of {', '.join(datasets)}, got {args.dataset!r}")
    for dest, allowed in (choices or {}).items():
        unknown = [value for value in getattr(args, dest) if value not in allowed]
        if unknown:
            flag = "--" + dest.replace("_", "-")
            parser.error(f"{flag}: {unknown} are not among {', '.join(allowed)}")
    if args.folds < 1:
        parser.error("--folds must be >= 1")
    return args


def make_run_config(
    args: argparse.Namespace,
    experiment: str,
    method: str,
    modality: str,
    fold: int,
    seed: int,
    extra: Mapping | None = None,
):
    """The TrainConfig of one run: the preset, the shared options, then `extra`."""
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
    optional = {
        "data_root": getattr(args, "data_root", None),
        "cache_dir": args.cache_dir,
        "descriptors_csv": getattr(args, "descriptors_csv", None),
    }
    overrides.update({k: str(v) for k, v in optional.items() if v is not None})
    if args.num_workers is not None:
        overrides["num_workers"] = args.num_workers
    if args.num_threads is not None:
        overrides["num_threads"] = args.num_threads
    overrides.update(extra or {})
    return make_config(args.preset, **overrides)


def run_jobs(
    args: argparse.Namespace,
    experiment: str,
    modalities: Sequence[str],
    extra: Mapping | None = None,
    per_modality: Mapping[str, Mapping] = SEMCOVNET_BY_MODALITY,
) -> dict[str, str]:
    """Train ``args.methods`` × `modalities` × folds × seeds under `experiment`, skipping
    finished runs (``DONE``) and resuming unfinished ones; method -> reason it was not run.

    `extra`: config fields of every run (an ablation's switches); `per_modality`: SemCovNet's
    fields for one modality (default :data:`SEMCOVNET_BY_MODALITY`), applied before `extra`.
    """
    from semcov_train import MethodNotAvailableError, MissingWeightsError, train
    from semcov_train.methods import check_available
    from semcov_train.trainer import finished_results, run_directory

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
        fields = dict(per_modality.get(modality, {}) if method == "semcovnet" else {})
        fields.update(extra or {})
        config = make_run_config(args, experiment, method, modality, fold, seed, fields)
        try:
            check_available(config)
        except (MissingWeightsError, MethodNotAvailableError) as error:
            not_run[method] = str(error)
            report(f"{label}: not run: {error}")
            continue
        run_dir = run_directory(config)
        if finished_results(config) is not None:  # a finished run with other settings raises
            report(f"{label}: finished earlier ({run_dir})")
            continue
        resuming = (run_dir / "checkpoints" / "last.pt").is_file()
        report(f"{label}: {'resuming' if resuming else 'training'}")
        start = time.perf_counter()
        result = train(config, resume=True)
        elapsed = time.perf_counter() - start
        report(f"{label}: test AUC {format_cell(result.results.get('auc'))} ({elapsed:.0f} s)")
    return not_run


def run_variants(
    args: argparse.Namespace,
    prefix: str,
    variants: Mapping[str, Mapping],
    modalities: Sequence[str],
) -> dict[str, str]:
    """One experiment ``<prefix>-<variant>`` per variant (its config switches), for
    ``args.methods``; variant -> why it was not run (weights or modules missing)."""
    not_run = {}
    for variant, switches in variants.items():
        reasons = run_jobs(args, f"{prefix}-{variant}", modalities, switches)
        if reasons:
            not_run[variant] = "; ".join(reasons.values())
    return not_run


def select_runs(
    args: argparse.Namespace, experiment: str, modalities: Sequence[str] | None = None
) -> pd.DataFrame:
    """Finished runs of `experiment` matching the command line (dataset, methods, folds, seeds)
    and, when given, `modalities`."""
    runs = collect(args.runs)
    if modalities is not None:
        runs = runs[runs["modality"].isin(modalities)]
    return runs[
        (runs["experiment"] == experiment)
        & (runs["dataset"] == args.dataset)
        & runs["method"].isin(args.methods)
        & runs["fold"].isin(range(args.folds))
        & runs["seed"].isin(args.seeds)
    ]


def variant_summary(
    args: argparse.Namespace,
    prefix: str,
    variants: Sequence[str],
    metrics: Sequence[str],
    keys: Sequence[str] = ("method",),
    column: str = "variant",
) -> pd.DataFrame:
    """Mean ± std of `metrics` per variant (experiments ``<prefix>-<variant>``), the variant
    in `column`."""
    parts = []
    for variant in variants:
        summary = summarize(select_runs(args, f"{prefix}-{variant}"), metrics, keys=keys)
        summary[column] = variant
        parts.append(summary)
    return pd.concat(parts, ignore_index=True)


def emit(table: pd.DataFrame, out: Path, stem: str) -> list[Path]:
    """Print `table` as Markdown and write ``<stem>.md/.csv/.tex`` into `out`."""
    print(format_table(table, "markdown"))
    paths = write_tables(table, out, stem)
    for path in paths:
        print(f"wrote {path}", file=sys.stderr)
    return paths


def run_app(name: str, train: Callable[[], object], finish: Callable[[object], object]) -> int:
    """`train()` on every process, then `finish(result)` on rank 0; the exit status.

    A ValueError (bad data root, unknown option value found late) becomes one line on stderr
    prefixed with the app's `name` and exit status 2.
    """
    try:
        result = train()
    except ValueError as error:
        print(f"{name}: error: {error}", file=sys.stderr)
        return 2
    if is_main_process():
        finish(result)
    return 0
