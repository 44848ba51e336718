"""The resampling null of the coverage–error tests: cells' error rates exchanged within a class,
then every test sample's miss redrawn from its cell's new rate, the samples left in place."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from semcov_metrics.cell_permutation import masked_abs_pearson

__all__: list[str] = []

_BLOCK = 128


@dataclass(frozen=True)
class NullDraws:
    """CDI and the slope's numerator under each null replicate.

    Attributes:
        cdi: |Pearson r| over the valid SCGs of each replicate (B,); NaN where undefined.
        slope: the within-class slope of each replicate (B,); NaN when the slope is undefined.
    """

    cdi: np.ndarray
    slope: np.ndarray


def rate_permutations(
    cells_per_class: int, populated: np.ndarray, n_replicates: int, rng: np.random.Generator
) -> np.ndarray:
    """(B, n_cells): the cell whose error rate each cell takes in each replicate; the populated
    cells of a class are permuted among themselves, empty cells keep their own (unused) rate."""
    n_cells = populated.size
    index = np.broadcast_to(np.arange(n_cells), (n_replicates, n_cells)).copy()
    for start in range(0, n_cells, cells_per_class):
        members = start + np.flatnonzero(populated[start : start + cells_per_class])
        if members.size > 1:
            index[:, members] = rng.permuted(
                np.broadcast_to(members, (n_replicates, members.size)), axis=1
            )
    return index


def resampled_null(
    *,
    cells: np.ndarray,
    weights: np.ndarray,
    miss: np.ndarray,
    centred_kappa: np.ndarray,
    coverage: np.ndarray,
    support: np.ndarray,
    valid: np.ndarray,
    n_subgroups: int,
    n_replicates: int,
    seed: int,
) -> NullDraws:
    """Null CDIs and slopes from ``n_replicates`` redraws of every test sample's miss.

    The null model: a sample's miss probability is its cell's rate, and the cells' rates are
    exchangeable within a class. A replicate permutes the rates among the populated cells of
    each class and draws every sample's miss from its cell's new rate. Samples, memberships,
    supports and the valid SCG set stay as observed, so SCGs of one cell share redrawn samples
    as they share real ones, and a small SCG is as noisy as in the data. Drawing misses afresh
    adds binomial noise to the cells' rates on top of the observed rates' own, which makes the
    test slightly conservative for small cells.

    Args:
        cells: cell of each test sample, class · n_subgroups + subgroup (N,).
        weights: membership of each sample in each descriptor's SCG (N, K).
        miss: 1 where the sample is misclassified (N,).
        centred_kappa: each sample's coverage minus its class mean, 0 for samples outside the
            slope (N,).
        coverage: training coverage (n_cells, K).
        support: test support (n_cells, K); it is the same in every replicate.
        valid: the SCGs that count (n_cells, K); the same in every replicate.
        n_subgroups: cells per class.
        n_replicates: null replicates B.
        seed: seed of the permutations and the redraws.
    """
    rng = np.random.default_rng(seed)
    n_cells = support.shape[0]
    order = np.argsort(cells, kind="stable")
    counts = np.bincount(cells, minlength=n_cells)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    rate = np.bincount(cells, miss.astype(np.float64), minlength=n_cells) / np.maximum(counts, 1)
    sorted_weights = weights[order]
    sorted_kappa = centred_kappa[order]
    sxx = float(centred_kappa @ centred_kappa)
    flat_coverage = coverage.ravel()
    safe_support = np.where(valid, support, 1.0)
    cdi, slope = [], []
    for start in range(0, n_replicates, _BLOCK):
        size = min(_BLOCK, n_replicates - start)
        source = rate_permutations(n_subgroups, counts > 0, size, rng)
        misses = np.zeros((size, n_cells, weights.shape[1]))
        numerator = np.zeros(size)
        for k in np.flatnonzero(counts):
            rows = slice(bounds[k], bounds[k + 1])
            drawn = (rng.random((size, counts[k])) < rate[source[:, k], None]).astype(np.float64)
            misses[:, k, :] = drawn @ sorted_weights[rows]
            numerator += drawn @ sorted_kappa[rows]
        errors = np.where(valid[None], misses / safe_support[None], np.nan)
        cdi.append(masked_abs_pearson(flat_coverage, errors.reshape(size, -1)))
        slope.append(numerator / sxx if sxx > 0 else np.full(size, np.nan))
    return NullDraws(cdi=np.concatenate(cdi), slope=np.concatenate(slope))
