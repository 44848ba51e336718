"""TPR and FPR disparity across a demographic attribute (max − min over its groups)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from semcov_metrics._validation import (
    as_labels,
    categories,
    check_same_length,
    encode,
    integer_labels,
    warn_undefined,
)

__all__ = ["fpr_disparity", "group_rates", "tpr_disparity"]


def group_rates(y_true: Any, y_pred: Any, sensitive: Any) -> pd.DataFrame:
    """TPR and FPR of a binary classifier in every group of a sensitive attribute.

    Args:
        y_true: binary labels (0/1), shape (N,).
        y_pred: binary predictions (0/1), shape (N,).
        sensitive: group of each sample (sex, age bin, ...), shape (N,).

    Returns:
        DataFrame indexed by group with ``n, positives, negatives, tpr, fpr``; ``tpr`` is NaN
        for a group without positives, ``fpr`` for one without negatives.
    """
    labels = _binary(y_true, "y_true")
    predicted = _binary(y_pred, "y_pred")
    groups = as_labels(sensitive, "sensitive")
    check_same_length(y_true=labels, y_pred=predicted, sensitive=groups)
    values = categories(None, "sensitive", groups)
    codes = encode(groups, "sensitive", values, "groups")
    size = len(values)
    n = np.bincount(codes, minlength=size)
    positives = np.bincount(codes, weights=labels, minlength=size)
    true_positives = np.bincount(codes, weights=labels * predicted, minlength=size)
    false_positives = np.bincount(codes, weights=(1 - labels) * predicted, minlength=size)
    negatives = n - positives
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr = np.where(positives > 0, true_positives / positives, np.nan)
        fpr = np.where(negatives > 0, false_positives / negatives, np.nan)
    return pd.DataFrame(
        {
            "n": n,
            "positives": positives.astype(np.int64),
            "negatives": negatives.astype(np.int64),
            "tpr": tpr,
            "fpr": fpr,
        },
        index=pd.Index(values, name="group"),
    )


def tpr_disparity(y_true: Any, y_pred: Any, sensitive: Any) -> float:
    """max − min TPR across the groups of ``sensitive`` (equal-opportunity difference).

    Groups without positives have no TPR and are left out; with fewer than two groups left the
    disparity is undefined (``nan`` with :class:`UndefinedMetricWarning`).

    Example:
        >>> tpr_disparity([1, 1, 1, 1], [1, 1, 1, 0], ["f", "f", "m", "m"])
        0.5
    """
    return _spread(group_rates(y_true, y_pred, sensitive)["tpr"], "TPR")


def fpr_disparity(y_true: Any, y_pred: Any, sensitive: Any) -> float:
    """max − min FPR across the groups of ``sensitive``; groups without negatives are left out.

    Example:
        >>> fpr_disparity([0, 0, 0, 0], [1, 0, 0, 0], ["f", "f", "m", "m"])
        0.5
    """
    return _spread(group_rates(y_true, y_pred, sensitive)["fpr"], "FPR")


def _spread(rates: pd.Series, name: str) -> float:
    defined = rates.dropna()
    if len(defined) < 2:
        return warn_undefined(f"{name} disparity needs two groups where {name} is defined")
    return float(defined.max() - defined.min())


def _binary(value: Any, name: str) -> np.ndarray:
    labels = integer_labels(value, name)
    if labels.max() > 1:
        raise ValueError(f"{name} must be binary (0/1), got values up to {labels.max()}")
    return labels.astype(np.float64)
