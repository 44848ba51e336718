"""Within-class bootstrap intervals: equal to a per-replicate loop, around the estimate, and
narrowing as 1/sqrt(n)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from semcov_metrics import coverage_bootstrap_intervals


def _loop(values, labels, subgroups, n_boot, seed):
    """Each replicate: u ~ U(0, 1)^N; stratum rows (stable order) resampled at floor(u·n)."""
    strata = pd.Series(list(zip(labels, subgroups, strict=True)))
    order = np.argsort(pd.factorize(strata, sort=True)[0], kind="stable")
    rng = np.random.default_rng(seed)
    replicates = []
    for _ in range(n_boot):
        u = rng.random(len(labels))
        picks = np.empty(len(labels), dtype=int)
        for key in sorted(set(strata)):
            positions = [r for r, i in enumerate(order) if strata[i] == key]
            members = order[positions]
            picks[positions] = members[(u[positions] * len(members)).astype(int)]
        frame = pd.DataFrame(values[picks]).assign(c=labels[picks], s=subgroups[picks])
        replicates.append(frame.groupby(["c", "s"]).mean())
    return replicates


@pytest.mark.parametrize("with_subgroups", [False, True])
def test_intervals_equal_a_loop_for_a_fixed_seed(with_subgroups):
    rng = np.random.default_rng(0)
    values = rng.random((60, 2))
    values[rng.random((60, 2)) < 0.15] = np.nan
    labels = rng.integers(0, 2, 60)
    subgroups = rng.choice(["x", "y"], 60) if with_subgroups else np.array(["-"] * 60)
    table = coverage_bootstrap_intervals(
        values, labels, subgroups if with_subgroups else None, n_boot=40, seed=3
    )
    replicates = _loop(values, labels, subgroups, 40, 3)
    for row in table.itertuples(index=False):
        key = (row[0], row.subgroup if with_subgroups else "-")
        column = int(row.descriptor[1:])
        draws = np.array([r.loc[key, column] for r in replicates], dtype=float)
        draws = draws[~np.isnan(draws)]
        assert row.boot_low == pytest.approx(np.quantile(draws, 0.025))
        assert row.boot_high == pytest.approx(np.quantile(draws, 0.975))
        assert row.boot_se == pytest.approx(draws.std())
        assert row.n_defined == len(draws)


def test_interval_holds_the_estimate_and_narrows_with_n():
    rng = np.random.default_rng(1)
    widths = {}
    for n in (400, 1600):
        values = (rng.random((n, 1)) < 0.3).astype(float)
        table = coverage_bootstrap_intervals(values, np.zeros(n, dtype=int), n_boot=800, seed=n)
        row = table.iloc[0]
        assert row.boot_low <= row.coverage <= row.boot_high
        widths[n] = row.boot_high - row.boot_low
    assert 1.6 <= widths[400] / widths[1600] <= 2.4


def test_cells_without_samples_stay_nan_and_keep_their_row():
    values = np.array([[0.2], [0.4], [0.8]])
    table = coverage_bootstrap_intervals(
        values, [0, 0, 1], ["x", "y", "x"], n_boot=20, subgroup_values=["x", "y"]
    )
    assert len(table) == 4
    empty = table[(table["class"] == 1) & (table["subgroup"] == "y")].iloc[0]
    assert empty.n_samples == 0 and np.isnan(empty.coverage) and np.isnan(empty.boot_low)
    with pytest.raises(ValueError, match="n_boot"):
        coverage_bootstrap_intervals(values, [0, 0, 1], n_boot=0)
