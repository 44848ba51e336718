"""The synthetic benchmark: determinism, planted prevalence, modalities, MILK10k compatibility."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from semcov_data import MILK10K_DESCRIPTORS, load_milk10k
from semcov_data.synthetic import (
    DESCRIPTORS,
    TRUE_COLUMNS,
    SyntheticConfig,
    descriptor_prevalence,
    render_lesion,
    sample_scenes,
    to_clinical,
    write_synthetic,
)

#: Header of the real MILK10k_Training_Metadata.csv.
MILK10K_METADATA_COLUMNS = [
    "lesion_id", "image_type", "isic_id", "attribution", "copyright_license",
    "image_manipulation", "age_approx", "sex", "skin_tone_class", "site", *MILK10K_DESCRIPTORS,
]  # fmt: skip


def _digests(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    return write_synthetic(
        tmp_path_factory.mktemp("synth"), SyntheticConfig(n_lesions=40, seed=3), workers=1
    )


def test_same_seed_gives_identical_bytes_whatever_the_workers(small, tmp_path):
    again = write_synthetic(tmp_path / "again", SyntheticConfig(n_lesions=40, seed=3), workers=2)
    assert _digests(small) == _digests(again)
    other = write_synthetic(tmp_path / "other", SyntheticConfig(n_lesions=40, seed=4), workers=1)
    assert _digests(other) != _digests(small)


def test_metadata_has_milk10k_columns_and_loads_with_the_milk10k_loader(small):
    metadata = pd.read_csv(small / "MILK10k_Training_Metadata.csv")
    assert list(metadata.columns) == MILK10K_METADATA_COLUMNS + list(TRUE_COLUMNS)
    assert set(metadata["image_type"]) == {"dermoscopic", "clinical: close-up"}
    assert metadata.groupby("lesion_id").size().eq(2).all()
    for modality in ("dermoscopic", "clinical", "paired"):
        table = load_milk10k(small, modality=modality)
        assert len(table) == 40
        assert table.classes == ("rest", "MEL")
        assert table.descriptor_names == MILK10K_DESCRIPTORS
        assert len(table.subgroup_values) == 8
        assert table.report.n_excluded == 0


def test_class_ratio_and_prevalence_within_sampling_error():
    config = SyntheticConfig(n_lesions=40_000, seed=0)
    scenes = sample_scenes(config)
    share = (scenes["class_name"] == "MEL").mean()
    sigma = np.sqrt(config.positive_fraction * (1 - config.positive_fraction) / len(scenes))
    assert abs(share - config.positive_fraction) < 4 * sigma
    balanced = sample_scenes(SyntheticConfig(n_lesions=20_000, positive_fraction=0.5, seed=1))
    assert abs((balanced["class_name"] == "MEL").mean() - 0.5) < 4 * np.sqrt(0.25 / 20_000)

    expected = descriptor_prevalence(1.0)
    observed = scenes.groupby(["class_name", "site"])[list(TRUE_COLUMNS)].agg(["mean", "size"])
    checked = 0
    for (class_name, site), row in observed.iterrows():
        for name, column in zip(DESCRIPTORS, TRUE_COLUMNS, strict=True):
            n = row[(column, "size")]
            if n < 200:
                continue
            p = expected.loc[(class_name, site), name]
            assert abs(row[(column, "mean")] - p) < 4 * np.sqrt(p * (1 - p) / n)
            checked += 1
    assert checked >= 40
    # MEL never appears at the three sites MILK10k has no melanoma at.
    assert not (
        (scenes["class_name"] == "MEL") & scenes["site"].isin(["foot", "genital", "hand"])
    ).any()


def test_imbalance_knob():
    uniform = descriptor_prevalence(0.0).to_numpy()
    assert np.ptp(uniform) == pytest.approx(0.0, abs=1e-12)
    real = descriptor_prevalence(1.0)
    assert real.loc[("MEL", "trunk"), "pigmented"] == pytest.approx(0.71)
    assert real.loc[("rest", "trunk"), "vessels"] == pytest.approx(0.24)
    strong = descriptor_prevalence(2.0).to_numpy()
    assert np.std(strong) > np.std(real.to_numpy()) > np.std(uniform)


def test_clinical_scores_are_noisier_than_dermoscopic(small):
    metadata = pd.read_csv(small / "MILK10k_Training_Metadata.csv")
    errors = {}
    for image_type, rows in metadata.groupby("image_type"):
        scores = rows[list(MILK10K_DESCRIPTORS)].to_numpy()
        truth = rows[list(TRUE_COLUMNS)].to_numpy()
        errors[image_type] = np.abs(scores - truth).mean()
        assert ((scores > 0) & (scores < 1)).all()
    assert errors["clinical: close-up"] > errors["dermoscopic"] + 0.15


def test_clinical_images_are_blurred_and_lower_contrast():
    scene = sample_scenes(SyntheticConfig(n_lesions=5, seed=2)).iloc[0].to_dict()
    dermoscopic = render_lesion(scene, "dermoscopic", 64).astype(float)
    clinical = to_clinical(render_lesion(scene, "dermoscopic", 64)).astype(float)
    contrast = lambda a: a.std(axis=(0, 1)).mean()  # noqa: E731 - per-channel spread
    assert contrast(clinical) < 0.7 * contrast(dermoscopic)
    sharpness = lambda a: np.abs(np.diff(a, axis=0)).mean()  # noqa: E731
    assert sharpness(clinical) < 0.7 * sharpness(dermoscopic)
    np.testing.assert_array_equal(render_lesion(scene, "clinical", 64), clinical.astype(np.uint8))


@pytest.mark.parametrize("name", DESCRIPTORS)
def test_each_descriptor_changes_the_image(name):
    scene = sample_scenes(SyntheticConfig(n_lesions=5, seed=5)).iloc[0].to_dict()
    for column in TRUE_COLUMNS:
        scene[column] = 0
    plain = render_lesion(scene, "dermoscopic", 64).astype(float)
    scene[f"true_{name}"] = 1
    marked = render_lesion(scene, "dermoscopic", 64).astype(float)
    changed = np.abs(marked - plain).max(axis=2) > 20
    assert changed.mean() > 0.005, f"{name} leaves the image unchanged"


def test_pen_marks_are_purple_and_erythema_is_red():
    scene = sample_scenes(SyntheticConfig(n_lesions=5, seed=6)).iloc[1].to_dict()
    for column in TRUE_COLUMNS:
        scene[column] = 0
    plain = render_lesion(scene, "dermoscopic", 64).astype(float)
    scene["true_pen"] = 1
    pen = render_lesion(scene, "dermoscopic", 64).astype(float)
    changed = np.abs(pen - plain).max(axis=2) > 20
    purple = pen[changed]
    assert (purple[:, 2] > purple[:, 1]).mean() > 0.9  # blue over green: purple ink
    scene["true_pen"], scene["true_erythema"] = 0, 1
    red = render_lesion(scene, "dermoscopic", 64).astype(float)
    assert (red[..., 0] - red[..., 1]).mean() > (plain[..., 0] - plain[..., 1]).mean() + 3


def test_command_line_writes_the_benchmark(tmp_path):
    out = tmp_path / "cli"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "semcov_data",
            "synth",
            "--out",
            str(out),
            "--n",
            "12",
            "--seed",
            "1",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout) == {"out": str(out), "lesions": 12, "images": 24}
    assert len(list((out / "MILK10k_Training_Input").rglob("*.jpg"))) == 24
    assert json.loads((out / "synthetic_config.json").read_text())["seed"] == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("n_lesions", 0),
        ("image_size", 8),
        ("imbalance", -1.0),
        ("positive_fraction", 1.0),
        ("clinical_miss_rate", 1.0),
    ],
)
def test_bad_config_names_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        SyntheticConfig(**{field: value})
