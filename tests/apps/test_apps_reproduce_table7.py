"""apps/reproduce_table7.py end to end with the smoke preset on a small synthetic benchmark."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import reproduce_table7

APPS = Path(__file__).resolve().parents[2] / "apps"
PAPER = APPS / "paper_tables" / "table7_celeba.csv"
METRICS = [
    "auc",
    "pr_auc",
    "sens_at_95spec",
    "balanced_accuracy",
    "macro_f1",
    "ece",
    "cdi",
    "tpr_worst",
    "tpr_std",
]


def test_reproduce_table7_smoke_end_to_end(tmp_path, capsys, smoke_args):
    out = tmp_path / "out"
    argv = [
        *("--methods", "cbl", "clip"),
        *smoke_args,
    ]
    assert reproduce_table7.main(argv) == 0
    capsys.readouterr()
    paper = pd.read_csv(PAPER, dtype=str, comment="#")
    table = pd.read_csv(out / "table7.csv", dtype=str, keep_default_na=False)
    assert list(table["model"]) == list(paper["model"])
    expected = ["model", "n"]
    for metric in METRICS:
        expected += [f"{metric} (ours)", f"{metric} (paper)"]
    assert list(table.columns) == [*expected, "note"]
    rows = table.set_index("model")
    assert rows.loc["ENet-B0+CBL", "n"] == "1"
    assert rows.loc["ENet-B0+CBL", "auc (paper)"] == "0.9588"
    assert "weights not found" in rows.loc["CLIP", "note"]
    assert rows.loc["SemCovNet", "note"] == "not run: not selected (--methods)"


def test_reproduce_table7_rejects_methods_outside_the_table(capsys):
    with pytest.raises(SystemExit):
        reproduce_table7.main(["--methods", "erm"])
    assert "--methods: ['erm'] are not among cbl, asl" in capsys.readouterr().err
