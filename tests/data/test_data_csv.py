"""The generic CSV dataset."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader

from semcov_data import SemCovDataset, eval_transform, grouped_split, load_csv


def test_generic_csv_dataset(generic_csv):
    table = load_csv(
        generic_csv,
        descriptor_columns=["hair", "ink"],
        subgroup_columns="site",
        group_columns=["patient"],
    )
    assert len(table) == 20
    assert table.classes == ("benign", "malignant")
    assert table.subgroup_values == ("arm", "leg", "unknown")
    assert len(set(table.groups)) == 5
    parts = grouped_split(table.labels, table.groups, fractions={"a": 0.6, "b": 0.4}, seed=0)
    frame = table.frame.assign(part=parts)
    assert frame.groupby("patient")["part"].nunique().max() == 1
    loader = DataLoader(SemCovDataset(table, transform=eval_transform(16)), batch_size=5)
    batch = next(iter(loader))
    assert batch["image"].shape == (5, 3, 16, 16)
    assert batch["label"].tolist() == [0, 1, 0, 1, 0]
    assert batch["subgroup"].dtype == torch.int64


def test_generic_csv_explicit_classes_and_image_root(generic_csv, tmp_path):
    moved = tmp_path / "meta" / "labels.csv"
    moved.parent.mkdir()
    generic_csv.rename(moved)
    table = load_csv(
        moved,
        image_root=tmp_path,
        classes=["malignant", "benign"],
        descriptor_columns=["hair"],
        subgroup_columns=["site", "patient"],
    )
    assert table.classes == ("malignant", "benign")
    assert table.labels[0] == 1  # row 0 is benign
    assert table.frame["subgroup"].iloc[2] == "unknown|P0"
