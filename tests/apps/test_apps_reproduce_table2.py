"""apps/reproduce_table2.py end to end with the smoke preset on a small synthetic benchmark."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import reproduce_table2

APPS = Path(__file__).resolve().parents[2] / "apps"
PAPER = APPS / "paper_tables" / "table2_isic_dicm_17k.csv"
METRICS = ["auc", "pr_auc", "sens_at_95spec", "balanced_accuracy", "macro_f1", "ece"]


def _run(parent: Path, leaf: str) -> Path:
    """The run directory `leaf` (``fold<k>-seed<s>``) under `parent`, below its one settings
    level (``<preset>`` or ``<preset>-<hash>``, see semcov_train.rundir)."""
    (found,) = parent.glob(f"*/{leaf}")
    return found


def test_reproduce_table2_smoke_end_to_end(tmp_path, capsys, smoke_args):
    out = tmp_path / "out"
    argv = [
        *("--methods", "erm", "monet"),
        *smoke_args,
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
    assert 0.0 <= float(rows.loc["ENet-B0", "auc (ours)"].removesuffix(" (n = 1)")) <= 1.0
    assert rows.loc["ENet-B0", "auc (paper)"] == "0.8612"
    assert rows.loc["MONET", "auc (ours)"] == "not run"
    assert "weights not found" in rows.loc["MONET", "note"]
    assert rows.loc["SemCovNet", "note"] == "not run: not selected (--methods)"
    assert "| SemCovNet | 0 | not run | 0.8822 |" in printed
    # the synthetic stand-in of ISIC-DICM-17K is Table 1's dermoscopic benchmark: same runs
    assert _run(
        tmp_path / "runs" / "table1" / "erm" / "synthetic-dermoscopic", "fold0-seed0"
    ).is_dir()
    assert not (tmp_path / "runs" / "table2").exists()


def test_reproduce_table2_rejects_other_datasets(capsys):
    with pytest.raises(SystemExit) as error:
        reproduce_table2.main(["--dataset", "milk10k"])
    assert error.value.code == 2
    assert "isic_dicm17k" in capsys.readouterr().err
