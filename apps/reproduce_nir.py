"""Neuron Incidence Redistribution (NIR): TPR / FPR disparity by sex and by age with and without
NIR, our runs beside the numbers of the paper's abstract.

Usage (no arguments: the synthetic benchmark, ``quick`` preset; experiments ``nir-<subgroup>``;
see apps/README.md for the disparity definitions and the ``--threshold`` choice)::

    uv run apps/reproduce_nir.py
    uv run apps/reproduce_nir.py --subgroups sex --folds 3
    uv run apps/reproduce_nir.py --data-root ~/data/milk10k --preset paper --folds 5
"""

from __future__ import annotations

import argparse
import json
import math
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from semcov_data.scg import UNKNOWN
from semcov_train.experiments.command_line import (
    add_rows_option,
    app_parser,
    emit,
    parse_app_args,
    read_paper_table,
    run_app,
    run_variants,
    select_runs,
    variant_grids,
)
from semcov_train.reporting import side_by_side, summarize, write_tables

__all__ = [
    "METRICS",
    "NIR_METHODS",
    "PAPER_TABLE",
    "PREFIX",
    "SUBGROUPS",
    "group_rates_table",
    "main",
    "nir_table",
    "run_disparities",
    "youden_threshold",
]

PREFIX = "nir"
MODALITY = "dermoscopic"
PAPER_TABLE = "nir_abstract_disparity"
SUBGROUPS = ("sex", "age")
#: Registry name -> the paper's row label.
NIR_METHODS = {"erm": "baseline", "nir": "NIR"}
METRICS = ("tpr_disparity", "fpr_disparity")


def grids(args: argparse.Namespace) -> list:
    """``erm`` and ``nir``, one grid per selected subgroup attribute."""
    switches = {subgroup: {"subgroup": subgroup} for subgroup in args.subgroups}
    return variant_grids(args, PREFIX, switches, (MODALITY,))


def _positive_column(run_dir: Path) -> str:
    """The predictions column holding the positive class's probability (``prob_<class 1>``)."""
    config = json.loads((run_dir / "config.json").read_text())
    classes = config.get("resolved", {}).get("classes", [])
    if len(classes) != 2:
        raise ValueError(
            f"{str(run_dir)!r}: TPR / FPR disparity needs a binary target, the run has classes "
            f"{classes}"
        )
    return f"prob_{classes[1]}"


def youden_threshold(y_true: pd.Series, score: pd.Series) -> float:
    """The score threshold (predict positive when ``score >= threshold``) with the largest
    TPR − FPR; the highest such threshold on ties; 0.5 when one class is missing."""
    from sklearn.metrics import roc_curve

    if y_true.nunique() < 2:
        return 0.5
    fpr, tpr, thresholds = roc_curve(y_true, score)
    return float(min(thresholds[int((tpr - fpr).argmax())], 1.0))


def _predictions(run_dir: str | Path, threshold: str | float) -> tuple[pd.DataFrame, float]:
    """A run's test predictions at `threshold` (``y_pred`` replaced) without the samples
    whose attribute is unknown, and the threshold used (nan for ``argmax``)."""
    run_dir = Path(run_dir)
    frame = pd.read_parquet(run_dir / "predictions.parquet")
    if threshold == "argmax":
        value = math.nan
    else:
        score = frame[_positive_column(run_dir)]
        value = youden_threshold(frame["y_true"], score) if threshold == "youden" else threshold
        frame["y_pred"] = (score >= value).astype(int)
    known = frame.loc[frame["subgroup"] != UNKNOWN, ["y_true", "y_pred", "subgroup"]]
    return known, value


def run_disparities(run_dir: str | Path, threshold: str | float = "youden") -> dict[str, float]:
    """TPR and FPR disparity (percent, max − min across groups) of one finished run at
    `threshold` (``youden``, ``argmax`` or a probability), from its ``predictions.parquet``;
    ``nan`` where fewer than two groups have the rate defined."""
    from semcov_metrics import UndefinedMetricWarning, fpr_disparity, tpr_disparity

    frame, _ = _predictions(run_dir, threshold)
    values = (frame["y_true"], frame["y_pred"], frame["subgroup"])
    with warnings.catch_warnings():
        # an undefined disparity is shown as n/a in the table
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        return {
            "tpr_disparity": 100.0 * tpr_disparity(*values),
            "fpr_disparity": 100.0 * fpr_disparity(*values),
        }


def _runs(args: argparse.Namespace, subgroups: Sequence[str]) -> pd.DataFrame:
    """One row per finished run: subgroup, model label, fold, seed, backbone, run_dir."""
    parts = []
    for subgroup in subgroups:
        runs = select_runs(args, f"{PREFIX}-{subgroup}", grids=grids(args))
        parts.append(
            pd.DataFrame(
                {
                    "subgroup": subgroup,
                    "model": runs["method"].map(NIR_METHODS),
                    "fold": runs["fold"],
                    "seed": runs["seed"],
                    "backbone": runs["backbone"],
                    "run_dir": runs["run_dir"],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def group_rates_table(args: argparse.Namespace, subgroups: Sequence[str]) -> pd.DataFrame:
    """TPR and FPR (percent) of every group in every finished run at ``args.threshold``, for
    reading the disparities: subgroup, model, fold, seed, threshold (nan: arg-max), group, n,
    positives, negatives, tpr, fpr."""
    from semcov_metrics import group_rates

    parts = []
    for record in _runs(args, subgroups).to_dict("records"):
        frame, threshold = _predictions(record["run_dir"], args.threshold)
        rates = group_rates(frame["y_true"], frame["y_pred"], frame["subgroup"]).reset_index()
        rates[["tpr", "fpr"]] = (100.0 * rates[["tpr", "fpr"]]).round(2)
        identity = {key: record[key] for key in ("subgroup", "model", "fold", "seed")}
        identity["threshold"] = round(threshold, 4)
        for position, (key, value) in enumerate(identity.items()):
            rates.insert(position, key, value)
        parts.append(rates)
    columns = ["subgroup", "model", "fold", "seed", "threshold", "group", "n", "positives"]
    columns += ["negatives"]
    columns += ["tpr", "fpr"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def nir_table(args: argparse.Namespace, not_run: dict[str, str]) -> pd.DataFrame:
    """The side-by-side table: one row per row of the abstract's numbers (dataset, subgroup,
    model), our mean ± std disparity of that subgroup and model beside it."""
    runs = _runs(args, args.subgroups)
    metrics = [run_disparities(run_dir, args.threshold) for run_dir in runs["run_dir"]]
    runs = pd.concat([runs, pd.DataFrame(metrics, columns=list(METRICS))], axis=1)
    summary = summarize(runs, METRICS, keys=("subgroup", "model"))
    paper = read_paper_table(__file__, PAPER_TABLE)
    ours = pd.concat(
        [summary.assign(dataset=dataset) for dataset in dict.fromkeys(paper["dataset"])],
        ignore_index=True,
    )
    reasons = {s: "not an attribute of our datasets" for s in paper["subgroup"]}
    reasons.update({s: "not selected (--subgroups)" for s in SUBGROUPS})
    reasons.update({s: not_run.get(s, "no finished run") for s in args.subgroups})
    keys = ["subgroup", "model", "dataset"]
    table = side_by_side(
        ours, paper, paper_keys=keys, summary_keys=keys, metrics=METRICS, not_run=reasons, digits=2
    )
    selected = {NIR_METHODS[m] for m in args.methods}
    backbones = {(r["subgroup"], r["model"]): r["backbone"] for r in summary.to_dict("records")}
    notes = []
    for record in table.to_dict("records"):
        if record["n"]:
            backbone = backbones[(record["subgroup"], record["model"])]
            ours = f"{args.dataset} {MODALITY}, {backbone}, threshold {args.threshold}"
            notes.append(f"paper: {record['dataset']}; ours: {ours}")
        elif record["subgroup"] in args.subgroups and record["model"] not in selected:
            notes.append("not run: not selected (--methods)")
        else:
            notes.append(record["note"])
    table["note"] = notes
    return table[["dataset", "subgroup", "model", *table.columns[3:]]]


def _threshold(text: str) -> str | float:
    """``--threshold``: ``youden``, ``argmax`` or a probability strictly between 0 and 1."""
    if text in ("youden", "argmax"):
        return text
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected youden, argmax or a number in (0, 1), got {text!r}"
        ) from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"a threshold must lie in (0, 1), got {value}")
    return value


def _finish(args: argparse.Namespace, not_run: dict[str, str]) -> None:
    emit(nir_table(args, not_run), args.out, "nir_disparity")
    write_tables(group_rates_table(args, args.subgroups), args.out, "nir_group_rates")


def main(argv: Sequence[str] | None = None) -> int:
    parser = app_parser(__doc__.splitlines()[0], "results/reproduce_nir", NIR_METHODS)
    add_rows_option(parser, "--subgroups", SUBGROUPS)
    parser.add_argument(
        "--threshold",
        type=_threshold,
        default="youden",
        help="decision threshold on the melanoma probability: youden (default), argmax or a "
        "number in (0, 1)",
    )
    args = parse_app_args(
        parser,
        argv,
        real_dataset="milk10k",
        choices={"methods": NIR_METHODS, "subgroups": SUBGROUPS},
    )
    return run_app(
        "reproduce_nir",
        lambda: run_variants(args, PREFIX, grids(args)),
        lambda not_run: _finish(args, not_run),
    )


if __name__ == "__main__":
    raise SystemExit(main())
