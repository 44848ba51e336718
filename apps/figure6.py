"""Paper Figure 6 (Semantic Encoder depth × descriptor feedback): S@95 and Macro-F1 per depth.

Usage (no arguments: the synthetic benchmark, ``quick`` preset, depths 1, 3 and 6 on both
modalities; experiments ``figure6-depth<d>-feedback_on|off``; see apps/README.md)::

    uv run apps/figure6.py
    uv run apps/figure6.py --depths 1 2 3 4 5 6 --data-root ~/data/milk10k --preset paper \
        --folds 5

paper: feedback refines the descriptors of the *next* layer, so a one-layer encoder has nothing
to feed back to; here depth 1 is trained once (feedback off) and that run stands for both
curves (semcov-train refuses feedback at depth 1).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from semcov_train.experiments import report
from semcov_train.experiments.command_line import (
    app_parser,
    emit,
    parse_app_args,
    read_rows,
    run_app,
    run_variants,
    select_runs,
    variant_grids,
)
from semcov_train.reporting import format_cell, summarize
from semcov_train.reporting.figures import MODEL_COLORS, backbones, pyplot, save_figure

__all__ = ["DEPTHS", "METRICS", "figure6_summary", "figure6_table", "main", "plot_figure6"]

ROWS = read_rows(__file__)
PREFIX = "figure6"
DEPTHS = (1, 2, 3, 4, 5, 6)
DEFAULT_DEPTHS = (1, 3, 6)
MODALITIES = tuple(ROWS["milk10k_modalities"])
#: What Figure 6 plots (§12: "sensitivity and Macro-F1"); sensitivity is S@95 as in Table 1.
METRICS = {"sens_at_95spec": "S@95 (sensitivity at 95 % specificity)", "macro_f1": "Macro-F1"}
FEEDBACK = {"on": True, "off": False}
NOTE = "the paper gives Figure 6 as a plot only (no numbers)"
DEPTH1_NOTE = "one layer has no next layer to feed back to: the feedback-off run"


def variant_name(depth: int, feedback: str) -> str:
    """``depth<d>-feedback_<on|off>``: the experiment is ``figure6-<variant>``."""
    return f"depth{depth}-feedback_{feedback}"


def trained_variant(depth: int, feedback: str) -> str:
    """The variant whose runs stand for (depth, feedback): depth 1 is always feedback off."""
    return variant_name(depth, "off" if depth == 1 else feedback)


def figure6_switches(depths: Sequence[int]) -> dict[str, dict]:
    """The runs to train: variant -> SemCovNet's switches."""
    switches = {}
    for depth in depths:
        for feedback, on in FEEDBACK.items():
            if depth == 1 and on:
                continue
            switches[variant_name(depth, feedback)] = {
                "semcov_depth": depth,
                "semcov_feedback": on,
            }
    return switches


def grids(args: argparse.Namespace) -> list:
    """One SemCovNet grid per (depth, feedback) to train, on the selected modalities."""
    switches = figure6_switches(args.depths)
    return variant_grids(args, PREFIX, switches, args.modalities, ROWS["method_switches"])


def figure6_summary(args: argparse.Namespace) -> pd.DataFrame:
    """Mean and std over runs of the Figure 6 metrics: one row per modality, depth, feedback."""
    trained = grids(args)
    rows = []
    for modality in args.modalities:
        for depth in args.depths:
            for feedback in FEEDBACK:
                experiment = f"{PREFIX}-{trained_variant(depth, feedback)}"
                runs = select_runs(args, experiment, grids=trained)
                runs = runs[runs["modality"] == modality]
                summary = summarize(runs, tuple(METRICS), keys=("modality",))
                row = {
                    "modality": modality,
                    "depth": depth,
                    "feedback": feedback,
                    "n": len(runs),
                    "backbone": backbones(runs),
                }
                for metric in METRICS:
                    found = not summary.empty
                    row[metric] = summary[metric].iloc[0] if found else np.nan
                    for suffix in ("_h", "_n", "_std"):
                        column = f"{metric}{suffix}"
                        row[column] = summary[column].iloc[0] if found else np.nan
                rows.append(row)
    return pd.DataFrame(rows)


def figure6_table(summary: pd.DataFrame, not_run: dict[str, str]) -> pd.DataFrame:
    """The printed table: our mean ± std per modality, depth and feedback, and a note."""
    table = summary[["modality", "depth", "feedback", "n"]].copy()
    for metric in METRICS:
        table[f"{metric} (ours)"] = [
            format_cell(m, h, k) if n else "not run"
            for m, h, k, n in zip(
                summary[metric],
                summary[f"{metric}_h"],
                summary[f"{metric}_n"],
                summary["n"],
                strict=True,
            )
        ]
    notes = []
    for record in summary.to_dict("records"):
        parts = [f"ours: {record['backbone']}", NOTE] if record["n"] else [NOTE]
        if record["depth"] == 1 and record["feedback"] == "on":
            parts.append(DEPTH1_NOTE)
        if not record["n"]:
            variant = trained_variant(record["depth"], record["feedback"])
            parts.append(f"not run: {not_run.get(variant, 'no finished run')}")
        notes.append("; ".join(parts))
    table["note"] = notes
    return table


def plot_figure6(args: argparse.Namespace, summary: pd.DataFrame, out: Path) -> Path | None:
    """Draw ``figure6.png``: one subplot per modality, x = depth, colour = metric, solid line =
    feedback on, dashed = off (drawn slightly apart on x), bars = ±1 std over runs; None when
    nothing finished."""
    if not summary["n"].any():
        return None
    plt = pyplot()
    figure, axes = plt.subplots(
        1, len(args.modalities), figsize=(5.6 * len(args.modalities), 4.3), squeeze=False
    )
    for ax, modality in zip(axes[0], args.modalities, strict=True):
        part = summary[summary["modality"] == modality]
        for k, (metric, label) in enumerate(METRICS.items()):
            for feedback, style, shift in (("on", "-", -0.04), ("off", "--", 0.04)):
                line = part[(part["feedback"] == feedback) & (part["n"] > 0)]
                ax.errorbar(
                    line["depth"] + shift,  # apart, so equal values stay visible
                    line[metric],
                    yerr=line[f"{metric}_std"].fillna(0.0),
                    color=MODEL_COLORS[k],
                    linestyle=style,
                    marker="o" if feedback == "on" else "s",
                    markerfacecolor="white" if feedback == "off" else MODEL_COLORS[k],
                    capsize=3,
                    label=f"{label.split(' (')[0]}, feedback {feedback}",
                )
        ax.set_xticks(list(args.depths))
        ax.set_xlabel("Semantic Encoder depth (layers)")
        ax.set_ylabel("test score")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(f"{args.dataset}-{modality}")
        ax.grid(alpha=0.3)
    wide = len(args.modalities) > 1
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(
        handles, labels, loc="lower center", ncol=4 if wide else 2, fontsize=9, frameon=False
    )
    runs_note = f"{args.folds} fold(s), seed(s) {', '.join(map(str, args.seeds))}"
    backbone = ", ".join(sorted({b for b in summary["backbone"] if b}))
    figure.suptitle(
        f"SemCovNet ({backbone}): encoder depth, feedback on (solid) vs off (dashed)\n"
        f"S@95 = sensitivity at 95 % specificity; {runs_note}",
        fontsize=10,
    )
    figure.tight_layout(rect=(0, 0.07 if wide else 0.12, 1, 1))
    return save_figure(figure, out, "figure6")


def main(argv: Sequence[str] | None = None) -> int:
    parser = app_parser(__doc__.splitlines()[0], "results/figure6")
    parser.add_argument(
        "--depths",
        type=int,
        nargs="+",
        default=list(DEFAULT_DEPTHS),
        help="encoder depths in 1..6 (default 1 3 6; the full figure: 1 2 3 4 5 6)",
    )
    parser.add_argument(
        "--modalities",
        nargs="+",
        default=list(MODALITIES),
        help=f"subset of {', '.join(MODALITIES)} (default both)",
    )
    args = parse_app_args(parser, argv, real_dataset="milk10k", choices={"modalities": MODALITIES})
    unknown = [d for d in args.depths if d not in DEPTHS]
    if unknown:
        parser.error(f"--depths: {unknown} are not among {', '.join(map(str, DEPTHS))}")
    args.depths = sorted(set(args.depths))
    args.modalities = [m for m in MODALITIES if m in args.modalities]
    args.methods = ["semcovnet"]

    def finish(not_run: dict[str, str]) -> None:
        summary = figure6_summary(args)
        emit(figure6_table(summary, not_run), args.out, "figure6")
        if plot_figure6(args, summary, args.out) is None:
            report("figure6: no finished run, no figure")

    return run_app(
        "figure6",
        lambda: run_variants(args, PREFIX, grids(args)),
        finish,
    )


if __name__ == "__main__":
    raise SystemExit(main())
