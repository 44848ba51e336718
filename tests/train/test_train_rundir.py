"""semcov_train.rundir: layout, run identity, refusal of differing finished runs, readers."""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pandas as pd
import pytest

from semcov_train import make_config, run_directory
from semcov_train.rundir import (
    CONFIG_FILE,
    DONE_FILE,
    HISTORY_FILE,
    PREDICTIONS_FILE,
    RESULTS_FILE,
    SCG_FILE,
    changed_settings,
    find_run_dirs,
    finished_results,
    is_finished,
    provenance,
    read_config,
    read_history,
    read_history_rows,
    read_predictions,
    read_results,
    read_scg,
    settings_name,
    settings_overrides,
)
from semcov_train.runtime.checkpoint import atomic_write_json
from semcov_train.training.trainer import finished_results as trainer_finished_results


def _finish(config, results: dict | None = None) -> None:
    """A finished run directory for `config`, as the trainer leaves it (files only)."""
    run_dir = run_directory(config)
    atomic_write_json(run_dir / CONFIG_FILE, {"config": config.to_dict(), "resolved": {}})
    atomic_write_json(run_dir / RESULTS_FILE, results or {"auc": 0.75})
    atomic_write_json(run_dir / DONE_FILE, {"finished": 0.0})


def test_layout_names_every_level(tmp_path):
    config = make_config("smoke", method="semcovnet", out=str(tmp_path), fold=2, seed=7)
    expected = tmp_path / "default" / "semcovnet" / "synthetic-dermoscopic" / "smoke"
    assert run_directory(config) == expected / "fold2-seed7"
    # modality "auto" resolves to the dataset's first modality, so both name one directory
    explicit = config.replace(modality="dermoscopic")
    assert run_directory(explicit) == run_directory(config)
    clinical = config.replace(modality="clinical", experiment="table1")
    assert run_directory(clinical).parts[-5:] == (
        "table1",
        "semcovnet",
        "synthetic-clinical",
        "smoke",
        "fold2-seed7",
    )


def test_settings_hash_is_the_documented_sha256_of_the_overrides():
    config = make_config("quick", epochs=3, lr=1e-3, device="cpu", num_threads=1, progress=False)
    assert settings_overrides(config) == {"epochs": 3, "lr": 1e-3}  # runtime fields left out
    digest = hashlib.sha256(b'{"epochs":3,"lr":0.001}').hexdigest()[:8]
    assert settings_name(config) == f"quick-{digest}"
    # the preset's own value is no override; identity fields are never hashed
    assert settings_name(make_config("quick", epochs=6, fold=1, seed=3, method="vit")) == "quick"


def test_two_presets_and_an_override_never_collide(tmp_path):
    out = str(tmp_path)
    smoke = make_config("smoke", out=out)
    quick = make_config("quick", out=out)
    epochs = make_config("smoke", out=out, epochs=3)
    paths = {run_directory(c) for c in (smoke, quick, epochs)}
    assert len(paths) == 3
    _finish(quick)
    # the documented sequence "default command, then --preset smoke" under the same --runs
    assert finished_results(smoke) is None
    assert finished_results(epochs) is None
    assert finished_results(quick) == {"auc": 0.75}
    assert trainer_finished_results is finished_results


def test_runtime_fields_keep_the_identity(tmp_path):
    config = make_config("smoke", out=str(tmp_path))
    moved = config.replace(device="cpu", num_threads=1, num_workers=2, progress=True)
    assert run_directory(moved) == run_directory(config)
    _finish(config)
    assert finished_results(moved) == {"auc": 0.75}


def test_refuses_a_finished_run_whose_preset_was_redefined(tmp_path):
    config = make_config("smoke", out=str(tmp_path))
    _finish(config)
    run_dir = run_directory(config)
    stored = json.loads((run_dir / CONFIG_FILE).read_text())
    stored["config"]["synthetic_lesions"] = 999  # as if the preset had said 999 back then
    (run_dir / CONFIG_FILE).write_text(json.dumps(stored))
    with pytest.raises(ValueError, match=r"synthetic_lesions: 999 -> 48"):
        finished_results(config)
    assert changed_settings(stored["config"], config) == ["synthetic_lesions: 999 -> 48"]


def test_hand_built_config_with_its_own_preset_name():
    from semcov_train import TrainConfig

    # an unknown preset name is compared with the dataclass defaults
    assert settings_name(TrainConfig(preset="mine")) == "mine"
    assert settings_overrides(TrainConfig(preset="mine", epochs=2)) == {"epochs": 2}
    # the default TrainConfig is not the quick preset (which trains the small stand-ins)
    assert settings_name(TrainConfig()).startswith("quick-")


@pytest.mark.parametrize(
    ("field", "value"), [("experiment", "a/b"), ("experiment", ".."), ("preset", "x\\y")]
)
def test_names_that_are_not_one_path_level_are_refused(field, value):
    from semcov_train import TrainConfig

    with pytest.raises(ValueError, match=f"{field}: .* names a level of the run directory"):
        run_directory(TrainConfig(**{field: value}))


def test_readers_round_trip(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    payload = {
        "config": {"method": "erm", "fold": 1},
        "resolved": {"modality": "clinical", "backbone": "resnet10t"},
        **provenance(),
    }
    atomic_write_json(run_dir / CONFIG_FILE, payload)
    stored = read_config(run_dir)
    assert stored.settings == {"method": "erm", "fold": 1}
    assert stored.resolved["backbone"] == "resnet10t"
    assert stored.versions["pandas"] == pd.__version__
    assert set(stored.git) == {"commit", "dirty"}
    assert not is_finished(run_dir)
    with pytest.raises(ValueError, match=r"results\.json"):
        read_results(run_dir)
    assert read_history_rows(run_dir) == []

    results = {"auc": 0.8, "cdi": None, "cas_subsets": {"low": {"n": 3}}}
    atomic_write_json(run_dir / RESULTS_FILE, results)
    assert read_results(run_dir) == results

    (run_dir / HISTORY_FILE).write_text("epoch,lr,val_auc,note\n1,0.001,0.5,a\n2,1e-04,,b\n")
    assert read_history_rows(run_dir) == [
        {"epoch": 1, "lr": 0.001, "val_auc": 0.5, "note": "a"},
        {"epoch": 2, "lr": 1e-4, "val_auc": None, "note": "b"},
    ]
    history = read_history(run_dir)
    assert history["epoch"].tolist() == [1, 2] and math.isnan(history["val_auc"][1])

    scg = pd.DataFrame(
        {
            "class": [0, 1],
            "class_name": ["rest", "MEL"],
            "descriptor": ["border", "NA"],
            "subgroup": ["None", "female"],
            "n_train": [4, 0],
            "coverage": [0.5, 0.0],
            "support": [2.0, 1.0],
            "tpr": [0.5, np.nan],
            "error": [0.5, np.nan],
            "valid": [True, False],
        }
    )
    (run_dir / SCG_FILE).write_text(scg.to_csv(index=False, lineterminator="\n"))
    pd.testing.assert_frame_equal(read_scg(run_dir), scg)

    predictions = pd.DataFrame({"id": ["a", "b"], "y_true": [0, 1], "prob_MEL": [0.1, 0.9]})
    predictions.to_parquet(run_dir / PREDICTIONS_FILE)
    pd.testing.assert_frame_equal(read_predictions(run_dir), predictions)

    (run_dir / DONE_FILE).write_text("{}")
    assert is_finished(run_dir)
    assert find_run_dirs(tmp_path) == [run_dir]


def test_readers_name_the_missing_file(tmp_path):
    with pytest.raises(ValueError, match=r"config\.json"):
        read_config(tmp_path)
    with pytest.raises(ValueError, match=r"scg\.csv"):
        read_scg(tmp_path)
    with pytest.raises(ValueError, match=r"predictions\.parquet"):
        read_predictions(tmp_path)
    with pytest.raises(ValueError, match=r"history\.csv"):
        read_history(tmp_path)
    with pytest.raises(ValueError, match="is not a directory"):
        find_run_dirs(tmp_path / "missing")
    (tmp_path / CONFIG_FILE).write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        read_config(tmp_path)


def test_find_run_dirs_skips_checkpoint_folders(tmp_path):
    for name in ("a/fold0-seed0", "b/fold0-seed1", "b/fold0-seed1/checkpoints"):
        (tmp_path / name).mkdir(parents=True)
        (tmp_path / name / CONFIG_FILE).write_text("{}")
    assert find_run_dirs(tmp_path) == [tmp_path / "a/fold0-seed0", tmp_path / "b/fold0-seed1"]
