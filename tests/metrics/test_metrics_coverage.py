"""Hand-computed SCG coverage, TPR, CDI and the fairness report."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy.stats import pearsonr

from semcov_metrics import (
    UndefinedMetricWarning,
    coverage_disparity_index,
    scg_coverage,
    scg_tpr,
    semantic_fairness_report,
)


def test_soft_coverage_is_mean_probability_per_class_and_subgroup():
    p = np.array([[0.9, 0.1], [0.7, 0.3], [0.2, 0.8], [0.4, 0.0]])
    table = scg_coverage(p, ["m", "m", "b", "b"], ["arm", "arm", "leg", "arm"])
    cov = table.set_index(["class", "descriptor", "subgroup"])
    assert cov.loc[("m", "d0", "arm"), "coverage"] == pytest.approx(0.8)
    assert cov.loc[("m", "d1", "arm"), "coverage"] == pytest.approx(0.2)
    assert cov.loc[("b", "d0", "leg"), "coverage"] == pytest.approx(0.2)
    assert cov.loc[("b", "d0", "arm"), "coverage"] == pytest.approx(0.4)
    assert cov.loc[("m", "d0", "arm"), "n_train"] == 2


def test_empty_cells_are_kept_with_zero_coverage():
    p = np.array([[0.9], [0.5]])
    table = scg_coverage(p, [1, 1], ["a", "a"], classes=[0, 1], subgroup_values=["a", "b"])
    assert len(table) == 4
    empty = table[table["n_train"] == 0]
    assert len(empty) == 3
    assert (empty["coverage"] == 0.0).all()
    assert list(table.columns) == ["class", "descriptor", "subgroup", "n_train", "coverage"]


def test_grid_order_is_class_descriptor_subgroup():
    table = scg_coverage(
        np.full((2, 2), 0.5), ["x", "y"], ["s1", "s2"], descriptor_names=["hair", "pen"]
    )
    assert list(zip(table["class"], table["descriptor"], table["subgroup"], strict=True)) == [
        ("x", "hair", "s1"),
        ("x", "hair", "s2"),
        ("x", "pen", "s1"),
        ("x", "pen", "s2"),
        ("y", "hair", "s1"),
        ("y", "hair", "s2"),
        ("y", "pen", "s1"),
        ("y", "pen", "s2"),
    ]


def test_hard_coverage_and_mass():
    p = np.array([[0.9, 0.2], [0.4, 0.6], [0.6, 0.5]])
    hard = scg_coverage(p, [0, 0, 0], ["a"] * 3, threshold=[0.5, 0.55])
    assert hard["coverage"].tolist() == pytest.approx([2 / 3, 1 / 3])
    mass = scg_coverage(p, [0, 0, 0], ["a"] * 3, kind="mass")
    assert mass["coverage"].tolist() == pytest.approx([1.9, 1.3])


def test_dataframe_descriptors_give_names():
    frame = pd.DataFrame({"MONET_hair": [0.1, 0.3], "MONET_pen": [0.5, 0.7]})
    table = scg_coverage(frame, [0, 0], ["a", "a"])
    assert table["descriptor"].tolist() == ["MONET_hair", "MONET_pen"]
    assert table["coverage"].tolist() == pytest.approx([0.2, 0.6])


def test_soft_tpr_by_hand():
    # Class 1, subgroup a: weights 0.8 (correct), 0.2 (wrong), 0.5 (correct) on d0.
    y_true = [1, 1, 1, 0]
    y_pred = [1, 0, 1, 0]
    p = [[0.8, 0.0], [0.2, 1.0], [0.5, 0.5], [0.3, 0.0]]
    table = scg_tpr(y_true, y_pred, p, ["a", "a", "a", "a"]).set_index(["class", "descriptor"])
    assert table.loc[(1, "d0"), "support"] == pytest.approx(1.5)
    assert table.loc[(1, "d0"), "tpr"] == pytest.approx(1.3 / 1.5)
    assert table.loc[(1, "d1"), "tpr"] == pytest.approx(0.5 / 1.5)
    assert table.loc[(0, "d0"), "tpr"] == pytest.approx(1.0)
    # No class-0 sample carries d1: no support, TPR undefined.
    assert table.loc[(0, "d1"), "support"] == 0.0
    assert np.isnan(table.loc[(0, "d1"), "tpr"])


def test_hard_membership_tpr():
    table = scg_tpr(
        [1, 1, 1], [1, 0, 0], [[0.9], [0.6], [0.4]], ["a"] * 3, membership="hard", threshold=0.5
    )
    row = table[table["class"] == 1].iloc[0]
    assert row["support"] == 2.0
    assert row["tpr"] == pytest.approx(0.5)


def test_tpr_accepts_score_matrix_predictions():
    scores = np.array([[0.2, 0.8], [0.9, 0.1], [0.4, 0.6]])
    from_scores = scg_tpr([1, 1, 0], scores, [[1.0], [1.0], [1.0]], ["a"] * 3)
    from_labels = scg_tpr([1, 1, 0], [1, 0, 1], [[1.0], [1.0], [1.0]], ["a"] * 3)
    pd.testing.assert_frame_equal(from_scores, from_labels)


def test_cdi_matches_scipy_and_drops_nan_pairs():
    rng = np.random.default_rng(1)
    c, e = rng.random(50), rng.random(50)
    e_with_nan = e.copy()
    e_with_nan[[3, 7]] = np.nan
    keep = ~np.isnan(e_with_nan)
    expected = abs(pearsonr(c[keep], e[keep]).statistic)
    assert coverage_disparity_index(c, e_with_nan) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("coverage", "error"),
    [
        ([0.1, 0.2], [0.3, 0.4]),
        ([0.1, 0.2, np.nan], [0.3, 0.4, 0.5]),
        ([0.5, 0.5, 0.5], [0.1, 0.2, 0.3]),
        ([0.1, 0.2, 0.3], [0.4, 0.4, 0.4]),
    ],
)
def test_cdi_undefined_is_nan_with_warning(coverage, error):
    with pytest.warns(UndefinedMetricWarning):
        assert np.isnan(coverage_disparity_index(coverage, error))


def _report_inputs(seed=0, n_train=600, n_test=400, k=3, s=4):
    rng = np.random.default_rng(seed)
    return dict(
        train_descriptors=rng.random((n_train, k)),
        train_labels=rng.integers(0, 2, n_train),
        train_subgroups=rng.integers(0, s, n_train),
        test_descriptors=rng.random((n_test, k)),
        test_labels=rng.integers(0, 2, n_test),
        test_predictions=rng.integers(0, 2, n_test),
        test_subgroups=rng.integers(0, s, n_test),
    )


def test_report_agrees_with_its_parts():
    inputs = _report_inputs()
    report = semantic_fairness_report(**inputs)
    coverage = scg_coverage(
        inputs["train_descriptors"], inputs["train_labels"], inputs["train_subgroups"]
    )
    tpr = scg_tpr(
        inputs["test_labels"],
        inputs["test_predictions"],
        inputs["test_descriptors"],
        inputs["test_subgroups"],
    )
    assert report.table["coverage"].to_numpy() == pytest.approx(coverage["coverage"].to_numpy())
    assert report.table["tpr"].to_numpy() == pytest.approx(tpr["tpr"].to_numpy())
    expected_cdi = abs(pearsonr(coverage["coverage"], 1 - tpr["tpr"]).statistic)
    assert report.cdi == pytest.approx(expected_cdi, abs=1e-12)
    assert report.tpr_worst == pytest.approx(tpr["tpr"].min())
    assert report.tpr_std == pytest.approx(np.std(tpr["tpr"].to_numpy()))
    assert report.n_valid == 24


def test_report_min_support_excludes_small_groups():
    inputs = _report_inputs()
    full = semantic_fairness_report(**inputs)
    cut = float(full.table["support"].median())
    report = semantic_fairness_report(**inputs, min_support=cut)
    valid = full.table[full.table["support"] >= cut]
    assert report.n_valid == len(valid)
    assert report.tpr_worst == pytest.approx(valid["tpr"].min())
    expected = abs(pearsonr(valid["coverage"], valid["error"]).statistic)
    assert report.cdi == pytest.approx(expected, abs=1e-12)


def test_report_keeps_subgroups_absent_from_train_with_zero_coverage():
    inputs = _report_inputs()
    inputs["test_subgroups"] = inputs["test_subgroups"].copy()
    inputs["test_subgroups"][:20] = 9  # a subgroup never seen in training
    report = semantic_fairness_report(**inputs)
    unseen = report.table[report.table["subgroup"] == 9]
    assert (unseen["n_train"] == 0).all()
    assert (unseen["coverage"] == 0.0).all()
    assert unseen["valid"].any()


def test_report_single_class_test_set():
    inputs = _report_inputs()
    inputs["test_labels"] = np.ones_like(inputs["test_labels"])
    report = semantic_fairness_report(**inputs)
    assert set(report.table.loc[report.table["valid"], "class"]) == {1}
    assert report.n_valid == 12
    assert np.isfinite(report.cdi)


def test_report_without_any_support_is_nan_with_warning():
    inputs = _report_inputs(n_test=10)
    inputs["test_descriptors"] = np.zeros_like(inputs["test_descriptors"])
    with pytest.warns(UndefinedMetricWarning):
        report = semantic_fairness_report(**inputs)
    assert np.isnan(report.cdi) and np.isnan(report.tpr_worst) and np.isnan(report.tpr_std)
    assert report.n_valid == 0


def test_bootstrap_intervals_cover_the_estimate_and_are_reproducible():
    inputs = _report_inputs()
    a = semantic_fairness_report(**inputs, n_boot=100, seed=3)
    b = semantic_fairness_report(**inputs, n_boot=100, seed=3)
    c = semantic_fairness_report(**inputs, n_boot=100, seed=4)
    assert a.intervals == b.intervals
    assert a.intervals != c.intervals
    assert len(a.bootstrap) == 100
    for name in ("cdi", "tpr_worst", "tpr_std"):
        low, high = a.intervals[name]
        assert low < high
    # The replicate mean of TPR_std sits near the estimate.
    assert a.bootstrap["tpr_std"].mean() == pytest.approx(a.tpr_std, rel=0.5)
    assert semantic_fairness_report(**inputs).intervals == {}


def test_bootstrap_of_perfect_predictions_has_degenerate_tpr_interval():
    inputs = _report_inputs()
    inputs["test_predictions"] = inputs["test_labels"]
    with pytest.warns(UndefinedMetricWarning):
        report = semantic_fairness_report(**inputs, n_boot=20)
    assert report.intervals["tpr_worst"] == (1.0, 1.0)
    assert np.isnan(report.intervals["cdi"][0])


def test_report_accepts_string_labels_and_score_predictions():
    inputs = _report_inputs()
    names = np.array(["benign", "mel"])
    scores = np.eye(2)[inputs["test_predictions"]]
    as_strings = semantic_fairness_report(
        **{
            **inputs,
            "train_labels": names[inputs["train_labels"]],
            "test_labels": names[inputs["test_labels"]],
            "test_predictions": scores,
        }
    )
    reference = semantic_fairness_report(**inputs)
    assert as_strings.cdi == pytest.approx(reference.cdi)
    assert set(as_strings.table["class"]) == {"benign", "mel"}


def test_torch_tensors_are_accepted():
    torch = pytest.importorskip("torch")
    inputs = _report_inputs()
    as_tensors = {k: torch.as_tensor(v) for k, v in inputs.items()}
    assert semantic_fairness_report(**as_tensors).cdi == pytest.approx(
        semantic_fairness_report(**inputs).cdi
    )
    half = torch.as_tensor(inputs["train_descriptors"]).to(torch.bfloat16)
    table = scg_coverage(half, inputs["train_labels"], inputs["train_subgroups"])
    assert len(table) == 2 * 3 * 4


def test_import_does_not_import_torch():
    code = "import sys, semcov_metrics; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_bootstrap_leaves_fortran_ordered_descriptors_untouched():
    # DataFrame.to_numpy() of float columns is Fortran-ordered; the bootstrap once multiplied
    # such a matrix in place by the resampling counts, corrupting the input and the intervals.
    inputs = _report_inputs()
    frame = pd.DataFrame(inputs["test_descriptors"], columns=["a", "b", "c"])
    fortran = np.asfortranarray(inputs["test_descriptors"])
    before = frame.to_numpy().copy()
    reference = semantic_fairness_report(**inputs, n_boot=30)
    for descriptors in (frame, fortran):
        report = semantic_fairness_report(
            **{**inputs, "test_descriptors": descriptors},
            n_boot=30,
            descriptor_names=["d0", "d1", "d2"],
        )
        assert report.intervals == reference.intervals
    np.testing.assert_array_equal(frame.to_numpy(), before)
    np.testing.assert_array_equal(fortran, inputs["test_descriptors"])
