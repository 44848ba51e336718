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
    true_columns = [c for c in table.frame.columns if c.startswith("true_")]
    metadata = ["site", "skin_tone_class", "sex", "age_approx"]
    assert list(attributes.columns) == [*true_columns, *metadata]
    assert len(true_columns) == 7
    np.testing.assert_array_equal(
        attributes[true_columns].to_numpy(), table.frame[true_columns].to_numpy()
    )
    assert list(cas_attributes(table, "true", metadata=None).columns) == true_columns
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


def _metadata_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "MONET_a": [0.9, 0.8, 0.1, 0.7, 0.6, 0.2],
            "site": ["arm", "arm", "leg", "arm", None, "leg"],
            "sex": ["f", "m", "f", "f", "f", "m"],
            "age_approx": [20, 35, 50, 65, 80, np.nan],
            "label": [0, 0, 0, 1, 1, 1],
        }
    )


def test_metadata_are_composed_beside_the_descriptors():
    frame = _metadata_frame()
    attributes = cas_attributes(frame)
    assert list(attributes.columns) == ["MONET_a", "site", "sex", "age_approx"]
    assert attributes["site"].tolist() == ["arm", "arm", "leg", "arm", "unknown", "leg"]
    assert attributes["age_approx"].tolist() == ["<30", "30-44", "45-59", "60-74", "75+", "unknown"]
    # Class 0 (rows 0-2): a=1 x2 (rank 1), a=0 (2); arm x2 (1), leg (2); f x2 (1), m (2);
    # three distinct age bins (all rank 1).
    # Class 1 (rows 3-5): a=1 x2 (1), a=0 (2); arm, unknown, leg once each (1); f x2 (1), m (2);
    # three distinct age bins (1).
    expected = [
        1 + 1 + 1 + 1,
        1 + 1 + 2 + 1,
        2 + 2 + 1 + 1,
        1 + 1 + 1 + 1,
        1 + 1 + 1 + 1,
        2 + 1 + 2 + 1,
    ]
    np.testing.assert_array_equal(cas_scores(frame), expected)
    np.testing.assert_array_equal(cas_scores(frame, metadata=None), [1, 1, 2, 1, 1, 2])
    np.testing.assert_array_equal(
        cas_scores(frame, metadata=["sex"]), [1 + 1, 1 + 2, 2 + 1, 1 + 1, 1 + 1, 2 + 2]
    )


def test_the_isic_site_column_stands_in_for_site():
    frame = _metadata_frame().rename(columns={"site": "anatom_site_general"})
    assert list(cas_attributes(frame).columns) == [
        "MONET_a", "anatom_site_general", "sex", "age_approx",
    ]  # fmt: skip


def test_metadata_widen_the_weight_spread_beyond_descriptors_alone(tmp_path):
    root = write_synthetic(tmp_path, SyntheticConfig(n_lesions=300, image_size=16), workers=1)
    table = load_milk10k(root)
    alone = cas_weights(table, metadata=None)
    composed = cas_weights(table)
    # 7 binary descriptors: CAS in [7, 14], so the spread is at most 2^1.2 = 2.30
    assert alone.max() / alone.min() <= 2.0**1.2 + 1e-9
    assert composed.max() / composed.min() > alone.max() / alone.min()
    assert composed.max() / composed.min() > 2.3
    scores = cas_scores(table)
    assert composed.max() / composed.min() == pytest.approx((scores.max() / scores.min()) ** 1.2)


def test_evaluation_subsets_are_ranked_by_training_frequencies():
    # Training: kind a is common, b rare. The test split is mostly b: by its own frequencies
    # b would be common and the lone a rare.
    train = pd.DataFrame({"kind": ["a"] * 8 + ["b"] * 2, "label": 0})
    test = pd.DataFrame({"kind": ["b"] * 7 + ["a"] * 3, "label": 0})
    by_train = cas_evaluation_subsets(test, "columns", columns=["kind"], train=train)
    assert set(by_train[7:]) == {"low"}  # the three a's: CAS 1 under training frequencies
    assert (by_train[:7] == "low").sum() == 0
    by_itself = cas_evaluation_subsets(test, "columns", columns=["kind"])
    assert set(by_itself[7:]) == {"high"}  # ranked by the test split, a is the rare value
    np.testing.assert_array_equal(
        cas_scores(test, "columns", columns=["kind"], reference=train), [2.0] * 7 + [1.0] * 3
    )


def test_unseen_values_and_classes_with_a_training_reference():
    train = pd.DataFrame({"kind": ["a", "a", "b"], "label": [0, 0, 1]})
    test = pd.DataFrame({"kind": ["c", "a", "b"], "label": [0, 0, 1]})
    # class 0 saw only a: c is unseen -> 1 + 1 = 2
    np.testing.assert_array_equal(
        cas_scores(test, "columns", columns=["kind"], reference=train), [2.0, 1.0, 1.0]
    )
    with pytest.raises(ValueError, match="never shows"):
        cas_scores(test.assign(label=[0, 0, 2]), "columns", columns=["kind"], reference=train)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['site'\]"):
        cas_scores(
            _metadata_frame(), reference=_metadata_frame().drop(columns="site"), metadata=["site"]
        )


def test_ties_in_the_evaluation_subsets_follow_the_seed():
    frame = pd.DataFrame({"kind": ["a"] * 10, "label": 0})  # every CAS is 1
    first = cas_evaluation_subsets(frame, "columns", columns=["kind"], seed=0)
    np.testing.assert_array_equal(
        first, cas_evaluation_subsets(frame, "columns", columns=["kind"], seed=0)
    )
    assert (first == "low").sum() == 3 and (first == "high").sum() == 4
    others = [cas_evaluation_subsets(frame, "columns", columns=["kind"], seed=s) for s in (1, 2)]
    assert any((other != first).any() for other in others)
    in_order = cas_evaluation_subsets(frame, "columns", columns=["kind"], seed=None)
    assert in_order.tolist() == ["low"] * 3 + ["middle"] * 3 + ["high"] * 4


@pytest.mark.parametrize(
    ("metadata", "error", "match"),
    [
        ("everything", ValueError, "metadata"),
        ([1], TypeError, "metadata"),
        (["x"], ValueError, "x"),
    ],
)
def test_bad_metadata_argument_is_named(metadata, error, match):
    with pytest.raises(error, match=match):
        cas_attributes(_metadata_frame(), metadata=metadata)
