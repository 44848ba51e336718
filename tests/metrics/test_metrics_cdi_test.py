"""The cell-permutation test of CDI and the coverage–error slope, against brute-force loops
with scipy and a sample-level least-squares fit with a hand-built cluster-robust sandwich."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from semcov_metrics import (
    UndefinedMetricWarning,
    cdi_permutation_test,
    coverage_error_slope,
    coverage_error_test,
    scg_coverage,
)
from semcov_metrics.cell_permutation import cell_permutations
from semcov_metrics.null_resampling import rate_permutations


def _table(rng, n_classes=2, descriptors="ab", n_subgroups=3):
    grid = pd.MultiIndex.from_product(
        [range(n_classes), list(descriptors), range(n_subgroups)],
        names=["class", "descriptor", "subgroup"],
    ).to_frame(index=False)
    grid["coverage"] = rng.random(len(grid))
    grid["error"] = rng.random(len(grid))
    grid["valid"] = True
    return grid


def _brute_force_p(table, orders_per_class, exact):
    """|r| under every given permutation, moving SCG errors by hand and using scipy."""
    lookup = table.set_index(["class", "descriptor", "subgroup"])
    observed = abs(stats.pearsonr(table["coverage"], table["error"]).statistic)
    null = []
    for combo in orders_per_class:
        errors = [
            lookup.loc[
                (row["class"], row["descriptor"], combo[row["class"]][row["subgroup"]]), "error"
            ]
            for _, row in table.iterrows()
        ]
        null.append(abs(stats.pearsonr(table["coverage"], errors).statistic))
    null = np.array(null)
    hits = np.sum(null >= observed - 1e-12)
    return observed, (hits / len(null) if exact else (1 + hits) / (1 + len(null))), null


def test_exact_enumeration_matches_a_scipy_loop():
    rng = np.random.default_rng(1)
    table = _table(rng)
    test = cdi_permutation_test(table, n_permutations=99)
    assert test.exact and test.n_permutations == 36  # (3!)^2
    orders = list(itertools.product(itertools.permutations(range(3)), repeat=2))
    observed, p_value, null = _brute_force_p(table, orders, exact=True)
    assert test.statistic == pytest.approx(observed, abs=1e-12)
    assert test.p_value == pytest.approx(p_value, abs=1e-12)
    assert test.null_mean == pytest.approx(null.mean(), abs=1e-12)
    assert test.null_q95 == pytest.approx(np.quantile(null, 0.95), abs=1e-12)


def test_random_permutations_match_a_scipy_loop_on_the_same_draws():
    rng = np.random.default_rng(2)
    table = _table(rng, n_subgroups=6, descriptors="abc")
    test = cdi_permutation_test(table, n_permutations=120, seed=5)
    assert not test.exact and test.n_permutations == 120
    index, _ = cell_permutations(2, 6, 120, 5)
    orders = [
        {c: {s: int(index[b, c * 6 + s] - c * 6) for s in range(6)} for c in range(2)}
        for b in range(len(index))
    ]
    _, p_value, null = _brute_force_p(table, orders, exact=False)
    assert test.p_value == pytest.approx(p_value, abs=1e-12)
    np.testing.assert_allclose(test.null, null, atol=1e-12)


def test_invalid_scgs_move_with_their_cell():
    rng = np.random.default_rng(3)
    table = _table(rng)
    table.loc[table["subgroup"] == 0, "valid"] = False
    test = cdi_permutation_test(table, n_permutations=99)
    valid = table[table["valid"]]
    assert test.statistic == pytest.approx(
        abs(stats.pearsonr(valid["coverage"], valid["error"]).statistic)
    )
    # A permutation that sends the invalid cell elsewhere leaves 8 of 12 SCGs; none is lost.
    assert np.isfinite(test.null).all()


def _audit(rng, *, effect, cell_sd, n_per_cell=60, n_subgroups=8, n_descriptors=6):
    """A simulated audit: per-cell descriptor prevalence varies; error depends on the cell (a
    random effect) and, with ``effect``, on the coverage of the sample's concepts."""
    n_classes = 2
    cell_level = rng.uniform(0.05, 0.6, (n_classes, n_subgroups, 1))
    prevalence = np.clip(
        cell_level + rng.normal(0, 0.08, (n_classes, n_subgroups, n_descriptors)), 0.02, 0.9
    )
    rows = []
    for c, s in itertools.product(range(n_classes), range(n_subgroups)):
        for split in ("train", "test"):
            present = rng.random((n_per_cell, n_descriptors)) < prevalence[c, s]
            rows.append((split, c, s, present))
    train = [r for r in rows if r[0] == "train"]
    train_p = np.concatenate([r[3] for r in train]).astype(float)
    train_y = np.concatenate([np.full(n_per_cell, r[1]) for r in train])
    train_s = np.concatenate([np.full(n_per_cell, r[2]) for r in train])
    coverage = scg_coverage(train_p, train_y, train_s)
    cov = coverage_tensor_of(coverage, n_classes, n_descriptors, n_subgroups)
    test = [r for r in rows if r[0] == "test"]
    test_p = np.concatenate([r[3] for r in test]).astype(float)
    test_y = np.concatenate([np.full(n_per_cell, r[1]) for r in test])
    test_s = np.concatenate([np.full(n_per_cell, r[2]) for r in test])
    cell_effect = rng.normal(0, cell_sd, (n_classes, n_subgroups))
    mass = np.maximum(test_p.sum(axis=1), 1)
    kappa = (test_p * cov[test_y, :, test_s]).sum(axis=1) / mass
    miss_p = np.clip(0.3 + cell_effect[test_y, test_s] + effect * (kappa - 0.35), 0.01, 0.99)
    miss = rng.random(len(test_y)) < miss_p
    predictions = np.where(miss, 1 - test_y, test_y)
    return coverage, test_p, test_y, predictions, test_s


def coverage_tensor_of(table, n_classes, n_descriptors, n_subgroups):
    """Coverage as (class, descriptor, subgroup), from the table's rows in that order."""
    ordered = table.sort_values(["class", "descriptor", "subgroup"])
    return ordered["coverage"].to_numpy().reshape(n_classes, n_descriptors, n_subgroups)


def test_slope_equals_sample_level_least_squares_with_a_hand_sandwich():
    rng = np.random.default_rng(4)
    coverage, p, y, predictions, s = _audit(rng, effect=-0.6, cell_sd=0.05)
    fit = coverage_error_slope(
        coverage,
        test_descriptors=p,
        test_labels=y,
        test_predictions=predictions,
        test_subgroups=s,
        n_permutations=199,
    )
    cov = coverage_tensor_of(coverage, 2, 6, 8)
    keep = p.sum(axis=1) > 0
    kappa = (p * cov[y, :, s]).sum(axis=1)[keep] / p.sum(axis=1)[keep]
    miss = (predictions != y)[keep].astype(float)
    design = np.column_stack([(y[keep] == 0), (y[keep] == 1), kappa]).astype(float)
    beta, *_ = np.linalg.lstsq(design, miss, rcond=None)
    assert fit.slope == pytest.approx(beta[2], abs=1e-10)
    residual = miss - design @ beta
    bread = np.linalg.inv(design.T @ design)
    clusters = (y * 8 + s)[keep]
    meat = sum(
        np.outer(
            design[clusters == k].T @ residual[clusters == k],
            design[clusters == k].T @ residual[clusters == k],
        )
        for k in np.unique(clusters)
    )
    g, n = len(np.unique(clusters)), len(miss)
    variance = g / (g - 1) * (n - 1) / (n - 3) * (bread @ meat @ bread)
    assert fit.standard_error == pytest.approx(np.sqrt(variance[2, 2]), rel=1e-8)
    half = stats.t.ppf(0.975, g - 1) * np.sqrt(variance[2, 2])
    assert fit.interval == pytest.approx((beta[2] - half, beta[2] + half), rel=1e-8)
    assert fit.n_samples == keep.sum() and fit.n_excluded == (~keep).sum()
    assert fit.n_clusters == 16


def test_null_replicates_match_a_pandas_and_scipy_loop_on_the_same_draws():
    rng = np.random.default_rng(5)
    coverage, p, y, predictions, s = _audit(rng, effect=-0.5, cell_sd=0.05, n_subgroups=3)
    test = coverage_error_test(
        coverage,
        test_descriptors=p,
        test_labels=y,
        test_predictions=predictions,
        test_subgroups=s,
        n_permutations=99,
        seed=7,
    )
    # Replay the null's random draws in the same order, then compute every replicate's SCG
    # errors with a pandas groupby and its CDI with scipy.
    cov = coverage_tensor_of(coverage, 2, 6, 3)
    cells = y * 3 + s
    order = np.argsort(cells, kind="stable")
    counts = np.bincount(cells, minlength=6)
    miss = (predictions != y).astype(float)
    rate = np.bincount(cells, miss, minlength=6) / counts
    replay = np.random.default_rng(7)
    source = rate_permutations(3, counts > 0, 99, replay)
    drawn = np.zeros((99, len(y)))
    start = 0
    for k in range(6):
        rows = order[start : start + counts[k]]
        drawn[:, rows] = replay.random((99, counts[k])) < rate[source[:, k], None]
        start += counts[k]
    frame = pd.DataFrame({"c": y, "s": s})
    valid_frame = scg_support(p, y, s, predictions)
    null = []
    for b in range(99):
        rows = []
        for d in range(6):
            weighted = frame.assign(w=p[:, d], m=p[:, d] * drawn[b])
            sums = weighted.groupby(["c", "s"])[["w", "m"]].sum()
            for (c, k), row in sums.iterrows():
                rows.append((c, f"d{d}", k, row["m"] / row["w"] if row["w"] else np.nan))
        errors = pd.DataFrame(rows, columns=["class", "descriptor", "subgroup", "null_error"])
        merged = valid_frame.merge(errors).merge(coverage)
        merged = merged[merged["valid"]]
        null.append(abs(stats.pearsonr(merged["coverage"], merged["null_error"]).statistic))
    np.testing.assert_allclose(test.null, null, atol=1e-10)
    hits = np.sum(np.array(null) >= test.cdi - 1e-12)
    assert test.p_value == pytest.approx((1 + hits) / 100)
    assert test.null_q95 == pytest.approx(np.quantile(null, 0.95))
    # The slope's null: the same draws, refitted by least squares with class intercepts.
    keep = p.sum(axis=1) > 0
    kappa = (p * cov[y, :, s]).sum(axis=1)[keep] / p.sum(axis=1)[keep]
    design = np.column_stack([(y[keep] == 0), (y[keep] == 1), kappa]).astype(float)
    slopes = [np.linalg.lstsq(design, row[keep], rcond=None)[0][2] for row in drawn]
    hits = np.sum(np.abs(slopes) >= abs(test.slope.slope) - 1e-12)
    assert test.slope.p_value == pytest.approx((1 + hits) / 100)


def _reject_rates(effect, cell_sd, n_audits, seed):
    rng = np.random.default_rng(seed)
    cdi, slope, naive = 0, 0, 0
    for _ in range(n_audits):
        coverage, p, y, predictions, s = _audit(rng, effect=effect, cell_sd=cell_sd)
        table = coverage.copy()
        support = scg_support(p, y, s, predictions)
        table = table.merge(support, on=["class", "descriptor", "subgroup"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            test = coverage_error_test(
                coverage,
                test_descriptors=p,
                test_labels=y,
                test_predictions=predictions,
                test_subgroups=s,
                n_permutations=199,
                seed=1,
            )
        cdi += test.p_value <= 0.05
        slope += test.slope.p_value <= 0.05
        # The SCG-level permutation: errors shuffled one SCG at a time.
        valid = table[table["valid"]]
        r = abs(stats.pearsonr(valid["coverage"], valid["error"]).statistic)
        perm = rng.permuted(np.broadcast_to(valid["error"].to_numpy(), (199, len(valid))), axis=1)
        null = np.abs([stats.pearsonr(valid["coverage"], row).statistic for row in perm])
        naive += (1 + np.sum(null >= r)) / 200 <= 0.05
    return cdi / n_audits, slope / n_audits, naive / n_audits


def scg_support(p, y, s, predictions):
    rows = []
    correct = predictions == y
    for c, k in itertools.product(np.unique(y), np.unique(s)):
        members = (y == c) & (s == k)
        for d in range(p.shape[1]):
            support = p[members, d].sum()
            tpr = (p[members, d] * correct[members]).sum() / support if support else np.nan
            rows.append((c, f"d{d}", k, support, 1 - tpr, support >= 1))
    return pd.DataFrame(
        rows, columns=["class", "descriptor", "subgroup", "support", "error", "valid"]
    )


def test_cell_effects_do_not_fool_the_test_but_fool_the_scg_permutation():
    cdi, slope, naive = _reject_rates(effect=0.0, cell_sd=0.12, n_audits=60, seed=10)
    assert cdi <= 0.12 and slope <= 0.12
    assert naive >= 0.2  # SCGs of a cell share samples: shuffling them one by one over-rejects


def test_a_planted_slope_is_detected():
    cdi, slope, _ = _reject_rates(effect=-0.8, cell_sd=0.05, n_audits=20, seed=11)
    assert cdi >= 0.8 and slope >= 0.8


def test_bad_input_is_named():
    rng = np.random.default_rng(0)
    table = _table(rng)
    with pytest.raises(ValueError, match="n_permutations must be >= 99"):
        cdi_permutation_test(table, n_permutations=50)
    with pytest.raises(ValueError, match="missing the column"):
        cdi_permutation_test(table.drop(columns="coverage"))
    with pytest.raises(ValueError, match="more than once"):
        cdi_permutation_test(pd.concat([table, table.iloc[:1]]))
    coverage = table[["class", "descriptor", "subgroup", "coverage"]]
    with pytest.raises(ValueError, match="n_permutations"):
        coverage_error_slope(
            coverage,
            test_descriptors=np.ones((4, 2)),
            test_labels=[0, 1, 0, 1],
            test_predictions=[0, 1, 1, 0],
            test_subgroups=[0, 1, 2, 0],
            n_permutations=10,
        )


def test_undefined_cases_warn_and_return_nan():
    table = pd.DataFrame(
        {
            "class": [0, 0],
            "descriptor": ["a", "a"],
            "subgroup": [0, 1],
            "coverage": [0.1, 0.2],
            "error": [0.3, 0.4],
            "valid": [True, True],
        }
    )
    with pytest.warns(UndefinedMetricWarning, match="fewer than 3"):
        test = cdi_permutation_test(table, n_permutations=99)
    assert np.isnan(test.p_value) and np.isnan(test.statistic)
    coverage = pd.DataFrame(
        {
            "class": [0, 0, 1, 1],
            "descriptor": ["a"] * 4,
            "subgroup": [0, 1, 0, 1],
            "coverage": [0.5] * 4,
        }
    )
    with pytest.warns(UndefinedMetricWarning, match="does not vary"):
        fit = coverage_error_slope(
            coverage,
            test_descriptors=np.ones((4, 1)),
            test_labels=[0, 0, 1, 1],
            test_predictions=[0, 1, 0, 1],
            test_subgroups=[0, 1, 0, 1],
            n_permutations=99,
        )
    assert np.isnan(fit.slope) and np.isnan(fit.p_value)
