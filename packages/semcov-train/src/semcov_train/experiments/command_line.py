"""The command line an experiment script shares with every other: the grid (preset, dataset,
folds, seeds, learning rates), where runs and tables go, how the runs are launched (``--launcher``,
``--workers``, ``--shard``) and any TrainConfig field (``--set field=value``).

An app builds its parser with :func:`app_parser`, checks it with :func:`parse_app_args`, turns
its rows into :class:`~semcov_train.experiments.Grid` objects with :func:`app_grid` and trains
them with :func:`run_grids`; :func:`run_app` turns a ValueError into one line and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from semcov_train.cli import field_value
from semcov_train.reporting import DEFAULT_METRICS, format_table, read_runs, write_tables
from semcov_train.reporting.terminal import terminal_table

from .app_rows import read_paper_table, read_rows
from .grid import Grid, parse_shard
from .launchers import LAUNCHERS, Launcher, auto_launcher, cpu_workers, make_launcher
from .plan import plan
from .running import is_main_process, report, run_plan, select_learning_rates

__all__ = [
    "LR_CANDIDATES",
    "PAPER_FOLDS",
    "QUICK_SEEDS",
    "add_rows_option",
    "app_grid",
    "app_launcher",
    "app_parser",
    "app_settings",
    "emit",
    "lr_selection",
    "not_run_reasons",
    "parse_app_args",
    "read_paper_table",
    "read_rows",
    "run_app",
    "run_grids",
    "run_variants",
    "select_runs",
    "variant_grids",
    "variant_runs",
]

#: paper §4.1: the learning rate is tuned in [1e-4, 3e-4]; the ``paper`` preset tries these.
LR_CANDIDATES = (1e-4, 2e-4, 3e-4)
#: the paper's five cross-validation folds: the default of ``--folds`` on the ``paper`` preset.
PAPER_FOLDS = 5
#: the default ``--seeds`` of the ``quick`` preset: three runs a cell, so a cell has an interval.
QUICK_SEEDS = (0, 1, 2)


def _set_option(text: str) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected field=value, got {text!r}")
    try:
        return name.replace("-", "_"), field_value(name.replace("-", "_"), value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _shard_option(text: str) -> tuple[int, int]:
    try:
        return parse_shard(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def app_parser(
    description: str, out: str, methods: Sequence[str] | Mapping[str, Any] | None = None
) -> argparse.ArgumentParser:
    """The options every app shares; `out` is the default ``--out``.

    `methods`: the registry names the app can train, offered as ``--methods`` (all by default);
    None for apps whose rows are switches of one method.
    """
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--preset", default="quick", help="smoke, quick or paper (default quick)")
    parser.add_argument("--dataset", default=None, help="synthetic (default), the real one, csv")
    parser.add_argument("--data-root", type=Path, default=None, help="the dataset's folder")
    parser.add_argument(
        "--folds", type=int, default=None, help=f"folds 0..K-1 (default 1; {PAPER_FOLDS} on paper)"
    )
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=None, help="training seeds (default 0 1 2 on quick)"
    )
    parser.add_argument(
        "--lrs",
        type=float,
        nargs="+",
        default=None,
        help="learning rates to try, the best mean validation AUC per model is reported "
        f"(default: the preset's; {' '.join(map(str, LR_CANDIDATES))} on paper)",
    )
    parser.add_argument(
        "--device", default="auto", help="auto (default: CUDA if present), cpu, cuda"
    )
    if methods is not None:
        names = list(methods)
        parser.add_argument(
            "--methods", nargs="+", default=names, help=f"subset of {', '.join(names)}"
        )
    parser.add_argument("--runs", type=Path, default=Path("runs"), help="run directories")
    parser.add_argument("--out", type=Path, default=Path(out), help="tables and figures go here")
    parser.add_argument("--cache-dir", type=Path, default=None, help="semcov cache folder")
    parser.add_argument("--num-workers", type=int, default=None, help="DataLoader workers")
    parser.add_argument("--num-threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=True, help="progress bars"
    )
    parser.add_argument(
        "--set",
        dest="set_fields",
        type=_set_option,
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="any TrainConfig field for every run, e.g. --set csv_path=meta.csv (repeatable)",
    )
    launch = parser.add_argument_group("launching the runs")
    launch.add_argument(
        "--launcher", default="auto", choices=["auto", *LAUNCHERS], help="default auto"
    )
    launch.add_argument("--workers", type=int, default=None, help="local: processes (CPU cores)")
    launch.add_argument("--nproc-per-node", type=int, default=1, help="torchrun: GPUs per run")
    launch.add_argument(
        "--shard", type=_shard_option, default=None, metavar="K/N", help="train shard K of N"
    )
    launch.add_argument(
        "--submitit-folder", type=Path, default=None, help="submitit: logs (default RUNS/submitit)"
    )
    launch.add_argument("--cluster", default=None, help="submitit: slurm, local or debug")
    launch.add_argument("--slurm-partition", default=None, help="submitit: SLURM partition")
    launch.add_argument("--timeout-min", type=int, default=24 * 60, help="submitit: job limit")
    launch.add_argument("--gpus-per-node", type=int, default=None, help="submitit: GPUs a job")
    return parser


def add_rows_option(parser: argparse.ArgumentParser, flag: str, rows: Sequence[str]) -> None:
    """A ``--variants``-style option picking a subset of the paper's rows (all by default)."""
    parser.add_argument(flag, nargs="+", default=list(rows), help=f"subset of {', '.join(rows)}")


def parse_app_args(
    parser: argparse.ArgumentParser,
    argv: Sequence[str] | None,
    *,
    real_dataset: str | None,
    datasets: Sequence[str] | None = None,
    choices: Mapping[str, Collection[str]] | None = None,
) -> argparse.Namespace:
    """Parse and check the command line (a usage error naming the option, exit status 2).

    `real_dataset`: ``--dataset`` when ``--data-root`` is given (else ``synthetic``); None for
    apps without a ``--data-root``. `datasets`: the ``--dataset`` values the app accepts (None:
    any). `choices`: option dest -> its allowed values (``methods``, ``variants``, ...).
    ``--folds`` defaults to 5 on the ``paper`` preset (1 otherwise), ``--lrs`` to
    :data:`LR_CANDIDATES` on ``paper`` (the preset's lr otherwise).
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
    paper = args.preset == "paper"
    if args.folds is None:
        args.folds = PAPER_FOLDS if paper else 1
    if args.seeds is None:
        args.seeds = list(QUICK_SEEDS) if args.preset == "quick" else [0]
    if args.folds < 1:
        parser.error("--folds must be >= 1")
    if args.lrs is None:
        args.lrs = list(LR_CANDIDATES) if paper else []
    if any(not lr > 0 for lr in args.lrs) or len(set(args.lrs)) != len(args.lrs):
        parser.error(f"--lrs must be distinct numbers > 0, got {args.lrs}")
    if args.workers is None:
        args.workers = cpu_workers()
    if args.workers < 1 or args.nproc_per_node < 1:
        parser.error("--workers and --nproc-per-node must be >= 1")
    names = [name for name, _ in args.set_fields]
    taken = {"experiment", "method", "modality", "fold", "seed", "preset"} & set(names)
    if taken:
        parser.error(f"--set {sorted(taken)[0]}: set by the app's grid or its own option")
    return args


def app_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The TrainConfig fields every run of the command line shares (``--set`` ones last)."""
    settings: dict[str, Any] = {
        "dataset": args.dataset,
        "out": str(args.runs),
        "device": args.device,
        "progress": args.progress,
    }
    optional = {
        "data_root": getattr(args, "data_root", None),
        "cache_dir": args.cache_dir,
        "descriptors_csv": getattr(args, "descriptors_csv", None),
    }
    settings.update({k: str(v) for k, v in optional.items() if v is not None})
    if args.num_workers is not None:
        settings["num_workers"] = args.num_workers
    if args.num_threads is not None:
        settings["num_threads"] = args.num_threads
    settings.update(dict(args.set_fields))
    return settings


def app_grid(
    args: argparse.Namespace,
    experiment: str,
    modalities: Sequence[str],
    switches: Mapping[str, Any] | None = None,
    method_switches: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
) -> Grid:
    """The grid of `experiment`: ``args.methods`` × `modalities` × folds × seeds (× ``--lrs``)."""
    return Grid(
        experiment,
        methods=args.methods,
        modalities=modalities,
        folds=range(args.folds),
        seeds=args.seeds,
        switches=switches or {},
        method_switches=method_switches or {},
        lrs=args.lrs,
    )


def variant_grids(
    args: argparse.Namespace,
    prefix: str,
    variants: Mapping[str, Mapping[str, Any]],
    modalities: Sequence[str],
    method_switches: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
) -> list[Grid]:
    """One grid per variant: experiment ``<prefix>-<variant>`` with that variant's switches."""
    return [
        app_grid(args, f"{prefix}-{variant}", modalities, switches, method_switches)
        for variant, switches in variants.items()
    ]


def run_variants(args: argparse.Namespace, prefix: str, grids: Sequence[Grid]) -> dict[str, str]:
    """:func:`run_grids` for :func:`variant_grids`; variant -> why it was not run."""
    unavailable = run_grids(args, grids)
    if not unavailable:
        return {}
    reason = "; ".join(unavailable.values())
    return {grid.experiment.removeprefix(f"{prefix}-"): reason for grid in grids}


def app_launcher(args: argparse.Namespace) -> Launcher:
    """The launcher ``--launcher`` names, with its options (``auto``: :func:`auto_launcher`)."""
    if args.launcher == "auto":
        name, options = auto_launcher(args.preset, args.device, args.workers)
        return make_launcher(name, **options)
    if args.launcher == "local":
        return make_launcher("local", workers=args.workers)
    if args.launcher == "torchrun":
        return make_launcher("torchrun", nproc_per_node=args.nproc_per_node)
    if args.launcher == "submitit":
        parameters: dict[str, Any] = {"timeout_min": args.timeout_min}
        if args.slurm_partition:
            parameters["slurm_partition"] = args.slurm_partition
        if args.gpus_per_node is not None:
            parameters["gpus_per_node"] = args.gpus_per_node
        folder = args.submitit_folder or args.runs / "submitit" / "%j"
        return make_launcher("submitit", folder=folder, cluster=args.cluster, parameters=parameters)
    return make_launcher(args.launcher)


def run_grids(args: argparse.Namespace, grids: Sequence[Grid]) -> dict[str, str]:
    """Check, then train the pending runs of `grids` (this machine's ``--shard``) with the
    ``--launcher``; method -> why it was not run. When a grid tunes the learning rate, the
    choice per model is reported on stderr and written to ``<out>/lr_selection-<experiment>.csv``
    (rank 0)."""
    not_run = run_plan(
        plan(grids, args.preset, app_settings(args), shard_of=args.shard), app_launcher(args)
    )
    tuned = [grid for grid in grids if grid.tunes_lr]
    if tuned and is_main_process():
        table = lr_selection(args, tuned)
        for row in table.to_dict("records"):
            tried = ", ".join(
                f"{k.removeprefix('val_auc at ')}: {v}"
                for k, v in row.items()
                if k.startswith("val_auc at ")
            )
            report(
                f"lr selection: {row['experiment']} {row['method']} {row['modality']}: "
                f"{row['lr']} (mean val AUC {row['val_auc']:.4f}; tried {tried})"
            )
        for experiment, part in table.groupby("experiment", sort=False):
            args.out.mkdir(parents=True, exist_ok=True)
            path = args.out / f"lr_selection-{experiment}.csv"
            part.dropna(axis=1, how="all").to_csv(path, index=False)
            report(f"wrote {path}")
    return not_run


def lr_selection(args: argparse.Namespace, grids: Sequence[Grid]):
    """The learning rate chosen per model (a DataFrame, empty without an lr grid): experiment,
    method, modality, lr, mean val AUC, and per candidate its mean val AUC and finished runs."""
    rows = []
    for choice in select_learning_rates(plan(grids, args.preset, app_settings(args))):
        row: dict[str, Any] = {
            "experiment": choice.experiment,
            "method": choice.method,
            "modality": choice.modality,
            "lr": "no finished run" if choice.lr is None else f"{choice.lr:g}",
            "val_auc": choice.val_auc,
        }
        for lr, mean, n in choice.candidates:
            row[f"val_auc at {lr:g}"] = f"{mean:.4f} (n={n})"
        rows.append(row)
    return pd.DataFrame(rows)


def select_runs(
    args: argparse.Namespace,
    experiment: str,
    modalities: Sequence[str] | None = None,
    grids: Sequence[Grid] = (),
):
    """The finished runs of `grids` in `experiment` (a :func:`semcov_train.reporting.read_runs`
    frame, the experiment's name without an ``-lr`` suffix), of `modalities` when given.

    Only the grids' own run directories are read, so runs of other settings, folds or seeds
    under ``--runs`` never mix in; an lr-tuning grid gives the runs of each model's chosen lr.
    Metrics no run reports are NaN columns (an empty selection still has them).
    """
    the_plan = plan(grids, args.preset, app_settings(args))
    tuned = {grid.experiment for grid in grids if grid.tunes_lr}
    chosen = set()
    if tuned:
        chosen = {d for c in select_learning_rates(the_plan) for d in c.run_dirs}
    run_dirs = [
        job.run_dir
        for job in the_plan.finished
        if job.run.group == experiment
        and (job.run.group not in tuned or str(job.run_dir) in chosen)
    ]
    runs = read_runs(run_dirs)
    runs["experiment"] = pd.array([experiment] * len(runs), dtype="string")
    if modalities is not None:
        runs = runs[runs["modality"].isin(list(modalities))]
    for metric in DEFAULT_METRICS:
        if metric not in runs.columns:
            runs[metric] = float("nan")
    return runs.reset_index(drop=True)


def variant_runs(
    args: argparse.Namespace,
    prefix: str,
    variants: Sequence[str],
    column: str = "variant",
    grids: Sequence[Grid] = (),
):
    """The selected runs of the experiments ``<prefix>-<variant>``, the variant in `column`."""
    parts = [
        select_runs(args, f"{prefix}-{variant}", grids=grids).assign(**{column: variant})
        for variant in variants
    ]
    if not parts:
        return select_runs(args, prefix, grids=()).assign(**{column: []})
    return pd.concat(parts, ignore_index=True)


def not_run_reasons(
    selected: Sequence[str],
    not_run: Mapping[str, str],
    rows: Sequence[str] | Mapping[str, str],
    option: str = "--methods",
) -> dict[str, str]:
    """Row label -> why our cell may be empty: not selected (by `option`), no finished run, or
    the reason the method could not run. `rows`: the row names, or name -> the paper's label."""
    labels = dict(rows) if isinstance(rows, Mapping) else {row: row for row in rows}
    reasons = {labels[row]: f"not selected ({option})" for row in labels}
    reasons.update({labels[row]: "no finished run" for row in selected if row in labels})
    reasons.update({labels[row]: reason for row, reason in not_run.items() if row in labels})
    return reasons


def emit(table, out: str | Path, stem: str, notes: Sequence[str] = ()) -> list[Path]:
    """Print `table` to fit a terminal and write ``<stem>.md/.csv/.tex`` into `out` in full;
    their paths. `notes` (what the cells mean) follow the table as a list, in print and in the
    Markdown file. In print, long cell texts (a "not run" reason) are said once below the table
    and columns that do not fit side by side come in blocks (:func:`terminal_table`)."""
    listed = "\n".join(f"- {note}" for note in notes)
    text = format_table(table, "markdown")
    if notes:
        text = text.rstrip("\n") + "\n\n" + listed
    print(terminal_table(table) + ("\n" + listed if notes else ""))
    paths = write_tables(table, out, stem)
    if notes:
        paths[0].write_text(text + "\n")
    for path in paths:
        report(f"wrote {path}")
    return paths


def run_app(name: str, train: Callable[[], Any], finish: Callable[[Any], Any]) -> int:
    """`train()` on every process, then `finish(result)` on rank 0; the exit status.

    A ValueError (bad data root, a run trained with other settings, failed runs) becomes one
    line on stderr prefixed with the app's `name` and exit status 2.
    """
    try:
        result = train()
    except ValueError as error:
        print(f"{name}: error: {error}", file=sys.stderr)
        return 2
    if is_main_process():
        try:
            finish(result)
        except ValueError as error:
            print(f"{name}: error: {error}", file=sys.stderr)
            return 2
    return 0
