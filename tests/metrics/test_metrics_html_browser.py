"""The HTML report in a real browser (the system's headless Chromium through Playwright): it
loads from disk with no console or page error, requests nothing but ``file:`` and ``data:``
URLs, shows the summary, the tables and the figures, renders a screenshot that is not blank and
prints to PDF. Run on a CSV audit and, when present, on the real MILK10k metadata.

Skipped only when Chromium is missing outside CI; in CI (``CI=true``) a missing Chromium fails.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupShuffleSplit

from semcov_metrics import semantic_fairness_report
from semcov_metrics.cli import main

MILK10K = Path(__file__).resolve().parents[3] / "shared" / "data" / "milk10k"
CHROMIUM = shutil.which("chromium")


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing in CI: .ci/run installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM)
        yield instance
        instance.close()


def open_report(browser, path: Path) -> dict:
    """Load ``path`` in a fresh page; return what it requested, logged, drew and printed."""
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors, requests = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.resolve().as_uri(), wait_until="load")
    visible = {
        "summary": page.locator("#summary .summary p").first.is_visible(),
        "key numbers": page.locator("#key-numbers").is_visible(),
        "scg table": page.locator("table.scg-table").first.is_visible(),
        "first figure": page.locator("svg.figure").first.is_visible(),
    }
    n_figures = page.locator("svg.figure").count()
    screenshot = page.screenshot(full_page=False)
    pdf = page.pdf(format="A4")
    page.close()
    return {
        "errors": errors,
        "requests": requests,
        "visible": visible,
        "n_figures": n_figures,
        "screenshot": screenshot,
        "pdf": pdf,
    }


def check_page(result: dict, min_figures: int) -> None:
    assert result["errors"] == []
    assert result["requests"] and all(
        url.startswith(("file:", "data:")) for url in result["requests"]
    ), result["requests"]
    assert all(result["visible"].values()), result["visible"]
    assert result["n_figures"] >= min_figures
    pixels = np.asarray(Image.open(io.BytesIO(result["screenshot"])).convert("RGB"))
    assert pixels.shape[:2] == (900, 1200)
    assert (pixels < 250).any(axis=2).mean() > 0.02  # not blank: ink on a few % of the pixels
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 200  # text, figures, colours
    assert result["pdf"].startswith(b"%PDF") and len(result["pdf"]) > 20_000


def test_csv_audit_in_the_browser(browser, binary_audit, tmp_path, html_tools):
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
    check_page(open_report(browser, out / "report.html"), min_figures=3)


def test_full_fields_in_the_browser(browser, binary_audit, multiclass_audit, tmp_path):
    for audit, figures in ((binary_audit, 5), (multiclass_audit, 4)):
        path = audit[4].to_html(tmp_path / f"full-{figures}.html", context={"model": "test"})
        check_page(open_report(browser, path), min_figures=figures)


def milk10k_audit() -> tuple:
    """A MEL-vs-rest audit of the real MILK10k dermoscopic metadata.

    Real: the images' MONET concept scores (7 ``MONET_*`` columns), anatomical sites and
    ground-truth diagnoses (MEL from ``MILK10k_Training_GroundTruth.csv``, joined on
    ``lesion_id``). Computed here: the train/test split (lesions split 70/30 by
    ``GroupShuffleSplit``, seed 0) and the "model", a logistic regression on the 7 MONET scores
    fitted on the training split; its MEL probability on the test split is the score audited.
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
def test_milk10k_audit_in_the_browser(browser, tmp_path):
    report, context, n_descriptors = milk10k_audit()
    assert n_descriptors == 7
    path = report.to_html(tmp_path / "milk10k.html", context=context, title="MILK10k audit")
    html = path.read_text()
    assert "MILK10k dermoscopic images, lesion-grouped split" in html
    assert html.count("<h2>Class ") == 2
    check_page(open_report(browser, path), min_figures=3)
