"""The CDI null floor, hard beside soft membership, per-class CDI and the minimum support rule,
against exact enumeration, scipy, an independent pandas computation and hand-computed tables."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import pearsonr

from semcov_metrics import (
    UndefinedMetricWarning,
    cdi_null_floor,
    coverage_error_test,
    scg_coverage,
    semantic_fairness_report,
    tail_sensitivity_at_specificity,
)
from semcov_metrics.report import DEFAULT_MIN_SUPPORT


def _exact_floor(coverage, error) -> float:
    """Mean |r| over every permutation of the errors, each r from scipy."""
    values = [
        abs(pearsonr(coverage, [error[i] for i in order]).statistic)
        for order in itertools.permutations(range(len(error)))
    ]
    return float(np.mean(values))


@pytest.mark.parametrize(
    ("coverage", "error"),
    [
        ([0.1, 0.4, 0.8, 0.9], [0.6, 0.5, 0.2, 0.1]),
        ([0.05, 0.3, 0.31, 0.7, 0.95], [0.9, 0.1, 0.4, 0.4, 0.0]),
    ],
)
def test_null_floor_enumerates_small_sets_exactly(coverage, error):
    expected = _exact_floor(coverage, error)
    # 4! = 24 and 5! = 120 permutations are at most n_permutations: enumerated, seed irrelevant
    assert cdi_null_floor(coverage, error, n_permutations=200) == pytest.approx(expected, abs=1e-12)
    assert cdi_null_floor(coverage, error, n_permutations=200, seed=7) == pytest.approx(expected)


def test_null_floor_by_random_permutations_is_seeded_and_near_the_exact_value():
    coverage = [0.05, 0.3, 0.31, 0.7, 0.95, 0.5]
    error = [0.9, 0.1, 0.4, 0.4, 0.0, 0.2]
    exact = _exact_floor(coverage, error)  # 720 permutations
    estimate = cdi_null_floor(coverage, error, n_permutations=400, seed=1)
    assert estimate == cdi_null_floor(coverage, error, n_permutations=400, seed=1)
    assert estimate != cdi_null_floor(coverage, error, n_permutations=400, seed=2)
    # std of |r| over permutations < 0.35 here, so 4 standard errors of 400 draws < 0.07
    assert estimate == pytest.approx(exact, abs=0.07)


def test_null_floor_with_91_scgs_matches_the_analytic_value():
    # Under permutation E[r^2] = 1 / (G - 1) exactly and r is nearly normal, so
    # E|r| ~ sqrt(2 / (pi (G - 1))) = 0.0841 for G = 91.
    analytic = math.sqrt(2.0 / (math.pi * 90))
    rng = np.random.default_rng(0)
    floors = [
        cdi_null_floor(rng.random(91), rng.random(91), n_permutations=2000, seed=s)
        for s in range(5)
    ]
    assert analytic == pytest.approx(0.0841, abs=1e-4)
    for floor in floors:
        assert floor == pytest.approx(analytic, abs=0.006)
    assert np.mean(floors) == pytest.approx(analytic, abs=0.003)


def test_null_floor_drops_nan_pairs_and_is_undefined_below_three():
    coverage = [0.1, 0.4, np.nan, 0.8, 0.9, 0.3]
    error = [0.6, 0.5, 0.3, 0.2, 0.1, np.nan]
    kept = _exact_floor([0.1, 0.4, 0.8, 0.9], [0.6, 0.5, 0.2, 0.1])
    assert cdi_null_floor(coverage, error) == pytest.approx(kept)
    with pytest.warns(UndefinedMetricWarning, match="need 3"):
        assert np.isnan(cdi_null_floor([0.1, 0.2, np.nan], [0.3, 0.1, 0.2]))
    with pytest.warns(UndefinedMetricWarning, match="constant"):
        assert np.isnan(cdi_null_floor([0.1, 0.2, 0.3], [0.3, 0.3, 0.3]))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_permutations": 0}, ValueError, "n_permutations"),
        ({"n_permutations": 2.5}, TypeError, "n_permutations"),
        ({"n_permutations": True}, TypeError, "n_permutations"),
        ({"seed": "1"}, TypeError, "seed"),
    ],
)
def test_null_floor_bad_options_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        cdi_null_floor([0.1, 0.2, 0.3], [0.3, 0.1, 0.2], **kwargs)


def _hand_inputs():
    # One descriptor, classes 0/1, subgroups a/b; one training sample per cell fixes coverage.
    train = dict(
        train_descriptors=[[0.6], [0.4], [0.8], [0.2]],
        train_labels=[0, 0, 1, 1],
        train_subgroups=["a", "b", "a", "b"],
    )
    test = dict(
        test_descriptors=[[0.9], [0.8], [0.7], [0.3], [0.5], [0.5], [1.0], [0.6]],
        test_labels=[1, 1, 1, 1, 0, 0, 0, 0],
        test_predictions=[1, 1, 0, 0, 0, 0, 0, 1],
        test_subgroups=["a", "a", "a", "b", "a", "a", "b", "b"],
    )
    return {**train, **test}


def test_minimum_support_keeps_a_near_empty_scg_from_setting_tpr_worst():
    # Soft support / TPR per SCG (class, subgroup):
    #   (0, a): 1.0, 1.0       (0, b): 1.6, 1.0 / 1.6 = 0.625
    #   (1, a): 2.4, 1.7 / 2.4  (1, b): 0.3, 0.0  <- one missed image at p = 0.3
    inputs = _hand_inputs()
    with pytest.warns(UndefinedMetricWarning, match="class 0"):
        everything = semantic_fairness_report(**inputs, min_support=0.0)
    assert everything.n_valid == 4
    assert everything.tpr_worst == 0.0
    with pytest.warns(UndefinedMetricWarning, match="class 1"):
        default = semantic_fairness_report(**inputs)
    assert DEFAULT_MIN_SUPPORT == 1.0 and default.min_support == 1.0
    assert default.n_valid == 3  # (1, b) is reported but does not count
    kept = np.array([1.0, 0.625, 1.7 / 2.4])
    assert default.tpr_worst == pytest.approx(0.625)
    assert default.tpr_std == pytest.approx(np.std(kept))
    coverage = [0.6, 0.4, 0.8]
    assert default.cdi == pytest.approx(abs(pearsonr(coverage, 1 - kept).statistic))
    table = default.table.set_index(["class", "subgroup"])
    assert table.loc[(1, "b"), "support"] == pytest.approx(0.3)
    assert not table.loc[(1, "b"), "valid"]
    # the rule is "at least": support exactly 1.0 counts
    assert table.loc[(0, "a"), "support"] == pytest.approx(1.0) and table.loc[(0, "a"), "valid"]
    # Hard membership at 0.5: (1, b) has no member; TPRs 1, 0.5, 2/3 on the other three
    hard = np.array([1.0, 0.5, 2 / 3])
    assert default.cdi_hard == pytest.approx(abs(pearsonr(coverage, 1 - hard).statistic))
    assert list(table["valid_hard"]) == [True, True, True, False]
    assert table.loc[(0, "b"), "tpr_hard"] == pytest.approx(0.5)
    # per class: 2 valid SCGs each, too few for a correlation
    assert set(default.cdi_per_class) == {0, 1}
    assert all(np.isnan(v) for v in default.cdi_per_class.values())


def test_hard_membership_report_has_equal_cdi_and_cdi_hard():
    inputs = _hand_inputs()
    with pytest.warns(UndefinedMetricWarning):
        report = semantic_fairness_report(**inputs, membership="hard")
    assert report.cdi == pytest.approx(report.cdi_hard)
    assert report.tpr_worst == pytest.approx(0.5)


def _random_inputs(seed=0, n_train=3000, n_test=1500, k=4, s=5):
    rng = np.random.default_rng(seed)
    y_train, y_test = rng.integers(0, 2, n_train), rng.integers(0, 2, n_test)
    p_test = rng.random((n_test, k))
    # Errors that depend on the descriptors, so the CDIs are not all noise.
    wrong = rng.random(n_test) < 0.15 + 0.5 * p_test[:, 0] * (y_test == 1)
    return dict(
        train_descriptors=rng.random((n_train, k)) ** (1 + np.arange(k)),
        train_labels=y_train,
        train_subgroups=rng.integers(0, s, n_train),
        test_descriptors=p_test,
        test_labels=y_test,
        test_predictions=np.where(wrong, 1 - y_test, y_test),
        test_subgroups=rng.integers(0, s, n_test),
    )


def _pandas_scgs(inputs, min_support, hard):
    """Coverage, support and TPR per SCG with pandas groupby, independently of the library."""
    k = inputs["train_descriptors"].shape[1]
    names = [f"d{j}" for j in range(k)]
    train = pd.DataFrame(inputs["train_descriptors"], columns=names)
    train["class"], train["subgroup"] = inputs["train_labels"], inputs["train_subgroups"]
    coverage = train.groupby(["class", "subgroup"])[names].mean().stack()
    test = pd.DataFrame(inputs["test_descriptors"], columns=names)
    if hard:
        test[names] = (test[names] >= 0.5).astype(float)
    test["class"], test["subgroup"] = inputs["test_labels"], inputs["test_subgroups"]
    correct = (inputs["test_predictions"] == inputs["test_labels"]).astype(float)
    support = test.groupby(["class", "subgroup"])[names].sum().stack()
    hits = test[names].mul(correct, axis=0)
    hits[["class", "subgroup"]] = test[["class", "subgroup"]]
    tpr = hits.groupby(["class", "subgroup"])[names].sum().stack() / support
    frame = pd.DataFrame({"coverage": coverage, "support": support, "tpr": tpr})
    return frame[(frame["support"] >= min_support) & frame["tpr"].notna()]


def test_cdi_hard_and_per_class_match_an_independent_pandas_computation():
    inputs = _random_inputs()
    report = semantic_fairness_report(**inputs, min_support=5.0)
    soft = _pandas_scgs(inputs, 5.0, hard=False)
    hard = _pandas_scgs(inputs, 5.0, hard=True)
    assert report.n_valid == len(soft)
    assert report.cdi == pytest.approx(abs(pearsonr(soft["coverage"], 1 - soft["tpr"])[0]))
    assert report.cdi_hard == pytest.approx(abs(pearsonr(hard["coverage"], 1 - hard["tpr"])[0]))
    assert report.cdi_hard != pytest.approx(report.cdi)
    assert report.tpr_worst == pytest.approx(soft["tpr"].min())
    assert report.tpr_std == pytest.approx(soft["tpr"].std(ddof=0))
    for class_value, rows in soft.groupby(level="class"):
        expected = abs(pearsonr(rows["coverage"], 1 - rows["tpr"])[0])
        assert report.cdi_per_class[class_value] == pytest.approx(expected)
    # cdi_null is the mean of the report's null (coverage_error_test on the same inputs), not
    # the floor of SCGs shuffled one by one.
    test = coverage_error_test(
        scg_coverage(
            inputs["train_descriptors"], inputs["train_labels"], inputs["train_subgroups"]
        ),
        test_descriptors=inputs["test_descriptors"],
        test_labels=inputs["test_labels"],
        test_predictions=inputs["test_predictions"],
        test_subgroups=inputs["test_subgroups"],
        min_support=5.0,
    )
    assert report.cdi == pytest.approx(test.cdi)
    assert report.cdi_null == pytest.approx(test.null_mean)
    assert report.cdi_null_q95 == pytest.approx(test.null_q95)
    assert report.cdi_p_value == pytest.approx(test.p_value)
    assert report.slope.slope == pytest.approx(test.slope.slope)


def test_s95_tail_uses_the_valid_scgs_of_the_report():
    inputs = _random_inputs(seed=1)
    rng = np.random.default_rng(5)
    scores = np.clip(0.5 * inputs["test_labels"] + 0.6 * rng.random(1500), 0, 1)
    # A support floor at the median makes the valid set differ from the populated SCGs.
    cut = float(semantic_fairness_report(**inputs).table["support"].median())
    report = semantic_fairness_report(**inputs, test_scores=scores, min_support=cut)
    assert 0 < report.n_valid < (report.table["n_train"] > 0).sum()
    expected = tail_sensitivity_at_specificity(
        inputs["test_labels"],
        scores,
        inputs["test_descriptors"],
        inputs["test_subgroups"],
        report.table,
    )
    assert report.s95_tail == pytest.approx(expected)
    valid = report.table[report.table["valid"]]
    lowest = valid.nsmallest(math.ceil(0.3 * len(valid)), "coverage")
    populated = report.table[report.table["n_train"] > 0]
    assert set(lowest.index) != set(populated.nsmallest(len(lowest), "coverage").index)
    assert np.isnan(semantic_fairness_report(**inputs).s95_tail)


def test_bootstrap_gives_cdi_hard_an_interval_and_to_dict_is_json_ready():
    import json

    inputs = _random_inputs(seed=2)
    report = semantic_fairness_report(**inputs, n_boot=50, seed=1)
    low, high = report.intervals["cdi_hard"]
    assert low <= high
    payload = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert payload["cdi"] == pytest.approx(report.cdi)
    assert payload["cdi_interval"] == pytest.approx(list(report.intervals["cdi"]))
    assert payload["cdi_per_class"] == pytest.approx(
        {str(k): v for k, v in report.cdi_per_class.items()}
    )
    assert payload["n_scgs"] == len(report.table) == 2 * 4 * 5
    assert payload["s95_tail"] is None
    summary = report.summary()
    assert summary["cdi_class_1"] == report.cdi_per_class[1]
    assert summary["cdi_hard_low"] == low


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_permutations": 0}, ValueError, "n_permutations"),
        ({"tail_fraction": 0.0}, ValueError, "tail_fraction"),
        ({"test_scores": np.zeros(3)}, ValueError, "test_scores"),
        ({"test_scores": np.full(8, np.nan)}, ValueError, "test_scores"),
    ],
)
def test_report_bad_new_options_are_named(kwargs, error, match):
    with pytest.raises(error, match=match), warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        semantic_fairness_report(**_hand_inputs(), **kwargs)
