"""Grouped, stratified, seeded splits and K-folds; leakage groups; the audit; real-data splits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from semcov_data import (
    audit_leakage,
    grouped_kfold,
    grouped_split,
    leakage_groups,
    load_isic_dicm17k,
    load_milk10k,
    read_isic_dicm17k_metadata,
)


def _toy(n_groups: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 4, n_groups)
    groups = np.repeat([f"g{i}" for i in range(n_groups)], sizes)
    group_label = rng.random(n_groups) < 0.2
    labels = np.repeat(group_label.astype(int), sizes)
    return labels, groups


def _assert_leak_free(parts: np.ndarray, groups: np.ndarray) -> None:
    frame = pd.DataFrame({"part": parts, "group": groups})
    assert frame.groupby("group")["part"].nunique().max() == 1


def test_grouped_split_is_grouped_stratified_and_70_10_20():
    labels, groups = _toy()
    parts = grouped_split(labels, groups, seed=3)
    _assert_leak_free(parts, groups)
    share = pd.Series(parts).value_counts(normalize=True)
    assert abs(share["train"] - 0.7) < 0.05
    assert abs(share["val"] - 0.1) < 0.04
    assert abs(share["test"] - 0.2) < 0.04
    overall = labels.mean()
    for part in ("train", "val", "test"):
        assert abs(labels[parts == part].mean() - overall) < 0.05


def test_grouped_split_is_deterministic_by_seed():
    labels, groups = _toy()
    first = grouped_split(labels, groups, seed=7)
    assert (first == grouped_split(labels, groups, seed=7)).all()
    assert (first != grouped_split(labels, groups, seed=8)).any()


def test_grouped_split_custom_fractions():
    labels, groups = _toy()
    parts = grouped_split(labels, groups, fractions={"train": 0.8, "test": 0.2}, seed=0)
    assert set(parts) == {"train", "test"}
    assert abs((parts == "test").mean() - 0.2) < 0.05


@pytest.mark.parametrize(
    "fractions", [{"train": 0.7, "test": 0.2}, {"a": 0.5, "b": -0.5, "c": 1.0}, {}]
)
def test_grouped_split_rejects_bad_fractions(fractions):
    labels, groups = _toy()
    with pytest.raises(ValueError, match="fractions"):
        grouped_split(labels, groups, fractions=fractions)


def test_grouped_kfold_each_group_in_one_fold():
    labels, groups = _toy()
    folds = grouped_kfold(labels, groups, n_splits=5, seed=1)
    assert set(folds) == set(range(5))
    _assert_leak_free(folds, groups)
    sizes = np.bincount(folds)
    assert sizes.min() > 0.7 * sizes.max()
    with pytest.raises(ValueError, match="n_splits"):
        grouped_kfold(labels, groups, n_splits=1)


def test_too_few_groups_is_an_error():
    with pytest.raises(ValueError, match="groups"):
        grouped_split([0, 1, 0, 1], ["a", "a", "b", "b"])


def test_leakage_groups_link_patients_and_lesions_and_isolate_empty_ids():
    table = pd.DataFrame(
        {
            "isic_id": ["i1", "i2", "i3", "i4", "i5", "i6"],
            "patient_id": ["p1", None, "p2", None, None, ""],
            "lesion_id": ["l1", "l1", "l2", "l2", None, None],
        }
    )
    groups = leakage_groups(table, ["patient_id", "lesion_id"], id_column="isic_id")
    assert groups[0] == groups[1]  # shared lesion, one without a patient id
    assert groups[2] == groups[3]
    assert groups[0] != groups[2]
    # Images without any id are each their own group, never one big group.
    assert groups[4] != groups[5]
    assert len(set(groups)) == 4


def test_audit_lists_ids_in_two_parts():
    table = pd.DataFrame(
        {
            "part": ["train", "train", "valid", "valid", "test"],
            "lesion_id": ["l1", "l2", "l1", None, None],
            "patient_id": ["p1", "p2", "p3", "p2", None],
        }
    )
    report = audit_leakage(table, part_column="part")
    assert report.to_dict() == {"lesion_overlap": ["l1"], "patient_overlap": ["p2"]}
    assert not report.is_clean
    with pytest.raises(ValueError, match="part_x"):
        audit_leakage(table, part_column="part_x")


def test_fixture_isic_dicm_released_split_leak(isic_dicm):
    report = audit_leakage(read_isic_dicm17k_metadata(isic_dicm), part_column="part")
    assert report.overlaps["lesion_id"] == ["IL_0000001"]
    assert "IP_0000001" in report.overlaps["patient_id"]


@pytest.fixture(scope="module")
def real_isic_table(isic_dicm_real):
    return load_isic_dicm17k(isic_dicm_real, missing_images="ignore")


def test_real_isic_dicm_released_split_overlaps(isic_dicm_real):
    report = audit_leakage(read_isic_dicm17k_metadata(isic_dicm_real), part_column="part")
    assert len(report.overlaps["lesion_id"]) == 488
    assert len(report.overlaps["patient_id"]) == 433


def test_real_isic_dicm_resplit_is_leak_free_and_stratified(real_isic_table):
    table = real_isic_table
    assert len(table) == 15098 + 1962
    # Empty ids: every image without a patient or lesion id is its own group.
    assert len(set(table.groups)) > 9000
    parts = grouped_split(table.labels, table.groups, seed=0)
    audited = table.frame.assign(part=parts)
    assert audit_leakage(audited, part_column="part").is_clean
    overall = table.labels.mean()
    for part in ("train", "val", "test"):
        assert abs(table.labels[parts == part].mean() - overall) < 0.02
    assert abs((parts == "train").mean() - 0.7) < 0.02


def test_real_milk10k_split_is_leak_free_and_stratified(milk10k_real):
    # Both images of every lesion in one table: the split must keep each lesion in one part.
    frames = [
        load_milk10k(milk10k_real, modality=m, missing_images="ignore").frame
        for m in ("dermoscopic", "clinical")
    ]
    frame = pd.concat(frames, ignore_index=True)
    labels, groups = frame["label"].to_numpy(), frame["group"].to_numpy()
    assert len(frame) == 10480 and len(set(groups)) == 5240
    lesions = ["lesion_id"]
    parts = grouped_split(labels, groups, seed=0)
    assert audit_leakage(frame.assign(part=parts), part_column="part", id_columns=lesions).is_clean
    overall = labels.mean()
    for part in ("train", "val", "test"):
        assert abs(labels[parts == part].mean() - overall) < 0.01
    folds = grouped_kfold(labels, groups, n_splits=5, seed=0)
    assert audit_leakage(frame.assign(part=folds), part_column="part", id_columns=lesions).is_clean
    for k in range(5):
        assert abs(labels[folds == k].mean() - overall) < 0.01
