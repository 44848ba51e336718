"""The Coverage Disparity Index: how strongly SCG error follows training coverage."""

from __future__ import annotations

from typing import Any

import numpy as np

from semcov_metrics._validation import as_float_array, check_same_length, warn_undefined

__all__ = ["coverage_disparity_index"]


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
    c = as_float_array(coverage, "coverage", ndim=1)
    e = as_float_array(error, "error", ndim=1)
    check_same_length(coverage=c, error=e)
    if np.isinf(c).any() or np.isinf(e).any():
        raise ValueError("coverage and error must not contain infinite values")
    return pearson_abs(c, e)


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
