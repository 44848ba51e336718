"""Sensitivity at 95 % specificity on the test samples of the lowest-coverage SCGs (Table 6)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from semcov_metrics._groups import membership_threshold, validate_split
from semcov_metrics.performance import _sens_at_spec, binary_scores

__all__ = ["tail_groups", "tail_sensitivity_at_specificity"]

_NAMES = ("descriptors", "y_true", "subgroups")
_REQUIRED = ("class", "descriptor", "subgroup", "coverage")


def tail_groups(coverage_table: pd.DataFrame, fraction: float = 0.3) -> pd.DataFrame:
    """The ``ceil(fraction · G)`` SCGs of lowest training coverage (ties: table order).

    G counts the SCGs that carry evidence. On a fairness report's ``table`` (it has a ``valid``
    column) these are its valid SCGs, the very set over which CDI, TPR_w and TPR_std are
    computed. On a coverage table with an ``n_train`` column (as :func:`scg_coverage` writes),
    SCGs whose (class, subgroup) cell holds no training sample are left out: their coverage of
    0 is a convention, not a measurement, and such cells have no test samples either on a
    grouped split of one dataset, so counting them would fill the tail with SCGs that carry no
    evidence (on MILK10k 21 of the 112 SCGs are such cells).

    Args:
        coverage_table: the output of :func:`scg_coverage`, a fairness report's ``table``, or
            any frame with ``class, descriptor, subgroup, coverage``; one row per SCG.
        fraction: share of SCGs in the tail, in (0, 1].
    """
    if not isinstance(coverage_table, pd.DataFrame):
        raise TypeError(f"coverage_table must be a DataFrame, got {type(coverage_table).__name__}")
    missing = [c for c in _REQUIRED if c not in coverage_table.columns]
    if missing:
        raise ValueError(
            f"coverage_table lacks columns {missing}; found {list(coverage_table.columns)}"
        )
    if isinstance(fraction, bool) or not isinstance(fraction, int | float) or not 0 < fraction <= 1:
        raise ValueError(f"fraction must be a number in (0, 1], got {fraction!r}")
    if "valid" in coverage_table.columns:
        coverage_table = coverage_table[coverage_table["valid"].astype(bool)]
    elif "n_train" in coverage_table.columns:
        coverage_table = coverage_table[coverage_table["n_train"] > 0]
    size = int(np.ceil(fraction * len(coverage_table) - 1e-9))
    return coverage_table.sort_values("coverage", kind="stable").head(size)


def tail_sensitivity_at_specificity(
    y_true: Any,
    y_score: Any,
    descriptors: Any,
    subgroups: Any,
    coverage_table: pd.DataFrame,
    *,
    fraction: float = 0.3,
    membership: str = "hard",
    threshold: float | Sequence[float] = 0.5,
    specificity: float = 0.95,
    descriptor_names: Sequence[str] | None = None,
) -> float:
    """S@95_tail: sensitivity at ``specificity`` on the test samples of the tail SCGs.

    The tail is the bottom ``fraction`` of SCGs with training samples by training coverage
    (:func:`tail_groups`).
    A test sample belongs to the tail when it falls in one of those SCGs: its class and subgroup
    match and the SCG's descriptor is present (``membership="hard"``: ``p >= threshold``).
    With ``"soft"`` membership every matching sample counts with weight ``max_d p_{i,d}`` over
    the tail descriptors of its (class, subgroup) cell, and the ROC curve is weighted.

    Args:
        y_true: binary labels (0/1), shape (N,); must use the class values of the table.
        y_score: positive-class scores, shape (N,).
        descriptors: test descriptor probabilities, shape (N, K).
        subgroups: test subgroups, shape (N,).
        coverage_table: training coverage from :func:`scg_coverage`.
        fraction: tail share of SCGs (paper: 0.3).
        membership: ``"hard"`` (default) or ``"soft"``.
        threshold: hard-membership threshold.
        specificity: the specificity level (paper: 0.95).
        descriptor_names: names of the descriptor columns, as in the table.

    Returns:
        The tail sensitivity, or ``nan`` with :class:`UndefinedMetricWarning` when the tail
        samples hold only one class.
    """
    matrix, label_array, subgroup_array, names = validate_split(
        descriptors, y_true, subgroups, _NAMES, descriptor_names
    )
    labels, scores = binary_scores(label_array, y_score)
    tail = tail_groups(coverage_table, fraction)
    unknown = sorted(set(map(str, tail["descriptor"])) - set(names))
    if unknown:
        raise ValueError(
            f"coverage_table names descriptors {unknown} that are not among the descriptor "
            f"columns {names}; pass descriptor_names"
        )
    tau = membership_threshold(len(names), membership, threshold)
    sample_weight = tail_membership(tail, matrix, label_array, subgroup_array, names, tau)
    keep = sample_weight > 0
    return _sens_at_spec(labels[keep], scores[keep], specificity, sample_weight[keep])


def tail_membership(
    tail: pd.DataFrame,
    matrix: np.ndarray,
    labels: np.ndarray,
    subgroups: np.ndarray,
    names: list[str],
    threshold: np.ndarray | None,
) -> np.ndarray:
    """Weight of every test sample in the tail, shape (N,): the largest membership over the
    tail SCGs of its (class, subgroup) cell (0 outside the tail); hard when ``threshold``."""
    weights = matrix if threshold is None else (matrix >= threshold).astype(np.float64)
    column = {name: k for k, name in enumerate(names)}
    sample_weight = np.zeros(len(labels))
    for (class_value, subgroup), rows in tail.groupby(["class", "subgroup"], sort=False):
        in_cell = (labels == class_value) & (subgroups == subgroup)
        if not in_cell.any():
            continue
        tail_columns = [column[str(d)] for d in rows["descriptor"]]
        cell_weight = weights[np.ix_(in_cell, tail_columns)].max(axis=1)
        sample_weight[in_cell] = np.maximum(sample_weight[in_cell], cell_weight)
    return sample_weight
