"""``--dataset csv``: a dermatology CSV with JPEGs (seven diagnoses, body site, lesion ids)
trains binary (``--positive-class MEL``) and all-class, with every method, on grouped splits
or the user's own split (audited for leakage)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from semcov_train import METHODS, prepare_data, train

DERM_CLASSES = ("AKIEC", "BCC", "BKL", "DF", "MEL", "NV", "VASC")


def _parts(data) -> dict[str, pd.DataFrame]:
    return {part: getattr(data, part).table.frame for part in ("train", "val", "test")}


def test_binary_positive_class_run(derm):
    result = train(derm(method="erm", positive_class="MEL"))
    resolved = json.loads((result.run_dir / "config.json").read_text())["resolved"]
    assert resolved["classes"] == ["not_MEL", "MEL"]
    assert resolved["descriptors"] == ["pigment_network", "vessels", "hair"]
    assert resolved["n_train"] + resolved["n_val"] + resolved["n_test"] == 105
    predictions = pd.read_parquet(result.run_dir / "predictions.parquet")
    assert list(predictions.filter(like="prob_").columns) == ["prob_not_MEL", "prob_MEL"]
    assert 0.0 <= result.results["auc"] <= 1.0
    metadata = pd.read_csv(result.run_dir.parents[5] / "derm" / "metadata.csv")
    truth = metadata.set_index("image_id").loc[predictions["id"], "dx"].eq("MEL").astype(int)
    np.testing.assert_array_equal(predictions["y_true"].to_numpy(), truth.to_numpy())


def test_all_class_run_and_grouped_split(derm):
    config = derm(method="semcovnet")
    data = prepare_data(config)
    assert data.classes == DERM_CLASSES
    lesions = {part: set(frame["lesion_id"]) for part, frame in _parts(data).items()}
    assert not lesions["train"] & lesions["val"]
    assert not lesions["train"] & lesions["test"]
    assert not lesions["val"] & lesions["test"]
    result = train(config)
    assert result.results["n_test"] == len(data.test)
    probabilities = pd.read_parquet(result.run_dir / "predictions.parquet").filter(like="prob_")
    assert list(probabilities.columns) == [f"prob_{c}" for c in DERM_CLASSES]
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_numeric_subgroup_columns_are_binned(derm):
    data = prepare_data(derm(subgroup_columns="localization,age"))
    frame = pd.concat(_parts(data).values())
    expected = {"<30", "30-44", "45-59", "60-74", "75+", "unknown"}
    ages = {value.split("|")[1] for value in frame["subgroup"]}
    assert ages <= expected and "unknown" in ages  # every ninth lesion has no age
    row = frame[frame["age"].notna()].iloc[0]
    assert row["subgroup"].startswith(row["localization"] + "|")
    custom = prepare_data(derm(subgroup_columns="age", subgroup_bins="0,50,inf"))
    assert set(custom.subgroup_values) == {"<50", "50+", "unknown"}


def test_user_split_is_kept_and_its_leakage_reported(derm, derm_csv):
    frame = pd.read_csv(derm_csv)
    leaked = frame.groupby("lesion_id").filter(lambda g: len(g) == 2)["lesion_id"].iloc[0]
    rows = frame.index[frame["lesion_id"] == leaked]
    frame.loc[rows, "split"] = ["train", "test"]
    frame.to_csv(derm_csv, index=False)
    data = prepare_data(derm(split_column="split"))
    for part, table in _parts(data).items():
        expected = frame.set_index("image_id").loc[table["image_id"], "split"]
        assert set(expected) == {part}
    assert f"lesion_overlap': ['{leaked}']" in data.report
    assert "leaks" in data.report


def test_bad_split_values_name_the_column_and_rows(derm, derm_csv):
    frame = pd.read_csv(derm_csv)
    frame.loc[3, "split"] = "holdout"
    frame.to_csv(derm_csv, index=False)
    with pytest.raises(ValueError, match=r"column 'split' must hold train / val / test.*holdout"):
        prepare_data(derm(split_column="split"))


def _runnable(name: str) -> bool:
    return METHODS[name].weights_folder is None


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_trains_on_a_csv(method, derm, request):
    options = {"method": method, "positive_class": "MEL"}
    if not _runnable(method):
        options["weights"] = str(request.getfixturevalue("tiny_clip"))
    result = train(derm(**options))
    assert result.results["epochs_completed"] == 1
    assert result.results["n_test"] > 0
    assert np.isfinite(result.history[-1]["train_loss"])
