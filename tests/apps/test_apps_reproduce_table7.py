"""apps/reproduce_table7.py end to end with the smoke preset on a small synthetic benchmark."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd
import pytest

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


def _load(name: str):
    if str(APPS) not in sys.path:
        sys.path.insert(0, str(APPS))
    spec = importlib.util.spec_from_file_location(name, APPS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


reproduce_table7 = _load("reproduce_table7")


def test_reproduce_table7_smoke_end_to_end(tmp_path, capsys):
    out = tmp_path / "out"
    argv = [
        *("--preset", "smoke", "--methods", "cbl", "clip"),
        *("--runs", str(tmp_path / "runs"), "--out", str(out)),
        *("--cache-dir", str(tmp_path / "cache")),
        *("--num-workers", "0", "--num-threads", "1", "--no-progress"),
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
    assert "Table 7" in capsys.readouterr().err
