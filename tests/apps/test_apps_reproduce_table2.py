"""apps/reproduce_table2.py end to end with the smoke preset on a small synthetic benchmark; its
cells checked against the runs' results.json (mean and 95 % t-interval over two seeds)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import reproduce_table2
from scipy import stats

from semcov_train.rundir import read_results

APPS = Path(__file__).resolve().parents[2] / "apps"
PAPER = APPS / "paper_tables" / "table2_isic_dicm_17k.csv"
METRICS = ["auc", "pr_auc", "sens_at_95spec", "balanced_accuracy", "macro_f1", "ece"]


def _run(parent: Path, leaf: str) -> Path:
    """The run directory `leaf` (``fold<k>-seed<s>``) under `parent`, below its one settings
    level (``<preset>`` or ``<preset>-<hash>``, see semcov_train.rundir)."""
    (found,) = parent.glob(f"*/{leaf}")
    return found


def _cell_numbers(cell: str) -> tuple[float, float | None, int | None]:
    """``"0.8123 ± 0.0456"`` -> (0.8123, 0.0456, None); ``"0.8123 (n = 1)"`` -> (0.8123,
    None, 1)."""
    text, _, count = cell.partition(" (n = ")
    mean, _, half = text.partition(" ± ")
    return float(mean), float(half) if half else None, int(count[:-1]) if count else None


def _expected_cell(values: list) -> tuple[float, float | None, int | None] | None:
    """Mean and 95 % t-interval half-width over the runs that define the metric, by hand."""
    defined = [v for v in values if v is not None]
    if not defined:
        return None
    if len(defined) == 1:
        return defined[0], None, 1
    half = stats.t.ppf(0.975, len(defined) - 1) * stats.sem(defined)
    return (
        float(np.mean(defined)),
        float(half),
        None if len(defined) == len(values) else len(defined),
    )


def test_reproduce_table2_smoke_end_to_end(tmp_path, capsys, smoke_args):
    out = tmp_path / "out"
    argv = [
        *("--methods", "erm", "monet"),
        *("--seeds", "0", "1"),
        *smoke_args,
    ]
    assert reproduce_table2.main(argv) == 0
    printed = capsys.readouterr().out
    # The terminal gets the table in lines of at most 100 characters; the files keep it whole.
    assert all(len(line) <= 100 for line in printed.splitlines() if line.startswith("|"))
    paper = pd.read_csv(PAPER, dtype=str)
    table = pd.read_csv(out / "table2.csv", dtype=str, keep_default_na=False)
    assert list(table["model"]) == list(paper["model"])
    expected = ["model", "n"]
    for metric in METRICS:
        expected += [f"{metric} (ours)", f"{metric} (paper)"]
    assert list(table.columns) == [*expected, "note"]
    rows = table.set_index("model")
    papers = paper.set_index("model")

    # the synthetic stand-in of ISIC-DICM-17K is Table 1's dermoscopic benchmark: same runs
    parent = tmp_path / "runs" / "table1" / "erm" / "synthetic-dermoscopic"
    results = [read_results(_run(parent, f"fold0-seed{seed}")) for seed in (0, 1)]
    assert not (tmp_path / "runs" / "table2").exists()
    assert rows.loc["ENet-B0", "n"] == "2"
    for metric in METRICS:
        cell = rows.loc["ENet-B0", f"{metric} (ours)"]
        want = _expected_cell([r[metric] for r in results])
        if want is None:
            assert cell == "n/a", metric
            continue
        mean, half, count = _cell_numbers(cell)
        assert mean == pytest.approx(want[0], abs=5.1e-5), metric
        if want[1] is None:
            assert half is None, metric
        else:
            assert half == pytest.approx(want[1], abs=5.1e-5), metric
        assert count == want[2], metric
        assert float(rows.loc["ENet-B0", f"{metric} (paper)"]) == float(
            papers.loc["ENet-B0", metric]
        )
    assert rows.loc["ENet-B0", "auc (paper)"] == "0.8612"
    assert rows.loc["MONET", "auc (ours)"] == "not run"
    assert "weights not found" in rows.loc["MONET", "note"]
    assert rows.loc["SemCovNet", "note"] == "not run: not selected (--methods)"
    assert "| SemCovNet | 0 | not run | 0.8822 |" in (out / "table2.md").read_text()
    assert (
        f"| ENet-B0 | 2 | {rows.loc['ENet-B0', 'auc (ours)']} | 0.8612 |"
        in (out / "table2.md").read_text()
    )


def test_reproduce_table2_rejects_other_datasets(capsys):
    with pytest.raises(SystemExit) as error:
        reproduce_table2.main(["--dataset", "milk10k"])
    assert error.value.code == 2
    assert "isic_dicm17k" in capsys.readouterr().err
