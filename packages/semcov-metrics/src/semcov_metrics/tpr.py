"""Per-SCG true positive rate on a test split, with soft or hard descriptor membership."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from semcov_metrics._groups import (
    Grid,
    Split,
    cell_sums,
    encode_split,
    make_grid,
    membership_threshold,
    prediction_codes,
    prediction_labels,
    validate_split,
)
from semcov_metrics._validation import check_same_length

__all__ = ["scg_tpr"]

_NAMES = ("descriptors", "y_true", "subgroups")


def scg_tpr(
    y_true: Any,
    y_pred: Any,
    descriptors: Any,
    subgroups: Any,
    *,
    membership: str = "soft",
    threshold: float | Sequence[float] = 0.5,
    classes: Sequence[Any] | None = None,
    subgroup_values: Sequence[Any] | None = None,
    descriptor_names: Sequence[str] | None = None,
) -> pd.DataFrame:
    """True positive rate of every SCG g = (class c, descriptor d, subgroup s).

    TPR_g is the recall of class c inside the group: the share of its class-c samples that are
    predicted as c (for the negative class of a binary task this is its specificity). A test
    sample i belongs to g with weight ``w_i = 1[y_i = c] · 1[s_i = s] · p_{i,d}``
    (``membership="soft"``) or ``1[p_{i,d} >= threshold]`` (``"hard"``);
    ``support_g = Σ w_i`` and ``TPR_g = Σ w_i · 1[ŷ_i = y_i] / support_g``.

    Args:
        y_true: true class of each sample, shape (N,).
        y_pred: predicted class labels (N,), or class scores (N, n_classes) whose argmax is taken
            (columns in the order of ``classes``).
        descriptors: descriptor probabilities in [0, 1], shape (N, K).
        subgroups: subgroup of each sample, shape (N,).
        membership: ``"soft"`` (default) or ``"hard"``.
        threshold: hard-membership threshold, a scalar or one value per descriptor.
        classes: the class axis; default the sorted union of ``y_true`` and ``y_pred`` labels.
        subgroup_values: the subgroup axis; default the sorted subgroups present.
        descriptor_names: K names; default the DataFrame columns or ``d0 … d{K-1}``.

    Returns:
        DataFrame with columns ``class, descriptor, subgroup, support, tpr``; ``tpr`` is NaN
        where ``support`` is 0.

    Example:
        >>> p = [[1.0], [0.5], [1.0]]
        >>> print(scg_tpr([1, 1, 0], [1, 0, 0], p, ["a", "a", "a"]))
          class descriptor subgroup  support       tpr
        0     0         d0        a      1.0  1.000000
        1     1         d0        a      1.5  0.666667
    """
    matrix, label_array, subgroup_array, names = validate_split(
        descriptors, y_true, subgroups, _NAMES, descriptor_names
    )
    predicted = prediction_labels(y_pred, "y_pred")
    observed = [label_array] if predicted is None else [label_array, predicted]
    grid = make_grid(classes, names, subgroup_values, observed, [subgroup_array])
    split = encode_split(grid, matrix, label_array, subgroup_array, _NAMES)
    predicted_codes = prediction_codes(y_pred, "y_pred", grid.classes)
    check_same_length(y_true=label_array, y_pred=predicted_codes)
    tau = membership_threshold(len(names), membership, threshold)
    support, correct = tpr_sums(grid, split, predicted_codes, tau)
    return grid.frame(support=support, tpr=rate(correct, support))


def tpr_sums(
    grid: Grid,
    split: Split,
    predicted_codes: np.ndarray,
    threshold: np.ndarray | None,
    sample_weight: np.ndarray | None = None,
    also_threshold: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Support and correctly-predicted weight per (cell, descriptor), each (n_cells, K), or
    (n_cells, 2K) with ``also_threshold`` (hard membership sums in the last K columns).

    Correct and wrong predictions go to separate cells of one bincount, so a single pass over
    the descriptor matrix gives both sums.
    """
    correct = predicted_codes == split.labels
    cell = grid.cells(split.labels, split.subgroups) + grid.n_cells * correct
    sums = cell_sums(
        cell,
        2 * grid.n_cells,
        split.descriptors,
        threshold=threshold,
        sample_weight=sample_weight,
        also_threshold=also_threshold,
    )
    hits = sums[grid.n_cells :]
    return sums[: grid.n_cells] + hits, hits


def rate(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(
            denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan
        )
