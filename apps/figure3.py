"""Paper Figure 3 (CDI per epoch and final test CDI, SemCovNet with and without R_CDI).

Usage (no arguments: the synthetic benchmark, ``quick`` preset; experiments
``figure3-with_cdi`` and ``figure3-without_cdi``; see apps/README.md)::

    uv run apps/figure3.py
    uv run apps/figure3.py --data-root ~/data/milk10k --preset paper --folds 5
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from semcov_train.experiments import report
from semcov_train.experiments.command_line import (
    add_rows_option,
    app_parser,
    emit,
    parse_app_args,
    read_rows,
    run_app,
    run_variants,
    select_runs,
    variant_grids,
)
from semcov_train.reporting import format_cell, t_interval
from semcov_train.reporting.figures import MODEL_COLORS, backbones, pyplot, save_figure
from semcov_train.rundir import read_history

__all__ = [
    "CDI_VARIANTS",
    "PAPER_CLAIMS",
    "command_line",
    "figure3_runs",
    "figure3_table",
    "main",
    "plot_figure3",
]

ROWS = read_rows(__file__)
PREFIX = "figure3"
MODALITY = "dermoscopic"
# variant -> (its label in the figure, SemCovNet's switches)
CDI_VARIANTS = {
    "with_cdi": ("w/ $R_{CDI}$", {"use_cdi": True}),
    "without_cdi": ("w/o $R_{CDI}$", {"use_cdi": False}),
}
#: What the paper says about each curve (Fig. 3 caption, §4 "Effectiveness of CDI
#: Regularization"); it prints no number for the figure.
PAPER_CLAIMS = {
    "with_cdi": "paper (Fig. 3, no numbers): CDI decays toward zero during training and ends "
    "lower than without R_CDI",
    "without_cdi": "paper (Fig. 3, no numbers): CDI does not approach zero; higher than with R_CDI",
}


def grids(args: argparse.Namespace) -> list:
    """One SemCovNet grid per selected variant (R_CDI on / off, ``--epochs`` if given)."""
    epochs = {} if args.epochs is None else {"epochs": args.epochs}
    switches = {v: {**CDI_VARIANTS[v][1], **epochs} for v in args.variants}
    return variant_grids(args, PREFIX, switches, (MODALITY,), ROWS["method_switches"])


def figure3_runs(args: argparse.Namespace, variant: str) -> pd.DataFrame:
    """Finished runs of one variant, with their validation CDI per epoch (``history``)."""
    runs = select_runs(args, f"{PREFIX}-{variant}", grids=grids(args))
    runs = runs[runs["modality"] == MODALITY].sort_values(["fold", "seed"]).copy()
    runs["history"] = [read_history(d) for d in runs["run_dir"]]
    return runs


def _epoch_cdi(runs: pd.DataFrame) -> pd.DataFrame:
    """Validation CDI per epoch: mean, sample std and number of runs that reached the epoch."""
    curves = pd.concat(
        [h.set_index("epoch")["val_cdi"].rename(k) for k, h in enumerate(runs["history"])], axis=1
    )
    return pd.DataFrame(
        {"mean": curves.mean(axis=1), "std": curves.std(axis=1, ddof=1), "n": curves.count(axis=1)}
    )


def figure3_table(args: argparse.Namespace, not_run: dict[str, str]) -> pd.DataFrame:
    """One row per variant: runs, epochs, validation CDI at the first and last epoch and the test
    CDI (mean ± std over runs); the note names our backbone and quotes the paper's claim."""
    rows = []
    for variant in CDI_VARIANTS:
        runs = figure3_runs(args, variant) if variant in args.variants else pd.DataFrame()
        row = {"variant": variant, "use_cdi": CDI_VARIANTS[variant][1]["use_cdi"], "n": len(runs)}
        cells = ("epochs", "val cdi, first epoch", "val cdi, last epoch", "test cdi")
        if runs.empty:
            reason = not_run.get(variant, "no finished run")
            if variant not in args.variants:
                reason = "not selected (--variants)"
            row.update({cell: "not run" for cell in cells})
            row["note"] = f"not run: {reason}; {PAPER_CLAIMS[variant]}"
        else:
            first = [h["val_cdi"].iloc[0] for h in runs["history"]]
            last = [h["val_cdi"].iloc[-1] for h in runs["history"]]
            epochs = sorted({len(h) for h in runs["history"]})
            row["epochs"] = "/".join(map(str, epochs))
            row["val cdi, first epoch"] = _cell(first)
            row["val cdi, last epoch"] = _cell(last)
            row["test cdi"] = _cell(runs["cdi"])
            row["note"] = f"ours: {backbones(runs)}; {PAPER_CLAIMS[variant]}"
        rows.append(row)
    return pd.DataFrame(rows)


def _cell(values: Sequence[float]) -> str:
    interval = t_interval(pd.Series(list(values), dtype=float))
    return format_cell(interval.mean, interval.half_width, interval.n)


def plot_figure3(args: argparse.Namespace, out: Path) -> Path | None:
    """Draw ``figure3.png``: validation CDI per epoch (left), test CDI per variant (right);
    None when no variant has a finished run."""
    selected = {v: figure3_runs(args, v) for v in CDI_VARIANTS if v in args.variants}
    shown = {v: runs for v, runs in selected.items() if not runs.empty}
    if not shown:
        return None
    plt = pyplot()
    figure, (left, right) = plt.subplots(
        1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1.6, 1]}
    )
    for position, (variant, runs) in enumerate(shown.items()):
        label = CDI_VARIANTS[variant][0]
        color = MODEL_COLORS[list(CDI_VARIANTS).index(variant)]
        curve = _epoch_cdi(runs)
        left.plot(curve.index, curve["mean"], marker="o", color=color, label=label)
        band = curve["n"] > 1
        if band.any():
            left.fill_between(
                curve.index[band],
                (curve["mean"] - curve["std"])[band],
                (curve["mean"] + curve["std"])[band],
                color=color,
                alpha=0.2,
            )
        values = runs["cdi"].to_numpy(dtype=float)
        mean = float(np.nanmean(values))
        std = float(np.nanstd(values, ddof=1)) if len(values) > 1 else 0.0
        right.bar(position, mean, yerr=std, color=color, alpha=0.85, capsize=6, width=0.6)
        right.scatter(np.full(len(values), position), values, color="black", s=14, zorder=3)
        right.annotate(
            f"{mean:.3f}",
            (position, mean + std),
            textcoords="offset points",
            xytext=(0, 4),
            ha="center",
        )
    right.set_xticks(range(len(shown)), [CDI_VARIANTS[v][0] for v in shown])
    right.set_xlim(-0.7, len(shown) - 0.3)
    right.set_ylim(0, max(1e-3, float(right.get_ylim()[1])) * 1.15)
    right.set_ylabel("test CDI (best-val-AUC checkpoint)")
    right.set_title("Final test CDI")
    left.set_xlabel("epoch")
    left.set_ylabel("validation CDI")
    left.set_ylim(0, max(1e-3, float(left.get_ylim()[1])) * 1.15)
    left.xaxis.get_major_locator().set_params(integer=True)
    left.set_title("CDI during training (validation)")
    left.legend()
    runs_note = f"{args.folds} fold(s), seed(s) {', '.join(map(str, args.seeds))}"
    backbone = backbones(pd.concat(shown.values()))
    figure.suptitle(
        f"SemCovNet ({backbone}) with and without $R_{{CDI}}$: {args.dataset}-{MODALITY}, "
        f"{runs_note}"
    )
    figure.tight_layout()
    return save_figure(figure, out, "figure3")


def command_line(argv: Sequence[str] | None) -> argparse.Namespace:
    """The checked options (usage error on bad ones); ``methods`` is SemCovNet alone."""
    parser = app_parser(__doc__.splitlines()[0], "results/figure3")
    add_rows_option(parser, "--variants", CDI_VARIANTS)
    parser.add_argument(
        "--epochs", type=int, default=None, help="epochs per run (default: the preset's)"
    )
    args = parse_app_args(parser, argv, real_dataset="milk10k", choices={"variants": CDI_VARIANTS})
    if args.epochs is not None and args.epochs < 1:
        parser.error(f"--epochs must be >= 1, got {args.epochs}")
    args.methods = ["semcovnet"]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = command_line(argv)

    def train() -> dict[str, str]:
        return run_variants(args, PREFIX, grids(args))

    def finish(not_run: dict[str, str]) -> None:
        emit(figure3_table(args, not_run), args.out, "figure3")
        if plot_figure3(args, args.out) is None:
            report("figure3: no finished run, no figure")

    return run_app("figure3", train, finish)


if __name__ == "__main__":
    raise SystemExit(main())
