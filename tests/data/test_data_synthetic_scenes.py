"""Exported scene parameters, the descriptors' effect directions and the oracle ceiling."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from semcov_data.synthetic import SCENES_FILE, SyntheticConfig, sample_scenes, write_synthetic
from semcov_data.synthetic_cues import CUE_COLUMNS, EFFECT_COLUMNS, effective_cues
from semcov_data.synthetic_oracle import ORACLE_FEATURES, oracle_auc, oracle_scores, read_scenes
from semcov_metrics import UndefinedMetricWarning


def _scenes(n: int, seed: int, **options) -> pd.DataFrame:
    scenes = sample_scenes(SyntheticConfig(n_lesions=n, seed=seed, **options))
    for name, values in effective_cues(scenes).items():
        scenes[name] = values
    return scenes


def test_cue_ranges_separate_the_classes_and_effects_are_fixed_by_default():
    scenes = sample_scenes(SyntheticConfig(n_lesions=4000, positive_fraction=0.5, seed=1))
    mel = scenes["class_name"] == "MEL"
    for column in CUE_COLUMNS:
        assert scenes.loc[mel, column].mean() > scenes.loc[~mel, column].mean() + 0.05
    assert (scenes["effect_erythema"] == -1).all() and (scenes["effect_vessels"] == -1).all()
    assert (scenes["effect_pigmented"] == 1).all()


def test_effects_hide_or_mimic_the_cue_by_hand():
    row = {
        "cue_irregularity": 0.2, "cue_asymmetry": 0.3, "cue_variegation": 0.9,
        "mimic_irregularity": 0.15, "mimic_asymmetry": 0.2, "mimic_variegation": 0.5,
        "true_erythema": 1, "true_pigmented": 0, "true_vessels": 1,
        "effect_erythema": -1, "effect_pigmented": 1, "effect_vessels": -1,
    }  # fmt: skip
    assert effective_cues(row) == pytest.approx(
        {"irregularity": 0.1, "asymmetry": 0.15, "variegation": 0.54}
    )
    row.update(cue_irregularity=0.02, cue_asymmetry=0.3, effect_erythema=1, true_vessels=0)
    row.update(cue_variegation=0.1, true_pigmented=1)
    # mimicking raises to the draw (never lowers): max(0.02, 0.15), max(0.3, 0.2), max(0.1, 0.5)
    assert effective_cues(row) == pytest.approx(
        {"irregularity": 0.15, "asymmetry": 0.3, "variegation": 0.5}
    )
    row.update(true_erythema=0, true_pigmented=0)
    assert effective_cues(row) == pytest.approx(
        {"irregularity": 0.02, "asymmetry": 0.3, "variegation": 0.1}
    )


def test_random_effects_flip_directions_and_keep_the_other_columns():
    fixed = sample_scenes(SyntheticConfig(n_lesions=3000, seed=2))
    random = sample_scenes(SyntheticConfig(n_lesions=3000, seed=2, descriptor_effects="random"))
    for column in EFFECT_COLUMNS:
        share = (random[column] == 1).mean()
        assert 0.45 < share < 0.55, column  # 3000 fair coin flips: sd 0.009
    same = [c for c in fixed.columns if c not in EFFECT_COLUMNS]
    pd.testing.assert_frame_equal(fixed[same], random[same])
    with pytest.raises(ValueError, match="descriptor_effects"):
        SyntheticConfig(descriptor_effects="sideways")


def test_written_scenes_match_the_rendered_cues(tmp_path):
    config = SyntheticConfig(n_lesions=30, image_size=32, seed=4)
    root = write_synthetic(tmp_path, config, workers=1)
    scenes = read_scenes(root)
    assert (root / SCENES_FILE).is_file() and len(scenes) == 30
    expected = effective_cues(sample_scenes(config))
    for name, values in expected.items():
        np.testing.assert_allclose(scenes[name].to_numpy(), values, rtol=1e-12)
    metadata = pd.read_csv(root / "MILK10k_Training_Metadata.csv")
    assert set(scenes["lesion_id"]) == set(metadata["lesion_id"])
    with pytest.raises(ValueError, match=r"synthetic_scenes\.csv"):
        read_scenes(tmp_path / "nowhere")


def test_oracle_logistic_matches_scikit_learn_fitted_by_hand():
    train, test = _scenes(800, 5, positive_fraction=0.3), _scenes(1500, 6, positive_fraction=0.3)
    ours = oracle_scores(train, test, model="logistic")

    def design(frame):
        sites = sorted(set(train["site"]) | set(test["site"]))
        tones = sorted(
            set(train["skin_tone_class"].astype(str)) | set(test["skin_tone_class"].astype(str))
        )
        parts = [frame[list(ORACLE_FEATURES)].to_numpy(float)]
        parts.append((frame["site"].to_numpy()[:, None] == np.array(sites)).astype(float))
        tone = frame["skin_tone_class"].astype(str).to_numpy()[:, None]
        parts.append((tone == np.array(tones)).astype(float))
        return np.concatenate(parts, axis=1)

    reference = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    reference.fit(design(train), train["class_name"] == "MEL")
    np.testing.assert_allclose(ours, reference.predict_proba(design(test))[:, 1], atol=1e-6)
    auc = oracle_auc(train, test, model="logistic")
    assert auc == pytest.approx(roc_auc_score(test["class_name"] == "MEL", ours))


def test_oracle_ceiling_is_high_but_below_one_and_beats_cues_alone():
    train, test = _scenes(1000, 7, positive_fraction=0.2), _scenes(3000, 8, positive_fraction=0.2)
    full = oracle_auc(train, test)
    without_cue = oracle_auc(train, test, features=["true_hair"])
    assert 0.85 < full < 1.0
    assert without_cue < full - 0.2  # site, tone and hair carry almost nothing about the class


def test_oracle_bad_input():
    train, test = _scenes(200, 9, positive_fraction=0.3), _scenes(100, 10, positive_fraction=0.3)
    with pytest.raises(ValueError, match="missing scene columns"):
        oracle_auc(train.drop(columns=["irregularity"]), test)
    with pytest.raises(ValueError, match="model must be one of"):
        oracle_auc(train, test, model="forest")
    with pytest.raises(ValueError, match="both classes"):
        oracle_auc(train[train["class_name"] == "rest"], test)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = oracle_auc(train, test[test["class_name"] == "rest"])
    assert np.isnan(value)
    assert any(issubclass(w.category, UndefinedMetricWarning) for w in caught)
