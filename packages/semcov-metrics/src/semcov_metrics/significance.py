"""Significance of the coverage–error relation from test samples: CDI and the slope, their
p-values against the resampling null, the null's mean and 95 % quantile."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from semcov_metrics._groups import (
    Grid,
    cell_sums,
    encode_split,
    membership_threshold,
    prediction_codes,
    validate_split,
)
from semcov_metrics._statistics import DEFAULT_MIN_SUPPORT, valid_mask
from semcov_metrics._validation import check_same_length, warn_undefined
from semcov_metrics.cell_permutation import (
    DEFAULT_N_PERMUTATIONS,
    check_n_permutations,
    masked_abs_pearson,
    permutation_p_value,
)
from semcov_metrics.coverage import coverage_tensor
from semcov_metrics.null_resampling import resampled_null
from semcov_metrics.slope import (
    CoverageErrorSlope,
    fit_slope,
    sample_coverage,
    within_class_centred,
)

__all__ = ["CoverageErrorTest", "coverage_error_slope", "coverage_error_test"]

_NAMES = ("test_descriptors", "test_labels", "test_subgroups")


@dataclass(frozen=True)
class CoverageErrorTest:
    """CDI and the coverage–error slope, each with a p-value against one resampling null.

    Attributes:
        cdi: the observed CDI (|Pearson r| over the valid SCGs).
        p_value: ``(1 + #{null CDI >= cdi}) / (1 + n_replicates)``.
        null_mean: mean CDI under the null (the "noise floor").
        null_q95: 95 % quantile of the null CDI.
        n_replicates: null replicates with a defined CDI.
        slope: the support-aware slope with its interval and p-value.
        null: the null CDIs.
    """

    cdi: float
    p_value: float
    null_mean: float
    null_q95: float
    n_replicates: int
    slope: CoverageErrorSlope
    null: np.ndarray = field(repr=False, default_factory=lambda: np.empty(0))


def significance_from_arrays(
    *,
    coverage: np.ndarray,
    support: np.ndarray,
    error: np.ndarray,
    valid: np.ndarray,
    class_codes: np.ndarray,
    subgroup_codes: np.ndarray,
    weights: np.ndarray,
    miss: np.ndarray,
    n_subgroups: int,
    n_replicates: int,
    seed: int,
    confidence: float,
) -> CoverageErrorTest:
    """The test on grid arrays (n_cells, K) and sample arrays (N,) / (N, K)."""
    nan = float("nan")
    cells = class_codes * n_subgroups + subgroup_codes
    kappa = sample_coverage(weights, class_codes, subgroup_codes, coverage, n_subgroups)
    in_fit = np.isfinite(kappa)
    slope, standard_error, interval, n_clusters = fit_slope(
        kappa[in_fit], miss[in_fit], class_codes[in_fit], cells[in_fit], confidence
    )
    centred = np.zeros(len(kappa))
    centred[in_fit] = within_class_centred(kappa[in_fit], class_codes[in_fit])
    observed_error = np.where(valid, error, np.nan)
    cdi = float(masked_abs_pearson(coverage.ravel(), observed_error.reshape(1, -1))[0])
    null = resampled_null(
        cells=cells,
        weights=weights,
        miss=miss,
        centred_kappa=centred,
        coverage=coverage,
        support=support,
        valid=valid,
        n_subgroups=n_subgroups,
        n_replicates=n_replicates,
        seed=seed,
    )
    slope_p = nan if np.isnan(slope) else permutation_p_value(abs(slope), np.abs(null.slope), False)
    fit = CoverageErrorSlope(
        slope=slope,
        interval=interval,
        p_value=slope_p,
        standard_error=standard_error,
        n_samples=int(in_fit.sum()),
        n_clusters=n_clusters,
        n_excluded=int((~in_fit).sum()),
        confidence=confidence,
    )
    defined = null.cdi[~np.isnan(null.cdi)]
    if np.isnan(cdi) or defined.size == 0:
        warn_undefined(
            "the CDI test is undefined: fewer than 3 SCGs count, or coverage or error is constant"
        )
        return CoverageErrorTest(cdi, nan, nan, nan, int(defined.size), fit, null.cdi)
    return CoverageErrorTest(
        cdi=cdi,
        p_value=permutation_p_value(cdi, null.cdi, False),
        null_mean=float(defined.mean()),
        null_q95=float(np.quantile(defined, 0.95)),
        n_replicates=int(defined.size),
        slope=fit,
        null=null.cdi,
    )


def coverage_error_test(
    coverage: pd.DataFrame,
    *,
    test_descriptors: Any,
    test_labels: Any,
    test_predictions: Any,
    test_subgroups: Any,
    membership: str = "soft",
    threshold: float | Sequence[float] = 0.5,
    min_support: float = DEFAULT_MIN_SUPPORT,
    n_permutations: int = DEFAULT_N_PERMUTATIONS,
    seed: int = 0,
    confidence: float = 0.95,
    descriptor_names: Sequence[str] | None = None,
) -> CoverageErrorTest:
    """Is error related to training coverage beyond chance? CDI and slope with p-values.

    **The null.** SCGs of one (class, subgroup) cell are measured on the same test samples, so
    their errors move together: a null that shuffles SCG errors one by one rejects far too
    often when a whole cell is hard. Here each null replicate permutes the cells' error rates
    within each class (a hard cell may sit anywhere, independently of coverage) and redraws
    every test sample's miss from its cell's new rate, leaving the samples, their descriptors,
    supports and the valid SCG set in place. The SCGs of a cell therefore share redrawn samples
    exactly as they share real ones, and an SCG with few members is as noisy in the null as in
    the data. The null hypothesis: a sample's miss depends on its cell only, and the cells of a
    class are exchangeable. A concept that is hard in every cell, and happens to be rare or
    common, is evidence that error follows coverage under this null: read a small p-value with
    the per-SCG table. See ``docs/paper-notes.md#cdi-test``.

    **The slope.** Every test sample once: sample i has coverage ``κ_i = Σ_d w_id ·
    coverage(c_i, d, s_i) / Σ_d w_id`` (w its membership: ``p`` for soft, ``1[p >= threshold]``
    for hard) and miss ``1[ŷ_i ≠ y_i]``; the slope is the least-squares fit of miss on κ with
    one intercept per class (a linear probability model), its interval from standard errors
    clustered by cell (CR1, t with n_cells - 1 degrees of freedom), its p-value from the same
    null. ``min_support`` does not apply to it: each sample counts once.

    Args:
        coverage: training coverage, the DataFrame of :func:`scg_coverage` (columns ``class,
            descriptor, subgroup, coverage``); its axes, in order of first appearance, are the
            test's axes.
        test_descriptors: test descriptor probabilities (N, K), in the table's descriptor order.
        test_labels: true classes (N,).
        test_predictions: predicted labels (N,) or class scores (N, n_classes).
        test_subgroups: subgroups (N,).
        membership: ``"soft"`` or ``"hard"``.
        threshold: descriptor threshold of hard membership.
        min_support: an SCG counts in CDI when its test support is at least this.
        n_permutations: null replicates (>= 99).
        seed: seed of the null.
        confidence: level of the slope's interval.
        descriptor_names: K names of the descriptor columns.

    Returns:
        A :class:`CoverageErrorTest`.

    Example:
        >>> from semcov_metrics import scg_coverage
        >>> rng = np.random.default_rng(0)
        >>> n = 4000
        >>> labels, sites = rng.integers(0, 2, n), rng.integers(0, 6, n)
        >>> p = (rng.random((n, 3)) < 0.1 + 0.12 * sites[:, None]).astype(float)
        >>> table = scg_coverage(p, labels, sites)
        >>> miss = rng.random(n) < 0.45 - 0.4 * (0.1 + 0.12 * sites)  # scarcity causes error
        >>> test = coverage_error_test(table, test_descriptors=p, test_labels=labels,
        ...     test_predictions=np.where(miss, 1 - labels, labels), test_subgroups=sites)
        >>> round(test.cdi, 3), test.p_value, round(test.null_q95, 3)
        (0.882, 0.000999000999000999, 0.551)
        >>> round(test.slope.slope, 2), [round(v, 2) for v in test.slope.interval]
        (-0.42, [-0.5, -0.34])
    """
    n_permutations = check_n_permutations(n_permutations)
    if not isinstance(confidence, float) or not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be a float in (0, 1), got {confidence!r}")
    if isinstance(min_support, bool) or not isinstance(min_support, int | float | np.number):
        raise TypeError(f"min_support must be a number, got {min_support!r}")
    if not np.isfinite(min_support) or min_support < 0:
        raise ValueError(f"min_support must be a finite number >= 0, got {min_support!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an integer, got {seed!r}")
    if not isinstance(coverage, pd.DataFrame):
        raise TypeError(
            "coverage must be the DataFrame of scg_coverage (class, descriptor, subgroup, "
            f"coverage), got {type(coverage).__name__}"
        )
    values = coverage_tensor(coverage)  # (T, K, S), validated
    grid = Grid(
        classes=list(pd.unique(coverage["class"])),
        descriptors=[str(d) for d in pd.unique(coverage["descriptor"])],
        subgroups=list(pd.unique(coverage["subgroup"])),
    )
    matrix, labels, subgroups, _ = validate_split(
        test_descriptors, test_labels, test_subgroups, _NAMES, descriptor_names
    )
    if matrix.shape[1] != len(grid.descriptors):
        raise ValueError(
            f"test_descriptors has {matrix.shape[1]} columns but the coverage table has "
            f"{len(grid.descriptors)} descriptors"
        )
    split = encode_split(grid, matrix, labels, subgroups, _NAMES)
    predicted = prediction_codes(test_predictions, "test_predictions", grid.classes)
    check_same_length(test_labels=labels, test_predictions=predicted)
    tau = membership_threshold(len(grid.descriptors), membership, threshold)
    weights = matrix if tau is None else (matrix >= tau).astype(np.float64)
    miss = predicted != split.labels
    cells = grid.cells(split.labels, split.subgroups)
    support = cell_sums(cells, grid.n_cells, weights)
    missed = cell_sums(cells, grid.n_cells, weights * miss[:, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        error = np.where(support > 0, missed / np.where(support > 0, support, 1.0), np.nan)
    valid = valid_mask(support, 1.0 - error, float(min_support))
    return significance_from_arrays(
        coverage=values.transpose(0, 2, 1).reshape(grid.n_cells, -1),
        support=support,
        error=error,
        valid=valid,
        class_codes=split.labels,
        subgroup_codes=split.subgroups,
        weights=weights,
        miss=miss,
        n_subgroups=len(grid.subgroups),
        n_replicates=n_permutations,
        seed=int(seed),
        confidence=confidence,
    )


def coverage_error_slope(coverage: pd.DataFrame, **kwargs: Any) -> CoverageErrorSlope:
    """The support-aware slope of :func:`coverage_error_test` (same arguments), on its own.

    Example:
        >>> from semcov_metrics import scg_coverage
        >>> rng = np.random.default_rng(1)
        >>> labels, sites = rng.integers(0, 2, 3000), rng.integers(0, 5, 3000)
        >>> p = rng.random((3000, 2)) * (0.2 + 0.15 * sites[:, None])
        >>> miss = rng.random(3000) < 0.3  # unrelated to coverage
        >>> fit = coverage_error_slope(scg_coverage(p, labels, sites), test_descriptors=p,
        ...     test_labels=labels, test_predictions=np.where(miss, 1 - labels, labels),
        ...     test_subgroups=sites)
        >>> fit.interval[0] < 0 < fit.interval[1], fit.p_value > 0.05
        (True, True)
    """
    return coverage_error_test(coverage, **kwargs).slope
