"""Class-balanced subsampling against an independent loop over the same draws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from semcov_metrics import class_balanced_subsampling


def _data():
    rng = np.random.default_rng(0)
    labels = rng.choice(["a", "b", "c"], 700, p=[0.7, 0.2, 0.1])
    values = rng.random((700, 3)) * np.where(labels == "a", 0.5, 1.0)[:, None]
    values[rng.random((700, 3)) < 0.1] = np.nan
    return values, labels


def test_cells_match_a_loop_with_pandas_group_means():
    values, labels = _data()
    result = class_balanced_subsampling(values, labels, n_repeats=30, seed=4)
    take = int(pd.Series(labels).value_counts().min())
    rng = np.random.default_rng(4)
    members = [np.flatnonzero(labels == c) for c in ("a", "b", "c")]
    draws = []
    for _ in range(30):
        chosen = np.concatenate(
            [rng.choice(m, take, replace=False) if len(m) > take else m for m in members]
        )
        draws.append(pd.DataFrame(values[chosen]).groupby(labels[chosen]).mean().to_numpy())
    stack = np.stack(draws)
    table = result.table
    np.testing.assert_allclose(table["balanced_mean"], stack.mean(axis=0).ravel())
    np.testing.assert_allclose(table["balanced_sd"], stack.std(axis=0, ddof=1).ravel())
    np.testing.assert_allclose(table["balanced_low"], np.quantile(stack, 0.025, axis=0).ravel())
    full = pd.DataFrame(values).groupby(labels).mean().to_numpy().ravel()
    np.testing.assert_allclose(table["coverage"], full)
    assert (table["n_drawn"] == take).all() and result.n_per_class == take
    first = stack[0].ravel()
    spearman = pd.Series(full).corr(pd.Series(first), method="spearman")
    assert result.repeats["spearman"].iloc[0] == pytest.approx(spearman)
    assert result.repeats["mean_abs_diff"].iloc[0] == pytest.approx(np.abs(full - first).mean())


def test_a_class_smaller_than_n_per_class_is_kept_whole():
    values, labels = _data()
    result = class_balanced_subsampling(values, labels, n_repeats=5, n_per_class=100)
    table = result.table.set_index("class")
    smallest = (labels == "c").sum()
    assert smallest < 100
    assert (table.loc["c", "n_drawn"] == smallest).all()
    assert np.allclose(table.loc["c", "balanced_sd"], 0.0)
    assert (table.loc["a", "n_drawn"] == 100).all()
    assert result.summary()["n_repeats"] == 5


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="n_repeats"):
        class_balanced_subsampling([[0.1], [0.2]], [0, 1], n_repeats=1)
    with pytest.raises(ValueError, match="n_per_class"):
        class_balanced_subsampling([[0.1], [0.2]], [0, 1], n_per_class=0)
