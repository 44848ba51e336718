"""Expected calibration error and the reliability diagram behind it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from semcov_metrics._validation import (
    as_float_array,
    check_choice,
    check_probabilities,
    check_rows_sum_to_one,
    check_same_length,
    class_probabilities,
    integer_labels,
    warn_undefined,
)

__all__ = ["expected_calibration_error", "reliability_diagram"]

ECE_MODES = ("top_label", "positive")


def reliability_diagram(
    y_true: Any,
    y_prob: Any,
    *,
    n_bins: int = 15,
    mode: str = "top_label",
    sample_weight: Any = None,
) -> pd.DataFrame:
    """Per-bin confidence and accuracy: the data of a reliability diagram.

    Bins are ``n_bins`` equal-width intervals ``[lo, hi)`` of [0, 1]; the last one also holds 1.0.

    * ``mode="top_label"`` (Guo et al. 2017, the default of every table): confidence is the
      highest class probability, accuracy whether that class is the true one.
    * ``mode="positive"``: confidence is the probability of class 1 and "accuracy" whether the
      sample is positive (binary only; the convention of torchmetrics' binary calibration error).

    Args:
        y_true: integer class labels in ``[0, n_classes)``, shape (N,).
        y_prob: probabilities: (N,) for the positive class of a binary task, or (N, n_classes)
            whose rows sum to 1 (within 1e-3; otherwise a ValueError names ``y_prob``).
        n_bins: number of equal-width bins (>= 1).
        mode: ``"top_label"`` or ``"positive"``.
        sample_weight: optional non-negative weight of each sample (N,), for example its
            membership mass in a set of SCGs; confidence and accuracy become weighted means.

    Returns:
        DataFrame, one row per bin: ``bin_lower, bin_upper, count, weight, confidence,
        accuracy, gap`` (``count`` samples, ``weight`` their total weight, equal to ``count``
        without ``sample_weight``; confidence and accuracy NaN for bins without weight;
        ``gap = |accuracy - confidence|``).
    """
    confidence, hit, bins = _binned(y_true, y_prob, n_bins, mode)
    weight = _sample_weight(sample_weight, len(confidence))
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    count = np.bincount(bins, minlength=n_bins)
    mass = np.bincount(bins, weights=weight, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = np.bincount(bins, weights=weight * confidence, minlength=n_bins) / mass
        accuracy = np.bincount(bins, weights=weight * hit, minlength=n_bins) / mass
    mean_confidence[mass == 0] = np.nan
    accuracy[mass == 0] = np.nan
    return pd.DataFrame(
        {
            "bin_lower": edges[:-1],
            "bin_upper": edges[1:],
            "count": count,
            "weight": mass,
            "confidence": mean_confidence,
            "accuracy": accuracy,
            "gap": np.abs(accuracy - mean_confidence),
        }
    )


def expected_calibration_error(
    y_true: Any,
    y_prob: Any,
    *,
    n_bins: int = 15,
    mode: str = "top_label",
    sample_weight: Any = None,
) -> float:
    """Expected calibration error Σ_b (n_b / N) · |accuracy_b − confidence_b| (L1, equal bins).

    See :func:`reliability_diagram` for the bins and the two modes. State the mode with every
    reported ECE: top-label and positive-class ECE differ on the same predictions. With
    ``sample_weight`` (N,) the bin masses and means are weighted:
    ``Σ_b |Σ_{i in b} w_i (hit_i − conf_i)| / Σ_i w_i``; a total weight of 0 gives ``nan``
    with :class:`~semcov_metrics.UndefinedMetricWarning`.

    Example:
        >>> round(expected_calibration_error([0, 1, 1, 1], [0.2, 0.9, 0.7, 0.4]), 4)
        0.3
        >>> round(expected_calibration_error([0, 1, 1, 1], [0.2, 0.9, 0.7, 0.4],
        ...                                  sample_weight=[1, 1, 1, 0]), 4)
        0.2
    """
    confidence, hit, bins = _binned(y_true, y_prob, n_bins, mode)
    weight = _sample_weight(sample_weight, len(confidence))
    total = weight.sum()
    if total <= 0:
        return warn_undefined("the sample weights sum to 0; the ECE is undefined")
    gap = np.bincount(bins, weights=weight * (hit - confidence), minlength=n_bins)
    return float(np.abs(gap).sum() / total)


def _sample_weight(value: Any, n: int) -> np.ndarray:
    if value is None:
        return np.ones(n)
    weight = as_float_array(value, "sample_weight", ndim=1)
    check_same_length(y_true=np.empty(n), sample_weight=weight)
    if not (np.isfinite(weight).all() and (weight >= 0).all()):
        raise ValueError("sample_weight must hold finite values >= 0")
    return weight


def _binned(
    y_true: Any, y_prob: Any, n_bins: int, mode: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer):
        raise TypeError(f"n_bins must be an integer, got {n_bins!r}")
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    check_choice(mode, "mode", ECE_MODES)
    probabilities = as_float_array(y_prob, "y_prob", ndim=(1, 2))
    check_probabilities(probabilities, "y_prob")
    labels = integer_labels(y_true, "y_true")
    check_same_length(y_true=labels, y_prob=probabilities)
    if mode == "positive":
        if probabilities.ndim == 2 and probabilities.shape[1] != 2:
            raise ValueError(
                'mode="positive" needs binary probabilities, got y_prob of shape '
                f"{probabilities.shape}"
            )
        if probabilities.ndim == 2:
            check_rows_sum_to_one(probabilities, "y_prob")
        confidence = probabilities if probabilities.ndim == 1 else probabilities[:, 1]
        if labels.max() > 1:
            raise ValueError('mode="positive" needs y_true in {0, 1}')
        hit = (labels == 1).astype(np.float64)
    else:
        matrix = class_probabilities(probabilities, labels, "y_prob")
        predicted = matrix.argmax(axis=1)
        confidence = matrix[np.arange(len(predicted)), predicted]
        hit = (predicted == labels).astype(np.float64)
    # Bins are [lo, hi) on the same edges as torchmetrics; 1.0 joins the last bin.
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.minimum(np.searchsorted(edges, confidence, side="right") - 1, n_bins - 1)
    return confidence, hit, bins
