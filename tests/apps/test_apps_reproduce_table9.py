"""apps/reproduce_table9.py end to end with the smoke preset on a small synthetic benchmark,
after reproduce_table6.py on the same run folder."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pandas as pd
import pytest
import reproduce_table6
import reproduce_table9

from semcov_train.experiments.command_line import app_parser, parse_app_args

APPS = Path(__file__).resolve().parents[2] / "apps"
PAPER = APPS / "paper_tables" / "table9_cross_domain.csv"
ROWS = ("visual_only", "sdm", "sdm_dva")
MODALITIES = ("dermoscopic", "clinical")
METRICS = (
    "dermoscopic_align_cos",
    "dermoscopic_recall_at_1",
    "clinical_align_cos",
    "clinical_recall_at_1",
    "align_gap",
)
# Table 9 as printed in the paper, columns as in METRICS
PAPER_TABLE9 = {
    "visual_only": ("-0.0372", "0.0325", "-0.0630", "0.0306", "0.0260"),
    "sdm": ("0.0229", "0.0074", "0.0138", "0.0232", "0.0090"),
    "sdm_dva": ("0.7862", "0.8401", "0.5581", "0.2990", "0.2280"),
}


def _run(parent: Path, leaf: str) -> Path:
    """The run directory `leaf` (``fold<k>-seed<s>``) under `parent`, below its one settings
    level (``<preset>`` or ``<preset>-<hash>``, see semcov_train.rundir)."""
    (found,) = parent.glob(f"*/{leaf}")
    return found


def _results(runs: Path, row: str, modality: str) -> dict:
    run_dir = _run(runs / f"grounding-{row}" / "semcovnet" / f"synthetic-{modality}", "fold0-seed0")
    return json.loads((run_dir / "results.json").read_text())


def _read_args(runs: Path) -> argparse.Namespace:
    """The command line of a smoke run reading `runs` (what select_runs needs)."""
    parser = app_parser("test", "out")
    argv = ["--preset", "smoke", "--runs", str(runs), "--folds", str(1)]
    args = parse_app_args(parser, argv, real_dataset="milk10k")
    args.methods, args.rows = ["semcovnet"], list(ROWS)
    return args


def test_reproduce_table9_after_table6(tmp_path, capsys, smoke_args):
    runs, out = tmp_path / "runs", tmp_path / "out"
    assert reproduce_table6.main(smoke_args) == 0
    capsys.readouterr()

    # only dermoscopic runs so far: the clinical cells and the gap are n/a, the note says why
    early = reproduce_table9.table9(_read_args(runs), ROWS, {}).set_index("method")
    assert early.loc["sdm", "n"] == 1
    assert early.loc["sdm", "clinical_align_cos (ours)"] == "n/a"
    assert early.loc["sdm", "align_gap (ours)"] == "n/a"
    assert early.loc["sdm", "note"] == "no finished clinical run"
    derm = _results(runs, "sdm", "dermoscopic")["align_cos"]
    assert early.loc["sdm", "dermoscopic_align_cos (ours)"] == f"{derm:.4f} (n = 1)"

    assert reproduce_table9.main(smoke_args) == 0
    err = capsys.readouterr().err
    for row in ROWS:
        reused = rf"grounding-{row} semcovnet dermoscopic fold0 seed0: finished earlier"
        trained = rf"grounding-{row} semcovnet clinical fold0 seed0: training"
        assert re.search(reused, err), err
        assert re.search(trained, err), err
    assert err.count("finished earlier") == 3
    settings = json.loads(
        (
            _run(runs / "grounding-visual_only/semcovnet/synthetic-clinical", "fold0-seed0")
            / "config.json"
        ).read_text()
    )
    settings = settings.get("config", settings)
    assert (settings["semcov_sdm_mode"], settings["use_dva"]) == ("feature", False)

    paper = pd.read_csv(PAPER, dtype=str, comment="#")
    table = pd.read_csv(out / "table9.csv", dtype=str, keep_default_na=False)
    assert list(table["method"]) == list(paper["method"]) == list(ROWS)
    expected = ["method", "n"]
    for metric in METRICS:
        expected += [f"{metric} (ours)", f"{metric} (paper)"]
    assert list(table.columns) == [*expected, "note"]

    rows = table.set_index("method")
    summary = reproduce_table9.cross_domain_summary(_read_args(runs), ROWS).set_index("row")
    for row in ROWS:
        results = {m: _results(runs, row, m) for m in MODALITIES}
        assert rows.loc[row, "n"] == "2"
        assert rows.loc[row, "note"] == ""
        for modality in MODALITIES:
            for metric in ("align_cos", "recall_at_1"):
                value = results[modality][metric]
                assert rows.loc[row, f"{modality}_{metric} (ours)"] == f"{value:.4f} (n = 1)"
        gap = abs(results["dermoscopic"]["align_cos"] - results["clinical"]["align_cos"])
        assert summary.loc[row, "align_gap"] == gap
        assert rows.loc[row, "align_gap (ours)"] == f"{gap:.4f}"
        assert tuple(rows.loc[row, f"{m} (paper)"] for m in METRICS) == PAPER_TABLE9[row]


def test_reproduce_table9_bad_rows_is_a_usage_error(capsys, smoke_args):
    with pytest.raises(SystemExit) as exit_info:
        reproduce_table9.main(["--rows", "visual", *smoke_args])
    assert exit_info.value.code == 2
    assert "--rows: ['visual'] are not among visual_only, sdm, sdm_dva" in capsys.readouterr().err
