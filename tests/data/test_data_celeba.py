"""CelebA in the torchvision layout and the seeded curated 1:5 subset."""

from __future__ import annotations

import pytest

from semcov_data import CELEBA_DESCRIPTORS, SemCovDataset, eval_transform, load_celeba


def test_full_celeba_defaults(celeba):
    table = load_celeba(celeba, curated=False)
    assert len(table) == 60
    assert table.classes == ("not_Smiling", "Smiling")
    assert int(table.labels.sum()) == 15
    assert table.descriptor_names == CELEBA_DESCRIPTORS
    assert set(table.descriptors.ravel()) <= {0.0, 1.0}
    assert table.subgroup_values == ("not_Male", "Male")
    # identity_CelebA.txt groups three images per identity.
    assert len(set(table.groups)) == 20
    sample = SemCovDataset(table, transform=eval_transform(16))[0]
    assert sample["id"] == "000001.jpg"


def test_curated_subset_ratio_and_seed(celeba):
    table = load_celeba(celeba, n_images=36, seed=4)
    assert len(table) == 36
    assert int(table.labels.sum()) == 6  # 1:5
    again = load_celeba(celeba, n_images=36, seed=4)
    other = load_celeba(celeba, n_images=36, seed=5)
    assert again.frame["image"].tolist() == table.frame["image"].tolist()
    assert other.frame["image"].tolist() != table.frame["image"].tolist()
    assert "curated subset: 6 with Smiling + 30 without" in table.report.summary()


def test_curated_subset_too_large_is_an_error(celeba):
    with pytest.raises(ValueError, match="curated subset needs"):
        load_celeba(celeba)  # 5,000 images cannot come from 60


def test_partition_target_and_parent_folder(celeba):
    parent = celeba.parent
    table = load_celeba(parent, partition="valid", curated=False, target="Young", subgroup="Bangs",
                        descriptors=["Eyeglasses"])  # fmt: skip
    assert len(table) == 10
    assert table.classes == ("not_Young", "Young")
    assert table.frame["path"].iloc[0] == "celeba/img_align_celeba/000041.jpg"
    assert SemCovDataset(table)[0]["image"].shape == (3, 44, 36)


def test_unknown_attribute_is_named(celeba):
    with pytest.raises(ValueError, match=r"\['Wavy_Hair'\]"):
        load_celeba(celeba, target="Wavy_Hair", curated=False)
    with pytest.raises(ValueError, match="partition"):
        load_celeba(celeba, partition="val")
