"""Per-SCG additions of the fairness report: Wilson intervals of TPR, why an SCG does not count,
and ROC curves by subgroup."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ROC_POINTS", "exclusion_reasons", "subgroup_roc", "wilson_interval"]

#: Most points kept of a ROC curve in the report (evenly spaced along the curve's thresholds).
ROC_POINTS = 101


def wilson_interval(
    rate: np.ndarray, n: np.ndarray, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion ``rate`` observed on ``n`` (possibly fractional:
    soft membership mass) trials; NaN where ``n`` is 0 or the rate undefined.

    Example:
        >>> low, high = wilson_interval(np.array([0.8]), np.array([10.0]), 0.95)
        >>> round(float(low[0]), 4), round(float(high[0]), 4)
        (0.4902, 0.9433)
    """
    from scipy import stats

    z = float(stats.norm.ppf(0.5 + confidence / 2))
    rate = np.asarray(rate, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    defined = (n > 0) & np.isfinite(rate)
    safe_n = np.where(defined, n, 1.0)
    safe_rate = np.where(defined, rate, 0.0)
    denominator = 1.0 + z * z / safe_n
    centre = (safe_rate + z * z / (2 * safe_n)) / denominator
    half = z * np.sqrt(safe_rate * (1 - safe_rate) / safe_n + z * z / (4 * safe_n**2)) / denominator
    low = np.where(defined, np.clip(centre - half, 0.0, 1.0), np.nan)
    high = np.where(defined, np.clip(centre + half, 0.0, 1.0), np.nan)
    return low, high


def exclusion_reasons(table: pd.DataFrame, min_support: float) -> list[str]:
    """Why each SCG of a report table does not count (empty for the valid ones)."""
    reasons = []
    for support, valid in zip(table["support"], table["valid"], strict=True):
        if valid:
            reasons.append("")
        elif support == 0:
            reasons.append("no test members")
        elif support < min_support:
            reasons.append(f"test support {support:.3g} < min_support {min_support:g}")
        else:
            reasons.append("TPR undefined")
    return reasons


def subgroup_roc(split: Any, scores: np.ndarray, grid: Any) -> dict[str, dict[str, Any]]:
    """ROC curve and AUC of the positive class (class 1 of the axis) in every subgroup with both
    classes among its test samples: ``{subgroup: {"fpr", "tpr", "auc", "n"}}``."""
    from sklearn.metrics import roc_auc_score, roc_curve

    positive = split.labels == 1
    out: dict[str, dict[str, Any]] = {}
    for code, value in enumerate(grid.subgroups):
        rows = split.subgroups == code
        if positive[rows].all() or not positive[rows].any():
            continue
        fpr, tpr, _ = roc_curve(positive[rows], scores[rows])
        if len(fpr) > ROC_POINTS:
            keep = np.unique(np.linspace(0, len(fpr) - 1, ROC_POINTS).round().astype(int))
            fpr, tpr = fpr[keep], tpr[keep]
        out[str(value)] = {
            "fpr": [float(v) for v in fpr],
            "tpr": [float(v) for v in tpr],
            "auc": float(roc_auc_score(positive[rows], scores[rows])),
            "n": int(rows.sum()),
        }
    return out
