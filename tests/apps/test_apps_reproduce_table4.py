"""apps/reproduce_table4.py end to end with the smoke preset on a small synthetic benchmark."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import reproduce_table4

APPS = Path(__file__).resolve().parents[2] / "apps"
PAPER = APPS / "paper_tables" / "table4_sdm_ablation.csv"


def _run(parent: Path, leaf: str) -> Path:
    """The run directory `leaf` (``fold<k>-seed<s>``) under `parent`, below its one settings
    level (``<preset>`` or ``<preset>-<hash>``, see semcov_train.rundir)."""
    (found,) = parent.glob(f"*/{leaf}")
    return found


def test_reproduce_table4_smoke_end_to_end(tmp_path, capsys, smoke_args):
    runs, out = tmp_path / "runs", tmp_path / "out"
    argv = [
        *("--variants", "descriptor_only", "hybrid_gated"),
        *("--folds", "2"),
        *smoke_args,
    ]
    assert reproduce_table4.main(argv) == 0
    capsys.readouterr()
    config = (
        _run(runs / "table4-hybrid_gated" / "semcovnet" / "synthetic-clinical", "fold1-seed0")
    ) / "config.json"
    assert '"semcov_sdm_mode": "gated"' in config.read_text()

    paper = pd.read_csv(PAPER, dtype=str, comment="#")
    table = pd.read_csv(out / "table4.csv", dtype=str, keep_default_na=False)
    assert list(table["sdm_variant"]) == list(paper["sdm_variant"])
    expected = ["sdm_variant", "n"]
    for metric in ("auc", "sens_at_95spec", "cdi"):
        expected += [f"{metric} (ours)", f"{metric} (paper)"]
    assert list(table.columns) == [*expected, "note"]
    rows = table.set_index("sdm_variant")
    assert rows.loc["hybrid_gated", "n"] == "2"
    assert " ± " in rows.loc["hybrid_gated", "auc (ours)"]  # two folds: mean ± std
    assert rows.loc["hybrid_gated", "auc (paper)"] == "0.8600 ± 0.0020"
    assert rows.loc["hybrid_add", "note"] == "not run: not selected (--variants)"
