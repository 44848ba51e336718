"""apps/reproduce_nir.py end to end with the smoke preset on a small synthetic benchmark, and its
disparities recomputed by hand from the predictions."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
import reproduce_nir

APPS = Path(__file__).resolve().parents[2] / "apps"
PAPER = APPS / "paper_tables" / "nir_abstract_disparity.csv"
KEYS = ["dataset", "subgroup", "model"]
METRICS = ("tpr_disparity", "fpr_disparity")
AGE_GROUPS = {"<30", "30-44", "45-59", "60-74", "75+"}


def _run(parent: Path, leaf: str) -> Path:
    """The run directory `leaf` (``fold<k>-seed<s>``) under `parent`, below its one settings
    level (``<preset>`` or ``<preset>-<hash>``, see semcov_train.rundir)."""
    (found,) = parent.glob(f"*/{leaf}")
    return found


def _youden_by_hand(y_true: pd.Series, score: pd.Series) -> float:
    """The highest score threshold with the largest TPR − FPR, trying every score."""
    best, best_j = None, -math.inf
    for threshold in sorted(set(score), reverse=True):
        predicted = score >= threshold
        j = predicted[y_true == 1].mean() - predicted[y_true == 0].mean()
        if j > best_j:
            best, best_j = threshold, j
    return best


def _disparities_by_hand(predictions: pd.DataFrame) -> dict[str, float]:
    """max − min of the per-group TPR (FPR) of ``y_pred``, percent; groups without positives
    (negatives) and unknown attributes left out."""
    known = predictions[predictions["subgroup"] != "unknown"]
    positives = known[known["y_true"] == 1].groupby("subgroup")["y_pred"].mean()
    negatives = known[known["y_true"] == 0].groupby("subgroup")["y_pred"].mean()
    spread = {
        name: 100 * (rates.max() - rates.min()) if len(rates) >= 2 else math.nan
        for name, rates in (("tpr_disparity", positives), ("fpr_disparity", negatives))
    }
    return spread


def _cell(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.2f} (n = 1)"  # one run per cell


def test_reproduce_nir_smoke_end_to_end(tmp_path, capsys, smoke_args):
    runs, out = tmp_path / "runs", tmp_path / "out"
    assert reproduce_nir.main(smoke_args) == 0
    capsys.readouterr()

    paper = pd.read_csv(PAPER, dtype=str, comment="#", keep_default_na=False)
    table = pd.read_csv(out / "nir_disparity.csv", dtype=str, keep_default_na=False)
    assert table[KEYS].values.tolist() == paper[KEYS].values.tolist()
    expected = [*KEYS, "n"]
    for metric in METRICS:
        expected += [f"{metric} (ours)", f"{metric} (paper)"]
    assert list(table.columns) == [*expected, "note"]
    rows = table.set_index(KEYS)
    for record in paper.to_dict("records"):
        key = tuple(record[k] for k in KEYS)
        for metric in METRICS:
            paper_cell = f"{float(record[metric]):.2f}" if record[metric] else "n/a"
            assert rows.loc[key, f"{metric} (paper)"] == paper_cell

    for subgroup, groups in (("sex", {"female", "male"}), ("age", AGE_GROUPS)):
        for method, model in (("erm", "baseline"), ("nir", "NIR")):
            run_dir = _run(
                runs / f"nir-{subgroup}" / method / "synthetic-dermoscopic", "fold0-seed0"
            )
            config = json.loads((run_dir / "config.json").read_text())
            assert config["resolved"]["subgroup"] == subgroup
            predictions = pd.read_parquet(run_dir / "predictions.parquet")
            assert set(predictions["subgroup"]) <= groups
            threshold = _youden_by_hand(predictions["y_true"], predictions["prob_MEL"])
            predictions["y_pred"] = (predictions["prob_MEL"] >= threshold).astype(int)
            by_hand = _disparities_by_hand(predictions)
            for dataset in ("HAM10000", "Harvard OCT-RNFL") if subgroup == "age" else ("HAM10000",):
                row = rows.loc[(dataset, subgroup, model)]
                assert row["n"] == "1"
                ours = "synthetic dermoscopic, test_efficientnet, threshold youden"
                assert row["note"] == f"paper: {dataset}; ours: {ours}"
                for metric in METRICS:
                    assert row[f"{metric} (ours)"] == _cell(by_hand[metric])
    race = rows.loc[("Harvard OCT-RNFL", "race", "NIR")]
    assert race["n"] == "0" and race["note"] == "not run: not an attribute of our datasets"

    rates = pd.read_csv(out / "nir_group_rates.csv")
    assert list(rates.columns) == [
        *("subgroup", "model", "fold", "seed", "threshold", "group", "n", "positives"),
        *("negatives", "tpr", "fpr"),
    ]
    sex = rates[(rates["subgroup"] == "sex") & (rates["model"] == "NIR")]
    predictions = pd.read_parquet(
        _run(runs / "nir-sex" / "nir" / "synthetic-dermoscopic", "fold0-seed0")
        / "predictions.parquet"
    )
    assert dict(zip(sex["group"], sex["n"], strict=True)) == (
        predictions["subgroup"].value_counts().to_dict()
    )


def test_one_method_and_subgroup(tmp_path, capsys, smoke_args):
    argv = ["--methods", "nir", "--subgroups", "sex", *smoke_args]
    assert reproduce_nir.main(argv) == 0
    capsys.readouterr()
    table = pd.read_csv(tmp_path / "out" / "nir_disparity.csv", dtype=str, keep_default_na=False)
    rows = table.set_index(KEYS)
    assert rows.loc[("HAM10000", "sex", "NIR"), "n"] == "1"
    assert rows.loc[("HAM10000", "sex", "baseline"), "note"] == (
        "not run: not selected (--methods)"
    )
    assert rows.loc[("HAM10000", "age", "NIR"), "note"] == "not run: not selected (--subgroups)"
    assert not (tmp_path / "runs" / "nir-age").exists()


def _write_run(folder: Path, predictions: pd.DataFrame) -> Path:
    predictions.to_parquet(folder / "predictions.parquet")
    config = {"resolved": {"classes": ["rest", "MEL"]}}
    (folder / "config.json").write_text(json.dumps(config))
    return folder


#: female: 5 samples, male: 4, unknown: 2; y_pred is the arg-max class.
HAND_MADE = pd.DataFrame(
    {
        "y_true": [1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 0],
        "y_pred": [1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1],
        "prob_MEL": [0.9, 0.6, 0.3, 0.1, 0.55, 0.7, 0.35, 0.2, 0.3, 0.4, 0.8],
        "subgroup": ["female"] * 5 + ["male"] * 4 + ["unknown"] * 2,
    }
)


def test_run_disparities_at_the_argmax_class(tmp_path):
    run_dir = _write_run(tmp_path, HAND_MADE)
    values = reproduce_nir.run_disparities(run_dir, "argmax")
    # female: TPR 2/3, FPR 1/2; male: TPR 1/2, FPR 0; unknown left out
    assert values["tpr_disparity"] == pytest.approx(100 * (2 / 3 - 1 / 2))
    assert values["fpr_disparity"] == pytest.approx(50.0)
    assert values == pytest.approx(_disparities_by_hand(HAND_MADE))


def test_run_disparities_at_a_threshold(tmp_path):
    run_dir = _write_run(tmp_path, HAND_MADE)
    # at 0.32: female TPR 2/3, FPR 1/2; male TPR 1, FPR 0
    values = reproduce_nir.run_disparities(run_dir, 0.32)
    assert values["tpr_disparity"] == pytest.approx(100 / 3)
    assert values["fpr_disparity"] == pytest.approx(50.0)
    # Youden's J over all eleven samples (unknown included: the threshold ignores groups)
    threshold = _youden_by_hand(HAND_MADE["y_true"], HAND_MADE["prob_MEL"])
    assert reproduce_nir.youden_threshold(HAND_MADE["y_true"], HAND_MADE["prob_MEL"]) == (
        pytest.approx(threshold)
    )
    at_youden = HAND_MADE.assign(y_pred=(HAND_MADE["prob_MEL"] >= threshold).astype(int))
    assert reproduce_nir.run_disparities(run_dir) == pytest.approx(_disparities_by_hand(at_youden))


def test_one_group_has_no_disparity(tmp_path):
    predictions = pd.DataFrame(
        {"y_true": [1, 0], "y_pred": [1, 1], "prob_MEL": [0.6, 0.7], "subgroup": ["male"] * 2}
    )
    values = reproduce_nir.run_disparities(_write_run(tmp_path, predictions))
    assert math.isnan(values["tpr_disparity"]) and math.isnan(values["fpr_disparity"])


def test_a_multiclass_run_is_refused(tmp_path):
    run_dir = _write_run(tmp_path, HAND_MADE)
    (run_dir / "config.json").write_text(json.dumps({"resolved": {"classes": ["a", "b", "c"]}}))
    with pytest.raises(ValueError, match="binary target"):
        reproduce_nir.run_disparities(run_dir)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--subgroups", "race"], "--subgroups"),
        (["--methods", "groupdro"], "--methods"),
        (["--folds", "0"], "--folds"),
        (["--threshold", "1.5"], "--threshold"),
        (["--threshold", "median"], "--threshold"),
    ],
)
def test_bad_options_are_usage_errors(argv, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as error:
        reproduce_nir.main([*argv, "--runs", str(tmp_path / "runs")])
    assert error.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()
