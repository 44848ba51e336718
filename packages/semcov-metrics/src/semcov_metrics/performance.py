"""The metrics of paper Table 1: AUC, PR-AUC, S@95, balanced accuracy, Macro-F1, ECE."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from semcov_metrics._validation import (
    as_float_array,
    check_finite,
    check_probabilities,
    check_same_length,
    class_probabilities,
    integer_labels,
    warn_undefined,
)
from semcov_metrics.calibration import expected_calibration_error
from semcov_metrics.exceptions import UndefinedMetricWarning

__all__ = ["PERFORMANCE_KEYS", "performance_report", "sensitivity_at_specificity"]

#: The keys of :func:`performance_report`, in its order.
PERFORMANCE_KEYS = ("auc", "pr_auc", "sens_at_95spec", "balanced_accuracy", "macro_f1", "ece")


def sensitivity_at_specificity(y_true: Any, y_score: Any, specificity: float = 0.95) -> float:
    """The largest sensitivity (TPR) among ROC points whose specificity is at least ``specificity``.

    Computed on the full ROC curve (``roc_curve(..., drop_intermediate=False)``): the highest
    TPR with FPR ≤ 1 − specificity. With one class only it is undefined: ``nan`` with
    :class:`UndefinedMetricWarning`.

    Args:
        y_true: binary labels (0/1 or bool), shape (N,).
        y_score: score of the positive class, shape (N,).
        specificity: required specificity in (0, 1].

    Example:
        >>> sensitivity_at_specificity([0, 0, 0, 0, 1, 1], [0.1, 0.2, 0.3, 0.8, 0.7, 0.9], 0.75)
        1.0
    """
    if isinstance(specificity, bool) or not isinstance(specificity, int | float | np.number):
        raise TypeError(f"specificity must be a number, got {specificity!r}")
    if not 0.0 < specificity <= 1.0:
        raise ValueError(f"specificity must lie in (0, 1], got {specificity}")
    labels, scores = binary_scores(y_true, y_score)
    return _sens_at_spec(labels, scores, specificity)


def binary_scores(y_true: Any, y_score: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validated binary labels and finite scores of the same length."""
    labels = integer_labels(y_true, "y_true")
    if labels.max() > 1:
        raise ValueError(f"y_true must be binary (0/1), got labels up to {labels.max()}")
    scores = as_float_array(y_score, "y_score", ndim=1)
    check_finite(scores, "y_score")
    check_same_length(y_true=labels, y_score=scores)
    return labels, scores


def _sens_at_spec(
    labels: np.ndarray, scores: np.ndarray, specificity: float, weights: np.ndarray | None = None
) -> float:
    if np.unique(labels).size < 2:
        return warn_undefined("sensitivity at specificity is undefined with one class in y_true")
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(labels, scores, sample_weight=weights, drop_intermediate=False)
    # Tolerance for 1 - specificity computed in floating point (1 - 0.95 != 0.05 exactly).
    allowed = fpr <= (1.0 - specificity) + 1e-12
    return float(tpr[allowed].max())


def performance_report(y_true: Any, y_prob: Any, *, n_bins: int = 15) -> dict[str, float]:
    """The Table 1 metrics of a classifier: ``auc, pr_auc, sens_at_95spec, balanced_accuracy,
    macro_f1, ece``.

    Binary tasks take ``y_prob`` of shape (N,) (probability of class 1) or (N, 2); AUC, PR-AUC
    (average precision) and S@95 use class 1 as the positive class. Multiclass tasks take
    (N, T): AUC, PR-AUC and S@95 are one-vs-rest macro averages. Balanced accuracy and Macro-F1
    use the argmax prediction (0.5 threshold for binary). ECE is top-label with ``n_bins``
    equal-width bins. Metrics undefined for the input (one class in ``y_true``) are ``nan``
    with :class:`UndefinedMetricWarning`.

    Args:
        y_true: integer labels in ``[0, T)``, shape (N,).
        y_prob: class probabilities, shape (N,) or (N, T); rows of (N, T) must sum to 1
            within 1e-3 (a ValueError names ``y_prob`` otherwise).
        n_bins: ECE bins.

    Returns:
        A dict with the six metrics as floats.

    Example:
        >>> report = performance_report([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9])
        >>> {k: round(v, 3) for k, v in report.items()}  # doctest: +NORMALIZE_WHITESPACE
        {'auc': 0.75, 'pr_auc': 0.833, 'sens_at_95spec': 0.5, 'balanced_accuracy': 0.5,
         'macro_f1': 0.5, 'ece': 0.35}
    """
    # scikit-learn's metrics module loads scipy: imported on first use, not with the package.
    from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

    probabilities = as_float_array(y_prob, "y_prob", ndim=(1, 2))
    check_probabilities(probabilities, "y_prob")
    labels = integer_labels(y_true, "y_true")
    check_same_length(y_true=labels, y_prob=probabilities)
    matrix = class_probabilities(probabilities, labels, "y_prob")
    n_classes = matrix.shape[1]
    predicted = matrix.argmax(axis=1)
    ece = expected_calibration_error(labels, matrix, n_bins=n_bins)
    balanced = _balanced_accuracy(labels, predicted)
    macro_f1 = float(
        f1_score(labels, predicted, labels=np.arange(n_classes), average="macro", zero_division=0)
    )
    present = np.unique(labels)
    if present.size < 2:
        undefined = warn_undefined("AUC, PR-AUC and S@95 are undefined with one class in y_true")
        return _report(undefined, undefined, undefined, balanced, macro_f1, ece)
    if n_classes == 2:
        positive = matrix[:, 1]
        auc = float(roc_auc_score(labels, positive))
        pr_auc = float(average_precision_score(labels, positive))
        s95 = _sens_at_spec(labels, positive, 0.95)
        return _report(auc, pr_auc, s95, balanced, macro_f1, ece)
    aucs, aps, s95s = [], [], []
    for k in range(n_classes):
        one_vs_rest = (labels == k).astype(np.intp)
        if one_vs_rest.min() == one_vs_rest.max():
            continue
        aucs.append(roc_auc_score(one_vs_rest, matrix[:, k]))
        aps.append(average_precision_score(one_vs_rest, matrix[:, k]))
        s95s.append(_sens_at_spec(one_vs_rest, matrix[:, k], 0.95))
    if len(aucs) < n_classes:
        warnings.warn(
            f"only {len(aucs)} of {n_classes} classes occur in y_true; one-vs-rest macro "
            "averages are taken over those",
            UndefinedMetricWarning,
            stacklevel=2,
        )
    return _report(
        float(np.mean(aucs)), float(np.mean(aps)), float(np.mean(s95s)), balanced, macro_f1, ece
    )


def _balanced_accuracy(labels: np.ndarray, predicted: np.ndarray) -> float:
    from sklearn.metrics import balanced_accuracy_score

    with warnings.catch_warnings():
        # scikit-learn warns when y_pred has classes absent from y_true; the value is defined.
        warnings.simplefilter("ignore", UserWarning)
        return float(balanced_accuracy_score(labels, predicted))


def _report(*values: float) -> dict[str, float]:
    return dict(zip(PERFORMANCE_KEYS, values, strict=True))
