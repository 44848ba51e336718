"""Paper Figure 1 (semantic coverage imbalance): coverage long tail and coverage-error scatter.

Usage (no arguments: Table 1's runs on the synthetic benchmark, ``quick`` preset, dermoscopic
images; see apps/README.md)::

    uv run apps/figure1.py
    uv run apps/figure1.py --data-root ~/data/milk10k --preset paper --folds 5

paper: "ideal alignment" in the right panel is not defined; here it is an error that does not
depend on coverage (CDI = 0): a flat line at the model's mean SCG error, drawn beside the model's
least-squares line, so the gap between the two is the coverage-error misalignment.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from semcov_train.experiments import report
from semcov_train.experiments.command_line import (
    app_grid,
    app_parser,
    emit,
    not_run_reasons,
    parse_app_args,
    read_paper_table,
    read_rows,
    run_app,
    run_grids,
    select_runs,
)
from semcov_train.reporting import format_cell, side_by_side, summarize, t_interval
from semcov_train.reporting.figures import MODEL_COLORS, backbones, pyplot, save_figure
from semcov_train.rundir import read_scg

__all__ = ["FIGURE1_METHODS", "figure1_runs", "figure1_table", "main", "plot_figure1"]

ROWS = read_rows(__file__)
EXPERIMENT = "table1"  # Table 1's own runs
# registry name -> the paper's label (Table 3 rows), baseline first
FIGURE1_METHODS = {m: ROWS["models"][m] for m in ("erm", "semcovnet")}
MODALITIES = tuple(ROWS["milk10k_modalities"])
MARKERS = ("o", "^")
SCG_KEYS = ["class", "class_name", "descriptor", "subgroup"]


def grids(args: argparse.Namespace) -> list:
    """Table 1's runs of the selected methods on ``args.modality``."""
    return [app_grid(args, EXPERIMENT, (args.modality,), method_switches=ROWS["method_switches"])]


def figure1_runs(args: argparse.Namespace) -> pd.DataFrame:
    """The finished ``table1`` runs of the selected methods on ``args.modality``."""
    runs = select_runs(args, EXPERIMENT, grids=grids(args))
    return runs[runs["modality"] == args.modality].sort_values(["method", "fold", "seed"])


def _paper_dataset(modality: str) -> str:
    return f"milk10k-{modality}"


def figure1_table(
    args: argparse.Namespace, runs: pd.DataFrame, not_run: dict[str, str]
) -> pd.DataFrame:
    """CDI of each model, ours (mean ± std over runs) beside Table 3's for the same modality."""
    summary = summarize(runs, ("cdi",), keys=("method", "modality"))
    summary["table_dataset"] = _paper_dataset(args.modality)
    paper = read_paper_table(__file__, "table3_fairness")
    paper = paper[
        (paper["dataset"] == _paper_dataset(args.modality))
        & paper["model"].isin(FIGURE1_METHODS.values())
    ]
    return side_by_side(
        summary,
        paper,
        paper_keys=["model", "dataset"],
        summary_keys=["method", "table_dataset"],
        metrics=("cdi",),
        labels=FIGURE1_METHODS,
        not_run=not_run_reasons(args.methods, not_run, ROWS["models"]),
    )


def _fold_coverage(runs: pd.DataFrame) -> pd.DataFrame:
    """Training coverage per SCG, averaged over folds. Coverage is a property of a fold's
    training split, the same for every method and seed, so one run per fold is read."""
    per_fold = [read_scg(rows["run_dir"].iloc[0]) for _, rows in runs.groupby("fold")]
    coverage = pd.concat(per_fold).groupby(SCG_KEYS, sort=False, as_index=False)["coverage"]
    return coverage.mean()


def _plot_long_tail(ax, coverage: pd.DataFrame) -> None:
    from semcov_metrics.plotting import plot_coverage_long_tail

    plot_coverage_long_tail(coverage, ax=ax)
    # The helper draws the bars from highest to lowest coverage; colour each by its class
    # (equal heights share a colour order that is arbitrary but keeps each class's count).
    ranked = coverage.sort_values("coverage", ascending=False, kind="stable")
    classes = list(dict.fromkeys(coverage["class_name"]))
    colors = {name: MODEL_COLORS[2 + k % 4] for k, name in enumerate(classes)}
    for bar, name in zip(ax.patches, ranked["class_name"], strict=True):
        bar.set_color(colors[name])
    handles = [
        pyplot().Rectangle((0, 0), 1, 1, color=colors[name], label=str(name)) for name in classes
    ]
    ax.legend(handles=handles, fontsize=8, title="SCG class", title_fontsize=8)
    empty = int((coverage["coverage"] == 0).sum())
    ax.set_title(f"Training coverage of {len(coverage)} SCGs, ranked ({empty} empty)")
    ax.set_xlim(-0.5, len(coverage) - 0.5)


def _cdi_label(label: str, runs: pd.DataFrame, paper: dict[str, float]) -> str:
    """``ENet-B0 (ours: resnet10t): CDI 0.132 (paper 0.621)``."""
    cdi = t_interval(runs["cdi"])
    backbone = backbones(runs)
    text = f"{label} (ours: {backbone})" if backbone else label
    text += f": CDI {format_cell(cdi.mean, cdi.half_width, cdi.n, digits=3)}"
    if label in paper:
        text += f" (paper {paper[label]:.3f})"
    return text


def _plot_coverage_error(ax, args: argparse.Namespace, runs: pd.DataFrame) -> None:
    paper = read_paper_table(__file__, "table3_fairness")
    paper = paper[paper["dataset"] == _paper_dataset(args.modality)]
    paper_cdi = dict(zip(paper["model"], paper["cdi"], strict=True))
    for k, method in enumerate(m for m in FIGURE1_METHODS if m in set(runs["method"])):
        rows = runs[runs["method"] == method]
        scg = pd.concat([read_scg(d) for d in rows["run_dir"]], ignore_index=True)
        valid = scg[scg["valid"]]
        color, label = MODEL_COLORS[k], FIGURE1_METHODS[method]
        ax.scatter(
            valid["coverage"],
            valid["error"],
            s=22,
            alpha=0.55,
            color=color,
            marker=MARKERS[k % 2],
            label=_cdi_label(label, rows, paper_cdi),
        )
        if len(valid) >= 2 and valid["coverage"].nunique() > 1:
            slope, intercept = np.polyfit(valid["coverage"], valid["error"], 1)
            xs = np.linspace(valid["coverage"].min(), valid["coverage"].max(), 50)
            ax.plot(xs, slope * xs + intercept, color=color, linewidth=1.8)
            ax.axhline(valid["error"].mean(), color=color, linestyle=":", linewidth=1.4)
    ax.plot([], [], color="grey", linewidth=1.8, label="least-squares fit")
    ax.plot([], [], color="grey", linestyle=":", linewidth=1.4, label="ideal: error flat (CDI 0)")
    ax.set_xlabel("training coverage $c_g$")
    ax.set_ylabel("test error $e_g = 1 - \\mathrm{TPR}_g$")
    ax.set_ylim(-0.05, 1.05)
    ax.set_title("Coverage-error alignment across SCGs (test)")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)


def plot_figure1(args: argparse.Namespace, runs: pd.DataFrame, out: Path) -> Path:
    """Draw ``figure1.png``: coverage long tail (left), coverage-error scatter (right)."""
    plt = pyplot()
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6))
    _plot_long_tail(left, _fold_coverage(runs))
    _plot_coverage_error(right, args, runs)
    folds = sorted(set(runs["fold"]))
    seeds = sorted(set(runs["seed"]))
    figure.suptitle(
        f"Semantic coverage imbalance: {args.dataset}-{args.modality}, "
        f"folds {', '.join(map(str, folds))}, seeds {', '.join(map(str, seeds))}"
    )
    figure.tight_layout()
    return save_figure(figure, out, "figure1")


def main(argv: Sequence[str] | None = None) -> int:
    parser = app_parser(__doc__.splitlines()[0], "results/figure1", FIGURE1_METHODS)
    parser.add_argument(
        "--modality",
        default="dermoscopic",
        help="dermoscopic (default, as in the paper) or clinical",
    )
    args = parse_app_args(
        parser, argv, real_dataset="milk10k", choices={"methods": FIGURE1_METHODS}
    )
    if args.modality not in MODALITIES:
        parser.error(f"--modality must be one of {', '.join(MODALITIES)}, got {args.modality!r}")

    def train() -> dict[str, str]:
        not_run = run_grids(args, grids(args))
        for run_dir in figure1_runs(args)["run_dir"]:  # before plotting: a run without
            read_scg(run_dir)  # scg.csv is named in one error line
        return not_run

    def finish(not_run: dict[str, str]) -> None:
        runs = figure1_runs(args)
        emit(figure1_table(args, runs, not_run), args.out, "figure1")
        if runs.empty:
            report("figure1: no finished run, no figure")
            return
        plot_figure1(args, runs, args.out)

    return run_app("figure1", train, finish)


if __name__ == "__main__":
    raise SystemExit(main())
