"""apps/reproduce_table6.py end to end with the smoke preset on a small synthetic benchmark."""

from __future__ import annotations

import argparse
import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
import reproduce_table6

from semcov_train.experiments.command_line import app_parser, parse_app_args

APPS = Path(__file__).resolve().parents[2] / "apps"
PAPER = APPS / "paper_tables" / "table6_grounding.csv"
ROWS = ("visual_only", "sdm", "sdm_dva")
# Table 6 as printed in the paper: S@95_tail, Δ, Align-cos, R@1
PAPER_TABLE6 = {
    "visual_only": ("0.1222", "0.0000", "-0.0372", "0.0325"),
    "sdm": ("0.2444", "0.1220", "0.0229", "0.0074"),
    "sdm_dva": ("0.3667", "0.2450", "0.7862", "0.8401"),
}
METRICS = ("sens_at_95spec_tail", "delta", "align_cos", "recall_at_1")


def _run(parent: Path, leaf: str) -> Path:
    """The run directory `leaf` (``fold<k>-seed<s>``) under `parent`, below its one settings
    level (``<preset>`` or ``<preset>-<hash>``, see semcov_train.rundir)."""
    (found,) = parent.glob(f"*/{leaf}")
    return found


def _run_dir(runs: Path, row: str, fold: int = 0) -> Path:
    """The row's run of `fold` (beside fold 0's, which the smoke run trained)."""
    first = _run(runs / f"grounding-{row}" / "semcovnet" / "synthetic-dermoscopic", "fold0-seed0")
    return first.with_name(f"fold{fold}-seed0")


def _results(runs: Path, row: str, fold: int = 0) -> dict:
    return json.loads((_run_dir(runs, row, fold) / "results.json").read_text())


def _set_results(runs: Path, row: str, fold: int = 0, **values: object) -> None:
    """Overwrite fields of a finished run's results.json."""
    path = _run_dir(runs, row, fold) / "results.json"
    results = json.loads(path.read_text())
    results.update(values)
    path.write_text(json.dumps(results))


def _copy_run(runs: Path, row: str, fold: int) -> None:
    """A finished run for `fold` made from fold 0's directory (no training)."""
    target = _run_dir(runs, row, fold)
    shutil.copytree(_run_dir(runs, row), target)
    results = json.loads((target / "results.json").read_text())
    (target / "results.json").write_text(json.dumps({**results, "fold": fold}))
    stored = json.loads((target / "config.json").read_text())
    stored["config"]["fold"] = fold
    (target / "config.json").write_text(json.dumps(stored))


def _read_args(runs: Path, folds: int = 1) -> argparse.Namespace:
    """The command line of a smoke run reading `runs` (what select_runs needs)."""
    parser = app_parser("test", "out")
    argv = ["--preset", "smoke", "--runs", str(runs), "--folds", str(folds)]
    args = parse_app_args(parser, argv, real_dataset="milk10k")
    args.methods, args.rows = ["semcovnet"], list(ROWS)
    return args


@pytest.fixture(scope="module")
def trained(tmp_path_factory, semcov_cache) -> Path:
    """The three rows trained once with the smoke preset; tests copy the run folder."""
    root = tmp_path_factory.mktemp("table6")
    argv = [
        *("--preset", "smoke", "--runs", str(root / "runs"), "--out", str(root / "out")),
        *("--cache-dir", str(semcov_cache)),
        *("--num-workers", "0", "--num-threads", "1", "--no-progress"),
    ]
    assert reproduce_table6.main(argv) == 0
    return root


def _copy(trained: Path, tmp_path: Path) -> Path:
    runs = tmp_path / "runs"
    shutil.copytree(trained / "runs", runs)
    return runs


def test_reproduce_table6_smoke_end_to_end(trained):
    runs = trained / "runs"
    configs = {row: json.loads((_run_dir(runs, row) / "config.json").read_text()) for row in ROWS}
    settings = {row: configs[row].get("config", configs[row]) for row in ROWS}
    assert {row: settings[row]["semcov_sdm_mode"] for row in ROWS} == {
        "visual_only": "feature",
        "sdm": "gated",
        "sdm_dva": "gated",
    }
    assert [settings[row]["use_dva"] for row in ROWS] == [False, False, True]
    assert all(settings[row]["use_cdi"] for row in ROWS)

    paper = pd.read_csv(PAPER, dtype=str, comment="#")
    table = pd.read_csv(trained / "out" / "table6.csv", dtype=str, keep_default_na=False)
    assert list(table["method"]) == list(paper["method"]) == list(ROWS)
    expected = ["method", "n"]
    for metric in METRICS:
        expected += [f"{metric} (ours)", f"{metric} (paper)"]
    assert list(table.columns) == [*expected, "note"]

    rows = table.set_index("method")
    for row in ROWS:
        results = _results(runs, row)
        assert rows.loc[row, "n"] == "1"
        # a descriptor embedding in every row, so alignment is measured in every row
        assert isinstance(results["align_cos"], float)
        assert isinstance(results["recall_at_1"], float)
        assert rows.loc[row, "align_cos (ours)"] == f"{results['align_cos']:.4f} (n = 1)"
        assert rows.loc[row, "recall_at_1 (ours)"] == f"{results['recall_at_1']:.4f} (n = 1)"
        if results["s95_tail"] is None:
            assert rows.loc[row, "sens_at_95spec_tail (ours)"] == "n/a"
            assert rows.loc[row, "note"] == reproduce_table6.UNDEFINED_TAIL
        else:
            assert (
                rows.loc[row, "sens_at_95spec_tail (ours)"] == f"{results['s95_tail']:.4f} (n = 1)"
            )


def test_reproduce_table6_paper_cells(trained):
    table = pd.read_csv(trained / "out" / "table6.csv", dtype=str, keep_default_na=False)
    rows = table.set_index("method")
    for row, cells in PAPER_TABLE6.items():
        assert tuple(rows.loc[row, f"{m} (paper)"] for m in METRICS) == cells


def test_reproduce_table6_delta_from_results(trained, tmp_path, capsys, smoke_args):
    """Δ against the S@95_tail values in results.json. The smoke test split is too small for a
    defined tail S@95, so the test writes the values into the finished runs' results.json."""
    runs = _copy(trained, tmp_path)
    tails = {"visual_only": 0.3125, "sdm": 0.5, "sdm_dva": 0.8125}
    for row, value in tails.items():
        _set_results(runs, row, s95_tail=value)
    assert reproduce_table6.main(smoke_args) == 0
    assert capsys.readouterr().err.count("finished earlier") == 3

    rows = pd.read_csv(tmp_path / "out" / "table6.csv", dtype=str).set_index("method")
    assert rows.loc["visual_only", "delta (ours)"] == "0.0000 (n = 1)"
    assert rows.loc["sdm", "delta (ours)"] == f"{0.5 - 0.3125:.4f} (n = 1)"
    assert rows.loc["sdm_dva", "delta (ours)"] == f"{0.8125 - 0.3125:.4f} (n = 1)"
    assert rows.loc["sdm", "sens_at_95spec_tail (ours)"] == "0.5000 (n = 1)"

    summary = reproduce_table6.grounding_summary(_read_args(runs), ROWS).set_index("row")
    values = {row: _results(runs, row)["s95_tail"] for row in ROWS}
    assert summary.loc["visual_only", "delta"] == 0.0
    assert summary.loc["sdm", "delta"] == values["sdm"] - values["visual_only"]
    assert summary.loc["sdm_dva", "delta"] == values["sdm_dva"] - values["visual_only"]
    assert summary.loc["sdm_dva", "sens_at_95spec_tail"] == values["sdm_dva"]


def test_reproduce_table6_delta_over_matched_runs(trained, tmp_path):
    """Δ averages the differences over the (fold, seed) pairs both rows have."""
    runs = _copy(trained, tmp_path)
    for row in ROWS:
        _copy_run(runs, row, fold=1)
    _copy_run(runs, "sdm", fold=2)  # no visual_only fold 2: not in Δ
    values = {
        ("visual_only", 0): 0.25,
        ("visual_only", 1): 0.5,
        ("sdm", 0): 0.375,
        ("sdm", 1): 0.75,
        ("sdm", 2): 1.0,
        ("sdm_dva", 0): 0.5,
        ("sdm_dva", 1): None,  # undefined: that pair is left out
    }
    for (row, fold), value in values.items():
        _set_results(runs, row, fold, s95_tail=value)

    summary = reproduce_table6.grounding_summary(_read_args(runs, folds=3), ROWS).set_index("row")
    differences = pd.Series([0.375 - 0.25, 0.75 - 0.5])
    assert summary.loc["sdm", "delta"] == pytest.approx(differences.mean())
    assert summary.loc["sdm", "delta_std"] == pytest.approx(differences.std(ddof=1))
    assert summary.loc["sdm", "delta_pairs"] == 2
    assert summary.loc["sdm", "sens_at_95spec_tail"] == pytest.approx((0.375 + 0.75 + 1.0) / 3)
    assert summary.loc["sdm_dva", "delta"] == pytest.approx(0.25)
    assert math.isnan(summary.loc["sdm_dva", "delta_std"])
    assert summary.loc["visual_only", "delta"] == 0.0
    assert summary.loc["visual_only", "delta_std"] == 0.0


def test_reproduce_table6_without_baseline(trained, tmp_path):
    """Without a defined visual_only S@95_tail, Δ is n/a and the note says why."""
    runs = _copy(trained, tmp_path)
    _set_results(runs, "visual_only", s95_tail=None)
    _set_results(runs, "sdm", s95_tail=0.5)
    args = _read_args(runs)
    table = reproduce_table6.table6(args, ["sdm"], {}).set_index("method")
    assert table.loc["sdm", "delta (ours)"] == "n/a"
    assert table.loc["sdm", "sens_at_95spec_tail (ours)"] == "0.5000 (n = 1)"
    assert table.loc["sdm", "note"] == reproduce_table6.NO_BASELINE
    assert table.loc["visual_only", "note"] == "not run: not selected (--rows)"


def test_reproduce_table6_bad_rows_is_a_usage_error(capsys, smoke_args):
    with pytest.raises(SystemExit) as exit_info:
        reproduce_table6.main(["--rows", "sdm", "dva", *smoke_args])
    assert exit_info.value.code == 2
    assert "--rows: ['dva'] are not among visual_only, sdm, sdm_dva" in capsys.readouterr().err
