"""semcov_train.reporting cells, paper tables, Markdown / CSV / LaTeX output and the command
line, on hand-made run directories (the output is parsed back)."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats

from semcov_train import make_config, run_directory
from semcov_train.reporting import (
    difference_row,
    differences_table,
    format_cell,
    format_table,
    main,
    paired_differences,
    paper_table,
    read_runs,
    side_by_side,
    summarize,
    summary_table,
    write_tables,
)

PAPER_TABLES = Path(__file__).resolve().parents[2] / "apps" / "paper_tables"


def _write(root: Path, method: str, modality: str, fold: int, done=True, **results) -> Path:
    config = make_config("smoke", method=method, modality=modality, fold=fold, out=str(root))
    run_dir = run_directory(config.replace(experiment="table1"))
    run_dir.mkdir(parents=True)
    resolved = {"modality": modality, "backbone": "resnet10t"}
    (run_dir / "config.json").write_text(
        json.dumps({"config": config.to_dict() | {"experiment": "table1"}, "resolved": resolved})
    )
    if done:
        (run_dir / "results.json").write_text(json.dumps(results))
        (run_dir / "DONE").write_text("{}")
    return run_dir


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "runs"
    for fold, (erm, ours) in enumerate([(0.80, 0.84), (0.90, 0.91), (0.70, 0.78)]):
        _write(root, "erm", "dermoscopic", fold, auc=erm, cdi=0.3 - fold / 100)
        _write(root, "semcovnet", "dermoscopic", fold, auc=ours, cdi=0.2)
    _write(root, "erm", "clinical", 0, auc=0.6, cdi=None)
    return root


def _parse_markdown(text: str) -> pd.DataFrame:
    lines = [line for line in text.strip().splitlines() if line.startswith("|")]
    rows = [[c.strip() for c in line.strip("|").split(" | ")] for line in lines]
    assert set(lines[1]) <= {"|", "-"}
    return pd.DataFrame(rows[2:], columns=[c.strip() for c in rows[0]])


def _parse_latex(text: str) -> pd.DataFrame:
    lines = text.strip().splitlines()
    assert lines[0].startswith(r"\begin{tabular}") and lines[-1] == r"\end{tabular}"
    body = [line.removesuffix(r" \\") for line in lines if line.endswith(r" \\")]
    rows = [
        [c.replace(r"$\pm$", "±").replace(r"\_", "_") for c in row.split(" & ")] for row in body
    ]
    return pd.DataFrame(rows[1:], columns=rows[0])


def test_format_cell():
    assert format_cell(0.8, 0.24841, 3) == "0.8000 ± 0.2484"
    assert format_cell(0.8, math.nan, 1) == "0.8000 (n = 1)"
    assert format_cell(0.8) == "0.8000"  # a paper's number
    assert format_cell(0.8, 0.1, 2, row_n=3) == "0.8000 ± 0.1000 (n = 2)"
    assert format_cell(None, 0.1) == "n/a" and format_cell(math.nan) == "n/a"
    assert format_cell(0.81234, 0.01, 3, digits=3) == "0.812 ± 0.010"


def test_side_by_side_keeps_the_paper_layout_with_intervals(root):
    runs = read_runs(root)
    summary = summarize(runs, ["auc"], keys=["method", "modality"])
    paper = paper_table(PAPER_TABLES / "table1_milk10k.csv")
    table = side_by_side(
        summary,
        paper,
        paper_keys=["model", "modality"],
        summary_keys=["method", "modality"],
        metrics=["auc"],
        labels={"erm": "ENet-B0", "semcovnet": "SemCovNet"},
        not_run={"CLIP": "weights missing"},
    )
    assert list(table.columns) == ["model", "modality", "n", "auc (ours)", "auc (paper)", "note"]
    assert len(table) == len(paper) == 16
    rows = table.set_index(["model", "modality"])
    _, high = stats.t.interval(0.95, 2, loc=0.8, scale=stats.sem([0.8, 0.9, 0.7]))
    assert rows.loc[("ENet-B0", "dermoscopic"), "auc (ours)"] == f"0.8000 ± {high - 0.8:.4f}"
    assert rows.loc[("ENet-B0", "dermoscopic"), "auc (paper)"] == "0.9114"
    assert rows.loc[("ENet-B0", "dermoscopic"), "note"] == "ours: resnet10t"
    assert rows.loc[("ENet-B0", "clinical"), "auc (ours)"] == "0.6000 (n = 1)"
    assert rows.loc[("CLIP", "clinical"), "auc (ours)"] == "not run"
    assert rows.loc[("CLIP", "clinical"), "note"] == "not run: weights missing"
    assert rows.loc[("ViT", "clinical"), "note"] == "not run: no finished run"
    with pytest.raises(ValueError, match="table1_milk10k"):
        paper_table(PAPER_TABLES / "table1_milk")
    assert paper_table(PAPER_TABLES / "table5_order_ablation").shape == (10, 8)


def test_difference_row_in_a_side_by_side_table(root):
    runs = read_runs(root)
    paired = paired_differences(runs, "semcovnet", "erm", ["auc", "cdi"])
    record = paired.set_index("modality").loc["dermoscopic"].to_dict() | {"n": 3}
    record["unmatched"] = ""
    row = difference_row(
        record,
        ["cdi"],
        {"model": "Δ SemCovNet − ENet-B0", "dataset": "milk10k-dermoscopic"},
        paper={"cdi": 0.0616 - 0.6210},
    )
    d = [0.2 - (0.3 - f / 100) for f in range(3)]
    low, high = stats.ttest_rel([0.2] * 3, [0.3 - f / 100 for f in range(3)]).confidence_interval()
    assert row["cdi (ours)"] == f"{sum(d) / 3:.4f} ± {(high - low) / 2:.4f}"
    assert row["cdi (paper)"] == "-0.5594"
    assert row["n"] == 3 and row["note"] == "paired over 3 matched (fold, seed)"
    cells = differences_table(paired, ["auc"])
    clinical = cells.set_index("modality").loc["clinical"]
    assert clinical["difference"] == "semcovnet − erm" and clinical["auc"] == "n/a"
    assert clinical["unmatched"] == "erm only: fold0-seed0"


def test_markdown_csv_latex_parse_back(root, tmp_path):
    summary = summarize(read_runs(root), ["auc", "cdi"], keys=["method", "modality"])
    table = summary_table(summary, ["auc", "cdi"])
    table.loc[0, "method"] = "a|b_c"  # characters each format must escape
    paths = write_tables(table, tmp_path / "out", "summary")
    assert [p.name for p in paths] == ["summary.md", "summary.csv", "summary.tex"]
    expected = table.astype(str)
    markdown = _parse_markdown(paths[0].read_text().replace(r"\|", "\x00"))
    markdown = markdown.map(lambda c: c.replace("\x00", "|"))
    pd.testing.assert_frame_equal(markdown, expected)
    csv = pd.read_csv(paths[1], dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(csv, expected)
    pd.testing.assert_frame_equal(_parse_latex(paths[2].read_text()), expected)
    assert r"| a\|b_c | clinical | 1 | 0.6000 (n = 1) | n/a |" in paths[0].read_text()
    with pytest.raises(ValueError, match="fmt"):
        format_table(table, "html")


def test_command_line_writes_tables(root, tmp_path, capsys):
    out = tmp_path / "tables"
    unfinished = _write(root, "semcovnet", "clinical", 0, done=False)
    status = main([str(root), "--metrics", "auc,cdi", "--baseline", "erm", "--out", str(out)])
    assert status == 0
    captured = capsys.readouterr()
    summary = _parse_markdown(captured.out.split("\n\n")[0])
    erm = summary.set_index(["method", "modality"]).loc[("erm", "dermoscopic")]
    assert erm["n"] == "3" and erm["auc"].startswith("0.8000 ± ")
    assert f"unfinished (excluded): {unfinished}" in captured.err
    assert "unmatched (not paired): erm only: fold0-seed0" in captured.err
    assert {p.name for p in out.iterdir()} == {
        *(f"{stem}{s}" for stem in ("summary", "paired") for s in (".md", ".csv", ".tex")),
        "runs.csv",
    }
    paired = pd.read_csv(out / "paired.csv").set_index("modality")
    assert paired.loc["dermoscopic", "difference"] == "semcovnet − erm"
    assert pd.read_csv(io.StringIO((out / "runs.csv").read_text())).shape[0] == 7


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["{missing}"], "is not a directory"),
        (["{empty}"], "no finished run under"),
        (["{root}", "--experiment", "table9"], "no finished run of experiment table9"),
        (["{root}", "--metrics", "auc,nope"], "--metrics: ['nope']"),
        (["{root}", "--baseline", "vit"], "--baseline: no run of method 'vit'"),
        (["{root}", "--digits", "x"], "invalid int value"),
        (["{root}", "--digits", "-1"], "--digits must be in 0..12"),
    ],
)
def test_command_line_errors_are_one_line(root, tmp_path, capsys, argv, message):
    (tmp_path / "empty").mkdir()
    names = {"root": root, "missing": tmp_path / "missing", "empty": tmp_path / "empty"}
    argv = [a.format(**names) for a in argv]
    try:
        status = main(argv)
    except SystemExit as exit_:
        status = exit_.code
    assert status == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_difference_sentence_says_what_the_interval_shows():
    from semcov_train.reporting import difference_sentence

    record = {"treatment": "semcovnet", "control": "erm", "n": 3, "unmatched": ""}
    covers = record | {"cdi": -0.05, "cdi_h": 0.08, "cdi_n": 3}
    text = difference_sentence(
        covers, "cdi", treatment="SemCovNet", control="ENet-B0", name="CDI", paper=-0.5594
    )
    assert text == (
        "SemCovNet − ENet-B0, CDI: -0.0500 ± 0.0800 over 3 matched (fold, seed) pairs "
        "(95 % t-interval); the interval covers 0, so these runs show no difference; "
        "the paper reports -0.5594 (same sign)."
    )
    excludes = record | {"auc": 0.04, "auc_h": 0.01, "auc_n": 3, "unmatched": "erm only: x"}
    text = difference_sentence(excludes, "auc", paper=-0.0065)
    assert "the interval excludes 0: semcovnet is higher" in text
    assert "(opposite sign: ours and the paper's disagree)" in text
    assert text.endswith("; not paired: erm only: x.")
    single = record | {"auc": 0.04, "auc_h": math.nan, "auc_n": 1}
    assert "from one matched pair (no interval" in difference_sentence(single, "auc")
    none = record | {"n": 0, "auc": math.nan, "auc_h": math.nan, "auc_n": 0}
    assert "no matched (fold, seed) pair" in difference_sentence(none, "auc")
