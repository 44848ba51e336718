"""The Coverage Disparity Index: how strongly SCG error follows training coverage, and the CDI
that chance alone gives (its permutation null floor)."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from semcov_metrics._validation import as_float_array, check_same_length, warn_undefined

__all__ = ["DEFAULT_N_PERMUTATIONS", "cdi_null_floor", "coverage_disparity_index"]

#: Permutations behind a null floor: its Monte Carlo standard error is then about
#: 0.6 / sqrt(n_permutations) of the floor (|r| has a coefficient of variation of ~0.75), so
#: 1000 gives the floor to ~2 % of its value.
DEFAULT_N_PERMUTATIONS = 1000
_PERMUTATION_BLOCK = 1024


def coverage_disparity_index(coverage: Any, error: Any) -> float:
    """CDI = |Pearson r(c_g, e_g)| across Semantic Coverage Groups.

    ``c_g`` is the training coverage of group g and ``e_g = 1 - TPR_g`` its test miss rate.
    0 means error does not depend on coverage; 1 means it is a linear function of it.

    Pairs in which either value is NaN (for example SCGs without test support) are dropped.
    With fewer than 3 remaining pairs, or when coverage or error is constant, the correlation
    is undefined: the result is ``nan`` and an :class:`UndefinedMetricWarning` is emitted.

    Args:
        coverage: training coverage per SCG, shape (G,).
        error: test miss rate per SCG, shape (G,); NaN where undefined.

    Returns:
        The CDI in [0, 1], or ``nan``.

    Example:
        >>> round(coverage_disparity_index([0.1, 0.4, 0.8, 0.9], [0.6, 0.5, 0.2, 0.1]), 4)
        0.9848
    """
    c, e = _pairs(coverage, error)
    return pearson_abs(c, e)


def cdi_null_floor(
    coverage: Any,
    error: Any,
    *,
    n_permutations: int = DEFAULT_N_PERMUTATIONS,
    seed: int = 0,
) -> float:
    """The CDI expected when error has no relation to coverage: mean |r| over permutations.

    The per-SCG errors are shuffled across the SCGs (coverage stays in place) and the CDI is
    recomputed; the floor is the mean over ``n_permutations`` seeded shuffles. A CDI is only
    evidence of a coverage–error relation when it clears this floor. With G SCGs the floor is
    close to ``sqrt(2 / (pi (G - 1)))`` (about 0.084 for G = 91), because under permutation
    ``E[r^2] = 1 / (G - 1)`` exactly and r is nearly normal. When ``G!`` is at most
    ``n_permutations`` every permutation is enumerated once and the floor is exact (as
    :func:`scipy.stats.permutation_test` does).

    Pairs with a NaN are dropped first, as in :func:`coverage_disparity_index`. Fewer than 3
    remaining pairs, or a constant coverage or error, give ``nan`` and an
    :class:`UndefinedMetricWarning`.

    Args:
        coverage: training coverage per SCG, shape (G,).
        error: test miss rate per SCG, shape (G,); NaN where undefined.
        n_permutations: number of random permutations (>= 1).
        seed: seed of the permutations.

    Returns:
        The mean |Pearson r| under permutation, in [0, 1], or ``nan``.

    Example:
        >>> round(cdi_null_floor([0.1, 0.4, 0.8, 0.9], [0.6, 0.5, 0.2, 0.1]), 4)
        0.4672
    """
    if isinstance(n_permutations, bool) or not isinstance(n_permutations, int | np.integer):
        raise TypeError(f"n_permutations must be an integer, got {n_permutations!r}")
    if n_permutations < 1:
        raise ValueError(f"n_permutations must be >= 1, got {n_permutations}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an integer, got {seed!r}")
    c, e = _pairs(coverage, error)
    return null_floor(c, e, int(n_permutations), int(seed))


def _pairs(coverage: Any, error: Any) -> tuple[np.ndarray, np.ndarray]:
    c = as_float_array(coverage, "coverage", ndim=1)
    e = as_float_array(error, "error", ndim=1)
    check_same_length(coverage=c, error=e)
    if np.isinf(c).any() or np.isinf(e).any():
        raise ValueError("coverage and error must not contain infinite values")
    return c, e


def null_floor(c: np.ndarray, e: np.ndarray, n_permutations: int, seed: int) -> float:
    """Mean |r| over permutations of ``e`` (NaN pairs dropped); nan + warning when undefined."""
    keep = ~(np.isnan(c) | np.isnan(e))
    c, e = c[keep], e[keep]
    if c.size < 3:
        return warn_undefined(
            f"the CDI null floor is undefined with {c.size} SCG(s) that have both coverage and "
            "error; need 3"
        )
    if c.max() == c.min() or e.max() == e.min():
        return warn_undefined(
            "the CDI null floor is undefined: coverage or error is constant across SCGs"
        )
    dc = c - c.mean()
    de = e - e.mean()
    # A permutation keeps the mean and the norm of e, so only the dot product changes.
    scale = np.sqrt(np.dot(dc, dc) * np.dot(de, de))
    n = c.size
    if math.factorial(n) <= n_permutations:
        orders = np.array(list(itertools.permutations(range(n))), dtype=np.intp)
        return float(np.minimum(np.abs(de[orders] @ dc) / scale, 1.0).mean())
    rng = np.random.default_rng(seed)
    total = 0.0
    for start in range(0, n_permutations, _PERMUTATION_BLOCK):
        rows = min(_PERMUTATION_BLOCK, n_permutations - start)
        shuffled = rng.permuted(np.broadcast_to(de, (rows, n)), axis=1)
        total += float(np.minimum(np.abs(shuffled @ dc) / scale, 1.0).sum())
    return total / n_permutations


def pearson_abs(c: np.ndarray, e: np.ndarray) -> float:
    """|Pearson r| over the pairs without NaN; nan + warning when undefined."""
    keep = ~(np.isnan(c) | np.isnan(e))
    c, e = c[keep], e[keep]
    if c.size < 3:
        return warn_undefined(
            f"CDI is undefined with {c.size} SCG(s) that have both coverage and error; need 3"
        )
    # An exact test: a constant array has max == min, whereas its centred values may not be 0.
    if c.max() == c.min() or e.max() == e.min():
        return warn_undefined("CDI is undefined: coverage or error is constant across SCGs")
    dc = c - c.mean()
    de = e - e.mean()
    r = float(np.dot(dc, de) / np.sqrt(np.dot(dc, dc) * np.dot(de, de)))
    return min(abs(r), 1.0)
