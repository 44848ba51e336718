"""Calibration and power of the CDI tests on simulated audits, and the time of one test.

Each simulated audit: 2 classes (30 % / 70 %), 8 subgroups, 7 descriptors; a training split and
a test split drawn from the same population, in which each (class, subgroup) cell has its own
descriptor prevalence (a cell level shared by its descriptors plus a descriptor term), and soft
descriptor scores drawn from Beta distributions with those means (like MONET scores). A test
image's miss probability is ``base + u_cell + slope · (κ_i − κ̄)`` with κ_i its coverage (the
regressor of the slope) and u_cell ~ N(0, cell_sd). Scenarios:

- ``null: plain``: no cell effect, no slope;
- ``null: cell effects``: cell_sd = 0.1, no slope (a whole cell is hard, independently of its
  coverage): the case that fools a test treating SCGs as independent;
- ``null: a hard concept``: descriptor d0 adds 0.3 to the miss probability wherever it is
  present, no slope (a limitation of the cell null, reported as measured);
- ``slope −0.25 / −0.5 / −1.0``: a planted coverage–error slope with cell effects of sd 0.05.

Tests, each at α = 0.05 with 999 null draws: the SCG-level permutation (errors shuffled one SCG
at a time), the cell permutation (:func:`cdi_permutation_test`: SCG errors of whole cells
exchanged within class), the report's resampling test of CDI (:func:`coverage_error_test`) and
its test of the slope. Then the time of one :func:`coverage_error_test` (1,000 replicates) on
~100 SCGs and 10,000 test images, median of 5.

Run: ``uv run python benchmarks/bench_cdi_calibration.py`` (``--audits 500 --power-audits 200``).
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
import pandas as pd

from semcov_metrics import UndefinedMetricWarning, coverage_error_test, scg_coverage
from semcov_metrics.cell_permutation import (
    cell_permutations,
    cell_test,
    masked_abs_pearson,
    permutation_p_value,
)

CLASSES, SUBGROUPS, DESCRIPTORS = 2, 8, 7
ALPHA, DRAWS = 0.05, 999
SCENARIOS = {
    "null: plain": dict(slope=0.0, cell_sd=0.0, hard_concept=0.0),
    "null: cell effects": dict(slope=0.0, cell_sd=0.1, hard_concept=0.0),
    "null: a hard concept": dict(slope=0.0, cell_sd=0.0, hard_concept=0.3),
    "slope -0.25": dict(slope=-0.25, cell_sd=0.05, hard_concept=0.0),
    "slope -0.5": dict(slope=-0.5, cell_sd=0.05, hard_concept=0.0),
    "slope -1.0": dict(slope=-1.0, cell_sd=0.05, hard_concept=0.0),
}


def population(rng: np.random.Generator) -> np.ndarray:
    """Descriptor prevalence of every (class, subgroup, descriptor): (2, 8, 7)."""
    cell = rng.uniform(0.05, 0.55, (CLASSES, SUBGROUPS, 1))
    return np.clip(cell + rng.normal(0.0, 0.1, (CLASSES, SUBGROUPS, DESCRIPTORS)), 0.02, 0.9)


def draw(rng: np.random.Generator, prevalence: np.ndarray, n: int):
    """n images: class (30/70), subgroup (uneven), Beta scores with the cell's prevalence."""
    labels = (rng.random(n) < 0.3).astype(np.intp)
    weights = np.array([0.25, 0.2, 0.15, 0.12, 0.1, 0.08, 0.06, 0.04])
    subgroups = rng.choice(SUBGROUPS, n, p=weights)
    mean = prevalence[labels, subgroups]
    concentration = 4.0
    scores = rng.beta(mean * concentration, (1 - mean) * concentration)
    return scores, labels, subgroups


def audit(rng: np.random.Generator, *, slope: float, cell_sd: float, hard_concept: float):
    prevalence = population(rng)
    train = draw(rng, prevalence, 6000)
    test = draw(rng, prevalence, 3000)
    coverage = scg_coverage(*train)
    cov = coverage["coverage"].to_numpy().reshape(CLASSES, DESCRIPTORS, SUBGROUPS)
    scores, labels, subgroups = test
    kappa = np.einsum("nk,nk->n", scores, cov[labels, :, subgroups]) / scores.sum(axis=1)
    centred = kappa - np.array([kappa[labels == c].mean() for c in range(CLASSES)])[labels]
    effect = rng.normal(0.0, cell_sd, (CLASSES, SUBGROUPS)) if cell_sd else 0.0
    probability = 0.2 + (effect[labels, subgroups] if cell_sd else 0.0) + slope * centred
    probability = probability + hard_concept * scores[:, 0]
    miss = rng.random(len(labels)) < np.clip(probability, 0.0, 1.0)
    return coverage, scores, labels, np.where(miss, 1 - labels, labels), subgroups


def scg_arrays(coverage, scores, labels, predictions, subgroups):
    """(coverage, error with NaN where not valid) as (n_cells, K) arrays, min_support 1."""
    cells = labels * SUBGROUPS + subgroups
    miss = (predictions != labels).astype(float)
    support = np.stack(
        [np.bincount(cells, scores[:, d], CLASSES * SUBGROUPS) for d in range(DESCRIPTORS)], 1
    )
    missed = np.stack(
        [np.bincount(cells, scores[:, d] * miss, CLASSES * SUBGROUPS) for d in range(DESCRIPTORS)],
        1,
    )
    error = np.where(support >= 1.0, missed / np.maximum(support, 1e-300), np.nan)
    cov = coverage["coverage"].to_numpy().reshape(CLASSES, DESCRIPTORS, SUBGROUPS)
    return cov.transpose(0, 2, 1).reshape(CLASSES * SUBGROUPS, DESCRIPTORS), error


def scg_permutation_p(cov: np.ndarray, error: np.ndarray, rng: np.random.Generator) -> float:
    keep = ~np.isnan(error.ravel())
    x, y = cov.ravel()[keep], error.ravel()[keep]
    observed = masked_abs_pearson(x, y[None])[0]
    null = masked_abs_pearson(x, rng.permuted(np.broadcast_to(y, (DRAWS, y.size)), axis=1))
    return permutation_p_value(float(observed), null, False)


def rates(name: str, n_audits: int, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    rejected = np.zeros(4)
    started = time.perf_counter()
    for index in range(n_audits):
        coverage, scores, labels, predictions, subgroups = audit(rng, **SCENARIOS[name])
        cov, error = scg_arrays(coverage, scores, labels, predictions, subgroups)
        index_cells, exact = cell_permutations(CLASSES, SUBGROUPS, DRAWS, index)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            cell = cell_test(cov, error, index_cells, exact).p_value
            test = coverage_error_test(
                coverage,
                test_descriptors=scores,
                test_labels=labels,
                test_predictions=predictions,
                test_subgroups=subgroups,
                n_permutations=DRAWS,
                seed=index,
            )
        p_values = (scg_permutation_p(cov, error, rng), cell, test.p_value, test.slope.p_value)
        rejected += np.array([p <= ALPHA for p in p_values])
    seconds = (time.perf_counter() - started) / n_audits
    names = ("scg_perm", "cell_perm", "cdi_test", "slope_test")
    row = dict(zip(names, rejected / n_audits, strict=True))
    return {"scenario": name, "audits": n_audits, **row, "seconds_per_audit": seconds}


def timing(repeats: int = 5) -> float:
    rng = np.random.default_rng(0)
    prevalence = population(rng)
    coverage = scg_coverage(*draw(rng, prevalence, 20_000))
    scores, labels, subgroups = draw(rng, prevalence, 10_000)
    predictions = np.where(rng.random(10_000) < 0.2, 1 - labels, labels)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        coverage_error_test(
            coverage,
            test_descriptors=scores,
            test_labels=labels,
            test_predictions=predictions,
            test_subgroups=subgroups,
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audits", type=int, default=500, help="audits per null scenario")
    parser.add_argument("--power-audits", type=int, default=200, help="audits per slope")
    args = parser.parse_args()
    rows = [
        rates(name, args.audits if name.startswith("null") else args.power_audits, seed)
        for seed, name in enumerate(SCENARIOS)
    ]
    table = pd.DataFrame(rows)
    print("Rejection rate at α = 0.05 (a false-positive rate under the nulls, power under slopes)")
    print("| scenario | audits | SCG permutation | cell permutation | CDI test | slope test |")
    print("|---|---|---|---|---|---|")
    for row in table.itertuples(index=False):
        print(
            f"| {row.scenario} | {row.audits} | {row.scg_perm:.3f} | {row.cell_perm:.3f} | "
            f"{row.cdi_test:.3f} | {row.slope_test:.3f} |"
        )
    per_audit = table["seconds_per_audit"].mean()
    print(f"All four tests of one audit (3,000 test images, 999 draws each): {per_audit:.3f} s")
    print(
        "coverage_error_test, 98 SCGs, 10,000 test images, 1,000 replicates: "
        f"{timing():.3f} s (median of 5)"
    )


if __name__ == "__main__":
    main()
