"""Masked class × descriptor coverage against pandas' NaN-skipping group means."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from semcov_metrics import UndefinedMetricWarning, class_descriptor_coverage


def _data(seed: int = 0, n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    values = rng.random((n, 4))
    values[rng.random((n, 4)) < 0.2] = np.nan
    labels = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    return values, labels


def test_coverage_equals_pandas_group_means_over_observed_labels():
    values, labels = _data()
    table = class_descriptor_coverage(values, labels, descriptor_names=list("wxyz"))
    frame = pd.DataFrame(values, columns=list("wxyz")).assign(label=labels)
    means = frame.groupby("label").mean()  # skips NaN
    counts = frame.groupby("label").count()
    for row in table.itertuples(index=False):
        assert row.coverage == pytest.approx(means.loc[row[0], row.descriptor])
        assert row.n_labelled == counts.loc[row[0], row.descriptor]
        assert row.n_samples == (labels == row[0]).sum()
        prevalence = np.nanmean(frame[row.descriptor])
        assert row.global_prevalence == pytest.approx(prevalence)
        assert row.coverage_minus_global == pytest.approx(row.coverage - prevalence)


def test_mask_and_nan_mark_the_same_missing_labels():
    values, labels = _data(1)
    observed = ~np.isnan(values)
    # Masked-out entries may hold anything, even values outside [0, 1].
    filled = np.where(observed, values, 7.0)
    by_mask = class_descriptor_coverage(filled, labels, mask=observed)
    by_nan = class_descriptor_coverage(values, labels)
    pd.testing.assert_frame_equal(by_mask, by_nan)


def test_a_class_without_labels_has_nan_coverage_and_a_warning():
    values = np.array([[0.2, np.nan], [0.4, np.nan], [0.9, 1.0]])
    with pytest.warns(UndefinedMetricWarning, match="no labelled sample"):
        table = class_descriptor_coverage(values, [0, 0, 1], classes=[0, 1, 2])
    assert table.set_index(["class", "descriptor"]).loc[(0, "d1"), "coverage"] != 0.0
    assert np.isnan(table.set_index(["class", "descriptor"]).loc[(0, "d1"), "coverage"])
    assert table[table["class"] == 2]["n_samples"].eq(0).all()
    assert table[table["class"] == 2]["coverage"].isna().all()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"descriptors": [[1.5], [0.2]]}, ValueError, "descriptors"),
        ({"descriptors": [[np.inf], [0.2]]}, ValueError, "descriptors"),
        ({"mask": [[1, 1], [1, 1]]}, ValueError, "mask"),
        ({"mask": [[2], [1]]}, ValueError, "mask"),
        ({"labels": [0]}, ValueError, "same number"),
        ({"descriptor_names": ["a", "b"]}, ValueError, "descriptor_names"),
    ],
)
def test_bad_input_names_the_argument(kwargs, error, match):
    inputs = {"descriptors": [[0.1], [0.2]], "labels": [0, 1], **kwargs}
    descriptors, labels = inputs.pop("descriptors"), inputs.pop("labels")
    with pytest.raises(error, match=match):
        class_descriptor_coverage(descriptors, labels, **inputs)
