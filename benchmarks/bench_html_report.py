"""Speed and size of the HTML fairness report: 10,000 test images, ~100 SCGs (2 classes ×
7 descriptors × 7 subgroups), binary scores, median of 3.

Times ``to_html`` alone, the whole audit (``semantic_fairness_report`` with a bootstrap, the
CDI test, slope, bands, strata, curves and intersections, then ``to_html``), and the same with
the power simulation (``power=True``, as the command line does by default).
Run: ``uv run python benchmarks/bench_html_report.py``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from semcov_metrics import semantic_fairness_report


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
    report = semantic_fairness_report(**inputs, n_boot=args.n_boot, power=True)
    report.to_html(path, context=context)  # warm-up: imports, font cache

    def render() -> None:
        report.to_html(path, context=context)

    def whole() -> None:
        semantic_fairness_report(**inputs, n_boot=args.n_boot).to_html(path, context=context)

    def with_power() -> None:
        audit = semantic_fairness_report(**inputs, n_boot=args.n_boot, power=True)
        audit.to_html(path, context=context)

    t_html = median_time(render, args.repeats)
    t_whole = median_time(whole, args.repeats)
    t_power = median_time(with_power, args.repeats)
    html = path.read_text()
    print(
        f"N_test={args.n_test:,} N_train={args.n_train:,} SCGs={len(report.table)} "
        f"(valid {report.n_valid}) n_boot={args.n_boot}, median of {args.repeats}"
    )
    print("| step | wall time (s) |")
    print("|---|---|")
    print(f"| to_html | {t_html:.3f} |")
    print(f"| semantic_fairness_report + to_html | {t_whole:.3f} |")
    print(f"| semantic_fairness_report(power=True) + to_html | {t_power:.3f} |")
    print(f"HTML: {len(html.encode()) / 1e6:.2f} MB, {html.count('<svg')} inline SVG figures")


if __name__ == "__main__":
    main()
