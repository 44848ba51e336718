"""Speed and memory of semantic_fairness_report on a million test samples.

Compares against (a) a weighted pandas groupby per descriptor, (b) fairlearn MetricFrame per
descriptor with hard membership, and a single vectorised pass over the descriptor matrices
(the memory-bound floor). Run: ``uv run python benchmarks/bench_metrics.py``.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
import warnings

import numpy as np
import pandas as pd

from semcov_metrics import semantic_fairness_report


def make_inputs(n_test: int, n_train: int, k: int, s: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    y_test = (rng.random(n_test) < 0.1).astype(np.int64)
    correct = rng.random(n_test) < 0.85
    return dict(
        train_descriptors=rng.random((n_train, k)),
        train_labels=(rng.random(n_train) < 0.1).astype(np.int64),
        train_subgroups=rng.integers(0, s, n_train),
        test_descriptors=rng.random((n_test, k)),
        test_labels=y_test,
        test_predictions=np.where(correct, y_test, 1 - y_test),
        test_subgroups=rng.integers(0, s, n_test),
    )


def one_pass(inputs: dict[str, np.ndarray]) -> None:
    """The floor: read each descriptor matrix once."""
    inputs["train_descriptors"].sum(axis=0)
    inputs["test_descriptors"].sum(axis=0)


def ours(inputs: dict[str, np.ndarray]) -> float:
    return semantic_fairness_report(**inputs).cdi


def pandas_groupby(inputs: dict[str, np.ndarray]) -> pd.DataFrame:
    """Weighted groupby per descriptor: coverage on train, soft support and hits on test."""
    train = pd.DataFrame({"c": inputs["train_labels"], "s": inputs["train_subgroups"]})
    test = pd.DataFrame({"c": inputs["test_labels"], "s": inputs["test_subgroups"]})
    hit = (inputs["test_predictions"] == inputs["test_labels"]).astype(np.float64)
    tables = []
    for d in range(inputs["train_descriptors"].shape[1]):
        train["p"] = inputs["train_descriptors"][:, d]
        coverage = train.groupby(["c", "s"])["p"].mean()
        test["w"] = inputs["test_descriptors"][:, d]
        test["wh"] = test["w"] * hit
        sums = test.groupby(["c", "s"])[["w", "wh"]].sum()
        tables.append(pd.DataFrame({"coverage": coverage, "tpr": sums["wh"] / sums["w"]}))
    return pd.concat(tables)


def fairlearn_frame(inputs: dict[str, np.ndarray]) -> list[pd.Series]:
    """fairlearn MetricFrame per descriptor, hard membership (p >= 0.5), groups = (class, subgroup).

    Inside a group all samples share the class, so accuracy there is that class's TPR.
    """
    from fairlearn.metrics import MetricFrame
    from sklearn.metrics import accuracy_score

    train = pd.DataFrame({"c": inputs["train_labels"], "s": inputs["train_subgroups"]})
    results = []
    for d in range(inputs["train_descriptors"].shape[1]):
        train["p"] = inputs["train_descriptors"][:, d]
        train.groupby(["c", "s"])["p"].mean()
        member = inputs["test_descriptors"][:, d] >= 0.5
        frame = MetricFrame(
            metrics=accuracy_score,
            y_true=inputs["test_labels"][member],
            y_pred=inputs["test_predictions"][member],
            sensitive_features=pd.DataFrame(
                {"c": inputs["test_labels"][member], "s": inputs["test_subgroups"][member]}
            ),
        )
        results.append(frame.by_group)
    return results


def best_time(function, inputs, repeats: int) -> float:
    function(inputs)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(inputs)
        times.append(time.perf_counter() - start)
    return min(times)


def peak_memory(function, inputs) -> int:
    tracemalloc.start()
    function(inputs)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n-test", type=int, default=1_000_000)
    parser.add_argument("--n-train", type=int, default=1_000_000)
    parser.add_argument("--descriptors", type=int, default=7)
    parser.add_argument("--subgroups", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-fairlearn", action="store_true")
    args = parser.parse_args()
    inputs = make_inputs(args.n_test, args.n_train, args.descriptors, args.subgroups)
    input_bytes = sum(a.nbytes for a in inputs.values())
    warnings.simplefilter("ignore")

    floor = best_time(one_pass, inputs, args.repeats)
    t_ours = best_time(ours, inputs, args.repeats)
    t_pandas = best_time(pandas_groupby, inputs, max(1, args.repeats // 2))
    rows = [
        ("one vectorised pass (floor)", floor),
        ("semantic_fairness_report", t_ours),
        ("(a) pandas weighted groupby", t_pandas),
    ]
    if not args.skip_fairlearn:
        rows.append(("(b) fairlearn MetricFrame", best_time(fairlearn_frame, inputs, 1)))
    peak = peak_memory(ours, inputs)

    print(
        f"N_test={args.n_test:,} N_train={args.n_train:,} K={args.descriptors} "
        f"S={args.subgroups} classes=2; inputs {input_bytes / 2**20:.1f} MiB"
    )
    print("| implementation | wall time (s) | ours is faster by |")
    print("|---|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.4f} | {seconds / t_ours:.2f}x |")
    print(
        f"peak extra memory of semantic_fairness_report: {peak / 2**20:.1f} MiB "
        f"= {peak / input_bytes:.2f}x the inputs"
    )
    print(f"report / one pass: {t_ours / floor:.2f}x")


if __name__ == "__main__":
    main()
