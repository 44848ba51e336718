"""Multi-class metrics refuse score matrices whose rows do not sum to 1, naming the argument,
and accept softmax probabilities in float64, float32 and float16."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.metrics import roc_auc_score

from semcov_metrics import expected_calibration_error, performance_report, reliability_diagram
from semcov_metrics._validation import ROW_SUM_TOLERANCE


def _problem(n=300, n_classes=4, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_classes, n)
    logits = rng.normal(size=(n, n_classes)) + 1.5 * np.eye(n_classes)[labels]
    return labels, logits


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_softmax_probabilities_pass_and_match_sklearn(dtype):
    labels, logits = _problem()
    probabilities = softmax(logits, axis=1).astype(dtype)
    report = performance_report(labels, probabilities)
    as_float = probabilities.astype(np.float64)
    # scikit-learn checks np.allclose(row sums, 1): renormalise the float16 rows for it
    as_float /= as_float.sum(axis=1, keepdims=True)
    expected = roc_auc_score(labels, as_float, multi_class="ovr", average="macro")
    assert report["auc"] == pytest.approx(expected, abs=1e-3)
    assert 0.0 <= expected_calibration_error(labels, probabilities) <= 1.0
    assert reliability_diagram(labels, probabilities)["count"].sum() == len(labels)


@pytest.mark.parametrize(
    "call",
    [
        lambda y, p: performance_report(y, p),
        lambda y, p: expected_calibration_error(y, p),
        lambda y, p: reliability_diagram(y, p),
    ],
)
def test_rows_that_do_not_sum_to_one_are_refused_naming_y_prob(call):
    labels, logits = _problem()
    # per-class sigmoid scores: in [0, 1] but not a distribution over classes
    sigmoid = 1.0 / (1.0 + np.exp(-logits))
    with pytest.raises(ValueError, match=r"y_prob .*rows sum to 1"):
        call(labels, sigmoid)
    # scikit-learn refuses the same matrix for the same reason
    with pytest.raises(ValueError, match="sum up to 1"):
        roc_auc_score(labels, sigmoid, multi_class="ovr")


def test_the_tolerance_is_one_thousandth_and_the_worst_row_is_named():
    labels, logits = _problem(n=50)
    probabilities = softmax(logits, axis=1)
    assert ROW_SUM_TOLERANCE == 1e-3
    inside = probabilities.copy()
    inside[7] *= 1 + 0.9e-3  # row 7 sums to 1.0009: accepted
    performance_report(labels, inside)
    outside = probabilities.copy()
    outside[7] *= 1 + 1.5e-3  # 1.0015: refused, and row 7 is the one shown
    outside[9] *= 1 + 1.2e-3
    with pytest.raises(ValueError, match=r"2 of 50 rows do not, e\.g\. row 7 sums to 1\.0015"):
        performance_report(labels, outside)


def test_binary_two_column_matrices_follow_the_same_rule():
    labels = np.array([0, 1, 1, 0, 1, 0])
    p = np.array([0.2, 0.9, 0.6, 0.4, 0.7, 0.1])
    matrix = np.stack([1 - p, p], axis=1)
    assert performance_report(labels, matrix) == pytest.approx(performance_report(labels, p))
    assert expected_calibration_error(labels, matrix, mode="positive") == pytest.approx(
        expected_calibration_error(labels, p, mode="positive")
    )
    unnormalised = np.stack([p, p], axis=1)
    for mode in ("top_label", "positive"):
        with pytest.raises(ValueError, match="y_prob"):
            expected_calibration_error(labels, unnormalised, mode=mode)
    # a 1-D binary score has no row sum to check
    assert np.isfinite(performance_report(labels, p)["auc"])
