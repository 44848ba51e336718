"""apps/reproduce_semantic_scale.py end to end with the smoke preset on a small synthetic
benchmark; its cells checked against results.json and predictions.parquet."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import reproduce_semantic_scale
from sklearn.metrics import recall_score

APPS = Path(__file__).resolve().parents[2] / "apps"
CLAIMS = APPS / "paper_tables" / "semantic_scale_claims.csv"
METRICS = ("auc", "balanced_accuracy", "macro_f1", "cdi", "tpr_worst", "tpr_std")


def _run(parent: Path, leaf: str) -> Path:
    """The run directory `leaf` (``fold<k>-seed<s>``) under `parent`, below its one settings
    level (``<preset>`` or ``<preset>-<hash>``, see semcov_train.rundir)."""
    (found,) = parent.glob(f"*/{leaf}")
    return found


def semantic_scale_by_hand(features: np.ndarray) -> float:
    """½ log2 det(I + d/m · Z Zᵀ) of the L2-normalised, centred rows (Sylvester's m × m form)."""
    z = features / np.linalg.norm(features, axis=1, keepdims=True)
    z = z - z.mean(axis=0)
    m, d = z.shape
    _, logdet = np.linalg.slogdet(np.eye(m) + (d / m) * z @ z.T)
    return 0.5 * logdet / math.log(2.0)


def cell(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f} (n = 1)"


def test_claims_file_has_no_numbers_and_names_its_source():
    text = CLAIMS.read_text()
    comments = [line for line in text.splitlines() if line.startswith("#")]
    assert any("Delving into Semantic Scale Imbalance" in line for line in comments)
    assert any("holds no numbers" in line for line in comments)
    claims = pd.read_csv(CLAIMS, comment="#")
    assert list(claims["claim"]) == ["performance", "bias"]
    assert list(claims.columns) == ["claim", "statement", "paper_evidence", "our_test"]


def test_reproduce_semantic_scale_smoke_end_to_end(tmp_path, capsys, smoke_args):
    runs, out = tmp_path / "runs", tmp_path / "out"
    argv = ["--modalities", "dermoscopic", *smoke_args]
    assert reproduce_semantic_scale.main(argv) == 0
    printed = capsys.readouterr().out
    assert "Paper (Ma et al., ICLR 2023)" in printed

    run_dirs = {
        method: _run(runs / "semantic_scale" / method / "synthetic-dermoscopic", "fold0-seed0")
        for method in ("erm", "semantic_scale")
    }
    results = {m: json.loads((d / "results.json").read_text()) for m, d in run_dirs.items()}
    config = json.loads((run_dirs["semantic_scale"] / "config.json").read_text())
    assert '"method": "semantic_scale"' in json.dumps(config)

    table = pd.read_csv(out / "semantic_scale.csv", dtype=str, keep_default_na=False)
    assert list(table.columns) == [
        *("modality", "metric", "n erm", "erm (ours)", "n semantic_scale"),
        *("semantic_scale (ours)", "semantic_scale - erm (ours)", "paper", "agrees"),
    ]
    assert list(table["metric"]) == list(METRICS)
    rows = table.set_index("metric")
    for metric in METRICS:
        erm, scaled = results["erm"][metric], results["semantic_scale"][metric]
        assert rows.loc[metric, "erm (ours)"] == cell(erm)
        assert rows.loc[metric, "semantic_scale (ours)"] == cell(scaled)
        assert rows.loc[metric, "n erm"] == "1"
        if erm is not None and scaled is not None:
            assert float(rows.loc[metric, "semantic_scale - erm (ours)"]) == pytest.approx(
                scaled - erm, abs=1e-4
            )
    for metric in ("auc", "balanced_accuracy", "macro_f1"):
        delta = results["semantic_scale"][metric] - results["erm"][metric]
        expected = "no (equal)" if delta == 0 else ("yes" if delta > 0 else "no")
        assert rows.loc[metric, "agrees"] == expected
        assert rows.loc[metric, "paper"] == "claims better (higher); no number"
    for metric in ("cdi", "tpr_worst", "tpr_std"):
        assert rows.loc[metric, "paper"] == "not measured by the paper"
        assert rows.loc[metric, "agrees"] == ""

    classes = pd.read_csv(out / "semantic_scale_classes.csv", dtype=str, keep_default_na=False)
    assert set(classes["method"]) == {"erm", "semantic_scale"}
    for method, run_dir in run_dirs.items():
        predictions = pd.read_parquet(run_dir / "predictions.parquet")
        embeddings = np.stack(predictions["embedding"].to_numpy()).astype(np.float64)
        y_true, y_pred = predictions["y_true"].to_numpy(), predictions["y_pred"].to_numpy()
        recalls = recall_score(y_true, y_pred, labels=[0, 1], average=None, zero_division=np.nan)
        mine = classes[classes["method"] == method].set_index("class")
        assert list(mine.index) == ["rest", "MEL"]
        for code, name in enumerate(["rest", "MEL"]):
            rows_of_class = y_true == code
            assert mine.loc[name, "n_test"] == f"{rows_of_class.sum():.1f}"
            assert mine.loc[name, "recall"] == cell(float(recalls[code]))
            expected = semantic_scale_by_hand(embeddings[rows_of_class])
            assert float(mine.loc[name, "semantic_scale"].split(" (n")[0]) == pytest.approx(
                expected, abs=1e-4
            )
        scales = [semantic_scale_by_hand(embeddings[y_true == c]) for c in (0, 1)]
        if recalls[0] == recalls[1]:
            verdict = "n/a (equal recall or too few samples)"
        else:
            agrees = int(np.argmin(scales) == np.argmin(recalls))
            verdict = f"{agrees} of 1 runs"
        assert set(mine["smaller scale has lower recall"]) == {verdict}

    paper = pd.read_csv(out / "semantic_scale_paper.csv")
    claims = pd.read_csv(CLAIMS, comment="#")
    assert list(paper["claim"]) == list(claims["claim"])
    assert list(paper["statement"]) == list(claims["statement"])

    # a second call finds both runs finished and trains nothing
    assert reproduce_semantic_scale.main(argv) == 0
    assert capsys.readouterr().err.count("finished earlier") == 2


def test_bias_verdict_and_agreement():
    verdict, agrees = reproduce_semantic_scale._bias_verdict, reproduce_semantic_scale._agrees
    classes = pd.DataFrame({"recall": [0.9, 0.4], "semantic_scale": [3.0, 1.0]})
    assert verdict(classes) is True
    assert verdict(classes.assign(recall=[0.3, 0.4])) is False
    assert verdict(classes.assign(recall=[0.5, 0.5])) is None
    assert verdict(classes.assign(semantic_scale=[1.0, np.nan])) is None
    assert agrees(0.01, "higher") == "yes"
    assert agrees(-0.01, "higher") == "no"
    assert agrees(0.01, "lower") == "no"
    assert agrees(float("nan"), "higher") == "n/a"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--methods", "erm", "focal"], "--methods"),
        (["--dataset", "celeba", "--data-root", "."], "--dataset must be one of"),
        (["--modalities", "photo"], "--modalities"),
        (["--folds", "0"], "--folds must be >= 1"),
        (["--dataset", "isic_dicm17k", "--data-root", "."], "--descriptors-csv is required"),
    ],
)
def test_bad_options_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as raised:
        reproduce_semantic_scale.main(argv)
    assert raised.value.code == 2
    assert message in capsys.readouterr().err
