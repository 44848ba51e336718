"""The support-aware coverage–error slope: a test sample's miss on the training coverage of its
concepts, one row per test sample, class intercepts, errors clustered by (class, subgroup)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from semcov_metrics._validation import warn_undefined

__all__ = ["CoverageErrorSlope"]


@dataclass(frozen=True)
class CoverageErrorSlope:
    """The slope of a test sample's miss probability on its training coverage.

    Attributes:
        slope: change of the miss probability per unit of coverage (negative: error rises
            where coverage is scarce).
        interval: ``(low, high)`` at ``confidence``, from cluster-robust standard errors
            (clusters: (class, subgroup) cells; CR1 correction, t with n_clusters - 1 degrees of
            freedom).
        p_value: two-sided p-value of |slope| under the resampling null of
            :func:`coverage_error_test`.
        standard_error: the cluster-robust standard error.
        n_samples: test samples in the fit.
        n_clusters: (class, subgroup) cells with test samples.
        n_excluded: test samples left out because they belong to no SCG (zero membership in
            every descriptor, e.g. hard membership with every descriptor absent).
        confidence: level of ``interval``.
    """

    slope: float
    interval: tuple[float, float]
    p_value: float
    standard_error: float
    n_samples: int
    n_clusters: int
    n_excluded: int
    confidence: float = 0.95

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: NaN becomes None."""

        def plain(value: float) -> float | None:
            return float(value) if np.isfinite(value) else None

        return {
            "slope": plain(self.slope),
            "interval": [plain(self.interval[0]), plain(self.interval[1])],
            "p_value": plain(self.p_value),
            "standard_error": plain(self.standard_error),
            "n_samples": self.n_samples,
            "n_clusters": self.n_clusters,
            "n_excluded": self.n_excluded,
            "confidence": self.confidence,
        }


def sample_coverage(
    weights: np.ndarray,
    class_codes: np.ndarray,
    subgroup_codes: np.ndarray,
    coverage: np.ndarray,
    n_subgroups: int,
) -> np.ndarray:
    """κ_i, the membership-weighted mean training coverage of each sample's SCGs (N,); NaN for
    a sample with zero membership in every descriptor. ``coverage`` is (n_cells, K), cell =
    class · n_subgroups + subgroup."""
    mass = weights.sum(axis=1)
    cells = class_codes * n_subgroups + subgroup_codes
    with np.errstate(invalid="ignore", divide="ignore"):
        kappa = np.einsum("nk,nk->n", weights, coverage[cells]) / mass
    return np.where(mass > 0, kappa, np.nan)


def within_class_centred(values: np.ndarray, class_codes: np.ndarray) -> np.ndarray:
    """``values`` minus the mean of their class (the class intercepts partialled out)."""
    n_classes = int(class_codes.max()) + 1 if class_codes.size else 0
    counts = np.bincount(class_codes, minlength=n_classes)
    means = np.bincount(class_codes, values, minlength=n_classes) / np.maximum(counts, 1)
    return values - means[class_codes]


def fit_slope(
    kappa: np.ndarray,
    miss: np.ndarray,
    class_codes: np.ndarray,
    cells: np.ndarray,
    confidence: float,
) -> tuple[float, float, tuple[float, float], int]:
    """(slope, cluster-robust standard error, interval, n_clusters) of miss on κ with class
    intercepts, over the samples given (every κ finite)."""
    from scipy import stats

    nan = float("nan")
    x = within_class_centred(kappa, class_codes)
    y = within_class_centred(miss.astype(np.float64), class_codes)
    sxx = float(x @ x)
    _, cluster_codes = np.unique(cells, return_inverse=True)
    n_clusters = int(cluster_codes.max()) + 1 if cells.size else 0
    scale = float(kappa @ kappa) if kappa.size else 0.0
    if sxx <= 1e-12 * max(scale, 1e-300):
        warn_undefined(
            "the coverage-error slope is undefined: coverage does not vary within any class"
        )
        return nan, nan, (nan, nan), n_clusters
    slope = float(x @ y) / sxx
    n_samples = len(kappa)
    n_parameters = len(np.unique(class_codes)) + 1
    if n_clusters < 2 or n_samples <= n_parameters:
        warn_undefined(
            f"the coverage-error slope's interval is undefined with {n_clusters} cell(s) and "
            f"{n_samples} sample(s)"
        )
        return slope, nan, (nan, nan), n_clusters
    # Each cluster's score for the slope after the class intercepts are partialled out.
    score = np.bincount(cluster_codes, x * (y - slope * x), minlength=n_clusters)
    correction = (n_clusters / (n_clusters - 1)) * ((n_samples - 1) / (n_samples - n_parameters))
    standard_error = math.sqrt(correction * float(score @ score)) / sxx
    half = float(stats.t.ppf(0.5 + confidence / 2, n_clusters - 1)) * standard_error
    return slope, standard_error, (slope - half, slope + half), n_clusters
