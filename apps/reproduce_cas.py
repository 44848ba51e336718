"""Compositional Attribute Imbalance, Table 2: low / middle / high CAS accuracy with and without
CAS weighting for CutMix, FMix and SaliencyMix, our runs beside the paper's.

Usage (no arguments: the synthetic benchmark, ``quick`` preset; see apps/README.md)::

    uv run apps/reproduce_cas.py
    uv run apps/reproduce_cas.py --methods cutmix cas_cutmix --paper-dataset DTD
    uv run apps/reproduce_cas.py --data-root ~/data/milk10k --preset paper --folds 5
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from semcov_train.experiments.command_line import (
    app_grid,
    app_parser,
    app_settings,
    emit,
    parse_app_args,
    read_paper_table,
    run_app,
    run_grids,
    select_runs,
)
from semcov_train.reporting import format_cell, side_by_side, summarize

__all__ = [
    "CAS_METHODS",
    "EXPERIMENT",
    "METRICS",
    "MIXINGS",
    "PAPER_TABLE",
    "auc_table",
    "cas_table",
    "main",
    "row_labels",
    "run_accuracies",
    "run_aucs",
    "weight_spread",
]

EXPERIMENT = "cas"
MODALITY = "dermoscopic"
PAPER_TABLE = "cas_table2_accuracy"
#: Registry name -> the paper's row label, in the paper's order.
CAS_METHODS = {
    "cutmix": "CutMix",
    "cas_cutmix": "CutMix+weight",
    "fmix": "FMix",
    "cas_fmix": "FMix+weight",
    "saliencymix": "SaliencyMix",
    "cas_saliencymix": "SaliencyMix+weight",
}
#: Uniformly drawn method -> its CAS-weighted twin; their difference is the paper's Δ row.
MIXINGS = {"cutmix": "cas_cutmix", "fmix": "cas_fmix", "saliencymix": "cas_saliencymix"}
SUBSETS = ("low", "middle", "high")
METRICS = (*SUBSETS, "all")
DEFAULT_PAPER_DATASET = "CIFAR-100"
DEFAULT_PAPER_BACKBONE = "ResNet18"


def grids(args: argparse.Namespace) -> list:
    """The selected mixings, plain and CAS-weighted, on dermoscopic images."""
    return [app_grid(args, EXPERIMENT, (MODALITY,))]


def _delta_label(plain: str) -> str:
    return f"Δ {CAS_METHODS[plain]}"


def run_accuracies(run_dir: str | Path) -> dict[str, float]:
    """Percent accuracy of one finished run on the low / middle / high CAS subsets and on the
    whole test set, read from its ``results.json`` (``cas_subsets``).

    ``all`` is the subsets' accuracies weighted by their sizes (the subsets partition the test
    set); an empty subset has no accuracy (``nan``) and adds nothing to ``all``.
    """
    results = json.loads((Path(run_dir) / "results.json").read_text())
    subsets = results.get("cas_subsets") or {}
    row, correct, total = {}, 0.0, 0
    for name in SUBSETS:
        entry = subsets.get(name) or {}
        n, accuracy = int(entry.get("n") or 0), entry.get("accuracy")
        row[name] = 100.0 * accuracy if n > 0 and accuracy is not None else math.nan
        if n > 0 and accuracy is not None:
            correct += accuracy * n
            total += n
    row["all"] = 100.0 * correct / total if total else math.nan
    return row


def run_aucs(run_dir: str | Path) -> dict[str, float]:
    """AUC of one finished run on the low / middle / high CAS subsets and on the whole test set
    (``results.json``: ``cas_subsets``, ``auc``); ``nan`` where undefined (one class only)."""
    results = json.loads((Path(run_dir) / "results.json").read_text())
    subsets = results.get("cas_subsets") or {}
    row = {name: (subsets.get(name) or {}).get("auc") for name in SUBSETS}
    row["all"] = results.get("auc")
    return {name: math.nan if value is None else float(value) for name, value in row.items()}


def _with_deltas(runs: pd.DataFrame) -> pd.DataFrame:
    """`runs` (one row per run: method label, fold, seed, backbone, METRICS) plus one
    ``Δ <mixing>`` row per fold and seed that has both the plain and the CAS-weighted run."""
    parts = [runs]
    for plain, weighted in MIXINGS.items():
        keys = ["fold", "seed"]
        pairs = runs[runs["method"] == CAS_METHODS[plain]].merge(
            runs[runs["method"] == CAS_METHODS[weighted]], on=keys, suffixes=("_u", "_w")
        )
        if pairs.empty:
            continue
        delta = pairs[keys].copy()
        delta["method"] = _delta_label(plain)
        delta["backbone"] = [
            ", ".join(sorted({u, w}))
            for u, w in zip(pairs["backbone_u"], pairs["backbone_w"], strict=True)
        ]
        for metric in METRICS:
            delta[metric] = pairs[f"{metric}_w"] - pairs[f"{metric}_u"]
        parts.append(delta)
    return pd.concat(parts, ignore_index=True)


def _not_run_reasons(args: argparse.Namespace, not_run: dict[str, str]) -> dict[str, str]:
    """Paper row label -> why our cell may be empty."""
    reasons = {label: "not selected (--methods)" for label in CAS_METHODS.values()}
    reasons.update({CAS_METHODS[m]: "no finished run" for m in args.methods})
    reasons.update({CAS_METHODS[m]: reason for m, reason in not_run.items()})
    for plain, weighted in MIXINGS.items():
        reasons[_delta_label(plain)] = (
            f"needs finished {plain} and {weighted} runs of the same fold and seed"
            if {plain, weighted} <= set(args.methods)
            else f"not selected (--methods {plain} {weighted})"
        )
    return reasons


def _summary(args: argparse.Namespace, read: Callable[[str], dict]) -> pd.DataFrame:
    """Mean ± std of ``read(run_dir)`` (METRICS) per paper row label, Δ rows included, over
    the selected finished runs; ``backbone`` names the backbones behind each row."""
    records = []
    runs = select_runs(args, EXPERIMENT, grids=grids(args))
    for record in runs.to_dict("records"):
        row = {"method": CAS_METHODS[record["method"]], "fold": record["fold"]}
        row.update({"seed": record["seed"], "backbone": str(record["backbone"])})
        row.update(read(record["run_dir"]))
        records.append(row)
    runs = pd.DataFrame(records, columns=["method", "fold", "seed", "backbone", *METRICS])
    return summarize(_with_deltas(runs), METRICS, keys=("method",))


def row_labels() -> list[str]:
    """Our rows in the paper's order: plain, "+weight" and Δ per mixing."""
    return [
        label
        for plain, weighted in MIXINGS.items()
        for label in (CAS_METHODS[plain], CAS_METHODS[weighted], _delta_label(plain))
    ]


def auc_table(args: argparse.Namespace) -> pd.DataFrame:
    """Our AUC on the CAS subsets and overall (the paper reports no AUC): a threshold-free
    view, since accuracy on a 1:4 imbalanced task can sit at the majority rate."""
    summary = _summary(args, run_aucs).set_index("method")
    rows = []
    for label in row_labels():
        row = {"method": label, "n": int(summary.loc[label, "n"]) if label in summary.index else 0}
        for metric in METRICS:
            row[f"{metric} auc (ours)"] = (
                format_cell(*(summary.loc[label, f"{metric}{s}"] for s in ("", "_h", "_n")))
                if label in summary.index
                else "not run"
            )
        rows.append(row)
    return pd.DataFrame(rows)


def cas_table(args: argparse.Namespace, not_run: dict[str, str]) -> pd.DataFrame:
    """The side-by-side table: the paper's rows of ``--paper-dataset`` / ``--paper-backbone``
    (plain, "+weight" and Δ per mixing), our percent accuracies beside them."""
    summary = _summary(args, run_accuracies)
    backbones = dict(zip(summary["method"], summary.get("backbone", []), strict=False))
    paper = read_paper_table(__file__, PAPER_TABLE)
    paper = paper[
        (paper["dataset"] == args.paper_dataset) & (paper["backbone"] == args.paper_backbone)
    ].reset_index(drop=True)
    table = side_by_side(
        summary,
        paper[["method", *METRICS]],
        paper_keys=["method"],
        summary_keys=["method"],
        metrics=METRICS,
        not_run=_not_run_reasons(args, not_run),
        digits=2,
    )
    paper_side = f"paper: {args.paper_dataset}, {args.paper_backbone}"
    weighted = {CAS_METHODS[m] for m in MIXINGS.values()}
    spread = None
    notes = []
    for label, n, note in zip(table["method"], table["n"], table["note"], strict=True):
        ours = f"{args.dataset} {MODALITY}, {backbones.get(label)}"
        if n and label in weighted:
            spread = spread or weight_spread(args)
            ours += f"; {spread}"
        notes.append(f"{paper_side}; ours: {ours}" if n else note)
    table["note"] = notes
    return table


def weight_spread(args: argparse.Namespace) -> str:
    """How far the CAS sampling weights of our "+weight" runs reach: max / min weight over the
    training split of the first fold and seed, with the trainer's CAS settings, and the
    attributes CAS composes there (descriptors, then metadata such as site and age bin)."""
    from semcov_data.cas import cas_attributes, cas_weights
    from semcov_train.inputs.folds import fold_parts
    from semcov_train.inputs.sources import load_table

    method = next(m for m in MIXINGS.values() if m in args.methods)
    run = next(r for g in grids(args) for r in g.runs() if r.method == method)
    config = run.config(args.preset, app_settings(args))
    table = load_table(config)
    parts = fold_parts(table.labels, table.groups, config.fold, config.split_seed)
    train = table.subset(parts == "train")
    weights = cas_weights(
        train,
        "scores",
        power=config.cas_power,
        threshold=config.cas_threshold,
        balance_classes=config.cas_balance_classes,
    )
    attributes = list(cas_attributes(train, "scores", threshold=config.cas_threshold).columns)
    metadata = attributes[len(table.descriptor_names) :]
    composed = f"{len(table.descriptor_names)} descriptors + {', '.join(metadata) or 'no metadata'}"
    return (
        f"CAS weights span {weights.max() / weights.min():.2f}x (max/min, fold-0 training "
        f"split; {composed})"
    )


def _finish(args: argparse.Namespace, not_run: dict[str, str]) -> None:
    emit(cas_table(args, not_run), args.out, "cas_table2")
    emit(auc_table(args), args.out, "cas_subsets_auc")


def main(argv: Sequence[str] | None = None) -> int:
    paper = read_paper_table(__file__, PAPER_TABLE)
    parser = app_parser(__doc__.splitlines()[0], "results/reproduce_cas", CAS_METHODS)
    parser.add_argument(
        "--paper-dataset",
        default=DEFAULT_PAPER_DATASET,
        choices=list(dict.fromkeys(paper["dataset"])),
        help=f"the paper's sub-table beside ours (default {DEFAULT_PAPER_DATASET})",
    )
    parser.add_argument(
        "--paper-backbone",
        default=DEFAULT_PAPER_BACKBONE,
        choices=list(dict.fromkeys(paper["backbone"])),
        help=f"the paper's backbone beside ours (default {DEFAULT_PAPER_BACKBONE})",
    )
    args = parse_app_args(parser, argv, real_dataset="milk10k", choices={"methods": CAS_METHODS})
    return run_app(
        "reproduce_cas",
        lambda: run_grids(args, grids(args)),
        lambda not_run: _finish(args, not_run),
    )


if __name__ == "__main__":
    raise SystemExit(main())
