"""SCG index from any table: subgroups (unknown, bins, combinations) and coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from semcov_data import AGE_BINS, build_scg_index, subgroup_labels


def test_empty_subgroup_cells_become_unknown():
    table = pd.DataFrame({"site": ["arm", None, "", " leg "], "tone": [3.0, None, 1.0, 2.0]})
    assert subgroup_labels(table, "site").tolist() == ["arm", "unknown", "unknown", "leg"]
    assert subgroup_labels(table, "tone").tolist() == ["3", "unknown", "1", "2"]


def test_age_bins_and_combinations():
    table = pd.DataFrame({"age": [5, 30, 44, 60, 75, 90, None], "sex": ["m", "f"] * 3 + [None]})
    ages = subgroup_labels(table, "age", bins={"age": AGE_BINS}).tolist()
    assert ages == ["<30", "30-44", "30-44", "60-74", "75+", "75+", "unknown"]
    both = subgroup_labels(table, ["sex", "age"], bins={"age": (0, 50, 200)}).tolist()
    assert both[:2] == ["m|<50", "f|<50"]
    assert both[-1] == "unknown|unknown"
    with pytest.raises(ValueError, match="increasing"):
        subgroup_labels(table, "age", bins={"age": (10, 5)})


def test_scg_index_coverage_is_the_training_mean():
    table = pd.DataFrame(
        {
            "y": ["mel", "mel", "nev", "nev", "mel"],
            "hair": [0.9, 0.5, 0.2, 0.4, 0.1],
            "ink": [0.0, 1.0, 1.0, 0.0, 0.0],
            "site": ["arm", "arm", "arm", None, "leg"],
        }
    )
    index = build_scg_index(table, class_column="y", descriptor_columns=["hair", "ink"],
                            subgroup_columns="site")  # fmt: skip
    assert index.n_scgs == 2 * 2 * 3
    coverage = index.coverage().set_index(["class", "descriptor", "subgroup"])
    assert coverage.loc[("mel", "hair", "arm"), "coverage"] == pytest.approx(0.7)
    assert coverage.loc[("mel", "hair", "arm"), "n_train"] == 2
    assert coverage.loc[("nev", "hair", "unknown"), "coverage"] == pytest.approx(0.4)
    assert coverage.loc[("nev", "ink", "leg"), "n_train"] == 0
    # Only training rows count; the grid keeps its full size.
    train = index.coverage(np.array([True, False, True, True, True]))
    assert len(train) == 12
    row = train.set_index(["class", "descriptor", "subgroup"]).loc[("mel", "hair", "arm")]
    assert row["coverage"] == pytest.approx(0.9)
    hard = index.coverage(threshold=0.5).set_index(["class", "descriptor", "subgroup"])
    assert hard.loc[("mel", "hair", "arm"), "coverage"] == pytest.approx(1.0)


def test_scg_index_checks_its_input():
    table = pd.DataFrame({"y": ["a", "b"], "d": [0.5, np.nan], "s": ["x", "y"]})
    with pytest.raises(ValueError, match=r"column 'd'.*NaN"):
        build_scg_index(table, class_column="y", descriptor_columns=["d"], subgroup_columns="s")
    with pytest.raises(ValueError, match=r"\['q'\]"):
        build_scg_index(table, class_column="y", descriptor_columns=["q"], subgroup_columns="s")
    filled = build_scg_index(table, class_column="y", descriptor_columns=["d"],
                             subgroup_columns="s", descriptor_fill=0.0)  # fmt: skip
    assert filled.descriptors[1, 0] == 0.0
    with pytest.raises(ValueError, match="not on the given subgroup axis"):
        build_scg_index(table, class_column="y", descriptor_columns=["d"], subgroup_columns="s",
                        descriptor_fill=0.0, subgroup_values=["x"])  # fmt: skip
