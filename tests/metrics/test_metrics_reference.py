"""Property-based agreement with scikit-learn, scipy, torchmetrics and fairlearn."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import pearsonr
from sklearn.metrics import (
    average_precision_score,
    balanced_accuracy_score,
    f1_score,
    roc_auc_score,
)

from semcov_metrics import (
    coverage_disparity_index,
    expected_calibration_error,
    group_rates,
    performance_report,
    scg_tpr,
    tpr_disparity,
)

SETTINGS = settings(max_examples=60, deadline=None)
probability = st.floats(0.0, 1.0, allow_nan=False, width=32)


@st.composite
def binary_problem(draw, min_size=4, max_size=60):
    n = draw(st.integers(min_size, max_size))
    labels = draw(arrays(np.int64, n, elements=st.integers(0, 1)))
    assume(0 < labels.sum() < n)
    scores = draw(arrays(np.float64, n, elements=probability))
    return labels, scores


@st.composite
def multiclass_problem(draw, n_classes=3, min_size=6, max_size=60):
    n = draw(st.integers(min_size, max_size))
    labels = draw(arrays(np.int64, n, elements=st.integers(0, n_classes - 1)))
    assume(len(np.unique(labels)) == n_classes)
    raw = draw(arrays(np.float64, (n, n_classes), elements=st.floats(0.01, 1.0)))
    return labels, raw / raw.sum(axis=1, keepdims=True)


def _off_edges(values, n_bins):
    """Move values off the bin edges: float32 and float64 edges may bin them differently."""
    edges = np.linspace(0, 1, n_bins + 1)
    near = np.abs(values[:, None] - edges[None, :]).min(axis=1) < 1e-4
    return np.clip(np.where(near, values + 3e-4, values), 1e-3, 1 - 1e-3)


@SETTINGS
@given(binary_problem())
def test_binary_performance_matches_sklearn(problem):
    labels, scores = problem
    report = performance_report(labels, scores)
    assert report["auc"] == pytest.approx(roc_auc_score(labels, scores))
    assert report["pr_auc"] == pytest.approx(average_precision_score(labels, scores))
    predicted = (scores > 0.5).astype(int)  # argmax of (1 - p, p): ties go to class 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert report["balanced_accuracy"] == pytest.approx(
            balanced_accuracy_score(labels, predicted)
        )
    assert report["macro_f1"] == pytest.approx(
        f1_score(labels, predicted, average="macro", labels=[0, 1], zero_division=0)
    )


@SETTINGS
@given(multiclass_problem())
def test_multiclass_performance_matches_sklearn(problem):
    labels, probabilities = problem
    report = performance_report(labels, probabilities)
    assert report["auc"] == pytest.approx(
        roc_auc_score(labels, probabilities, multi_class="ovr", average="macro")
    )
    one_hot = np.eye(3)[labels]
    assert report["pr_auc"] == pytest.approx(
        average_precision_score(one_hot, probabilities, average="macro")
    )
    predicted = probabilities.argmax(axis=1)
    assert report["macro_f1"] == pytest.approx(
        f1_score(labels, predicted, average="macro", labels=[0, 1, 2], zero_division=0)
    )


@SETTINGS
@given(
    arrays(np.float64, st.integers(3, 40), elements=probability),
    st.randoms(use_true_random=False),
)
def test_cdi_matches_scipy_pearson(coverage, random):
    error = np.array([random.random() for _ in coverage])
    assume(np.ptp(coverage) > 1e-6 and np.ptp(error) > 1e-6)
    expected = abs(pearsonr(coverage, error).statistic)
    assert coverage_disparity_index(coverage, error) == pytest.approx(expected, abs=1e-9)


@SETTINGS
@given(binary_problem(), st.integers(1, 20))
def test_positive_ece_matches_torchmetrics_binary(problem, n_bins):
    torch = pytest.importorskip("torch")
    from torchmetrics.functional.classification import binary_calibration_error

    labels, scores = problem
    scores = _off_edges(scores, n_bins)
    ours = expected_calibration_error(labels, scores, n_bins=n_bins, mode="positive")
    theirs = binary_calibration_error(
        torch.as_tensor(scores), torch.as_tensor(labels), n_bins=n_bins, norm="l1"
    )
    assert ours == pytest.approx(float(theirs), abs=1e-9)


@SETTINGS
@given(multiclass_problem(), st.integers(1, 20))
def test_top_label_ece_matches_torchmetrics_multiclass(problem, n_bins):
    torch = pytest.importorskip("torch")
    from torchmetrics.functional.classification import multiclass_calibration_error

    labels, probabilities = problem
    # torchmetrics bins float32 confidences: keep them off the bin edges in both precisions.
    top = probabilities.argmax(axis=1)
    rows = np.arange(len(labels))
    # A clear winner per row (ties may break differently); the other classes share the rest,
    # so that rows still sum to 1 as the metric requires.
    winner = _off_edges(np.minimum(probabilities[rows, top] + 2e-3, 1.0), n_bins)
    others = probabilities.copy()
    others[rows, top] = 0.0
    probabilities = others * ((1.0 - winner) / others.sum(axis=1))[:, None]
    probabilities[rows, top] = winner
    assume((probabilities.max(axis=1) == winner).all())
    ours = expected_calibration_error(labels, probabilities, n_bins=n_bins)
    theirs = multiclass_calibration_error(
        torch.as_tensor(probabilities),
        torch.as_tensor(labels),
        num_classes=3,
        n_bins=n_bins,
        norm="l1",
    )
    assert ours == pytest.approx(float(theirs), abs=1e-5)


@st.composite
def grouped_predictions(draw):
    n = draw(st.integers(8, 60))
    y_true = draw(arrays(np.int64, n, elements=st.integers(0, 1)))
    y_pred = draw(arrays(np.int64, n, elements=st.integers(0, 1)))
    groups = draw(arrays(np.int64, n, elements=st.integers(0, 3)))
    presence = draw(arrays(np.float64, n, elements=probability))
    return y_true, y_pred, groups, presence


@SETTINGS
@given(grouped_predictions())
def test_hard_membership_tpr_matches_fairlearn_group_recall(data):
    from fairlearn.metrics import MetricFrame
    from sklearn.metrics import recall_score

    y_true, y_pred, groups, presence = data
    table = scg_tpr(
        y_true, y_pred, presence[:, None], groups, membership="hard", threshold=0.5, classes=[0, 1]
    )
    member = presence >= 0.5
    assume(member.sum() >= 2)  # fairlearn squeezes a single sample to a scalar
    frame = MetricFrame(
        metrics=lambda t, p: recall_score(t, p, pos_label=1, zero_division=np.nan),
        y_true=y_true[member],
        y_pred=y_pred[member],
        sensitive_features=groups[member],
    )
    positives = table[(table["class"] == 1) & (table["support"] > 0)].set_index("subgroup")
    for group, recall in frame.by_group.items():
        if np.isnan(recall):
            assert group not in positives.index
        else:
            assert positives.loc[group, "tpr"] == pytest.approx(recall)


@SETTINGS
@given(grouped_predictions())
def test_tpr_disparity_matches_fairlearn_equal_opportunity(data):
    from fairlearn.metrics import equal_opportunity_difference

    y_true, y_pred, groups, _ = data
    rates = group_rates(y_true, y_pred, groups)
    assume((rates["positives"] > 0).all() and len(rates) >= 2)
    expected = equal_opportunity_difference(y_true, y_pred, sensitive_features=groups)
    assert tpr_disparity(y_true, y_pred, groups) == pytest.approx(expected)
