"""The decision threshold behind the per-SCG metrics: chosen on validation, applied to test.

Per-SCG TPR, TPR_w, TPR_std and CDI count decisions, not scores. At argmax a weak model on
1:10 data predicts (almost) no positive at all, and CDI then measures the class imbalance
instead of the coverage. Paper: silent on the operating point of these metrics; here: the
threshold is chosen on the **validation** predictions of the best-validation-AUC checkpoint
(default: maximal balanced accuracy) and applied to the test split unchanged. Table 1's
balanced accuracy and Macro-F1 stay at argmax (the paper's convention; they come from
``semcov_metrics.performance_report`` on the probabilities, untouched by this module).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_curve

from semcov_metrics import UndefinedMetricWarning

__all__ = [
    "DECISION_RULES",
    "DecisionThreshold",
    "check_decision_rule",
    "choose_threshold",
    "decide",
]

#: Named rules of ``--decision-threshold`` (a probability in (0, 1) is the fourth form).
DECISION_RULES = ("argmax", "balanced", "youden")
#: What argmax means for two classes, as a threshold on the class-1 probability.
ARGMAX_THRESHOLD = 0.5


def _fixed_value(rule: str) -> float | None:
    try:
        value = float(rule)
    except ValueError:
        return None
    return value


def check_decision_rule(rule: str) -> None:
    """Raise ValueError naming ``decision_threshold`` unless `rule` is ``argmax``,
    ``balanced``, ``youden`` or a probability strictly between 0 and 1."""
    if rule in DECISION_RULES:
        return
    value = _fixed_value(rule)
    if value is None or not math.isfinite(value) or not 0.0 < value < 1.0:
        raise ValueError(
            f"decision_threshold must be one of {', '.join(DECISION_RULES)} or a probability "
            f"in (0, 1), got {rule!r}"
        )


@dataclass(frozen=True)
class DecisionThreshold:
    """A decision rule resolved on validation predictions.

    Attributes:
        rule: the rule as configured (``"balanced"``, ``"0.3"``, ...).
        value: threshold on the class-1 probability (class 1 when ``p1 >= value``); for
            ``argmax`` 0.5 (argmax itself is applied: class 1 when ``p1 > 0.5``); None for
            more than two classes, where argmax is always used.
        note: how the value was obtained, for ``results.json``.
        uses_argmax: decisions are the argmax (rule ``argmax``, more than two classes, or a
            validation split with one class).
    """

    rule: str
    value: float | None
    note: str
    uses_argmax: bool = False


def _balanced_threshold(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """The score t maximising balanced accuracy of ``scores >= t`` (the highest t on ties);
    None when `labels` hold one class."""
    if np.unique(labels).size < 2:
        return None
    fpr, tpr, thresholds = roc_curve(labels, scores, drop_intermediate=False)
    # Balanced accuracy is (TPR + 1 - FPR) / 2 = (1 + J) / 2: the same ROC point as Youden's J.
    # Index 0 is roc_curve's threshold +inf (no positive at all): not a usable decision rule.
    youden = (tpr - fpr)[1:]
    return float(thresholds[1:][int(np.argmax(youden))])


def choose_threshold(labels: np.ndarray, probabilities: np.ndarray, rule: str) -> DecisionThreshold:
    """Resolve `rule` on validation predictions.

    ``balanced`` and ``youden`` pick the ROC point of maximal balanced accuracy, which is the
    point of maximal Youden J = TPR - FPR (balanced accuracy = (1 + J) / 2, so the two names
    give the same threshold; both are accepted because both conventions are in use). The
    candidates are the validation scores themselves (``roc_curve``'s thresholds); on ties
    the highest threshold wins. A fixed probability is returned as it is.

    For more than two classes every rule gives argmax (a single threshold does not define a
    multi-class decision); ``value`` is None and the note says so.

    Args:
        labels: validation labels in ``[0, T)``, shape (N,).
        probabilities: validation class probabilities, shape (N, T).
        rule: ``argmax``, ``balanced``, ``youden`` or a probability in (0, 1).

    Returns:
        The resolved threshold. A validation split with one class cannot rank thresholds:
        ``balanced`` / ``youden`` then fall back to argmax (value 0.5) with
        ``semcov_metrics.UndefinedMetricWarning``.
    """
    check_decision_rule(rule)
    probabilities = np.asarray(probabilities)
    if probabilities.ndim != 2 or len(probabilities) != len(labels):
        raise ValueError(
            f"probabilities must have shape (N, T) with N = len(labels) = {len(labels)}, "
            f"got {probabilities.shape}"
        )
    if probabilities.shape[1] != 2:
        return DecisionThreshold(
            rule, None, f"argmax ({probabilities.shape[1]} classes: no single threshold)", True
        )
    if rule == "argmax":
        return DecisionThreshold(rule, ARGMAX_THRESHOLD, "argmax (class 1 when p1 > 0.5)", True)
    fixed = _fixed_value(rule)
    if fixed is not None:
        return DecisionThreshold(rule, fixed, f"fixed: class 1 when p1 >= {fixed}")
    value = _balanced_threshold(np.asarray(labels), probabilities[:, 1])
    if value is None:
        warnings.warn(
            f"decision_threshold={rule!r}: the validation split holds one class, so no "
            "threshold can be ranked; argmax (0.5) is used",
            UndefinedMetricWarning,
            stacklevel=2,
        )
        return DecisionThreshold(
            rule, ARGMAX_THRESHOLD, "argmax (validation split has one class)", True
        )
    return DecisionThreshold(
        rule, value, "maximal balanced accuracy on validation: class 1 when p1 >= value"
    )


def decide(probabilities: np.ndarray, threshold: DecisionThreshold) -> np.ndarray:
    """Predicted classes (N,) of class probabilities (N, T) under `threshold`."""
    probabilities = np.asarray(probabilities)
    if threshold.uses_argmax or probabilities.shape[1] != 2:
        return probabilities.argmax(axis=1)
    return (probabilities[:, 1] >= threshold.value).astype(np.int64)
