"""Semantic-scale-balanced loss (Ma et al., ICLR 2023) against cross-entropy on our benchmark.

Usage (no arguments: the synthetic benchmark, ``quick`` preset; experiment ``semantic_scale``;
see apps/README.md for the two claims checked)::

    uv run apps/reproduce_semantic_scale.py
    uv run apps/reproduce_semantic_scale.py --data-root ~/data/milk10k --preset paper --folds 5
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from semcov_train.experiments.command_line import (
    app_grid,
    app_parser,
    emit,
    parse_app_args,
    read_paper_table,
    run_app,
    run_grids,
    select_runs,
)
from semcov_train.reporting import format_cell, format_table, summarize, t_interval, write_tables

__all__ = [
    "CLAIM_METRICS",
    "EXPERIMENT",
    "METHODS",
    "class_table",
    "comparison_table",
    "main",
    "run_classes",
]

EXPERIMENT = "semantic_scale"
#: The two registry methods compared, the baseline first: EfficientNet-B0 with cross-entropy,
#: and the same network with the semantic-scale-balanced cross-entropy.
METHODS = ("erm", "semantic_scale")
#: Metrics the "performance" claim is checked on, with the better direction.
CLAIM_METRICS = {"auc": "higher", "balanced_accuracy": "higher", "macro_f1": "higher"}
#: Coverage-fairness metrics of the SemCovNet paper, shown beside but not claimed by Ma et al.
OTHER_METRICS = {"cdi": "lower", "tpr_worst": "higher", "tpr_std": "lower"}
#: ``--dataset`` → its modalities (the first is used when the dataset has one).
MODALITIES = {
    "synthetic": ("dermoscopic", "clinical"),
    "milk10k": ("dermoscopic", "clinical"),
    "isic_dicm17k": ("dermoscopic",),
}
NOT_CLAIMED = "not measured by the paper"


def grids(args: argparse.Namespace) -> list:
    """``erm`` and ``semantic_scale`` on the selected modalities."""
    return [app_grid(args, EXPERIMENT, args.modalities)]


def _selected(args: argparse.Namespace) -> pd.DataFrame:
    return select_runs(args, EXPERIMENT, grids=grids(args))


def _agrees(delta: float, direction: str) -> str:
    """``yes`` when the difference points the claimed way, ``no`` when not, ``n/a`` if undefined."""
    if delta is None or math.isnan(delta):
        return "n/a"
    if delta == 0:
        return "no (equal)"
    return "yes" if (delta > 0) == (direction == "higher") else "no"


def comparison_table(args: argparse.Namespace) -> pd.DataFrame:
    """One row per (modality, metric): each method's mean ± std over folds and seeds, the
    difference semantic_scale − erm, the paper's claim and whether our difference agrees."""
    metrics = {**CLAIM_METRICS, **OTHER_METRICS}
    summary = summarize(_selected(args), list(metrics), keys=("method", "modality"))
    cells = {(r["method"], r["modality"]): r for r in summary.to_dict("records")}
    rows = []
    for modality in args.modalities:
        for metric, direction in metrics.items():
            row = {"modality": modality, "metric": metric}
            means = {}
            for method in METHODS:
                found = cells.get((method, modality))
                row[f"n {method}"] = int(found["n"]) if found is not None else 0
                if found is None:
                    selected = method in args.methods
                    row[f"{method} (ours)"] = "not run" if selected else "not selected (--methods)"
                    means[method] = math.nan
                else:
                    means[method] = float(found[metric])
                    row[f"{method} (ours)"] = format_cell(
                        found[metric], found[f"{metric}_h"], found[f"{metric}_n"]
                    )
            delta = means["semantic_scale"] - means["erm"]
            row["semantic_scale - erm (ours)"] = "n/a" if math.isnan(delta) else f"{delta:+.4f}"
            claimed = metric in CLAIM_METRICS
            row["paper"] = f"claims better ({direction}); no number" if claimed else NOT_CLAIMED
            row["agrees"] = _agrees(delta, direction) if claimed else ""
            rows.append(row)
    return pd.DataFrame(rows)


def run_classes(run_dir: str | Path) -> pd.DataFrame:
    """Per class of one run's test predictions: samples, recall and the semantic scale of the
    (L2-normalised) embeddings, the measure of Ma et al. computed on held-out features."""
    from semcov_metrics import semantic_scale

    predictions = pd.read_parquet(Path(run_dir) / "predictions.parquet")
    classes = [c.removeprefix("prob_") for c in predictions.columns if c.startswith("prob_")]
    embeddings = np.stack(predictions["embedding"].to_numpy()).astype(np.float64)
    labels = predictions["y_true"].to_numpy()
    rows = []
    for code, name in enumerate(classes):
        mine = labels == code
        n = int(mine.sum())
        recall = float((predictions["y_pred"].to_numpy()[mine] == code).mean()) if n else math.nan
        scale = float(semantic_scale(embeddings[mine], normalize=True)) if n >= 2 else math.nan
        rows.append({"class": name, "n_test": n, "recall": recall, "semantic_scale": scale})
    return pd.DataFrame(rows)


def _bias_verdict(classes: pd.DataFrame) -> bool | None:
    """Whether the smaller-scale class is the strictly lower-recall one; None when a class has
    no recall or scale, or when the recalls are equal."""
    if classes[["recall", "semantic_scale"]].isna().any().any() or classes["recall"].nunique() < 2:
        return None
    return bool(classes["semantic_scale"].idxmin() == classes["recall"].idxmin())


def class_table(args: argparse.Namespace) -> pd.DataFrame:
    """Per (method, modality, class): mean recall and semantic scale over the selected runs, and
    in how many runs the smaller-scale class is the lower-recall one (the "bias" claim)."""
    verdict_column = "smaller scale has lower recall"
    columns = ["method", "modality", "class", "runs", "n_test", "recall", "semantic_scale"]
    parts = []
    for record in _selected(args).to_dict("records"):
        classes = run_classes(record["run_dir"])
        classes["verdict"] = _bias_verdict(classes)
        parts.append(classes.assign(method=record["method"], modality=record["modality"]))
    if not parts:
        return pd.DataFrame(columns=[*columns, verdict_column])
    frame = pd.concat(parts, ignore_index=True)
    rows = []
    for (method, modality, name), group in frame.groupby(
        ["method", "modality", "class"], sort=False
    ):
        decided = group["verdict"].dropna()
        rows.append(
            {
                "method": method,
                "modality": modality,
                "class": name,
                "runs": len(group),
                "n_test": format_cell(group["n_test"].mean(), digits=1),
                "recall": _interval_cell(group["recall"]),
                "semantic_scale": _interval_cell(group["semantic_scale"]),
                verdict_column: (
                    f"{int(decided.astype(bool).sum())} of {len(decided)} runs"
                    if len(decided)
                    else "n/a (equal recall or too few samples)"
                ),
            }
        )
    return pd.DataFrame(rows, columns=[*columns, verdict_column])


def _interval_cell(values: pd.Series) -> str:
    interval = t_interval(values)
    return format_cell(interval.mean, interval.half_width, interval.n)


def finish(args: argparse.Namespace, not_run: dict[str, str]) -> None:
    """Print and write both tables and the paper's claims (a separate block: no numbers)."""
    claims = read_paper_table(__file__, "semantic_scale_claims").set_index("claim")
    for method, reason in not_run.items():
        print(f"{method}: not run: {reason}", file=sys.stderr)
    print("Ours: semantic_scale vs erm (test split; mean ± 95 % t-interval over folds and seeds)\n")
    emit(comparison_table(args), args.out, "semantic_scale")
    print("\nOurs: per-class recall and semantic scale of the test embeddings\n")
    emit(class_table(args), args.out, "semantic_scale_classes")
    print("\nPaper (Ma et al., ICLR 2023): claims of the abstract, no numbers in our copy\n")
    block = claims.reset_index()[["claim", "statement", "paper_evidence"]]
    print(format_table(block, "markdown"))
    write_tables(block, args.out, "semantic_scale_paper")


def main(argv: Sequence[str] | None = None) -> int:
    parser = app_parser(__doc__.splitlines()[0], "results/reproduce_semantic_scale", METHODS)
    parser.add_argument(
        "--modalities", nargs="+", default=None, help="default: every modality of the dataset"
    )
    parser.add_argument(
        "--descriptors-csv",
        type=Path,
        default=None,
        help="isic_dicm17k: CSV of isic_id and descriptor scores",
    )
    args = parse_app_args(
        parser,
        argv,
        real_dataset="milk10k",
        datasets=tuple(MODALITIES),
        choices={"methods": METHODS},
    )
    allowed = MODALITIES[args.dataset]
    args.modalities = args.modalities or list(allowed)
    unknown = [m for m in args.modalities if m not in allowed]
    if unknown:
        parser.error(f"--modalities: {unknown} are not among {', '.join(allowed)}")
    if args.dataset == "isic_dicm17k" and args.descriptors_csv is None:
        parser.error("--descriptors-csv is required for --dataset isic_dicm17k")
    return run_app(
        "reproduce_semantic_scale",
        lambda: run_grids(args, grids(args)),
        lambda not_run: finish(args, not_run),
    )


if __name__ == "__main__":
    raise SystemExit(main())
