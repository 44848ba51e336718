"""The HTML report in a real browser (the system's headless Chromium through Playwright): it
loads from disk with no console or page error, requests nothing but ``file:`` and ``data:``
URLs, shows the summary, the tables and the figures, renders a screenshot that is not blank and
prints to PDF. Run on a CSV audit and, when present, on the real MILK10k metadata.

The browser and the checks come from tests/browser_support.py (fixtures ``browser`` and
``browser_tools``): skipped only when Chromium is missing outside CI; in CI (``CI=true``) a
missing Chromium fails.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupShuffleSplit

from semcov_metrics import semantic_fairness_report
from semcov_metrics.cli import main

MILK10K = Path(__file__).resolve().parents[3] / "shared" / "data" / "milk10k"


def test_csv_audit_in_the_browser(browser, browser_tools, binary_audit, tmp_path, html_tools):
    train_csv, test_csv = binary_audit[5]
    out = tmp_path / "out"
    code = main(
        [
            *("report", "--train", str(train_csv), "--test", str(test_csv)),
            *("--descriptor-columns", ",".join(html_tools.DESCRIPTORS)),
            *("--label-column", "label", "--subgroup-column", "site"),
            *("--score-column", "score_NV", "--positive-class", "NV", "--n-boot", "50"),
            *("--no-plots", "--out", str(out), "--html", str(out / "report.html")),
        ]
    )
    assert code == 0
    browser_tools.check_page(browser_tools.open_report(browser, out / "report.html"), min_figures=3)


def test_full_fields_in_the_browser(
    browser, browser_tools, binary_audit, multiclass_audit, tmp_path
):
    for audit, figures in ((binary_audit, 5), (multiclass_audit, 4)):
        path = audit[4].to_html(tmp_path / f"full-{figures}.html", context={"model": "test"})
        browser_tools.check_page(browser_tools.open_report(browser, path), min_figures=figures)


def milk10k_audit() -> tuple:
    """A MEL-vs-rest audit of the real MILK10k dermoscopic metadata.

    Real: the images' MONET concept scores (7 ``MONET_*`` columns), anatomical sites and
    ground-truth diagnoses (MEL from ``MILK10k_Training_GroundTruth.csv``, joined on
    ``lesion_id``). Computed here: the train/test split (lesions split 70/30 by
    ``GroupShuffleSplit``, seed 0) and the "model", a logistic regression on the 7 MONET scores
    fitted on the training split; its MEL probability on the test split is the score audited
    (MEL at 0.5). The report is the full one: test, slope, power, bands, strata, intersections.
    """
    metadata = pd.read_csv(MILK10K / "MILK10k_Training_Metadata.csv")
    truth = pd.read_csv(MILK10K / "MILK10k_Training_GroundTruth.csv")
    frame = metadata[metadata["image_type"] == "dermoscopic"].merge(
        truth[["lesion_id", "MEL"]], on="lesion_id", how="left", validate="1:1"
    )
    frame["label"] = np.where(frame["MEL"] == 1.0, "MEL", "rest")
    frame["site"] = frame["site"].fillna("unknown")
    monet = [c for c in frame.columns if c.startswith("MONET_")]
    split = GroupShuffleSplit(n_splits=1, test_size=0.3, random_state=0)
    train_index, test_index = next(split.split(frame, groups=frame["lesion_id"]))
    train, test = frame.iloc[train_index], frame.iloc[test_index]
    model = LogisticRegression(class_weight="balanced", max_iter=1000)
    model.fit(train[monet], train["label"] == "MEL")
    score = model.predict_proba(test[monet])[:, 1]
    report = semantic_fairness_report(
        train_descriptors=train[monet],
        train_labels=train["label"],
        train_subgroups=train["site"],
        test_descriptors=test[monet],
        test_labels=test["label"],
        test_predictions=np.where(score >= 0.5, "MEL", "rest"),
        test_subgroups=test["site"],
        test_scores=score,
        classes=["rest", "MEL"],
        n_boot=100,
        power=True,
    )
    n_mel = int((test["label"] == "MEL").sum())
    context = {
        "model": "logistic regression on the 7 MONET concept scores (MEL vs rest)",
        "train": f"MILK10k dermoscopic images, lesion-grouped split ({len(train):,} images)",
        "test": f"the other lesions ({len(test):,} images, {n_mel} MEL)",
    }
    return report, context, len(monet)


@pytest.mark.skipif(
    not (MILK10K / "MILK10k_Training_Metadata.csv").exists(),
    reason="real MILK10k metadata not present beside the checkout",
)
def test_milk10k_audit_in_the_browser(browser, browser_tools, tmp_path):
    report, context, n_descriptors = milk10k_audit()
    assert n_descriptors == 7
    path = report.to_html(tmp_path / "milk10k.html", context=context, title="MILK10k audit")
    html = path.read_text()
    assert "MILK10k dermoscopic images, lesion-grouped split" in html
    assert html.count("<h2>Class ") == 2
    browser_tools.check_page(browser_tools.open_report(browser, path), min_figures=3)


def test_the_browser_is_the_systems_chromium(browser, browser_tools):
    """Playwright drives the system's binary, not a browser it downloaded."""
    path = browser_tools.chromium_path()
    reported = subprocess.run([path, "--version"], capture_output=True, text=True, check=True)
    major = browser.version.split(".")[0]
    assert f" {major}." in reported.stdout, (browser.version, reported.stdout)
    assert os.environ["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] == "1"
