"""``python -m semcov_train.reporting RUNS_DIR``: every cell of a runs folder as ``x ± h``.

Prints one row per (experiment, method, dataset, modality, settings) with ``n`` runs and each
metric's mean ± 95 % t-interval half-width over folds and seeds; with ``--baseline erm`` also
every other method's paired difference from it over matched (fold, seed). With ``--out DIR``
it writes ``summary.md/.csv/.tex``, ``runs.csv`` (one row per run, every result) and
``paired.md/.csv/.tex``. Bad input (a missing folder, no finished run, an unknown metric) is
exit status 2 with one line on stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ..parsing import OneLineParser
from .frame import DEFAULT_METRICS, read_runs
from .intervals import PAIR_KEYS, paired_differences, summarize
from .tables import DIGITS, differences_table, format_table, summary_table, write_tables

__all__ = ["build_parser", "main"]

PROG = "python -m semcov_train.reporting"


def build_parser() -> argparse.ArgumentParser:
    """The command line's options."""
    parser = OneLineParser(
        prog=PROG,
        description="Summarise run directories: mean ± 95 % t-interval over folds and seeds.",
    )
    parser.add_argument("runs", type=Path, help="folder of run directories (searched below)")
    parser.add_argument(
        "--experiment", action="append", default=None, help="only this experiment (repeatable)"
    )
    parser.add_argument(
        "--metrics",
        default=None,
        help=f"comma-separated result columns (default: those of {','.join(DEFAULT_METRICS)} "
        "that the runs have)",
    )
    parser.add_argument(
        "--baseline", default=None, help="method to pair every other method against, e.g. erm"
    )
    parser.add_argument("--digits", type=int, default=DIGITS, help=f"decimals (default {DIGITS})")
    parser.add_argument("--out", type=Path, default=None, help="write the tables into this folder")
    return parser


def _paired(runs: pd.DataFrame, baseline: str, metrics: list[str]) -> pd.DataFrame:
    methods = sorted(set(runs["method"].dropna()) - {baseline})
    parts = [
        paired_differences(runs, method, baseline, metrics, keys=PAIR_KEYS) for method in methods
    ]
    parts = [part for part in parts if len(part)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; the exit status."""
    args = build_parser().parse_args(argv)
    if not 0 <= args.digits <= 12:
        return _fail(f"--digits must be in 0..12, got {args.digits}")
    if not args.runs.is_dir():
        return _fail(f"runs: {str(args.runs)!r} is not a directory")
    try:
        runs = read_runs(args.runs, experiment=args.experiment)
    except ValueError as error:
        return _fail(str(error))
    unfinished = runs.attrs["unfinished"]
    if runs.empty:
        which = f" of experiment {', '.join(args.experiment)}" if args.experiment else ""
        return _fail(
            f"no finished run{which} under {str(args.runs)!r} ({len(unfinished)} unfinished)"
        )
    if args.metrics is None:
        metrics = [m for m in DEFAULT_METRICS if m in runs.columns]
    else:
        metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    if not metrics:
        return _fail(f"--metrics: the runs have none of {', '.join(DEFAULT_METRICS)}; name some")
    unknown = [m for m in metrics if m not in runs.columns]
    if unknown:
        known = [c for c in runs.columns if pd.api.types.is_float_dtype(runs[c])]
        return _fail(f"--metrics: {unknown} are not results of these runs; known: {known}")
    if args.baseline is not None and args.baseline not in set(runs["method"]):
        methods = ", ".join(sorted(set(runs["method"])))
        return _fail(f"--baseline: no run of method {args.baseline!r}; methods: {methods}")
    try:
        summary = summary_table(summarize(runs, metrics), metrics, digits=args.digits)
        paired = _paired(runs, args.baseline, metrics) if args.baseline else None
    except ValueError as error:
        return _fail(str(error))
    print(format_table(summary, "markdown"))
    if paired is not None and len(paired):
        cells = differences_table(paired, metrics, digits=args.digits)
        print(format_table(cells, "markdown"))
        for text in paired["unmatched"]:
            if text:
                print(f"unmatched (not paired): {text}", file=sys.stderr)
    print(f"{len(runs)} finished runs", file=sys.stderr)
    for run_dir in unfinished:
        print(f"unfinished (excluded): {run_dir}", file=sys.stderr)
    if args.out is not None:
        written = write_tables(summary, args.out, "summary")
        runs.to_csv(args.out / "runs.csv", index=False)
        written.append(args.out / "runs.csv")
        if paired is not None and len(paired):
            written += write_tables(cells, args.out, "paired")
        for path in written:
            print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
