"""Auxiliary metrics: CAS, semantic scale, alignment, tail sensitivity, calibration data, plots."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_curve

import semcov_metrics as sm


def test_cas_ranks_within_each_class_by_hand():
    attributes = pd.DataFrame(
        {
            "colour": ["red", "red", "blue", "red", "blue", "blue"],
            "shape": ["round", "round", "round", "square", "square", "square"],
        }
    )
    labels = [0, 0, 0, 1, 1, 1]
    scores = sm.compositional_attribute_scarcity(attributes, labels)
    # Class 0: red (2) rank 1, blue (1) rank 2; round (3) rank 1.
    # Class 1: blue (2) rank 1, red (1) rank 2; square (3) rank 1.
    assert scores.tolist() == [2.0, 2.0, 3.0, 3.0, 2.0, 2.0]
    pooled = sm.compositional_attribute_scarcity(attributes)
    # Pooled: red 3 / blue 3 tie at rank 1; round 3 / square 3 tie at rank 1.
    assert pooled.tolist() == [2.0] * 6
    dense = sm.compositional_attribute_scarcity(
        pd.DataFrame({"a": [0, 0, 0, 1, 1, 2]}), tie_method="dense"
    )
    assert dense.tolist() == [1.0, 1.0, 1.0, 2.0, 2.0, 3.0]


def test_cas_sampling_weights_power_transform():
    scores = np.array([2.0, 3.0, 5.0])
    weights = sm.cas_sampling_weights(scores, power=1.2)
    expected = scores**1.2 / (scores**1.2).sum()
    np.testing.assert_allclose(weights, expected)
    assert weights.sum() == pytest.approx(1.0)


def test_cas_subsets_sizes():
    subsets = sm.cas_subsets(np.random.default_rng(0).random(1000))
    counts = pd.Series(subsets).value_counts()
    assert counts["low"] == 300 and counts["middle"] == 300 and counts["high"] == 400


def test_semantic_scale_formula_and_identity():
    rng = np.random.default_rng(0)
    wide = rng.normal(size=(5, 12))  # m < d: the m × m determinant is used
    centred = wide - wide.mean(axis=0)
    expected = 0.5 * np.log2(np.linalg.det(np.eye(12) + (12 / 5) * centred.T @ centred))
    assert sm.semantic_scale(wide) == pytest.approx(expected, rel=1e-9)
    # Larger spread, larger scale; per-class values come back as a Series.
    features = np.vstack([rng.normal(size=(40, 4)), 3 * rng.normal(size=(40, 4))])
    scales = sm.semantic_scale(features, labels=[0] * 40 + [1] * 40)
    assert scales[1] > scales[0]


def test_alignment_metrics():
    v = np.eye(3)
    assert sm.alignment_cosine(v, 2 * v) == pytest.approx(1.0)
    assert sm.recall_at_1(v, v[[1, 0, 2]]) == pytest.approx(1 / 3)
    assert sm.alignment_cosine(v, -v) == pytest.approx(-1.0)
    assert sm.align_gap(0.786, 0.558) == pytest.approx(0.228)


def test_sensitivity_at_specificity_reads_the_full_roc():
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 2, 300)
    scores = rng.random(300) + 0.3 * labels
    fpr, tpr, _ = roc_curve(labels, scores, drop_intermediate=False)
    expected = tpr[fpr <= 0.05 + 1e-12].max()
    assert sm.sensitivity_at_specificity(labels, scores) == pytest.approx(expected)


def test_tail_sensitivity_uses_lowest_coverage_groups():
    coverage = pd.DataFrame(
        {
            "class": [0, 0, 1, 1],
            "descriptor": ["d0", "d1", "d0", "d1"],
            "subgroup": ["a", "a", "a", "a"],
            "coverage": [0.9, 0.1, 0.8, 0.05],
        }
    )
    tail = sm.tail_groups(coverage, fraction=0.5)
    assert tail["coverage"].tolist() == [0.05, 0.1]
    # Samples carrying d1 form the tail; only they decide the result.
    y = np.array([0, 0, 1, 1, 1, 0])
    p = np.array([[1, 1], [1, 1], [0, 1], [0, 1], [1, 0], [1, 0]], dtype=float)
    scores = np.array([0.1, 0.2, 0.9, 0.8, 0.0, 0.95])
    value = sm.tail_sensitivity_at_specificity(y, scores, p, ["a"] * 6, coverage, fraction=0.5)
    assert value == 1.0
    everyone = sm.sensitivity_at_specificity(y, scores)
    assert everyone < 1.0


def test_tail_groups_leave_out_scgs_without_training_samples():
    coverage = pd.DataFrame(
        {
            "class": [0, 0, 0, 0, 1, 1],
            "descriptor": ["d0", "d1", "d0", "d1", "d0", "d1"],
            "subgroup": ["a", "a", "b", "b", "a", "a"],
            "n_train": [10, 10, 0, 0, 4, 4],
            "coverage": [0.9, 0.2, 0.0, 0.0, 0.6, 0.1],
        }
    )
    # 4 populated SCGs: the tail at 50 % is the two lowest of them, not the two empty cells
    tail = sm.tail_groups(coverage, fraction=0.5)
    assert tail["coverage"].tolist() == [0.1, 0.2]
    assert (tail["n_train"] > 0).all()
    # without an n_train column every row counts (a hand-made table)
    assert len(sm.tail_groups(coverage.drop(columns="n_train"), fraction=0.5)) == 3


def test_reliability_diagram_counts_and_gap():
    diagram = sm.reliability_diagram([1, 1, 0, 0], [0.95, 0.85, 0.15, 0.4], n_bins=5)
    assert diagram["count"].sum() == 4
    # Top-label confidences 0.95, 0.85, 0.85, 0.6: all predictions correct.
    top = diagram[diagram["count"] > 0]
    assert top["count"].tolist() == [1, 3]
    assert top["accuracy"].tolist() == [1.0, 1.0]
    ece = sm.expected_calibration_error([1, 1, 0, 0], [0.95, 0.85, 0.15, 0.4], n_bins=5)
    assert ece == pytest.approx((top["gap"] * top["count"]).sum() / 4)
    assert ece == pytest.approx((0.4 + 0.15 + 0.15 + 0.05) / 4)


def test_group_rates_by_hand():
    rates = sm.group_rates([1, 1, 0, 0, 1, 0], [1, 0, 1, 0, 1, 0], ["f", "f", "f", "f", "m", "m"])
    assert rates.loc["f", "tpr"] == 0.5 and rates.loc["f", "fpr"] == 0.5
    assert rates.loc["m", "tpr"] == 1.0 and rates.loc["m", "fpr"] == 0.0
    assert sm.fpr_disparity([1, 1, 0, 0, 1, 0], [1, 0, 1, 0, 1, 0], list("ffffmm")) == 0.5


def test_plots_draw_scatter_line_and_heatmap(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from semcov_metrics.plotting import plot_coverage_long_tail

    rng = np.random.default_rng(0)
    n = 500
    report = sm.semantic_fairness_report(
        train_descriptors=rng.random((n, 3)),
        train_labels=rng.integers(0, 2, n),
        train_subgroups=rng.integers(0, 3, n),
        test_descriptors=rng.random((n, 3)),
        test_labels=rng.integers(0, 2, n),
        test_predictions=rng.integers(0, 2, n),
        test_subgroups=rng.integers(0, 3, n),
    )
    ax = report.plot_coverage_error()
    assert len(ax.collections) == 2  # one scatter per class
    assert len(ax.lines) == 1  # the fitted line
    assert f"{report.cdi:.3f}" in ax.get_title()
    heat = report.plot_coverage_heatmap(class_value=1)
    image = heat.images[0].get_array()
    assert image.shape == (3, 3)
    expected = report.table[report.table["class"] == 1]["coverage"].to_numpy().reshape(3, 3)
    np.testing.assert_allclose(image, expected)
    tail = plot_coverage_long_tail(report.table)
    heights = [bar.get_height() for bar in tail.patches]
    assert heights == sorted(heights, reverse=True)
    ax.figure.savefig(tmp_path / "scatter.png")
    assert (tmp_path / "scatter.png").stat().st_size > 0
