"""apps/reproduce_table8.py end to end with the smoke preset on a small synthetic benchmark."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import reproduce_table8

APPS = Path(__file__).resolve().parents[2] / "apps"
PAPER = APPS / "paper_tables" / "table8_subgroups.csv"


def _run(parent: Path, leaf: str) -> Path:
    """The run directory `leaf` (``fold<k>-seed<s>``) under `parent`, below its one settings
    level (``<preset>`` or ``<preset>-<hash>``, see semcov_train.rundir)."""
    (found,) = parent.glob(f"*/{leaf}")
    return found


def test_reproduce_table8_smoke_end_to_end(tmp_path, capsys, smoke_args):
    runs, out = tmp_path / "runs", tmp_path / "out"
    argv = [
        *("--subgroups", "skin_tone"),
        *smoke_args,
    ]
    assert reproduce_table8.main(argv) == 0
    capsys.readouterr()
    for method in ("groupdro", "semcovnet"):
        run = _run(runs / "table8-skin_tone" / method / "synthetic-dermoscopic", "fold0-seed0")
        assert json.loads((run / "results.json").read_text())["subgroup"] == "skin_tone"

    paper = pd.read_csv(PAPER, dtype=str, comment="#")
    table = pd.read_csv(out / "table8.csv", dtype=str, keep_default_na=False)
    assert list(zip(table["subgroup"], table["model"], strict=True)) == list(
        zip(paper["subgroup"], paper["model"], strict=True)
    )
    expected = ["subgroup", "model", "n"]
    for metric in ("cdi", "tpr_worst", "tpr_std"):
        expected += [f"{metric} (ours)", f"{metric} (paper)"]
    assert list(table.columns) == [*expected, "note"]
    rows = table.set_index(["subgroup", "model"])
    assert rows.loc[("skin_tone", "GroupDRO"), "n"] == "1"
    assert rows.loc[("skin_tone", "SemCovNet"), "cdi (paper)"] == "0.0226"
    assert rows.loc[("age", "SemCovNet"), "note"] == "not run: not selected (--subgroups)"
