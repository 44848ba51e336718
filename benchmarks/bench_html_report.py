"""Speed and size of the HTML fairness report: 10,000 test images, ~100 SCGs (2 classes ×
7 descriptors × 7 subgroups), binary scores, median of 3.

Times ``to_html`` alone and the whole audit (``semantic_fairness_report`` with a bootstrap,
then ``to_html``). A report without the 0.3 fields (ROC by subgroup, reliability per band,
bands, Wilson intervals, q-values) would render fewer figures and time too short, so those
missing from the report are filled here from the same arrays (scikit-learn ROC curves,
``reliability_diagram``, coverage tertiles) before timing; fields the report carries are kept.
Run: ``uv run python benchmarks/bench_html_report.py``.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score, roc_curve

from semcov_metrics import SemanticFairnessReport, reliability_diagram, semantic_fairness_report

BANDS = ("Tail", "Middle", "Head")


def make_inputs(n_test: int, n_train: int, k: int, s: int, seed: int = 0) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    y_test = (rng.random(n_test) < 0.3).astype(np.int64)
    score = np.clip(0.35 * y_test + 0.65 * rng.random(n_test), 0.0, 1.0)
    return dict(
        train_descriptors=rng.random((n_train, k)) ** 2,
        train_labels=(rng.random(n_train) < 0.3).astype(np.int64),
        train_subgroups=rng.integers(0, s, n_train),
        test_descriptors=rng.random((n_test, k)) ** 2,
        test_labels=y_test,
        test_predictions=(score >= 0.5).astype(np.int64),
        test_subgroups=rng.integers(0, s, n_test),
        test_scores=score,
    )


def with_figures_data(report: SemanticFairnessReport, inputs: dict[str, Any]) -> Any:
    """``report`` with ROC, reliability, bands and per-SCG intervals where it lacks them."""
    missing = [n for n in ("roc", "reliability", "strata") if not hasattr(report, n)]
    if not missing and "band" in report.table.columns:
        return report
    table = report.table.copy()
    valid = table["valid"].to_numpy()
    ranks = table.loc[valid, "coverage"].rank(pct=True)
    table["band"] = None
    table.loc[valid, "band"] = np.select([ranks <= 1 / 3, ranks <= 2 / 3], BANDS[:2], BANDS[2])
    half = 1.96 * np.sqrt(table["tpr"] * (1 - table["tpr"]) / table["support"].clip(lower=1))
    table["tpr_low"], table["tpr_high"] = table["tpr"] - half, table["tpr"] + half
    table["q_value"], table["flagged"] = 1.0, False
    y, score, site = inputs["test_labels"], inputs["test_scores"], inputs["test_subgroups"]
    roc = {}
    for value in np.unique(site):
        keep = site == value
        fpr, tpr, _ = roc_curve(y[keep], score[keep])
        roc[str(value)] = {"fpr": fpr, "tpr": tpr, "auc": roc_auc_score(y[keep], score[keep])}
    reliability, strata = {}, []
    for k, band in enumerate(BANDS):
        keep = np.arange(len(y)) % 3 == k
        curve = reliability_diagram(y[keep], score[keep], mode="positive")
        reliability[band] = {
            "confidence": curve["confidence"].to_numpy(),
            "accuracy": curve["accuracy"].to_numpy(),
            "weight": (curve["count"] / curve["count"].sum()).to_numpy(),
        }
        rows = table[table["band"] == band]
        strata.append(
            {
                "band": band,
                "coverage_low": rows["coverage"].min(),
                "coverage_high": rows["coverage"].max(),
                "n_scgs": len(rows),
                "support": rows["support"].sum(),
                "tpr": rows["tpr"].mean(),
                "ece": float(curve["gap"].mul(curve["count"]).sum() / curve["count"].sum()),
            }
        )
    filled = dataclasses.make_dataclass(
        "BenchReport",
        [(n, Any, dataclasses.field(default=None)) for n in ("roc", "reliability", "strata")],
        bases=(type(report),),
        frozen=True,
    )
    base = {f.name: getattr(report, f.name) for f in dataclasses.fields(report)}
    base["table"] = table
    return filled(**base, roc=roc, reliability=reliability, strata=pd.DataFrame(strata))


def median_time(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-test", type=int, default=10_000)
    parser.add_argument("--n-train", type=int, default=20_000)
    parser.add_argument("--descriptors", type=int, default=7)
    parser.add_argument("--subgroups", type=int, default=7)
    parser.add_argument("--n-boot", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    inputs = make_inputs(args.n_test, args.n_train, args.descriptors, args.subgroups)
    folder = Path(tempfile.mkdtemp())
    path = folder / "report.html"
    context = {"model": "synthetic scores", "train": f"{args.n_train:,} rows"}
    report = with_figures_data(semantic_fairness_report(**inputs, n_boot=args.n_boot), inputs)
    report.to_html(path, context=context)  # warm-up: imports, font cache

    def render() -> None:
        report.to_html(path, context=context)

    def whole() -> None:
        audit = semantic_fairness_report(**inputs, n_boot=args.n_boot)
        with_figures_data(audit, inputs).to_html(path, context=context)

    t_html = median_time(render, args.repeats)
    t_whole = median_time(whole, args.repeats)
    html = path.read_text()
    print(
        f"N_test={args.n_test:,} N_train={args.n_train:,} SCGs={len(report.table)} "
        f"(valid {report.n_valid}) n_boot={args.n_boot}, median of {args.repeats}"
    )
    print("| step | wall time (s) |")
    print("|---|---|")
    print(f"| to_html | {t_html:.3f} |")
    print(f"| semantic_fairness_report + to_html | {t_whole:.3f} |")
    print(f"HTML: {len(html.encode()) / 1e6:.2f} MB, {html.count('<svg')} inline SVG figures")


if __name__ == "__main__":
    main()
