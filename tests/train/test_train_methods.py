"""Every registered method trains one smoke epoch on the synthetic benchmark and writes a
complete run directory; SemCovNet's ablation switches; encoder methods without weights."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pandas as pd
import pytest
import torch

import semcov_train
from semcov_train import (
    METHODS,
    MissingWeightsError,
    prepare_data,
    prepare_synthetic,
    train,
)
from semcov_train.rundir import read_config, settings_name
from semcov_train.runtime.checkpoint import load_checkpoint

#: Files every finished run directory holds.
RUN_FILES = (
    "config.json",
    "history.csv",
    "checkpoints/last.pt",
    "checkpoints/best.pt",
    "predictions.parquet",
    "train_descriptors.parquet",
    "results.json",
    "DONE",
)
TABLE1 = ("auc", "pr_auc", "sens_at_95spec", "balanced_accuracy", "macro_f1", "ece")
TOP_LEVEL = (*TABLE1, "cdi", "tpr_worst", "tpr_std")
OTHER_KEYS = ("intervals", "s95_tail", "align_cos", "recall_at_1", "cas_subsets", "best_epoch")


def _check_run_directory(result, config) -> dict:
    run_dir = result.run_dir
    expected = (
        f"{config.out}/default/{config.method}/synthetic-dermoscopic/"
        f"{settings_name(config)}/fold{config.fold}-seed{config.seed}"
    )
    assert str(run_dir) == expected
    for name in RUN_FILES:
        assert (run_dir / name).is_file(), name
    results = json.loads((run_dir / "results.json").read_text())
    assert results == result.results
    for key in (*TOP_LEVEL, *OTHER_KEYS):
        assert key in results, key
    assert 0.0 <= results["auc"] <= 1.0
    assert set(results["intervals"]) >= set(TOP_LEVEL)
    assert set(results["cas_subsets"]) == {"low", "middle", "high"}
    assert sum(v["n"] for v in results["cas_subsets"].values()) == results["n_test"]

    frame = pd.read_parquet(run_dir / "predictions.parquet")
    assert len(frame) == results["n_test"]
    assert {"id", "y_true", "prob_rest", "prob_MEL", "subgroup", "embedding"} <= set(frame)
    assert frame["id"].is_unique
    assert np.allclose(frame[["prob_rest", "prob_MEL"]].sum(axis=1), 1.0, atol=1e-5)
    assert any(c.startswith("MONET_") for c in frame.columns)

    history = pd.read_csv(run_dir / "history.csv")
    assert list(history["epoch"]) == list(range(1, config.epochs + 1))
    for column in ("lr", "train_loss", "val_auc", "val_cdi", "val_loss"):
        assert column in history.columns, column
    assert history["train_loss"].notna().all()

    saved = json.loads((run_dir / "config.json").read_text())
    assert saved["config"]["method"] == config.method
    method = METHODS[config.method]
    assert saved["resolved"]["sampling"]["kind"] == method.sampling
    assert (saved["resolved"]["mixing"] is None) == (method.mixing is None)
    assert ("train_mixed" in history.columns) == (method.mixing is not None)
    assert saved["versions"]["semcov-train"] == semcov_train.__version__
    assert torch.__version__.startswith(saved["versions"]["torch"].split("+")[0])
    assert "commit" in saved["git"]
    return results


@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_method_trains_a_smoke_epoch(name, smoke, tiny_clip):
    method = METHODS[name]
    config = smoke(method=name, weights=str(tiny_clip) if method.weights_folder else None)
    result = train(config)
    results = _check_run_directory(result, config)
    has_alignment = name in ("semcovnet", "semcovnet_shuffled")  # SemCovNet models
    assert (results["align_cos"] is not None) == has_alignment
    assert (results["recall_at_1"] is not None) == has_alignment


@pytest.mark.parametrize(
    "switches",
    [
        {"semcov_sdm_mode": "descriptor", "semcov_order": "dam_attn"},
        {"semcov_sdm_mode": "feature", "semcov_order": "mixture"},
        {"semcov_order": "mixture_dam_attn", "semcov_depth": 3, "semcov_feedback_mode": "replace"},
        {"semcov_depth": 1, "semcov_feedback": False, "use_dva": False},
        {"use_cdi": False, "lambda_desc": 0.0, "dva_symmetric": True},
    ],
    ids=["descriptor-sdm", "mixture", "mixture-dam-attn", "no-dva", "no-cdi"],
)
def test_semcovnet_ablation_switches(switches, smoke):
    config = smoke(method="semcovnet", **switches)
    result = train(config)
    history = pd.read_csv(result.run_dir / "history.csv")
    assert ("train_dva" in history.columns) == config.use_dva
    assert ("train_cdi" in history.columns) == config.use_cdi
    saved = json.loads((result.run_dir / "config.json").read_text())["config"]
    for key, value in switches.items():
        assert saved[key] == value


@pytest.mark.parametrize("name", ["clip", "monet"])
def test_encoder_without_weights_says_where_to_put_them(name, smoke, tmp_path):
    config = smoke(method=name, cache_dir=str(tmp_path / "empty-cache"))
    with pytest.raises(MissingWeightsError) as error:
        train(config)
    message = str(error.value)
    assert "\n" not in message
    assert str(tmp_path / "empty-cache" / "models") in message
    assert "--weights" in message
    assert not (tmp_path / "runs").exists()  # failed before any work


def test_groupdro_on_semantic_coverage_groups(smoke):
    config = smoke(method="groupdro", groupdro_groups="scg")
    result = train(config)
    resolved = read_config(result.run_dir).resolved
    n_scgs = len(resolved["classes"]) * len(resolved["descriptors"])
    n_scgs *= len(resolved["subgroup_values"])
    assert n_scgs != len(resolved["subgroup_values"])  # SCGs are not the plain subgroups

    # SCG of each training sample by hand: (class, most probable descriptor, subgroup).
    data = prepare_data(config)
    arrays = data.split_arrays("train")
    labels = np.asarray(arrays["labels"], dtype=np.int64)
    subgroups = np.asarray(arrays["subgroups"], dtype=np.int64)
    dominant = np.asarray(arrays["descriptors"]).argmax(axis=1)
    index = np.ravel_multi_index(
        (labels, dominant, subgroups),
        (len(resolved["classes"]), len(resolved["descriptors"]), len(resolved["subgroup_values"])),
    )
    counts = np.bincount(index, minlength=n_scgs)

    # The trained objective's state, loaded into an objective built through the public method.
    method = METHODS["groupdro"]
    objective = method.build_objective(config, data, method.build_model(config, data, method))
    objective.load_state_dict(
        load_checkpoint(result.run_dir / "checkpoints" / "last.pt")["objective"]
    )
    loss = objective.loss
    assert objective.groups == "scg" and loss.num_groups == n_scgs
    np.testing.assert_array_equal(loss.group_counts.numpy(), np.maximum(counts, 1))
    weights = loss.group_weights.numpy()
    assert weights.shape == (n_scgs,) and weights.sum() == pytest.approx(1.0)
    assert np.ptp(weights) > 0.01 / n_scgs  # moved away from uniform by training
    # q_g only grows for groups in a batch: SCGs without training samples share one weight,
    # below that of the SCGs that were trained on.
    unseen, seen = weights[counts == 0], weights[counts > 0]
    assert len(unseen) and len(seen)
    assert np.ptp(unseen) <= 1e-6 * unseen.max()
    assert seen.mean() > unseen.max()


def test_frozen_encoder_trains_the_head_only(smoke, tiny_clip):
    config = smoke(method="clip", weights=str(tiny_clip), freeze_backbone=True, epochs=1)
    result = train(config)
    last = torch.load(result.run_dir / "checkpoints" / "last.pt", weights_only=True)
    best = torch.load(result.run_dir / "checkpoints" / "best.pt", weights_only=True)
    assert torch.equal(last["model"]["classifier.weight"], best["model"]["classifier.weight"])
    optimised = {len(g["params"]) for g in last["optimizer"]["param_groups"]}
    assert optimised == {2}  # classifier weight and bias


def test_milk10k_layout_trains_from_a_data_root(smoke):
    root = prepare_synthetic(smoke())  # the synthetic benchmark is a MILK10k challenge folder
    config = smoke(method="erm", dataset="milk10k", data_root=str(root), modality="clinical")
    result = train(config)
    assert result.run_dir.parts[-3] == "milk10k-clinical"
    saved = json.loads((result.run_dir / "config.json").read_text())["resolved"]
    assert saved["data_root"] == str(root) and saved["modality"] == "clinical"


def test_tensorboard_on_needs_tensorboard(smoke):
    if importlib.util.find_spec("tensorboard") is None:
        with pytest.raises(ImportError, match=r"semcov-train\[tensorboard\]"):
            train(smoke(method="erm", tensorboard="on"))
    else:
        result = train(smoke(method="erm", tensorboard="on"))
        assert any((result.run_dir / "tensorboard").iterdir())


def test_synthetic_data_root_generates_once_or_is_used_as_it_is(smoke, tmp_path):
    generated = prepare_synthetic(smoke(data_root=str(tmp_path / "bench")))
    assert generated == tmp_path / "bench"
    stamp = (generated / "MILK10k_Training_Metadata.csv").stat().st_mtime_ns
    assert prepare_synthetic(smoke(data_root=str(generated))) == generated
    # Other settings: an existing benchmark folder is taken as it is, never overwritten.
    assert prepare_synthetic(smoke(data_root=str(generated), synthetic_lesions=60)) == generated
    assert (generated / "MILK10k_Training_Metadata.csv").stat().st_mtime_ns == stamp

    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match=r"^data_root: .*other.* is not empty and holds no"):
        prepare_synthetic(smoke(data_root=str(tmp_path / "other")))
