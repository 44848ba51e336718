"""CAS attributes, sampling weights, the CAS sampler and the low / middle / high subsets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from semcov_data import SemCovDataset, load_celeba, load_milk10k
from semcov_data.cas import (
    cas_attributes,
    cas_evaluation_subsets,
    cas_sampler,
    cas_scores,
    cas_weights,
)
from semcov_data.synthetic import SyntheticConfig, write_synthetic


def _hand_frame() -> pd.DataFrame:
    # Binarised (threshold 0.5): class 0 a=[1,1,1,0], b=[0,0,1,0]; class 1 a=[0,0,1], b=[1,1,1].
    return pd.DataFrame(
        {
            "MONET_a": [0.9, 0.8, 0.5, 0.1, 0.2, 0.3, 0.7],
            "MONET_b": [0.1, 0.2, 0.6, 0.4, 0.9, 0.7, 0.8],
            "label": [0, 0, 0, 0, 1, 1, 1],
        }
    )


def test_cas_weights_match_a_hand_computed_case():
    frame = _hand_frame()
    # Class 0: a=1 is the common value (rank 1), a=0 rank 2; b=0 rank 1, b=1 rank 2.
    # Class 1: a=0 rank 1, a=1 rank 2; b=1 is the only value (rank 1).
    expected_scores = np.array([2, 2, 3, 3, 2, 2, 3], dtype=float)
    np.testing.assert_array_equal(cas_scores(frame), expected_scores)
    powered = expected_scores**1.2
    np.testing.assert_allclose(cas_weights(frame), powered / powered.sum())
    np.testing.assert_allclose(
        cas_weights(frame, power=2.0), expected_scores**2 / (expected_scores**2).sum()
    )
    balanced = cas_weights(frame, balance_classes=True)
    np.testing.assert_allclose(balanced[:4], 0.5 * powered[:4] / powered[:4].sum())
    np.testing.assert_allclose(balanced[4:], 0.5 * powered[4:] / powered[4:].sum())


def test_scores_are_binarised_at_the_threshold():
    frame = pd.DataFrame({"MONET_x": [0.49, 0.5, 0.51, 0.9]})
    assert cas_attributes(frame)["MONET_x"].tolist() == [0, 1, 1, 1]
    assert cas_attributes(frame, threshold=0.6)["MONET_x"].tolist() == [0, 0, 0, 1]


def test_cas_sampler_draws_scarce_samples_more_often():
    # One class: 90 samples without either attribute (CAS 2), 10 with both (CAS 4).
    present = np.r_[np.zeros(90), np.ones(10)]
    frame = pd.DataFrame({"true_a": present, "true_b": present, "label": 0})
    rare = present == 1
    share = 10 * 4**1.2 / (90 * 2**1.2 + 10 * 4**1.2)  # 0.203, against 0.1 uniformly
    draws = np.fromiter(cas_sampler(frame, "true", num_samples=20_000, seed=0), dtype=int)
    assert rare[draws].mean() == pytest.approx(share, abs=0.015)
    again = np.fromiter(cas_sampler(frame, "true", num_samples=20_000, seed=0), dtype=int)
    np.testing.assert_array_equal(draws, again)
    # A larger power favours the scarce samples more.
    sharper = np.fromiter(
        cas_sampler(frame, "true", power=3.0, num_samples=20_000, seed=0), dtype=int
    )
    assert rare[sharper].mean() > rare[draws].mean() + 0.1


def test_evaluation_subsets_split_30_30_40_by_cas():
    # Class 0: attribute values with frequencies 4, 3, 2, 1 → CAS 1, 2, 3, 4 (one attribute).
    values = ["a"] * 4 + ["b"] * 3 + ["c"] * 2 + ["d"]
    frame = pd.DataFrame({"kind": values, "label": 0})
    subsets = cas_evaluation_subsets(frame, "columns", columns=["kind"])
    assert (subsets == "low").sum() == 3
    assert (subsets == "middle").sum() == 3
    assert (subsets == "high").sum() == 4
    scores = cas_scores(frame, "columns", columns=["kind"])
    assert scores[subsets == "high"].min() >= scores[subsets == "middle"].max()
    assert scores[subsets == "middle"].min() >= scores[subsets == "low"].max()
    assert set(subsets[6:]) == {"high"}  # the c and d samples are the scarcest


def test_sample_table_dataset_and_frame_agree(milk10k_challenge):
    table = load_milk10k(milk10k_challenge)
    weights = cas_weights(table)
    assert weights.shape == (len(table),)
    assert weights.sum() == pytest.approx(1.0)
    frame_weights = cas_weights(
        table.frame.drop(columns="label"),
        columns=list(table.descriptor_names),
        labels=table.labels,
    )
    np.testing.assert_allclose(weights, frame_weights)
    dataset = SemCovDataset(table, check_images=False)
    np.testing.assert_allclose(cas_weights(dataset), weights)
    assert len(list(cas_sampler(dataset, seed=1))) == len(table)


def test_celeba_attributes_are_read_as_hard_binary(celeba):
    table = load_celeba(celeba, curated=False, descriptors=["Bangs", "Eyeglasses", "Young"])
    attributes = cas_attributes(table, "binary")
    assert list(attributes.columns) == ["Bangs", "Eyeglasses", "Young"]
    np.testing.assert_array_equal(
        attributes.to_numpy(), table.frame[["Bangs", "Eyeglasses", "Young"]].to_numpy()
    )
    assert cas_weights(table, "binary").sum() == pytest.approx(1.0)


def test_synthetic_true_descriptors_are_the_default_true_columns(tmp_path):
    root = write_synthetic(tmp_path, SyntheticConfig(n_lesions=40, image_size=16), workers=1)
    table = load_milk10k(root)
    attributes = cas_attributes(table, "true")
    assert list(attributes.columns) == [c for c in table.frame.columns if c.startswith("true_")]
    assert len(attributes.columns) == 7
    np.testing.assert_array_equal(
        attributes.to_numpy(), table.frame[list(attributes.columns)].to_numpy()
    )
    assert cas_weights(table, "true").sum() == pytest.approx(1.0)
    assert cas_evaluation_subsets(table, "true").shape == (40,)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda f: cas_attributes(f, "clip"), ValueError, "source"),
        (lambda f: cas_attributes(f, threshold=1.5), ValueError, "threshold"),
        (lambda f: cas_attributes(f, threshold=True), TypeError, "threshold"),
        (lambda f: cas_attributes(f.values), TypeError, "data"),
        (lambda f: cas_attributes(f, columns="MONET_a"), TypeError, "columns"),
        (lambda f: cas_attributes(f, columns=["MONET_a", "MONET_a"]), ValueError, "columns"),
        (lambda f: cas_attributes(f, columns=["nope"]), ValueError, "nope"),
        (lambda f: cas_attributes(f, "true"), ValueError, "columns"),
        (lambda f: cas_attributes(f, "columns"), ValueError, "columns"),
        (lambda f: cas_attributes(f, "binary"), ValueError, "columns"),
        (lambda f: cas_attributes(f, "binary", columns=["MONET_a"]), ValueError, "0/1"),
        (lambda f: cas_attributes(f.iloc[:0]), ValueError, "no rows"),
        (lambda f: cas_scores(f.drop(columns="label")), ValueError, "labels"),
        (lambda f: cas_scores(f, labels=[0, 1]), ValueError, "labels"),
        (lambda f: cas_weights(f, power=0), ValueError, "power"),
        (lambda f: cas_weights(f, power="1"), TypeError, "power"),
        (lambda f: cas_weights(f, balance_classes=1), TypeError, "balance_classes"),
        (lambda f: cas_sampler(f, seed=1.5), TypeError, "seed"),
        (lambda f: cas_sampler(f, num_samples=0), ValueError, "num_samples"),
        (lambda f: cas_evaluation_subsets(f, fractions=(0.5, 0.5, 0.5)), ValueError, "fractions"),
    ],
)
def test_bad_input_names_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call(_hand_frame())


@pytest.mark.parametrize(
    ("values", "match"),
    [([0.2, np.nan], "missing"), ([0.2, 1.2], r"\[0, 1\]"), ([0.2, "high"], "non-numeric")],
)
def test_bad_attribute_values_name_the_column(values, match):
    frame = pd.DataFrame({"MONET_z": values, "label": [0, 1]})
    with pytest.raises(ValueError, match=f"MONET_z.*{match}|{match}.*MONET_z"):
        cas_attributes(frame)


def test_missing_categorical_values_are_refused():
    frame = pd.DataFrame({"kind": ["a", None], "label": [0, 0]})
    with pytest.raises(ValueError, match=r"'kind'.*missing"):
        cas_attributes(frame, "columns", columns=["kind"])
