"""``semcov-train audit``: the semantic fairness audit of a finished run, checked against the
run's own results.json and scg.csv, and the descriptor sensitivity against forward passes of the
loaded model made here."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from semcov_metrics import SemanticFairnessReport
from semcov_train import make_config, prepare_data, train
from semcov_train.audit.descriptor_sensitivity import SENSITIVITY_COLUMNS, sensitivity_passes
from semcov_train.audit.run_audit import audit_run
from semcov_train.audit.run_inputs import REBUILT_SOURCE
from semcov_train.cli import main
from semcov_train.evaluation.run_model import (
    RunAxes,
    build_run_model,
    load_run_config,
    training_split,
)
from semcov_train.methods.registry import METHODS
from semcov_train.rundir import read_config, read_scg

#: Enough synthetic lesions for a defined CDI (3+ SCGs with test support) at the smoke size.
LESIONS = 160
#: Small resampling counts: the point estimates do not depend on them.
FAST = {"n_boot": 20, "n_permutations": 99}


@pytest.fixture(scope="module")
def runs(train_cache, tmp_path_factory):
    """One smoke SemCovNet run and one smoke ERM run (same data), trained once."""
    out = tmp_path_factory.mktemp("audit-runs")
    values = {
        "cache_dir": str(train_cache),
        "out": str(out),
        "num_threads": 1,
        "synthetic_lesions": LESIONS,
        "progress": False,
    }
    return {
        method: train(make_config("smoke", method=method, **values)).run_dir
        for method in ("semcovnet", "erm")
    }


@pytest.fixture(scope="module")
def audited(runs, tmp_path_factory):
    """The audit of the SemCovNet run: ``(report, sensitivity, out folder)``."""
    out = tmp_path_factory.mktemp("audit-semcovnet")
    report, sensitivity = audit_run(runs["semcovnet"], out=out, **FAST)
    return report, sensitivity, out


def _copy(run_dir, tmp_path, drop: tuple[str, ...] = ()):
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    shutil.rmtree(copy / "audit", ignore_errors=True)
    for name in drop:
        (copy / name).unlink()
    return copy


@pytest.mark.parametrize("method", ["semcovnet", "erm"])
def test_audit_reproduces_the_runs_own_fairness_results(runs, tmp_path, method):
    run_dir = runs[method]
    results = json.loads((run_dir / "results.json").read_text())
    report, _ = audit_run(run_dir, out=tmp_path, **FAST)
    assert np.isfinite(results["cdi"])
    assert report.cdi == pytest.approx(results["cdi"], abs=1e-12)
    for key in ("cdi_hard", "tpr_worst", "tpr_std", "s95_tail"):
        assert getattr(report, key) == pytest.approx(results[key], abs=1e-12, nan_ok=True), key
    assert report.n_valid == results["n_valid_scgs"]
    stored = read_scg(run_dir)
    table = read_scg(tmp_path)  # the audit's scg.csv, read as the run's is
    assert len(table) == len(stored)
    for column in ("n_train", "coverage", "support", "tpr"):
        np.testing.assert_allclose(
            table[column], stored[column], rtol=1e-12, equal_nan=True, err_msg=column
        )
    assert list(table["class_name"]) == list(stored["class_name"])
    payload = json.loads((tmp_path / "report.json").read_text())
    assert payload["cdi"] == pytest.approx(results["cdi"], abs=1e-12)
    assert payload["run"]["training_source"] == "train_descriptors.parquet"
    assert payload["run"]["decision_threshold"] == results["decision_threshold"]
    assert payload["run"]["n_test"] == results["n_test"]
    assert payload["run"]["n_permutations"] == FAST["n_permutations"]


def test_train_descriptors_file_is_the_training_split(runs):
    run_dir = runs["semcovnet"]
    stored = pd.read_parquet(run_dir / "train_descriptors.parquet")
    config, resolved, _ = load_run_config(run_dir)
    rebuilt = training_split(config)
    assert list(stored.columns) == ["id", "y_true", "subgroup", *resolved["descriptors"]]
    assert list(stored["id"]) == [str(i) for i in rebuilt.sample_ids]
    np.testing.assert_array_equal(stored["y_true"], rebuilt.labels)
    np.testing.assert_array_equal(stored["subgroup"], rebuilt.frame["subgroup"].astype(str))
    np.testing.assert_allclose(stored[resolved["descriptors"]], rebuilt.descriptors)
    assert len(stored) == resolved["n_train"]


def test_sensitivity_has_a_row_per_descriptor_setting_and_populated_cell(runs, audited):
    report, sensitivity, out = audited
    predictions = pd.read_parquet(runs["semcovnet"] / "predictions.parquet")
    descriptors = read_config(runs["semcovnet"]).resolved["descriptors"]
    cells = predictions.groupby(["y_true", "subgroup"]).size()
    assert len(sensitivity) == len(descriptors) * 2 * len(cells)
    assert list(sensitivity.columns) == [*SENSITIVITY_COLUMNS, "band"]
    assert set(sensitivity["setting"]) == {"0", "1"}
    sizes = sensitivity.set_index(["class", "subgroup"])["n"]
    for (label, subgroup), size in cells.items():
        assert (sizes.loc[(label, subgroup)] == size).all()
    scg = report.table.assign(subgroup=report.table["subgroup"].astype(str))
    merged = sensitivity.merge(scg, on=["class", "descriptor", "subgroup"], suffixes=("", "_scg"))
    assert len(merged) == len(sensitivity)
    np.testing.assert_allclose(merged["coverage"], merged["coverage_scg"])
    assert (
        (sensitivity["decision_flip_rate"] >= 0) & (sensitivity["decision_flip_rate"] <= 1)
    ).all()
    written = pd.read_csv(out / "sensitivity.csv", dtype={"subgroup": str, "setting": str})
    assert len(written) == len(sensitivity)
    payload = json.loads((out / "report.json").read_text())
    assert len(payload["sensitivity"]) == len(sensitivity)
    assert payload["run"]["sensitivity_observed_max_abs_difference"] < 1e-5


def _model_and_test_batch(run_dir):
    config, resolved, results = load_run_config(run_dir)
    model = build_run_model(config, RunAxes.from_resolved(resolved), run_dir, torch.device("cpu"))
    test = prepare_data(config.replace(device="cpu")).test
    batch = [test[i] for i in range(len(test))]
    images = torch.stack([b["image"] for b in batch])
    descriptors = torch.stack([b["descriptors"] for b in batch])
    return model, images, descriptors, results["decision_threshold"]


def test_sensitivity_matches_forward_passes_of_the_loaded_model(runs, audited):
    _, sensitivity, _ = audited
    model, images, descriptors, threshold = _model_and_test_batch(runs["semcovnet"])
    predictions = pd.read_parquet(runs["semcovnet"] / "predictions.parquet")
    names = read_config(runs["semcovnet"]).resolved["descriptors"]
    with torch.no_grad():
        observed = F.softmax(model(images, descriptors).logits, dim=1)[:, 1].numpy()
        for d in (0, len(names) - 1):
            for value in (0.0, 1.0):
                forced = descriptors.clone()
                forced[:, d] = value
                score = F.softmax(model(images, forced).logits, dim=1)[:, 1].numpy()
                frame = predictions[["y_true", "subgroup"]].assign(
                    change=score - observed, flip=(score >= threshold) != (observed >= threshold)
                )
                expected = frame.groupby(["y_true", "subgroup"])[["change", "flip"]].mean()
                rows = sensitivity[
                    (sensitivity["descriptor"] == names[d])
                    & (sensitivity["setting"] == f"{value:g}")
                ].set_index(["class", "subgroup"])
                ours = rows.loc[expected.index]
                np.testing.assert_allclose(ours["mean_score_change"], expected["change"], atol=1e-6)
                np.testing.assert_allclose(ours["decision_flip_rate"], expected["flip"])


def test_setting_a_descriptor_to_its_own_value_changes_nothing(runs):
    model, images, descriptors, _ = _model_and_test_batch(runs["semcovnet"])
    binary = (descriptors >= 0.5).float()
    half = len(images) // 2  # two batches, to check the order is kept
    loader = [
        {"image": images[a:b], "descriptors": binary[a:b], "index": torch.arange(a, b)}
        for a, b in ((half, len(images)), (0, half))
    ]
    passes = sensitivity_passes(model, loader, device=torch.device("cpu"))
    np.testing.assert_array_equal(passes.index, np.arange(len(images)))
    with torch.no_grad():
        observed = F.softmax(model(images, binary).logits, dim=1).numpy()
    np.testing.assert_allclose(passes.observed, observed, atol=1e-6)
    unchanged = 0
    for d in range(binary.shape[1]):
        for s, value in enumerate(passes.settings):
            same = (binary[:, d] == value).numpy()
            unchanged += int(same.sum())
            np.testing.assert_allclose(passes.forced[d, s][same], observed[same], atol=1e-6)
            forced = binary.clone()
            forced[:, d] = value
            with torch.no_grad():
                direct = F.softmax(model(images, forced).logits, dim=1).numpy()
            np.testing.assert_allclose(passes.forced[d, s], direct, atol=1e-6)
    assert unchanged == binary.numel()  # every (sample, descriptor) was checked once
    assert not np.allclose(passes.forced, passes.observed[None, None], atol=1e-4)


def test_erm_has_no_sensitivity(runs, tmp_path, caplog):
    caplog.set_level("INFO", logger="semcov_train")
    _, sensitivity = audit_run(runs["erm"], out=tmp_path, **FAST)
    assert sensitivity is None
    assert "takes no descriptors" in caplog.text
    assert not (tmp_path / "sensitivity.csv").exists()
    payload = json.loads((tmp_path / "report.json").read_text())
    assert payload["sensitivity"] == []
    assert "takes no descriptors" in payload["run"]["sensitivity_note"]
    # what the declaration says: the ERM model's output does not depend on p
    model, images, descriptors, _ = _model_and_test_batch(runs["erm"])
    with torch.no_grad():
        torch.testing.assert_close(
            model(images, descriptors).logits, model(images, 1 - descriptors).logits
        )


def test_old_run_directory_without_training_descriptors_still_audits(
    runs, audited, tmp_path, caplog
):
    caplog.set_level("INFO", logger="semcov_train")
    old = _copy(runs["semcovnet"], tmp_path, drop=("train_descriptors.parquet",))
    report, sensitivity = audit_run(old, **FAST)
    assert f"training descriptors: {REBUILT_SOURCE}" in caplog.text
    reference, reference_sensitivity, _ = audited
    assert report.cdi == reference.cdi
    pd.testing.assert_frame_equal(report.table, reference.table)
    pd.testing.assert_frame_equal(sensitivity, reference_sensitivity)
    payload = json.loads((old / "audit" / "report.json").read_text())
    assert payload["run"]["training_source"] == REBUILT_SOURCE


def test_missing_checkpoint_skips_sensitivity_with_a_warning(runs, tmp_path):
    run = _copy(runs["semcovnet"], tmp_path, drop=("checkpoints/best.pt",))
    argv = ["audit", "--run", str(run), "--n-boot", "10", "--n-permutations", "99"]
    completed = subprocess.run(
        [sys.executable, "-m", "semcov_train", *argv], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    warned = [line for line in completed.stderr.splitlines() if "sensitivity skipped" in line]
    assert len(warned) == 1 and "best.pt" in warned[0]
    assert "Traceback" not in completed.stderr
    assert f"{run / 'audit'}: CDI" in completed.stdout
    assert (run / "audit" / "report.json").is_file() and (run / "audit" / "scg.csv").is_file()
    assert not (run / "audit" / "sensitivity.csv").exists()
    payload = json.loads((run / "audit" / "report.json").read_text())
    assert payload["sensitivity"] == [] and "best.pt" in payload["run"]["sensitivity_note"]


def _one_line_error(capsys, argv) -> str:
    assert main(["audit", *argv]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("semcov-train audit: error: ")
    assert "Traceback" not in captured.err
    return lines[0]


def test_bad_inputs_exit_2_with_one_line(runs, tmp_path, capsys):
    missing = tmp_path / "nowhere"
    assert "does not exist" in _one_line_error(capsys, ["--run", str(missing)])
    unfinished = _copy(runs["semcovnet"], tmp_path, drop=("predictions.parquet",))
    line = _one_line_error(capsys, ["--run", str(unfinished)])
    assert "has no predictions.parquet: the run has not finished or was not evaluated" in line
    assert not (unfinished / "audit").exists()
    below_a_file = runs["semcovnet"] / "results.json" / "audit"
    line = _one_line_error(capsys, ["--run", str(runs["semcovnet"]), "--out", str(below_a_file)])
    assert "out:" in line and "not a writable folder" in line
    card = tmp_path / "card.yaml"
    card.write_text("- a list, not fields\n")
    line = _one_line_error(capsys, ["--run", str(runs["semcovnet"]), "--card", str(card)])
    assert "card:" in line and "mapping" in line
    line = _one_line_error(capsys, ["--run", str(runs["semcovnet"]), "--n-boot", "-1"])
    assert "n_boot" in line
    if not torch.cuda.is_available():
        line = _one_line_error(capsys, ["--run", str(runs["semcovnet"]), "--device", "cuda"])
        assert "CUDA is not available" in line


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_out_exits_2(runs, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        line = _one_line_error(capsys, ["--run", str(runs["semcovnet"]), "--out", str(locked)])
    finally:
        locked.chmod(0o700)
    assert "not a writable folder" in line


def test_command_line_process_prints_no_traceback(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "semcov_train", "audit", "--run", str(tmp_path / "absent")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stderr.strip().count("\n") == 0
    assert "does not exist" in completed.stderr and "Traceback" not in completed.stderr


def test_card_yaml_overrides_the_runs_card_and_reaches_the_html_renderer(
    runs, tmp_path, monkeypatch, caplog
):
    card = tmp_path / "card.yaml"
    card.write_text("intended_use: teaching\ncaveats:\n  - scores are uncalibrated\n")
    report, _ = audit_run(runs["erm"], out=tmp_path / "plain", card=card, **FAST)
    assert not hasattr(report, "to_html") or (tmp_path / "plain" / "report.html").is_file()
    if not hasattr(report, "to_html"):
        assert "html extra" in caplog.text
    payload = json.loads((tmp_path / "plain" / "report.json").read_text())
    assert payload["card"]["intended_use"] == "teaching"
    assert payload["card"]["caveats"] == ["scores are uncalibrated"]
    assert "classes: rest, MEL" in payload["card"]["data"]  # kept from config.json
    assert any("Synthetic data" in line for line in payload["card"]["limitations"])

    calls = []

    def to_html(
        self, path, *, card=None, sensitivity=None, title=None, context=None, class_names=None
    ):
        calls.append(
            {"card": card, "sensitivity": sensitivity, "title": title, "context": context}
            | {"class_names": class_names}
        )
        path.write_text("<html></html>")

    monkeypatch.setattr(SemanticFairnessReport, "to_html", to_html, raising=False)
    audit_run(runs["semcovnet"], out=tmp_path / "html", card=card, **FAST)
    assert (tmp_path / "html" / "report.html").is_file()
    (call,) = calls
    assert call["card"]["intended_use"] == "teaching"
    assert isinstance(call["sensitivity"], pd.DataFrame) and len(call["sensitivity"]) > 0
    assert call["context"]["method"] == "semcovnet" and call["context"]["dataset"] == "synthetic"
    assert "SemCovNet" in call["title"]
    assert call["class_names"] == ["rest", "MEL"]  # the report's classes are the codes 0, 1
    assert call["context"]["test"].startswith(f"{call['context']['n_test']:,} test images")
    calls.clear()
    audit_run(runs["semcovnet"], out=tmp_path / "no-html", html=False, **FAST)
    assert not calls and not (tmp_path / "no-html" / "report.html").exists()


@pytest.mark.parametrize(
    "name", [n for n, m in sorted(METHODS.items()) if m.weights_folder is None]
)
def test_takes_descriptors_says_whether_the_model_reads_p(name):
    method = METHODS[name]
    config = make_config("smoke", method=name)
    axes = RunAxes(("rest", "MEL"), ("a", "b", "c"), ("trunk", "face"))
    torch.manual_seed(0)
    model = method.build_model(config, axes, method).eval()
    images = torch.randn(4, 3, config.image_size, config.image_size)
    p = torch.rand(4, 3)
    with torch.no_grad():
        moved = (model(images, p).logits - model(images, 1 - p).logits).abs().max().item()
    assert (moved > 1e-6) == method.takes_descriptors, moved


def test_audit_page_of_the_smoke_run_in_the_browser(runs, browser, browser_tools, tmp_path):
    """``semcov-train audit`` as a user runs it, its report.html opened in headless Chromium."""
    run_dir = runs["semcovnet"]
    argv = ["audit", "--run", str(run_dir), "--out", str(tmp_path), "--n-boot", "20"]
    completed = subprocess.run(
        [sys.executable, "-m", "semcov_train", *argv, "--n-permutations", "99"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    results = json.loads((run_dir / "results.json").read_text())
    payload = json.loads((tmp_path / "report.json").read_text())
    assert payload["cdi"] == pytest.approx(results["cdi"], abs=1e-12)
    parts = {
        **browser_tools.PAGE_PARTS,
        "sensitivity section": "#sensitivity h2",
        "sensitivity figure": "#sensitivity svg.figure",
        "sensitivity table": "#sensitivity-table",
    }
    page = browser_tools.open_report(browser, tmp_path / "report.html", parts)
    browser_tools.check_page(page, min_figures=6)  # scatter, reliability, ROC, 2 maps, sensitivity
    html = (tmp_path / "report.html").read_text()
    assert f"is {results['cdi']:.3f} (95" in html  # the summary's CDI is results.json's
    # the report runs on class codes; the page names the classes as config.json does
    classes = read_config(run_dir).resolved["classes"]
    assert html.count("<h2>Class ") == len(classes)
    for name in classes:
        assert f"<h2>Class {name}</h2>" in html and f"<td>{name}</td>" in html
    assert "<h2>Class 0</h2>" not in html and "<td>0</td><td>MONET" not in html
