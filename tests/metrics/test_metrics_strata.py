"""Coverage strata at the quartiles, and each band's pooled TPR, ECE and reliability curve
against a sample-level pandas computation and a hand-written weighted ECE."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from semcov_metrics import (
    UndefinedMetricWarning,
    coverage_strata,
    semantic_fairness_report,
    stratum_metrics,
    stratum_reliability,
)


def test_strata_follow_the_quartiles_and_leave_nan_unbanded():
    rng = np.random.default_rng(0)
    values = rng.random(41)
    values[[3, 7]] = np.nan
    bands, (q_low, q_high) = coverage_strata(values)
    finite = values[np.isfinite(values)]
    assert (q_low, q_high) == pytest.approx(tuple(np.quantile(finite, [0.25, 0.75])))
    for value, band in zip(values, bands, strict=True):
        if np.isnan(value):
            assert band == ""
        elif value <= q_low:
            assert band == "Tail"
        elif value >= q_high:
            assert band == "Head"
        else:
            assert band == "Middle"
    assert (bands == "Tail").sum() == (finite <= q_low).sum()


def test_tie_rule_when_the_quartiles_coincide():
    values = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.4])
    tail, thresholds = coverage_strata(values)
    assert thresholds == (0.0, 0.0)
    assert tail.tolist() == ["Tail"] * 5 + ["Head"]
    head, _ = coverage_strata(values, tie="head")
    assert head.tolist() == ["Head"] * 6


def test_strata_keep_the_input_shape_and_refuse_bad_levels():
    bands, _ = coverage_strata(np.arange(12.0).reshape(3, 4) / 12)
    assert bands.shape == (3, 4)
    with pytest.raises(ValueError, match="low"):
        coverage_strata([0.1, 0.2], low=0.8, high=0.5)
    with pytest.raises(ValueError, match="tie"):
        coverage_strata([0.1, 0.2], tie="middle")
    with pytest.warns(UndefinedMetricWarning):
        bands, thresholds = coverage_strata([np.nan, np.nan])
    assert np.isnan(thresholds).all() and bands.tolist() == ["", ""]


NAMES = ["hair", "pen", "vessels"]


@pytest.fixture(scope="module")
def audit():
    rng = np.random.default_rng(3)
    n_train, n_test = 1500, 800
    p_train, p_test = rng.random((n_train, 3)) ** [1, 2, 3], rng.random((n_test, 3)) ** [1, 2, 3]
    y_train, y_test = rng.integers(0, 2, n_train), rng.integers(0, 2, n_test)
    s_train, s_test = rng.choice(list("abcd"), n_train), rng.choice(list("abcd"), n_test)
    scores = np.clip(0.35 * y_test + 0.65 * rng.random(n_test) * (1 - 0.5 * p_test[:, 1]), 0, 1)
    predictions = (scores >= 0.5).astype(int)
    report = semantic_fairness_report(
        train_descriptors=p_train,
        train_labels=y_train,
        train_subgroups=s_train,
        test_descriptors=p_test,
        test_labels=y_test,
        test_predictions=predictions,
        test_subgroups=s_test,
        descriptor_names=NAMES,
    )
    table = report.table.copy()
    table["band"] = coverage_strata(np.where(table["valid"], table["coverage"], np.nan))[0]
    arrays = {"test_descriptors": p_test, "test_labels": y_test, "test_subgroups": s_test}
    return table, arrays, scores, predictions


def _memberships(table, arrays, predictions) -> pd.DataFrame:
    """One row per (test sample, descriptor): its SCG's band, its weight, its correctness."""
    p, y, s = arrays["test_descriptors"], arrays["test_labels"], arrays["test_subgroups"]
    long = pd.DataFrame(
        {
            "sample": np.repeat(np.arange(len(y)), 3),
            "class": np.repeat(y, 3),
            "subgroup": np.repeat(s, 3),
            "descriptor": np.tile(NAMES, len(y)),
            "weight": p.ravel(),
            "correct": np.repeat(predictions == y, 3),
        }
    )
    scgs = table.loc[table["valid"], ["class", "descriptor", "subgroup", "band"]]
    return long.merge(scgs, on=["class", "descriptor", "subgroup"], how="inner")


def test_band_tpr_matches_a_sample_level_groupby(audit):
    table, arrays, scores, predictions = audit
    out = stratum_metrics(table, **arrays, test_scores=scores).set_index("band")
    long = _memberships(table, arrays, predictions)
    long["hit"] = long["weight"] * long["correct"]
    grouped = long.groupby("band")[["hit", "weight"]].sum()
    for band in ("Tail", "Middle", "Head"):
        assert out.loc[band, "tpr"] == pytest.approx(
            grouped.loc[band, "hit"] / grouped.loc[band, "weight"]
        )
        assert out.loc[band, "support"] == pytest.approx(grouped.loc[band, "weight"])
        in_band = table[table["valid"] & (table["band"] == band)]
        assert out.loc[band, "n_scgs"] == len(in_band)
        assert out.loc[band, "coverage_low"] == in_band["coverage"].min()
    assert out.loc["Tail", "coverage_high"] <= out.loc["Middle", "coverage_low"]


def _hand_ece(weight, positive, score, n_bins=15):
    total = 0.0
    for b in range(n_bins):
        low, high = b / n_bins, (b + 1) / n_bins
        inside = (score >= low) & ((score < high) if b < n_bins - 1 else (score <= high))
        total += abs(np.sum(weight[inside] * (positive[inside] - score[inside])))
    return total / weight.sum()


def test_band_ece_and_reliability_match_a_hand_computation(audit):
    table, arrays, scores, predictions = audit
    out = stratum_metrics(table, **arrays, test_scores=scores).set_index("band")
    curves = stratum_reliability(table, **arrays, test_scores=scores)
    long = _memberships(table, arrays, predictions)
    positive = (arrays["test_labels"] == 1).astype(float)
    for band in ("Tail", "Middle", "Head"):
        rows = long[long["band"] == band]
        weight = np.bincount(rows["sample"], weights=rows["weight"], minlength=len(scores))
        expected = _hand_ece(weight, positive, scores)
        assert out.loc[band, "ece"] == pytest.approx(expected)
        curve = curves[curves["band"] == band]
        assert len(curve) == 15
        assert curve["weight"].sum() == pytest.approx(weight.sum())
        busy = curve.dropna().iloc[0]
        inside = (scores >= busy["bin_lower"]) & (scores < busy["bin_upper"])
        assert busy["accuracy"] == pytest.approx(
            np.sum(weight[inside] * positive[inside]) / np.sum(weight[inside])
        )


def test_ece_is_undefined_without_scores_or_for_three_classes(audit):
    table, arrays, _, _ = audit
    with pytest.warns(UndefinedMetricWarning, match="test_scores"):
        out = stratum_metrics(table, **arrays)
    assert out["ece"].isna().all() and out["tpr"].notna().all()
    three = table.copy()
    three.loc[three.index[:3], "class"] = 2
    three.loc[three.index[:3], "valid"] = False
    with pytest.warns(UndefinedMetricWarning, match="2 classes"):
        out = stratum_metrics(three, **arrays, test_scores=np.full(800, 0.5))
    assert out["ece"].isna().all()


def test_hard_membership_reads_the_hard_columns(audit):
    table, arrays, scores, _ = audit
    hard = table.assign(
        band=coverage_strata(np.where(table["valid_hard"], table["coverage"], np.nan))[0]
    )
    out = stratum_metrics(hard, **arrays, test_scores=scores, membership="hard").set_index("band")
    for band in ("Tail", "Middle", "Head"):
        rows = hard[hard["valid_hard"] & (hard["band"] == band)]
        expected = (rows["support_hard"] * rows["tpr_hard"]).sum() / rows["support_hard"].sum()
        assert out.loc[band, "tpr"] == pytest.approx(expected)
        assert out.loc[band, "support"] == rows["support_hard"].sum()


def test_a_table_from_other_test_arrays_is_refused(audit):
    table, arrays, scores, _ = audit
    other = {**arrays, "test_descriptors": arrays["test_descriptors"] ** 2}
    with pytest.raises(ValueError, match="does not match the test arrays"):
        stratum_metrics(table, **other, test_scores=scores)
    with pytest.raises(ValueError, match="does not match the test arrays"):
        stratum_metrics(table, **arrays, test_scores=scores, membership="hard", threshold=0.3)
    with pytest.raises(ValueError, match="band"):
        stratum_metrics(table.drop(columns="band"), **arrays)


def test_a_descriptor_frame_is_matched_by_column_name(audit):
    table, arrays, scores, _ = audit
    frame = pd.DataFrame(arrays["test_descriptors"], columns=NAMES)[["vessels", "hair", "pen"]]
    by_name = stratum_metrics(table, **{**arrays, "test_descriptors": frame}, test_scores=scores)
    by_order = stratum_metrics(table, **arrays, test_scores=scores)
    pd.testing.assert_frame_equal(by_name, by_order)
    with pytest.raises(ValueError, match="not the table's descriptors"):
        stratum_metrics(
            table, **{**arrays, "test_descriptors": frame.rename(columns={"pen": "ink"})}
        )
