"""CAS ranked by a reference (training) split, unseen values, and the seeded tie-break of the
low / middle / high subsets, against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from semcov_metrics import cas_subsets, compositional_attribute_scarcity


def test_ranks_come_from_the_reference_frequencies():
    # Reference (training): colour red x3, blue x1; size big x2, small x2 (tie -> both rank 1).
    reference = pd.DataFrame(
        {"colour": ["red", "red", "red", "blue"], "size": ["big", "small", "big", "small"]}
    )
    # The test split is mostly blue: by its own frequencies blue would rank 1.
    test = pd.DataFrame({"colour": ["blue", "blue", "blue", "red"], "size": ["big"] * 4})
    by_reference = compositional_attribute_scarcity(test, reference=reference)
    assert by_reference.tolist() == [3.0, 3.0, 3.0, 2.0]  # blue = 2, red = 1; big = 1
    by_itself = compositional_attribute_scarcity(test)
    assert by_itself.tolist() == [2.0, 2.0, 2.0, 3.0]


def test_values_unseen_in_the_reference_class_rank_after_every_seen_value():
    reference = pd.DataFrame({"site": ["arm", "arm", "leg", "arm", "trunk"]})
    reference_labels = [0, 0, 0, 1, 1]
    test = pd.DataFrame({"site": ["trunk", "leg", "arm", "leg"]})
    scores = compositional_attribute_scarcity(
        test, [0, 0, 1, 1], reference=reference, reference_labels=reference_labels
    )
    # class 0 sees arm (2, rank 1), leg (1, rank 2): trunk is unseen -> 2 + 1 = 3.
    # class 1 sees arm and trunk once each (both rank 1): leg is unseen -> 2 + 1 = 3.
    assert scores.tolist() == [3.0, 2.0, 1.0, 3.0]


def test_reference_arguments_are_checked():
    reference = pd.DataFrame({"a": [0, 1], "b": [1, 1]})
    with pytest.raises(ValueError, match="columns"):
        compositional_attribute_scarcity(pd.DataFrame({"a": [0]}), reference=reference)
    with pytest.raises(ValueError, match="together"):
        compositional_attribute_scarcity(reference, [0, 1], reference=reference)
    with pytest.raises(ValueError, match="without reference"):
        compositional_attribute_scarcity(reference, reference_labels=[0, 1])
    with pytest.raises(ValueError, match=r"never shows: \['2'\]"):
        compositional_attribute_scarcity(
            reference, [0, 2], reference=reference, reference_labels=[0, 1]
        )


def test_ties_at_a_boundary_are_broken_by_a_seeded_shuffle():
    # Scores: two clear lows, six tied at 5, two clear highs. Low = 3 samples: both lows and
    # one of the tied; middle = 3 of the tied; high = the last 2 tied and both highs.
    scores = np.array([1, 5, 5, 9, 5, 2, 5, 5, 9, 5], dtype=float)
    tied = scores == 5
    by_order = cas_subsets(scores, seed=None)
    assert by_order.tolist() == [
        "low", "low", "middle", "high", "middle", "low", "middle", "high", "high", "high",
    ]  # fmt: skip
    draws = [cas_subsets(scores, seed=s) for s in range(20)]
    for subsets in draws:
        assert (subsets == "low").sum() == 3 and (subsets == "high").sum() == 4
        assert set(subsets[[0, 5]]) == {"low"} and set(subsets[[3, 8]]) == {"high"}
    np.testing.assert_array_equal(cas_subsets(scores, seed=3), cas_subsets(scores, seed=3))
    patterns = {tuple(d[tied]) for d in draws}
    assert len(patterns) > 5  # the tied samples land in different subsets
    # every tied sample is sometimes 'low', the first one by row order always was
    assert all(any(d[i] == "low" for d in draws) for i in np.flatnonzero(tied))
    with pytest.raises(TypeError, match="seed"):
        cas_subsets(scores, seed=1.5)
