"""``semcov-train predict``: a trained run applied to the images of a CSV, one row per image,
with the same probabilities the run itself wrote for its test images."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from semcov_train import train
from semcov_train.cli import main
from semcov_train.evaluation.predict import predict_csv


@pytest.fixture
def binary_run(derm):
    return train(derm(method="semcovnet", positive_class="MEL"))


def test_predict_matches_the_runs_own_test_predictions(binary_run, derm_csv):
    output = predict_csv(binary_run.run_dir, derm_csv)
    frame = output.predictions
    metadata = pd.read_csv(derm_csv)
    assert len(frame) == len(metadata)
    assert list(frame["id"]) == list(metadata["image_id"])
    assert list(frame.columns) == ["id", "label", "predicted", "prob_not_MEL", "prob_MEL"]
    np.testing.assert_allclose(frame[["prob_not_MEL", "prob_MEL"]].sum(axis=1), 1.0, atol=1e-5)
    threshold = binary_run.results["decision_threshold"]
    assert 0.0 < threshold < 1.0
    expected_pred = np.where(frame["prob_MEL"] >= threshold, "MEL", "not_MEL")
    np.testing.assert_array_equal(frame["predicted"], expected_pred)
    np.testing.assert_array_equal(
        frame["label"], np.where(metadata["dx"] == "MEL", "MEL", "not_MEL")
    )
    test = pd.read_parquet(binary_run.run_dir / "predictions.parquet").set_index("id")
    ours = frame.set_index("id").loc[test.index]
    np.testing.assert_allclose(ours["prob_MEL"], test["prob_MEL"], rtol=1e-5, atol=1e-6)
    auc = roc_auc_score(frame["label"] == "MEL", frame["prob_MEL"])
    assert output.report["performance"]["auc"] == pytest.approx(auc)
    assert output.report["n_predicted"] == len(metadata)
    assert set(output.report["fairness"]) >= {"cdi", "tpr_worst", "tpr_std", "n_valid_scgs"}


def test_predict_uses_the_runs_decision_threshold(binary_run, derm_csv):
    results_path = binary_run.run_dir / "results.json"
    results = json.loads(results_path.read_text())
    frame = predict_csv(binary_run.run_dir, derm_csv).predictions
    threshold = float(np.median(frame["prob_MEL"]))
    results_path.write_text(json.dumps({**results, "decision_threshold": threshold}))
    output = predict_csv(binary_run.run_dir, derm_csv)
    expected = np.where(output.predictions["prob_MEL"] >= threshold, "MEL", "not_MEL")
    np.testing.assert_array_equal(output.predictions["predicted"], expected)
    assert output.report["decision_threshold"] == threshold
    truth = output.predictions["label"] == "MEL"
    predicted = output.predictions["predicted"] == "MEL"
    tpr, tnr = predicted[truth].mean(), (~predicted[~truth]).mean()
    assert output.report["performance"]["balanced_accuracy"] == pytest.approx((tpr + tnr) / 2)


def test_predict_without_labels_or_subgroups(binary_run, derm_csv, tmp_path):
    new = pd.read_csv(derm_csv).drop(columns=["dx", "localization", "split"]).iloc[:7]
    (tmp_path / "new").mkdir()
    path = tmp_path / "new" / "to_score.csv"
    new.to_csv(path, index=False)
    output = predict_csv(binary_run.run_dir, path, data_root=derm_csv.parent)
    assert list(output.predictions.columns) == ["id", "predicted", "prob_not_MEL", "prob_MEL"]
    assert len(output.predictions) == 7
    assert "performance" not in output.report


def test_predict_all_class_run_on_the_command_line(derm, derm_csv, tmp_path, capsys):
    run = train(derm(method="erm"))
    out = tmp_path / "preds.csv"
    code = main(
        ["predict", "--run", str(run.run_dir), "--csv-path", str(derm_csv), "--out", str(out)]
    )
    assert code == 0, capsys.readouterr().err
    frame = pd.read_csv(out)
    assert len(frame) == len(pd.read_csv(derm_csv))
    probabilities = frame.filter(like="prob_").to_numpy()
    assert probabilities.shape[1] == 7
    classes = [c.removeprefix("prob_") for c in frame.filter(like="prob_").columns]
    np.testing.assert_array_equal(frame["predicted"], np.asarray(classes)[probabilities.argmax(1)])
    report = json.loads((tmp_path / "preds.report.json").read_text())
    assert report["decision_threshold"] is None and report["classes"] == classes


def test_predict_subprocess_and_bad_input(binary_run, derm_csv, tmp_path, capsys):
    out = tmp_path / "preds.csv"
    line = [sys.executable, "-m", "semcov_train", "predict", "--run", str(binary_run.run_dir)]
    done = subprocess.run(
        [*line, "--csv-path", str(derm_csv), "--out", str(out)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(pd.read_csv(out)) == len(pd.read_csv(derm_csv))
    frame = pd.read_csv(derm_csv).drop(columns=["vessels"])
    frame.to_csv(tmp_path / "no_vessels.csv", index=False)
    capsys.readouterr()
    code = main(
        ["predict", "--run", str(binary_run.run_dir), "--out", str(tmp_path / "x.csv"),
         "--csv-path", str(tmp_path / "no_vessels.csv"), "--data-root", str(derm_csv.parent)]
    )  # fmt: skip
    assert code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "missing column(s) ['vessels']" in lines[0], lines
    assert not (tmp_path / "x.csv").exists()
