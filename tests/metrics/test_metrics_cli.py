"""``python -m semcov_metrics report``: the same numbers as the Python API on the same arrays,
its output files, no torch import, and bad input refused with exit 2 and one line on stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from semcov_metrics import semantic_fairness_report
from semcov_metrics.cli import main

DESCRIPTORS = ["hair", "pen", "vessels"]


def _frame(rng: np.random.Generator, n: int) -> pd.DataFrame:
    frame = pd.DataFrame(rng.random((n, 3)) ** [1, 2, 3], columns=DESCRIPTORS)
    frame["diagnosis"] = rng.choice(["MEL", "NV"], n, p=[0.3, 0.7])
    frame["site"] = rng.choice(["arm", "leg", "trunk", None], n, p=[0.3, 0.3, 0.3, 0.1])
    return frame


@pytest.fixture
def csvs(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    train, test = _frame(rng, 800), _frame(rng, 400)
    missed = (test["diagnosis"] == "MEL") & (rng.random(400) < 0.2 + 0.5 * test["hair"])
    false_alarm = (test["diagnosis"] == "NV") & (rng.random(400) < 0.1 + 0.3 * test["pen"])
    test["pred"] = np.where(missed, "NV", np.where(false_alarm, "MEL", test["diagnosis"]))
    test["p_mel"] = np.clip(0.4 * (test["diagnosis"] == "MEL") + 0.6 * rng.random(400), 0, 1)
    test["p_nv"] = 1.0 - test["p_mel"]
    paths = tmp_path / "train.csv", tmp_path / "test.csv"
    train.to_csv(paths[0], index=False)
    test.to_csv(paths[1], index=False)
    return paths


def _argv(csvs, out, *source: str) -> list[str]:
    train, test = csvs
    return [
        "report",
        *("--train", str(train), "--test", str(test)),
        *("--descriptor-columns", ",".join(DESCRIPTORS), "--label-column", "diagnosis"),
        *("--subgroup-column", "site", "--out", str(out), "--n-boot", "50"),
        *source,
    ]


def _api(csvs, predictions, scores=None, classes=("MEL", "NV")):
    train, test = (pd.read_csv(p) for p in csvs)
    return semantic_fairness_report(
        train_descriptors=train[DESCRIPTORS],
        train_labels=train["diagnosis"],
        train_subgroups=train["site"].fillna("unknown"),
        test_descriptors=test[DESCRIPTORS],
        test_labels=test["diagnosis"],
        test_predictions=predictions(test),
        test_subgroups=test["site"].fillna("unknown"),
        n_boot=50,
        test_scores=None if scores is None else scores(test),
        classes=list(classes),
    )


def _same_numbers(payload: dict, report) -> None:
    expected = report.to_dict()
    keys = ("cdi", "cdi_hard", "cdi_null", "cdi_null_q95", "cdi_p_value", "tpr_worst", "tpr_std")
    for key in (*keys, "s95_tail"):
        assert payload[key] == pytest.approx(expected[key], abs=1e-12), key
    for key in ("slope", "p_value", "n_samples", "n_clusters"):
        assert payload["coverage_error_slope"][key] == pytest.approx(
            expected["coverage_error_slope"][key]
        ), key
    assert payload["schema_version"] == 1
    assert payload["cdi_interval"] == pytest.approx(list(report.intervals["cdi"]))
    assert payload["cdi_per_class"] == pytest.approx(expected["cdi_per_class"])
    assert set(payload["intervals"]) == set(expected["intervals"])
    for name, bounds in expected["intervals"].items():
        assert payload["intervals"][name] == pytest.approx(bounds), name
    assert (payload["n_scgs"], payload["n_valid"]) == (len(report.table), report.n_valid)


def test_report_command_equals_the_python_api(csvs, tmp_path, capsys):
    out = tmp_path / "out"
    assert main([*_argv(csvs, out, "--prediction-column", "pred"), "--no-plots"]) == 0
    payload = json.loads((out / "report.json").read_text())
    report = _api(csvs, lambda t: t["pred"])
    _same_numbers(payload, report)
    assert payload["n_scgs"] == 2 * 3 * 4  # classes × descriptors × (3 sites + unknown)
    assert payload["n_unknown_subgroup"]["test"] == int(pd.read_csv(csvs[1])["site"].isna().sum())
    assert payload["s95_tail"] is None  # labels only: no scores
    scg = pd.read_csv(out / "scg.csv")
    assert scg["coverage"].to_numpy() == pytest.approx(report.table["coverage"].to_numpy())
    assert scg["tpr"].to_numpy() == pytest.approx(report.table["tpr"].to_numpy(), nan_ok=True)
    assert list(scg.columns) == list(report.table.columns)
    markdown = (out / "report.md").read_text()
    assert f"| CDI (soft) | {report.cdi:.3f}" in markdown
    assert f"| CDI p-value | {report.cdi_p_value:.3f} |" in markdown
    assert f"{report.cdi_null:.3f}, {report.cdi_null_q95:.3f}" in markdown
    # Power is simulated by default on the audit's own test design, and said in words.
    power = payload["power"]
    assert 0.0 <= power["power_at_reference"] <= 1.0 and power["reference_slope"] == -0.5
    assert power["underpowered"] == (power["power_at_reference"] < 0.8)
    assert ("underpowered" in markdown) == power["underpowered"]
    assert not (out / "coverage_error.png").exists()
    assert "wrote" in capsys.readouterr().out


def test_score_columns_take_the_argmax_and_give_the_tail_sensitivity(csvs, tmp_path):
    out = tmp_path / "out"
    argv = [*_argv(csvs, out, "--score-columns", "p_mel,p_nv"), "--no-plots", "--no-power"]
    assert main(argv) == 0
    payload = json.loads((out / "report.json").read_text())
    # columns in class order MEL, NV: the second class (NV) is the report's positive class
    report = _api(csvs, lambda t: t[["p_mel", "p_nv"]].to_numpy(), lambda t: t["p_nv"])
    _same_numbers(payload, report)
    assert payload["s95_tail"] is not None


def test_single_score_column_is_thresholded_for_the_positive_class(csvs, tmp_path):
    out = tmp_path / "out"
    argv = _argv(csvs, out, "--score-column", "p_mel", "--positive-class", "MEL")
    assert main([*argv, "--score-threshold", "0.6", "--no-plots", "--no-power"]) == 0
    payload = json.loads((out / "report.json").read_text())
    report = _api(
        csvs,
        lambda t: np.where(t["p_mel"] >= 0.6, "MEL", "NV"),
        lambda t: t["p_mel"],
        classes=("NV", "MEL"),
    )
    _same_numbers(payload, report)
    assert payload["classes"] == ["NV", "MEL"]
    assert payload["settings"]["score_threshold"] == 0.6


def test_figures_are_written_with_matplotlib(csvs, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "out"
    argv = [*_argv(csvs, out, "--prediction-column", "pred"), "--n-boot", "0", "--no-power"]
    assert main(argv) == 0
    payload = json.loads((out / "report.json").read_text())
    assert payload["power"] is None
    assert payload["figures"] == ["coverage_error.png", "coverage_heatmap.png"]
    for name in payload["figures"]:
        assert (out / name).read_bytes()[:4] == b"\x89PNG"


def _run(*argv: str, code: str | None = None) -> subprocess.CompletedProcess:
    command = (
        [sys.executable, "-m", "semcov_metrics", *argv]
        if code is None
        else [
            sys.executable,
            "-c",
            code,
            *argv,
        ]
    )
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def test_the_command_does_not_import_torch(csvs, tmp_path):
    code = (
        "import runpy, sys\n"
        "sys.argv = ['semcov_metrics', *sys.argv[1:]]\n"
        "try:\n"
        "    runpy.run_module('semcov_metrics', run_name='__main__')\n"
        "except SystemExit as done:\n"
        "    assert done.code == 0, done.code\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "print('no torch')\n"
    )
    result = _run(*_argv(csvs, tmp_path / "out", "--prediction-column", "pred"), code=code)
    assert result.returncode == 0, result.stderr
    assert "no torch" in result.stdout
    assert (tmp_path / "out" / "report.json").is_file()


def _options(csvs: tuple[Path, Path], out: Path, **changes: str | None) -> list[str]:
    """The command line of a prediction-column report with some options replaced (None drops)."""
    options = {
        "--train": str(csvs[0]),
        "--test": str(csvs[1]),
        "--descriptor-columns": ",".join(DESCRIPTORS),
        "--label-column": "diagnosis",
        "--subgroup-column": "site",
        "--prediction-column": "pred",
        "--out": str(out),
        "--n-boot": "0",
    }
    options.update({f"--{k.replace('_', '-')}": v for k, v in changes.items()})
    return ["report", *(x for k, v in options.items() if v is not None for x in (k, v))]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing file", "--train: no such file"),
        ("missing column", "test.csv: label column 'dx' not found"),
        ("outside [0, 1]", "outside.csv: descriptor column 'pen' has values outside [0, 1]"),
        (
            "empty labels",
            "unlabelled.csv: label column 'diagnosis' has 57 empty value(s) (lines 5, 12,",
        ),
        ("unknown prediction column", "test.csv: prediction column 'guess' not found"),
        ("no prediction source", "one of the arguments"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_the_problem(csvs, tmp_path, case, expected):
    test = pd.read_csv(csvs[1])
    if case == "outside [0, 1]":
        path = tmp_path / "outside.csv"
        test.assign(pen=test["pen"] + 1.5).to_csv(path, index=False)
        changes = {"test": str(path)}
    elif case == "empty labels":
        path = tmp_path / "unlabelled.csv"
        test.assign(diagnosis=test["diagnosis"].mask(test.index % 7 == 3)).to_csv(path, index=False)
        changes = {"test": str(path)}
    else:
        changes = {
            "missing file": {"train": str(tmp_path / "nope.csv")},
            "missing column": {"label_column": "dx", "train": str(csvs[1])},
            "unknown prediction column": {"prediction_column": "guess"},
            "no prediction source": {"prediction_column": None},
        }[case]
    result = _run(*_options(csvs, tmp_path / "out", **changes))
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert expected in lines[0]
    assert not (tmp_path / "out").exists()
