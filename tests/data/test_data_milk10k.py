"""MILK10k loading in both layouts, every modality, target and subgroup; real-metadata figures."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from semcov_data import (
    MILK10K_DESCRIPTORS,
    MILK10K_DIAGNOSES,
    MILK10K_SITES,
    SemCovDataset,
    detect_milk10k_layout,
    eval_transform,
    load_milk10k,
)

MONET = list(MILK10K_DESCRIPTORS)


def test_challenge_layout_dermoscopic_samples(milk10k_challenge):
    table = load_milk10k(milk10k_challenge)
    assert len(table) == 12
    assert table.classes == ("rest", "MEL")
    assert int(table.labels.sum()) == 3
    assert set(table.frame["image_type"]) == {"dermoscopic"}
    assert table.frame["path"].iloc[0].startswith("MILK10k_Training_Input/IL_")
    assert table.descriptor_names == MILK10K_DESCRIPTORS
    assert table.subgroup_values == MILK10K_SITES
    assert (table.frame["subgroup"] == "unknown").sum() == 2
    assert table.report.n_excluded == 0
    # The supplement's columns are joined per image.
    assert (table.frame["diagnosis_full"] == "test diagnosis").all()


def test_doi_layout_matches_challenge_layout(milk10k_challenge, milk10k_doi):
    assert detect_milk10k_layout(milk10k_doi) == "doi"
    assert detect_milk10k_layout(milk10k_challenge) == "challenge"
    doi = load_milk10k(milk10k_doi, modality="clinical")
    challenge = load_milk10k(milk10k_challenge, modality="clinical")
    assert doi.frame["sample_id"].tolist() == challenge.frame["sample_id"].tolist()
    # anatom_site_general is mapped onto the challenge's site names.
    assert doi.frame["subgroup"].tolist() == challenge.frame["subgroup"].tolist()
    np.testing.assert_allclose(doi.descriptors, challenge.descriptors, rtol=1e-6)
    assert doi.frame["path"].iloc[0].startswith("images/ISIC_")


def test_nested_challenge_image_folder_is_found(milk10k_challenge):
    images = milk10k_challenge / "MILK10k_Training_Input"
    nested = images / "MILK10k_Training_Input"
    nested.mkdir()
    for lesion in [p for p in images.iterdir() if p.name.startswith("IL_")]:
        lesion.rename(nested / lesion.name)
    table = load_milk10k(milk10k_challenge, missing_images="raise")
    assert len(table) == 12


def test_paired_modality_yields_both_images(milk10k_challenge):
    table = load_milk10k(milk10k_challenge, modality="paired")
    assert len(table) == 12
    assert table.image_columns == ("path_dermoscopic", "path_clinical")
    assert table.frame["sample_id"].tolist() == table.frame["lesion_id"].tolist()
    dataset = SemCovDataset(table, transform=eval_transform(32))
    sample = dataset[0]
    assert sample["image"].shape == (2, 3, 32, 32)
    assert sample["id"] == table.frame["lesion_id"].iloc[0]
    # Default paired descriptors: the mean of the two images' scores.
    derm = load_milk10k(milk10k_challenge, modality="dermoscopic").frame.set_index("lesion_id")
    clin = load_milk10k(milk10k_challenge, modality="clinical").frame.set_index("lesion_id")
    lesion = sample["id"]
    expected = derm.loc[lesion, MONET].to_numpy(float) + clin.loc[lesion, MONET].to_numpy(float)
    expected = expected / 2
    np.testing.assert_allclose(sample["descriptors"].numpy(), expected, rtol=1e-5)


def test_paired_concat_descriptors(milk10k_challenge):
    table = load_milk10k(milk10k_challenge, modality="paired", paired_descriptors="concat")
    assert len(table.descriptor_names) == 14
    assert table.descriptor_names[0] == "dermoscopic:MONET_ulceration_crust"
    assert table.descriptor_names[7] == "clinical:MONET_ulceration_crust"


def test_diagnosis_target_uses_eleven_classes(milk10k_challenge):
    table = load_milk10k(milk10k_challenge, target="diagnosis")
    assert table.classes == MILK10K_DIAGNOSES
    names = [table.classes[i] for i in table.labels]
    assert names == table.frame["diagnosis"].tolist()
    assert names.count("MEL") == 3


@pytest.mark.parametrize(
    ("subgroup", "expected"),
    [
        ("skin_tone", {"0", "1", "2", "3", "4", "5"}),
        ("sex", {"female", "male"}),
        ("age", {"<30", "30-44", "45-59", "60-74", "75+", "unknown"}),
    ],
)
def test_subgroup_choices(milk10k_challenge, subgroup, expected):
    table = load_milk10k(milk10k_challenge, subgroup=subgroup)
    assert set(table.subgroup_values) >= expected
    assert set(table.frame["subgroup"]) <= set(table.subgroup_values)


def test_subgroup_combination(milk10k_challenge):
    table = load_milk10k(milk10k_challenge, subgroup=["site", "sex"])
    assert all(value.count("|") == 1 for value in table.subgroup_values)
    assert "unknown|male" in set(table.frame["subgroup"])


def test_real_milk10k_counts(milk10k_real):
    paired = load_milk10k(milk10k_real, modality="paired", missing_images="ignore")
    derm = load_milk10k(milk10k_real, modality="dermoscopic", missing_images="ignore")
    clin = load_milk10k(milk10k_real, modality="clinical", missing_images="ignore")
    assert len(paired) == 5240
    assert paired.frame["lesion_id"].nunique() == 5240
    assert len(derm) + len(clin) == 10480
    assert len(set(derm.frame["isic_id"]) | set(clin.frame["isic_id"])) == 10480
    assert int(paired.labels.sum()) == 450
    assert int(derm.labels.sum()) == int(clin.labels.sum()) == 450
    assert paired.report.n_excluded == 0


@pytest.mark.parametrize("modality", ["dermoscopic", "clinical"])
def test_real_milk10k_scg_grid(milk10k_real, modality):
    table = load_milk10k(milk10k_real, modality=modality, missing_images="ignore")
    coverage = table.scg_index().coverage()
    assert len(coverage) == 2 * 7 * 8 == 112
    assert int((coverage["n_train"] > 0).sum()) == 91
    # MEL never occurs at foot, genital or hand: those SCGs are kept with n_train = 0.
    empty = coverage[(coverage["class"] == "MEL") & (coverage["n_train"] == 0)]
    assert set(empty["subgroup"]) == {"foot", "genital", "hand"}
    assert (empty["coverage"] == 0.0).all()


def test_dataset_sample_fields(milk10k_challenge):
    table = load_milk10k(milk10k_challenge)
    sample = SemCovDataset(table, transform=eval_transform(32))[1]
    assert sample["image"].dtype == torch.float32
    assert sample["descriptors"].shape == (7,)
    assert sample["label"].dtype == torch.int64
    assert table.subgroup_values[int(sample["subgroup"])] == table.frame["subgroup"].iloc[1]
    assert sample["id"] == table.frame["isic_id"].iloc[1]


def test_quick_start_pipeline(milk10k_challenge, tmp_path):
    from torch.utils.data import DataLoader

    from semcov_data import (
        build_image_cache,
        grouped_split,
        scg_balanced_sampler,
        train_transform,
    )

    table = load_milk10k(milk10k_challenge, modality="dermoscopic", target="mel", subgroup="site")
    parts = grouped_split(table.labels, table.groups, fractions={"train": 0.5, "test": 0.5})
    train = table.subset(parts == "train")
    coverage = table.scg_index().coverage(parts == "train")
    assert len(coverage) == 112
    assert coverage["n_train"].sum() == 7 * len(train)
    cache = build_image_cache(table.image_paths(), tmp_path / "cache", size=40)
    train_set = SemCovDataset(train, cache=cache, transform=train_transform(32))
    sampler = scg_balanced_sampler(train.labels, train.frame["subgroup"], train.descriptors, seed=0)
    batch = next(iter(DataLoader(train_set, batch_size=4, sampler=sampler)))
    assert batch["image"].shape == (4, 3, 32, 32)
    assert set(batch["id"]) <= set(train.frame["sample_id"])
