"""apps/collect_results.py on hand-made run directories."""

from __future__ import annotations

import json
import math
from pathlib import Path

import collect_results
import pandas as pd
import pytest

APPS = Path(__file__).resolve().parents[2] / "apps"


def _write_run(root: Path, method: str, modality: str, fold: int, seed: int, *, done=True, **m):
    run_dir = root / "exp" / method / f"synthetic-{modality}" / f"fold{fold}-seed{seed}"
    run_dir.mkdir(parents=True)
    config = {
        "config": {"experiment": "exp", "method": method, "dataset": "synthetic", "fold": fold},
        "resolved": {"modality": modality, "table_row": method.upper()},
    }
    (run_dir / "config.json").write_text(json.dumps(config))
    if done:
        results = {
            "method": method,
            "table_row": method.upper(),
            "dataset": "synthetic",
            "modality": modality,
            "fold": fold,
            "seed": seed,
            "cdi": None,
            **m,
        }
        (run_dir / "results.json").write_text(json.dumps(results))
        (run_dir / "DONE").write_text("{}")
    return run_dir


@pytest.fixture
def runs(tmp_path):
    root = tmp_path / "runs"
    _write_run(root, "erm", "dermoscopic", 0, 0, auc=0.80, ece=0.10)
    _write_run(root, "erm", "dermoscopic", 1, 0, auc=0.90, ece=0.20)
    _write_run(root, "erm", "dermoscopic", 2, 0, auc=0.70, ece=0.30)
    _write_run(root, "erm", "clinical", 0, 0, auc=0.60, ece=0.05)
    _write_run(root, "semcovnet", "dermoscopic", 0, 0, auc=0.95, ece=0.01)
    _write_run(root, "semcovnet", "dermoscopic", 0, 1, auc=0.85, ece=0.03)
    unfinished = _write_run(root, "semcovnet", "dermoscopic", 1, 0, done=False)
    return root, unfinished


def test_collect_lists_finished_runs_and_unfinished_ones(runs):
    root, unfinished = runs
    frame = collect_results.collect(root)
    assert len(frame) == 6
    assert frame.attrs["unfinished"] == [str(unfinished)]
    assert set(frame["method"]) == {"erm", "semcovnet"}
    assert frame["cdi"].isna().all()  # null in results.json stays undefined


def test_summarize_mean_and_sample_std_by_hand(runs):
    root, _ = runs
    summary = collect_results.summarize(collect_results.collect(root), metrics=["auc", "ece"])
    summary = summary.set_index(["method", "modality"])
    erm = summary.loc[("erm", "dermoscopic")]
    assert erm["n"] == 3
    # mean (0.8 + 0.9 + 0.7) / 3 = 0.8; sample std sqrt((0 + 0.01 + 0.01) / 2) = 0.1
    assert erm["auc"] == pytest.approx(0.8)
    assert erm["auc_std"] == pytest.approx(0.1)
    assert erm["ece"] == pytest.approx(0.2)
    assert erm["ece_std"] == pytest.approx(0.1)
    ours = summary.loc[("semcovnet", "dermoscopic")]
    # two seeds: mean 0.9, std sqrt(2 * 0.05**2 / 1) = 0.0707107
    assert ours["n"] == 2
    assert ours["auc"] == pytest.approx(0.9)
    assert ours["auc_std"] == pytest.approx(math.sqrt(0.005))
    single = summary.loc[("erm", "clinical")]
    assert single["n"] == 1 and math.isnan(single["auc_std"])


def test_format_cell():
    assert collect_results.format_cell(0.8, 0.1) == "0.8000 ± 0.1000"
    assert collect_results.format_cell(0.8) == "0.8000"
    assert collect_results.format_cell(math.nan, 0.1) == "n/a"


def test_side_by_side_against_paper_and_written_files(runs, tmp_path):
    root, _ = runs
    summary = collect_results.summarize(collect_results.collect(root), metrics=["auc"])
    paper = collect_results.paper_table("table1_milk10k")
    table = collect_results.side_by_side(
        summary,
        paper,
        paper_keys=["model", "modality"],
        summary_keys=["method", "modality"],
        metrics=["auc"],
        labels={"erm": "ENet-B0", "semcovnet": "SemCovNet"},
        not_run={"CLIP": "weights missing"},
    )
    assert len(table) == len(paper) == 16
    rows = table.set_index(["model", "modality"])
    assert rows.loc[("ENet-B0", "dermoscopic"), "auc (ours)"] == "0.8000 ± 0.1000"
    assert rows.loc[("ENet-B0", "dermoscopic"), "auc (paper)"] == "0.9114"
    assert rows.loc[("SemCovNet", "dermoscopic"), "n"] == 2
    assert rows.loc[("CLIP", "clinical"), "auc (ours)"] == "not run"
    assert rows.loc[("CLIP", "clinical"), "note"] == "not run: weights missing"
    assert rows.loc[("ViT", "clinical"), "note"] == "not run: no finished run"
    assert rows.loc[("ENet-B0", "clinical"), "note"] == ""

    written = collect_results.write_tables(table, tmp_path / "out", "table1")
    assert [p.suffix for p in written] == [".md", ".csv", ".tex"]
    markdown = written[0].read_text()
    assert markdown.startswith("| model | modality | n | auc (ours) | auc (paper) | note |")
    assert "| ENet-B0 | dermoscopic | 3 | 0.8000 ± 0.1000 | 0.9114 |  |" in markdown
    assert r"0.8000 $\pm$ 0.1000" in written[2].read_text()
    assert r"\begin{tabular}" in written[2].read_text()
    assert "0.8000 ± 0.1000" in written[1].read_text()


def test_paper_tables_match_every_paper_file():
    names = sorted(p.stem for p in collect_results.PAPER_TABLES.glob("table*.csv"))
    assert [name.split("_")[0] for name in names] == [f"table{k}" for k in range(1, 10)]
    shared = Path(__file__).resolve().parents[3] / "shared" / "paper-tables"
    for name in names if shared.is_dir() else []:
        ours = collect_results.paper_table(name)
        theirs = pd.read_csv(shared / f"{name}.csv", comment="#")
        pd.testing.assert_frame_equal(ours.reset_index(drop=True), theirs, check_dtype=False)
    assert collect_results.paper_table("table5_order_ablation").shape == (10, 8)
    with pytest.raises(ValueError, match="table1_milk10k"):
        collect_results.paper_table("table1_milk")


def test_cli_writes_summary(runs, tmp_path, capsys):
    root, unfinished = runs
    assert collect_results.main(["--runs", str(root), "--out", str(tmp_path / "o")]) == 0
    captured = capsys.readouterr()
    assert "0.8000 ± 0.1000" in captured.out
    assert str(unfinished) in captured.err
    assert {p.name for p in (tmp_path / "o").iterdir()} == {
        "summary.md",
        "summary.csv",
        "summary.tex",
        "runs.csv",
    }
    assert collect_results.main(["--runs", str(tmp_path / "missing")]) == 2
