"""What an app sets beside the paper's rows so that its table is evidence: the controls, the
oracle ceiling of the synthetic benchmark, and paired differences with their intervals.

- **Controls** (``paper_tables/rows.json``, ``controls``): "ENet-B0 + descriptors (late
  fusion)" sees the descriptor scores p that only SemCovNet sees among the paper's models, and
  "SemCovNet (shuffled descriptors)" keeps the modules but permutes p within (class, subgroup)
  cells. A gain of SemCovNet over ENet-B0 that the late-fusion row matches comes from access to
  p; one that the shuffled row keeps does not come from the per-sample descriptors.
- **Oracle** (synthetic data): :func:`semcov_train.methods.oracle.oracle_ceiling` on each fold's
split.
- **Paired differences** (:func:`semcov_train.reporting.paired_differences`): ``d ± h`` over
  the (fold, seed) pairs two methods share, as table rows and as sentences for the notes.

Paper: none of these rows; here: beside every comparison of SemCovNet with the baselines.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from semcov_train import make_config
from semcov_train.methods.oracle import oracle_ceiling
from semcov_train.reporting import (
    NOT_IN_PAPER,
    difference_row,
    difference_sentence,
    format_cell,
    paired_differences,
    t_interval,
)

from .command_line import app_settings

__all__ = ["delta_rows", "delta_sentences", "oracle_rows", "paper_differences"]


def oracle_rows(
    args: argparse.Namespace,
    modalities: Sequence[str],
    metrics: Sequence[str],
    label: str,
    *,
    key: str = "modality",
    values: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The row(s) "Oracle (scene parameters)" of a synthetic-data table: per modality, the
    oracle's test AUC on each fold's split (``mean ± h`` over folds; the scene, so the ceiling,
    is the same for every seed and modality), other metrics :data:`NOT_IN_PAPER`.

    `key`/`values`: the table's second key column and its value per modality (Table 3 names
    datasets, ``milk10k-dermoscopic``); default the modality itself.
    """
    settings = {**app_settings(args), "method": "erm"}
    rows = []
    for position, modality in enumerate(modalities):
        aucs = [
            oracle_ceiling(make_config(args.preset, **settings, modality=modality, fold=fold))
            for fold in range(args.folds)
        ]
        interval = t_interval(aucs)
        row: dict[str, Any] = {"model": label, key: (values or modalities)[position]}
        row["n"] = interval.n
        for metric in metrics:
            ours = format_cell(interval.mean, interval.half_width, interval.n)
            row[f"{metric} (ours)"] = ours if metric == "auc" else NOT_IN_PAPER
            row[f"{metric} (paper)"] = NOT_IN_PAPER
        row["note"] = (
            "ceiling: gradient boosting on the true scene parameters (rendered cue, "
            "descriptors, site, tone) of the same split; n = folds"
        )
        rows.append(row)
    return pd.DataFrame(rows)


def paper_differences(
    paper: pd.DataFrame, treatment: str, control: str, metrics: Sequence[str], key: str
) -> dict[Any, dict[str, float]]:
    """The paper's ``treatment − control`` per value of `key`: ``{value: {metric: d}}`` from a
    :func:`~semcov_train.reporting.paper_table` frame (rows labelled by ``model``)."""
    found: dict[Any, dict[str, float]] = {}
    indexed = paper.set_index(["model", key])
    for value in paper[key].unique():
        if (treatment, value) in indexed.index and (control, value) in indexed.index:
            found[value] = {
                m: float(indexed.loc[(treatment, value), m])
                - float(indexed.loc[(control, value), m])
                for m in metrics
            }
    return found


def delta_rows(
    runs: pd.DataFrame,
    treatment: str,
    control: str,
    metrics: Sequence[str],
    *,
    label: str,
    key: str,
    run_key: str,
    paper: Mapping[Any, Mapping[str, float]] | None = None,
) -> pd.DataFrame:
    """Rows ``label`` (``"Δ SemCovNet − ENet-B0"``) of paired differences, one per value of
    `run_key` in `runs` (shown under the table's column `key`), with the
    paper's difference (`paper`, from :func:`paper_differences`) beside ours."""
    rows: list[dict[str, Any]] = []
    if runs.empty or not {treatment, control} <= set(runs["method"]):
        return pd.DataFrame(rows)  # a method without runs: nothing to pair
    for record in paired_differences(runs, treatment, control, metrics, keys=[run_key]).to_dict(
        "records"
    ):
        value = record[run_key]
        rows.append(
            difference_row(
                record, metrics, {"model": label, key: value}, paper=(paper or {}).get(value)
            )
        )
    return pd.DataFrame(rows)


def delta_sentences(
    runs: pd.DataFrame,
    comparisons: Sequence[tuple[str, str]],
    labels: Mapping[str, str],
    metric: str,
    *,
    run_key: str,
    name: str,
    paper: Mapping[tuple[str, str], Mapping[Any, Mapping[str, float]]] | None = None,
) -> list[str]:
    """One note sentence per comparison and value of `run_key`
    (:func:`~semcov_train.reporting.difference_sentence`): whether the paired interval covers
    0 and whether its sign agrees with the paper's (`paper`: (treatment, control) → the
    :func:`paper_differences` of that pair)."""
    sentences = []
    for treatment, control in comparisons:
        present = set(runs["method"]) if not runs.empty else set()
        if not {treatment, control} <= present:
            continue
        table = paired_differences(runs, treatment, control, [metric], keys=[run_key])
        for record in table.to_dict("records"):
            reported = (paper or {}).get((treatment, control), {}).get(record[run_key], {})
            sentence = difference_sentence(
                record,
                metric,
                treatment=labels.get(treatment, treatment),
                control=labels.get(control, control),
                name=f"{name} ({record[run_key]})",
                paper=reported.get(metric),
            )
            sentences.append(sentence)
    return sentences
