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
    "support_hard",
    "tpr_hard",
    "error_hard",
    "valid_hard",
    "tpr_low",
    "tpr_high",
    "exclusion",
    "band",
    "q_value",
    "flagged",
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
                hard = (weight >= 0.5).astype(float)
                tpr_hard = (hard * test["correct"]).sum() / hard.sum() if hard.any() else np.nan
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
                        "support_hard": hard.sum(),
                        "tpr_hard": tpr_hard,
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
        # 64 test images: the default smoke size (8) has fewer than 3 SCGs with one expected
        # test member, where CDI is undefined
        synthetic_lesions=320,
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
    for column in ("coverage", "support", "tpr", "support_hard", "tpr_hard"):
        np.testing.assert_allclose(table[column], expected[column], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(table["error"], 1.0 - expected["tpr"], atol=1e-9)
    # the SCG set of every statistic: at least min_support (1.0) expected test members
    min_support = json.loads((run_dir / "results.json").read_text())["min_support"]
    assert min_support == 1.0
    valid = (expected["support"] >= min_support) & expected["tpr"].notna()
    assert table["valid"].tolist() == valid.tolist()
    valid_hard = (expected["support_hard"] >= min_support) & expected["tpr_hard"].notna()
    assert table["valid_hard"].tolist() == valid_hard.tolist()


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
    hard = table[table["valid_hard"]]
    r_hard = pearsonr(hard["coverage"], hard["error_hard"]).statistic
    assert abs(r_hard) == pytest.approx(results["cdi_hard"], abs=1e-9)
    # per class: the same correlation within each class's valid SCGs
    for name, value in results["cdi_per_class"].items():
        rows = valid[valid["class_name"] == name]
        if value is None:
            assert len(rows) < 3 or rows["error"].nunique() < 2 or rows["coverage"].nunique() < 2
        else:
            r_class = pearsonr(rows["coverage"], rows["error"]).statistic
            assert abs(r_class) == pytest.approx(value, abs=1e-9)
    # the CDI test: its null's mean below its 95 % quantile, a p-value, the slope's interval
    assert 0.0 < results["cdi_null"] <= results["cdi_null_q95"] <= 1.0
    assert 0.0 < results["cdi_p_value"] <= 1.0
    low, high = results["coverage_error_slope_interval"]
    assert low <= results["coverage_error_slope"] <= high
    # scg.csv carries the report's band, q-value and flag per SCG
    assert {"band", "q_value", "flagged", "tpr_low", "tpr_high", "exclusion"} <= set(table.columns)
