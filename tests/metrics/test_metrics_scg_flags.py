"""SCG error q-values: the z-test against scipy's chi-square on integer counts, the exact test
against scipy's Fisher test, class totals against pandas, q-values against scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from semcov_metrics import (
    UndefinedMetricWarning,
    scg_error_q_values,
    semantic_fairness_report,
)


@pytest.fixture(scope="module")
def audit():
    rng = np.random.default_rng(0)
    n = 1200
    p = rng.random((n, 3))
    y = rng.integers(0, 2, n)
    s = rng.choice(["arm", "leg", "trunk"], n)
    # Melanomas on the leg with much "pen" are missed far more often: one planted SCG.
    trap = (y == 1) & (s == "leg") & (p[:, 1] >= 0.5)
    wrong = rng.random(n) < np.where(trap, 0.7, 0.1)
    predictions = np.where(wrong, 1 - y, y)
    report = semantic_fairness_report(
        train_descriptors=p,
        train_labels=y,
        train_subgroups=s,
        test_descriptors=p,
        test_labels=y,
        test_predictions=predictions,
        test_subgroups=s,
        descriptor_names=["hair", "pen", "vessels"],
    )
    return report.table, y, predictions


def test_class_totals_and_misses_come_from_the_test_arrays(audit):
    table, y, predictions = audit
    out = scg_error_q_values(table, test_labels=y, test_predictions=predictions)
    frame = pd.DataFrame({"y": y, "miss": predictions != y})
    by_class = frame.groupby("y")["miss"].agg(["size", "mean"])
    for row in out.itertuples(index=False):
        assert row.class_support == by_class.loc[row[0], "size"]
        assert row.class_error == pytest.approx(by_class.loc[row[0], "mean"])
        assert row.misses == pytest.approx(row.support * (1 - row.tpr))
    np.testing.assert_allclose(
        out.loc[out["valid"], "q_value"],
        stats.false_discovery_control(out.loc[out["valid"], "p_value"]),
    )
    assert out["flagged"].equals(out["q_value"] < 0.05)
    # The planted SCG has the smallest p; its subgroup's other SCGs share some of its members.
    flagged = out[out["flagged"]]
    assert (flagged["class"] == 1).all() and (flagged["subgroup"] == "leg").all()
    worst = out.loc[out["p_value"].idxmin()]
    assert (worst["class"], worst["descriptor"], worst["subgroup"]) == (1, "pen", "leg")
    assert not out.loc[out["subgroup"] != "leg", "flagged"].any()


def test_hard_membership_z_test_equals_scipys_chi_square(audit):
    table, y, predictions = audit
    out = scg_error_q_values(table, test_labels=y, test_predictions=predictions, membership="hard")
    for row in out[out["valid_hard"]].itertuples(index=False):
        misses = round(row.support_hard * (1 - row.tpr_hard))
        n_rest = row.class_support - row.support_hard
        rest_misses = round(row.class_support * row.class_error) - misses
        counts = [[misses, row.support_hard - misses], [rest_misses, n_rest - rest_misses]]
        chi2 = stats.chi2_contingency(counts, correction=False).statistic
        sign = np.sign(misses / row.support_hard - rest_misses / n_rest)
        assert row.p_value == pytest.approx(stats.norm.sf(sign * np.sqrt(chi2)), rel=1e-9)


def test_fisher_method_equals_scipys_fisher_exact(audit):
    table, y, predictions = audit
    out = scg_error_q_values(
        table, test_labels=y, test_predictions=predictions, method="fisher", membership="hard"
    )
    for row in out[out["valid_hard"]].head(12).itertuples(index=False):
        misses = round(row.support_hard * (1 - row.tpr_hard))
        n_rest = round(row.class_support - row.support_hard)
        rest_misses = round(row.class_support * row.class_error) - misses
        counts = [[misses, round(row.support_hard) - misses], [rest_misses, n_rest - rest_misses]]
        expected = stats.fisher_exact(counts, alternative="greater").pvalue
        assert row.p_value == pytest.approx(expected, rel=1e-9)


def test_invalid_scgs_and_whole_class_scgs_are_not_tested():
    table = pd.DataFrame(
        {
            "class": [0, 0, 0],
            "descriptor": ["a", "b", "c"],
            "subgroup": ["x"] * 3,
            "support": [10.0, 4.0, 0.5],
            "tpr": [0.5, 0.5, 1.0],
            "valid": [True, True, False],
        }
    )
    with pytest.warns(UndefinedMetricWarning, match="whole class"):
        out = scg_error_q_values(table, test_labels=[0] * 10, test_predictions=[0] * 5 + [1] * 5)
    assert np.isnan(out["p_value"]).tolist() == [True, False, True]
    assert out["q_value"].iloc[1] == pytest.approx(out["p_value"].iloc[1])
    assert not out["flagged"].iloc[[0, 2]].any()


def test_bad_arguments_are_named(audit):
    table, y, predictions = audit
    with pytest.raises(ValueError, match="fdr"):
        scg_error_q_values(table, test_labels=y, test_predictions=predictions, fdr=1.5)
    with pytest.raises(ValueError, match="method"):
        scg_error_q_values(table, test_labels=y, test_predictions=predictions, method="t")
    with pytest.raises(ValueError, match="valid"):
        scg_error_q_values(table.drop(columns="valid"), test_labels=y, test_predictions=predictions)
