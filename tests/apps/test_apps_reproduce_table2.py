"""apps/reproduce_table2.py end to end with the smoke preset on a small synthetic benchmark."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd
import pytest

APPS = Path(__file__).resolve().parents[2] / "apps"
PAPER = APPS / "paper_tables" / "table2_isic_dicm_17k.csv"
METRICS = ["auc", "pr_auc", "sens_at_95spec", "balanced_accuracy", "macro_f1", "ece"]


def _load(name: str):
    if str(APPS) not in sys.path:
        sys.path.insert(0, str(APPS))
    spec = importlib.util.spec_from_file_location(name, APPS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


reproduce_table2 = _load("reproduce_table2")


def test_reproduce_table2_smoke_end_to_end(tmp_path, capsys):
    out = tmp_path / "out"
    argv = [
        *("--preset", "smoke", "--methods", "erm", "monet"),
        *("--runs", str(tmp_path / "runs"), "--out", str(out)),
        *("--cache-dir", str(tmp_path / "cache")),
        *("--num-workers", "0", "--num-threads", "1", "--no-progress"),
    ]
    assert reproduce_table2.main(argv) == 0
    printed = capsys.readouterr().out
    paper = pd.read_csv(PAPER, dtype=str)
    table = pd.read_csv(out / "table2.csv", dtype=str, keep_default_na=False)
    assert list(table["model"]) == list(paper["model"])
    expected = ["model", "n"]
    for metric in METRICS:
        expected += [f"{metric} (ours)", f"{metric} (paper)"]
    assert list(table.columns) == [*expected, "note"]
    rows = table.set_index("model")
    assert rows.loc["ENet-B0", "n"] == "1"
    assert 0.0 <= float(rows.loc["ENet-B0", "auc (ours)"]) <= 1.0
    assert rows.loc["ENet-B0", "auc (paper)"] == "0.8612"
    assert rows.loc["MONET", "auc (ours)"] == "not run"
    assert "weights not found" in rows.loc["MONET", "note"]
    assert rows.loc["SemCovNet", "note"] == "not run: not selected (--methods)"
    assert "| SemCovNet | 0 | not run | 0.8822 |" in printed
    assert (tmp_path / "runs" / "table2" / "erm" / "synthetic-dermoscopic").is_dir()


def test_reproduce_table2_rejects_other_datasets(capsys):
    with pytest.raises(SystemExit) as error:
        reproduce_table2.main(["--dataset", "milk10k"])
    assert error.value.code == 2
    assert "isic_dicm17k" in capsys.readouterr().err
