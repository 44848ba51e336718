"""The worst-intersection search against a brute-force pandas computation over every class,
descriptor pair and subgroup."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from semcov_metrics import worst_intersections

NAMES = ["hair", "pen", "vessels", "gel"]


@pytest.fixture(scope="module")
def search():
    rng = np.random.default_rng(0)
    n_train, n_test = 900, 700
    train = rng.random((n_train, 4)), rng.integers(0, 2, n_train), rng.choice(list("ab"), n_train)
    p, y, s = rng.random((n_test, 4)), rng.integers(0, 2, n_test), rng.choice(list("ab"), n_test)
    trap = (p[:, 0] >= 0.5) & (p[:, 3] >= 0.5) & (s == "b")
    predictions = np.where(rng.random(n_test) < np.where(trap, 0.5, 0.1), 1 - y, y)
    result = worst_intersections(
        train_descriptors=train[0],
        train_labels=train[1],
        train_subgroups=train[2],
        test_descriptors=p,
        test_labels=y,
        test_predictions=predictions,
        test_subgroups=s,
        descriptor_names=NAMES,
        min_support=30,
        top=None,
    )
    return result, train, (p, y, s, predictions)


def _brute_force(train, test, min_support):
    p, y, s, predictions = test
    rows = []
    for c, (i, j), g in itertools.product((0, 1), itertools.combinations(range(4), 2), "ab"):
        members = (y == c) & (s == g) & (p[:, i] >= 0.5) & (p[:, j] >= 0.5)
        cell = (train[1] == c) & (train[2] == g)
        both = cell & (train[0][:, i] >= 0.5) & (train[0][:, j] >= 0.5)
        rows.append(
            {
                "class": c,
                "intersection": f"{NAMES[i]} & {NAMES[j]}",
                "subgroup": g,
                "support": int(members.sum()),
                "misses": int((members & (predictions != y)).sum()),
                "class_error": float((predictions[y == c] != c).mean()),
                "train_coverage": both.sum() / cell.sum(),
                "n_class": int((y == c).sum()),
                "class_misses": int((predictions[y == c] != c).sum()),
            }
        )
    frame = pd.DataFrame(rows)
    frame["error"] = frame["misses"] / frame["support"]
    return frame, frame[frame["support"] >= min_support]


def test_every_tested_intersection_matches_the_brute_force(search):
    result, train, test = search
    everything, tested = _brute_force(train, test, 30)
    assert result.n_candidates == len(everything) == 2 * 6 * 2
    assert result.n_tested == len(tested) == len(result.table)
    assert result.n_below_min_support == int((everything["support"] < 30).sum())
    assert result.n_empty == int((everything["support"] == 0).sum())
    merged = result.table.merge(
        tested, on=["class", "intersection", "subgroup"], suffixes=("", "_expected")
    )
    assert len(merged) == len(tested)
    for column in ("support", "misses", "error", "class_error", "train_coverage"):
        np.testing.assert_allclose(merged[column], merged[f"{column}_expected"])
    np.testing.assert_allclose(merged["error_lift"], merged["error"] / merged["class_error"])
    for row in merged.itertuples(index=False):
        counts = [
            [row.misses, row.support - row.misses],
            [
                row.class_misses - row.misses,
                row.n_class - row.support - row.class_misses + row.misses,
            ],
        ]
        expected = stats.fisher_exact(counts, alternative="greater").pvalue
        assert row.p_value == pytest.approx(expected, rel=1e-9)
    np.testing.assert_allclose(merged["q_value"], stats.false_discovery_control(merged["p_value"]))


def test_table_is_sorted_by_lift_and_finds_the_planted_pair(search):
    result, _, _ = search
    lifts = result.table["error_lift"].to_numpy()
    assert (np.diff(lifts) <= 0).all()
    top = result.table.iloc[:2]
    assert set(top["intersection"]) == {"hair & gel"} and set(top["subgroup"]) == {"b"}
    assert top["flagged"].all()


def test_top_and_bad_arguments():
    rng = np.random.default_rng(1)
    p, y = rng.random((80, 3)), rng.integers(0, 2, 80)
    kwargs = dict(
        train_descriptors=p,
        train_labels=y,
        train_subgroups=np.zeros(80, dtype=int),
        test_descriptors=p,
        test_labels=y,
        test_predictions=1 - y,
        test_subgroups=np.zeros(80, dtype=int),
    )
    assert len(worst_intersections(**kwargs, top=2, min_support=1).table) == 2
    with pytest.raises(ValueError, match="min_support"):
        worst_intersections(**kwargs, min_support=0)
    with pytest.raises(ValueError, match="threshold"):
        worst_intersections(**kwargs, threshold=2.0)
    one = {**kwargs, "train_descriptors": p[:, :1], "test_descriptors": p[:, :1]}
    with pytest.raises(ValueError, match="at least 2 descriptors"):
        worst_intersections(**one)
