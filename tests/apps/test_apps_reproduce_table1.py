"""apps/reproduce_table1.py end to end with the smoke preset on a small synthetic benchmark."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import reproduce_table1

APPS = Path(__file__).resolve().parents[2] / "apps"
PAPER = APPS / "paper_tables" / "table1_milk10k.csv"
METRICS = ["auc", "pr_auc", "sens_at_95spec", "balanced_accuracy", "macro_f1", "ece"]


def _run(parent: Path, leaf: str) -> Path:
    """The run directory `leaf` (``fold<k>-seed<s>``) under `parent`, below its one settings
    level (``<preset>`` or ``<preset>-<hash>``, see semcov_train.rundir)."""
    (found,) = parent.glob(f"*/{leaf}")
    return found


def test_reproduce_table1_smoke_end_to_end(tmp_path, capsys, smoke_args):
    runs, out = tmp_path / "runs", tmp_path / "out"
    argv = ["--methods", "erm", "semcovnet", "clip", "monet", *smoke_args]  # no weights cached
    assert reproduce_table1.main(argv) == 0
    first = capsys.readouterr()
    assert sorted(p.name for p in out.iterdir()) == ["table1.csv", "table1.md", "table1.tex"]

    paper = pd.read_csv(PAPER, dtype=str)
    table = pd.read_csv(out / "table1.csv", dtype=str, keep_default_na=False)
    assert list(zip(table["model"], table["modality"], strict=True)) == list(
        zip(paper["model"], paper["modality"], strict=True)
    )
    expected = ["model", "modality", "n"]
    for metric in METRICS:
        expected += [f"{metric} (ours)", f"{metric} (paper)"]
    assert list(table.columns) == [*expected, "note"]
    rows = table.set_index(["model", "modality"])
    for modality in ("dermoscopic", "clinical"):
        for model in ("ENet-B0", "SemCovNet"):
            row = rows.loc[(model, modality)]
            assert row["n"] == "1" and row["note"] == "ours: test_efficientnet"
            for metric in METRICS:
                assert 0.0 <= float(row[f"{metric} (ours)"].removesuffix(" (n = 1)")) <= 1.0
        for model in ("CLIP", "MONET"):
            row = rows.loc[(model, modality)]
            assert row["auc (ours)"] == "not run"
            assert "weights not found" in row["note"]
        assert rows.loc[("ViT", modality), "note"] == "not run: not selected (--methods)"
    assert rows.loc[("ENet-B0", "dermoscopic"), "auc (paper)"] == "0.9114"
    assert "| ENet-B0 | clinical | 1 |" in first.out
    assert (out / "table1.md").read_text() == first.out.rstrip("\n") + "\n"
    assert "- BAcc and Macro-F1 are at argmax" in first.out  # the table's note says so
    assert r"\begin{tabular}" in (out / "table1.tex").read_text()

    # Finished runs are skipped; an unfinished one (no DONE marker) resumes from last.pt.
    interrupted = _run(runs / "table1" / "erm" / "synthetic-clinical", "fold0-seed0")
    (interrupted / "DONE").unlink()
    (interrupted / "results.json").unlink()
    assert reproduce_table1.main(argv) == 0
    second = capsys.readouterr()
    assert second.err.count("finished earlier") == 3
    assert "erm clinical fold0 seed0: resuming" in second.err
    assert (interrupted / "DONE").is_file()
    assert pd.read_csv(out / "table1.csv", dtype=str, keep_default_na=False).equals(table)

    # a run directory trained with other settings (its stored lr edited): refused before any
    # training, the setting named, never reused
    stored_path = interrupted / "config.json"
    stored = json.loads(stored_path.read_text())
    stored["config"]["lr"] = 0.5
    stored_path.write_text(json.dumps(stored))
    assert reproduce_table1.main(argv) == 2
    third = capsys.readouterr()
    assert "trained with other settings" in third.err and "lr: 0.5 -> 0.001" in third.err
    assert "training" not in third.err.replace("trained with", "")


def test_reproduce_table1_rejects_unknown_methods(capsys):
    with pytest.raises(SystemExit) as error:
        reproduce_table1.main(["--methods", "erm", "nir"])
    assert error.value.code == 2
    assert "nir" in capsys.readouterr().err
