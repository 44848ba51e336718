"""The class-permutation test: its statistic against pandas, its p-values against a loop over
the same permutations and an exact enumeration, its size under the null, its power on a planted
difference, and its q-values against scipy."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.stats import false_discovery_control, kstest

from semcov_metrics import UndefinedMetricWarning, class_permutation_test


def _variance(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Between-class population variance of the NaN-skipping class means, per column."""
    means = pd.DataFrame(values).groupby(codes).mean()
    return means.var(ddof=0).to_numpy()


def test_statistic_is_the_variance_of_class_coverage():
    rng = np.random.default_rng(0)
    values = rng.random((120, 3))
    values[rng.random((120, 3)) < 0.25] = np.nan
    labels = rng.integers(0, 3, 120)
    test = class_permutation_test(values, labels, n_permutations=99)
    np.testing.assert_allclose(test["statistic"], _variance(values, labels))


@pytest.mark.parametrize("missing", [False, True])
def test_p_values_equal_a_loop_over_the_same_permutations(missing):
    rng = np.random.default_rng(1)
    values = (rng.random((14, 2)) < 0.5).astype(float)
    if missing:
        values[rng.random((14, 2)) < 0.2] = np.nan
    labels = np.array([0] * 6 + [1] * 8)
    n_permutations = 299
    test = class_permutation_test(values, labels, n_permutations=n_permutations, seed=5)
    permutations = np.random.default_rng(5).permuted(np.tile(labels, (n_permutations, 1)), axis=1)
    observed = _variance(values, labels)
    reached = np.zeros(2)
    for codes in permutations:
        reached += _variance(values, codes) >= observed - 1e-12
    np.testing.assert_allclose(test["p_value"], (1 + reached) / (1 + n_permutations))


def test_p_value_is_close_to_the_exact_permutation_p_value():
    values = np.array([[0.9], [0.8], [0.7], [0.2], [0.6], [0.1], [0.3], [0.2]])
    labels = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    observed = _variance(values, labels)[0]
    exact = []
    for chosen in itertools.combinations(range(8), 4):
        codes = np.zeros(8, dtype=int)
        codes[list(chosen)] = 1
        exact.append(_variance(values, codes)[0] >= observed - 1e-12)
    p_exact = float(np.mean(exact))
    p = class_permutation_test(values, labels, n_permutations=3999)["p_value"].iloc[0]
    assert p == pytest.approx(p_exact, abs=0.02)


def test_p_values_are_uniform_under_the_null():
    p_values = []
    for seed in range(200):
        rng = np.random.default_rng(seed)
        values, labels = rng.random((150, 2)), rng.integers(0, 2, 150)
        test = class_permutation_test(values, labels, n_permutations=99, seed=seed)
        p_values.append(test["p_value"].to_numpy())
    p_values = np.array(p_values)
    rejection = (p_values <= 0.05).mean(axis=0)
    assert ((rejection >= 0.01) & (rejection <= 0.09)).all()
    for column in p_values.T:
        assert kstest(column, "uniform").pvalue > 0.01


def test_a_planted_difference_is_detected_and_q_values_are_scipys():
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 2, 600)
    values = np.column_stack(
        [rng.random(600) < 0.3, rng.random(600) < 0.2 + 0.2 * labels, rng.random(600)]
    ).astype(float)
    test = class_permutation_test(values, labels, n_permutations=199)
    assert test["p_value"].iloc[1] == pytest.approx(1 / 200)
    assert test["p_value"].iloc[0] > 0.05
    np.testing.assert_allclose(test["q_value"], false_discovery_control(test["p_value"]))
    assert (test["effect_ratio"].iloc[1] > 10) and (test["n_permutations"] == 199).all()


def test_a_descriptor_labelled_in_one_class_only_has_no_p_value():
    values = np.array([[0.1, np.nan], [0.5, np.nan], [0.2, 0.4], [0.9, 0.8]])
    with pytest.warns(UndefinedMetricWarning) as caught:
        test = class_permutation_test(values, [0, 0, 1, 1], n_permutations=99)
    messages = " ".join(str(w.message) for w in caught)
    assert "no labelled sample" in messages and "fewer than 2 classes" in messages
    assert np.isnan(test["p_value"].iloc[1]) and np.isnan(test["q_value"].iloc[1])
    assert test["q_value"].iloc[0] == pytest.approx(test["p_value"].iloc[0])


def test_too_few_permutations_or_one_class_are_refused():
    with pytest.raises(ValueError, match="n_permutations"):
        class_permutation_test([[0.1], [0.2]], [0, 1], n_permutations=98)
    with pytest.raises(ValueError, match="2 classes"):
        class_permutation_test([[0.1], [0.2]], [0, 0], n_permutations=99)
