"""scg.csv: the per-SCG table a finished run writes, checked against a recomputation from the
training split and predictions.parquet (soft membership, the trainer's default)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import pearsonr

from semcov_train import prepare_data, train

COLUMNS = [
    "class",
    "class_name",
    "descriptor",
    "subgroup",
    "n_train",
    "coverage",
    "support",
    "tpr",
    "error",
    "valid",
]


def _expected_table(data, predictions: pd.DataFrame) -> pd.DataFrame:
    """Coverage = mean descriptor probability of the training samples of (class, subgroup);
    support = the test samples' summed probability; TPR = probability-weighted share correct
    (decision: ``prob_MEL >= decision_threshold``)."""
    train_arrays = data.split_arrays("train")
    train = pd.DataFrame(train_arrays["descriptors"], columns=list(data.descriptor_names))
    train["class"] = train_arrays["labels"]
    train["subgroup"] = train_arrays["subgroup_names"].astype(str)
    # Per-SCG TPR counts the decisions at the validation-chosen threshold, not argmax.
    predictions = predictions.assign(correct=(predictions["y_true"] == predictions["y_decision"]))
    rows = []
    for code, name in enumerate(data.classes):
        for descriptor in data.descriptor_names:
            for subgroup in data.subgroup_values:
                cell = train[(train["class"] == code) & (train["subgroup"] == subgroup)]
                test = predictions[
                    (predictions["y_true"] == code) & (predictions["subgroup"] == subgroup)
                ]
                weight = test[descriptor].to_numpy(dtype=float)
                support = weight.sum()
                tpr = (weight * test["correct"]).sum() / support if support > 0 else np.nan
                rows.append(
                    {
                        "class": code,
                        "class_name": name,
                        "descriptor": descriptor,
                        "subgroup": subgroup,
                        "n_train": len(cell),
                        "coverage": cell[descriptor].mean() if len(cell) else 0.0,
                        "support": support,
                        "tpr": tpr,
                    }
                )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def finished_run(train_cache, tmp_path_factory):
    from semcov_train import make_config

    config = make_config(
        "smoke",
        method="semcovnet",
        cache_dir=str(train_cache),
        out=str(tmp_path_factory.mktemp("scg") / "runs"),
        num_threads=1,
    )
    return config, train(config)


def test_finished_run_writes_scg_table_matching_a_recomputation(finished_run):
    config, result = finished_run
    run_dir = result.run_dir
    assert (run_dir / "DONE").is_file()
    table = pd.read_csv(run_dir / "scg.csv")
    assert list(table.columns) == COLUMNS
    assert not list(run_dir.glob(".scg.csv.*"))  # the atomic write left no temporary file

    data = prepare_data(config)
    predictions = pd.read_parquet(run_dir / "predictions.parquet")
    threshold = json.loads((run_dir / "results.json").read_text())["decision_threshold"]
    assert 0.0 < threshold < 1.0
    decided = (predictions[f"prob_{data.classes[1]}"] >= np.float32(threshold)).astype(int)
    assert predictions["y_decision"].tolist() == decided.tolist()
    expected = _expected_table(data, predictions)
    assert len(table) == data.num_classes * data.num_descriptors * data.num_subgroups
    for column in ("class", "class_name", "descriptor", "subgroup", "n_train"):
        assert table[column].astype(str).tolist() == expected[column].astype(str).tolist()
    for column in ("coverage", "support", "tpr"):
        np.testing.assert_allclose(table[column], expected[column], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(table["error"], 1.0 - expected["tpr"], atol=1e-9)
    valid = (expected["support"] > 0) & expected["tpr"].notna()
    assert table["valid"].tolist() == valid.tolist()


def test_scg_table_reproduces_the_fairness_numbers_of_results_json(finished_run):
    _, result = finished_run
    table = pd.read_csv(result.run_dir / "scg.csv")
    results = json.loads((result.run_dir / "results.json").read_text())
    assert results["conventions"]["membership"] == "soft"
    valid = table[table["valid"]]
    assert len(valid) == results["n_valid_scgs"] >= 3
    # semcov_metrics: CDI = |Pearson r(coverage, 1 - TPR)| over the valid SCGs.
    r = pearsonr(valid["coverage"], valid["error"]).statistic
    assert abs(r) == pytest.approx(results["cdi"], abs=1e-9)
    assert valid["tpr"].min() == pytest.approx(results["tpr_worst"], abs=1e-12)
    assert valid["tpr"].std(ddof=0) == pytest.approx(results["tpr_std"], abs=1e-12)
