"""apps/reproduce_table5.py end to end with the smoke preset on a small synthetic benchmark."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import reproduce_table5

APPS = Path(__file__).resolve().parents[2] / "apps"
PAPER = APPS / "paper_tables" / "table5_order_ablation.csv"


def _run(parent: Path, leaf: str) -> Path:
    """The run directory `leaf` (``fold<k>-seed<s>``) under `parent`, below its one settings
    level (``<preset>`` or ``<preset>-<hash>``, see semcov_train.rundir)."""
    (found,) = parent.glob(f"*/{leaf}")
    return found


def test_reproduce_table5_smoke_end_to_end(tmp_path, capsys, smoke_args):
    runs, out = tmp_path / "runs", tmp_path / "out"
    argv = [
        *("--orders", "attn_dam"),
        *smoke_args,
    ]
    assert reproduce_table5.main(argv) == 0
    capsys.readouterr()
    # the dermoscopic default order of Table 1 does not override the ablation's order
    run = _run(runs / "table5-attn_dam" / "semcovnet" / "synthetic-dermoscopic", "fold0-seed0")
    assert json.loads((run / "config.json").read_text())["config"]["semcov_order"] == "attn_dam"

    paper = pd.read_csv(PAPER, dtype=str, comment="#")
    table = pd.read_csv(out / "table5.csv", dtype=str, keep_default_na=False)
    assert list(zip(table["order"], table["modality"], strict=True)) == list(
        zip(paper["order"], paper["modality"], strict=True)
    )
    expected = ["order", "modality", "n"]
    for metric in ("auc", "sens_at_95spec", "cdi"):
        expected += [f"{metric} (ours)", f"{metric} (paper)"]
    assert list(table.columns) == [*expected, "note"]
    rows = table.set_index(["order", "modality"])
    for modality in ("dermoscopic", "clinical"):
        assert rows.loc[("attn_dam", modality), "n"] == "1"
        assert rows.loc[("mixture", modality), "note"] == "not run: not selected (--orders)"
    assert rows.loc[("mixture_dam_attn", "dermoscopic"), "auc (paper)"] == "0.9096 ± 0.0110"
