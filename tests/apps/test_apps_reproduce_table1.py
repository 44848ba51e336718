"""apps/reproduce_table1.py end to end with the smoke preset on a small synthetic benchmark."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import reproduce_table1
from scipy import stats

from semcov_train import make_config
from semcov_train.methods.oracle import oracle_ceiling

APPS = Path(__file__).resolve().parents[2] / "apps"
PAPER = APPS / "paper_tables" / "table1_milk10k.csv"
METRICS = ["auc", "pr_auc", "sens_at_95spec", "balanced_accuracy", "macro_f1", "ece"]


def _run(parent: Path, leaf: str) -> Path:
    """The run directory `leaf` (``fold<k>-seed<s>``) under `parent`, below its one settings
    level (``<preset>`` or ``<preset>-<hash>``, see semcov_train.rundir)."""
    (found,) = parent.glob(f"*/{leaf}")
    return found


def test_reproduce_table1_smoke_end_to_end(tmp_path, capsys, smoke_args, semcov_cache):
    runs, out = tmp_path / "runs", tmp_path / "out"
    argv = ["--methods", "erm", "semcovnet", "clip", "monet", *smoke_args]  # no weights cached
    assert reproduce_table1.main(argv) == 0
    first = capsys.readouterr()
    assert sorted(p.name for p in out.iterdir()) == ["table1.csv", "table1.md", "table1.tex"]

    paper = pd.read_csv(PAPER, dtype=str)
    table = pd.read_csv(out / "table1.csv", dtype=str, keep_default_na=False)
    # the paper's rows in its order, then (synthetic data) the oracle ceiling per modality
    oracle = [("Oracle (scene parameters)", m) for m in ("dermoscopic", "clinical")]
    assert list(zip(table["model"], table["modality"], strict=True)) == [
        *zip(paper["model"], paper["modality"], strict=True),
        *oracle,
    ]
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
    for modality in ("dermoscopic", "clinical"):
        row = rows.loc[("Oracle (scene parameters)", modality)]
        config = make_config(
            "smoke", dataset="synthetic", modality=modality, cache_dir=str(semcov_cache)
        )
        assert row["auc (ours)"] == f"{oracle_ceiling(config):.4f} (n = 1)"
        assert row["auc (paper)"] == "—" and row["pr_auc (ours)"] == "—"
    assert "| ENet-B0 | clinical | 1 |" in (out / "table1.md").read_text()
    # The terminal gets the table in lines of at most 100 characters; the files keep it whole.
    assert all(len(line) <= 100 for line in first.out.splitlines() if line.startswith("|"))
    # A long text (a "not run" reason) is said once, below the table, not in each of its rows.
    long_notes = {note for note in table["note"] if len(note) > 32}
    assert long_notes and all(first.out.count(note) == 1 for note in long_notes)
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


def _paired(runs: Path, method: str, control: str, modality: str, metric: str) -> tuple:
    """Mean and 95 % t half-width of method − control over seeds, from results.json."""
    values = {}
    for name in (method, control):
        for path in sorted((runs / "table1" / name / f"synthetic-{modality}").glob("*/*")):
            values.setdefault(name, {})[path.name] = json.loads(
                (path / "results.json").read_text()
            )[metric]
    differences = np.array([values[method][k] - values[control][k] for k in values[method]])
    half = stats.t.ppf(0.975, len(differences) - 1) * differences.std(ddof=1)
    return differences.mean(), half / np.sqrt(len(differences))


def test_reproduce_table1_controls_and_paired_notes(tmp_path, capsys, smoke_args):
    runs, out = tmp_path / "runs", tmp_path / "out"
    methods = ["erm", "semcovnet", "erm_late_fusion", "semcovnet_shuffled"]
    argv = ["--methods", *methods, "--seeds", "0", "1", *smoke_args]
    assert reproduce_table1.main(argv) == 0
    printed = capsys.readouterr().out
    table = pd.read_csv(out / "table1.csv", dtype=str, keep_default_na=False)
    rows = table.set_index(["model", "modality"])
    for label in ("ENet-B0 + descriptors (late fusion)", "SemCovNet (shuffled descriptors)"):
        for modality in ("dermoscopic", "clinical"):
            row = rows.loc[(label, modality)]
            assert row["n"] == "2" and row["auc (paper)"] == "—"
            assert row["note"].startswith("control, not in the paper")
    # the control's cell: mean ± t half-width of its two runs, read from results.json
    aucs = [
        json.loads((p / "results.json").read_text())["auc"]
        for p in sorted((runs / "table1" / "erm_late_fusion" / "synthetic-clinical").glob("*/*"))
    ]
    half = stats.t.ppf(0.975, 1) * np.std(aucs, ddof=1) / np.sqrt(2)
    cell = rows.loc[("ENet-B0 + descriptors (late fusion)", "clinical"), "auc (ours)"]
    assert cell == f"{np.mean(aucs):.4f} ± {half:.4f}"
    # the notes give each paired difference in words, with its interval and the paper's sign
    mean, half = _paired(runs, "semcovnet", "erm", "dermoscopic", "auc")
    sentence = (
        f"- SemCovNet − ENet-B0, test AUC (dermoscopic): {mean:.4f} ± {half:.4f} over 2 matched "
        "(fold, seed) pairs (95 % t-interval)"
    )
    assert sentence in printed
    assert "the paper reports -0.0065" in printed
    for control in ("ENet-B0 + descriptors (late fusion)", "SemCovNet (shuffled descriptors)"):
        assert f"- SemCovNet − {control}, test AUC (clinical): " in printed
