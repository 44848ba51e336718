"""Is a coverage pattern only a by-product of unequal class sizes? Coverage recomputed on repeated
class-balanced subsamples, beside the full-data coverage."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from semcov_metrics._masked import long_frame, masked_class_sums, ratio, validate_masked
from semcov_metrics._validation import warn_undefined
from semcov_metrics.exceptions import UndefinedMetricWarning
from semcov_metrics.strata import coverage_strata

__all__ = ["BalancedSubsampling", "class_balanced_subsampling"]


@dataclass(frozen=True)
class BalancedSubsampling:
    """Coverage on class-balanced subsamples.

    Attributes:
        table: one row per (class, descriptor): ``class, descriptor, n_samples, n_drawn``
            (samples of the class in each subsample), ``coverage`` (full data),
            ``balanced_mean, balanced_sd`` (ddof = 1), ``balanced_low, balanced_high``
            (percentile interval at ``confidence``) over the repeats, ``n_defined`` (repeats in
            which the cell had a labelled sample).
        repeats: one row per repeat: ``repeat, n_per_class, spearman, pearson`` (between the
            full and the subsample's class × descriptor coverage), ``mean_abs_diff``,
            ``band_agreement`` (share of cells in the same Tail/Middle/Head band, each side
            banded at its own quartiles) and ``tail_recall`` (share of the full data's Tail
            cells still Tail).
        n_per_class: the subsample size of every class.
        confidence: the level of the interval.
    """

    table: pd.DataFrame
    repeats: pd.DataFrame
    n_per_class: int
    confidence: float

    def summary(self) -> dict[str, float]:
        """Means over the repeats of the agreement statistics, plus ``n_per_class`` and
        ``n_repeats``."""
        columns = ("spearman", "pearson", "mean_abs_diff", "band_agreement", "tail_recall")
        result = {f"{c}_mean": float(self.repeats[c].mean()) for c in columns}
        result["spearman_sd"] = float(self.repeats["spearman"].std(ddof=1))
        result["n_per_class"] = self.n_per_class
        result["n_repeats"] = len(self.repeats)
        return result


def class_balanced_subsampling(
    descriptors: Any,
    labels: Any,
    *,
    mask: Any = None,
    n_repeats: int = 20,
    n_per_class: int | None = None,
    confidence: float = 0.95,
    seed: int = 0,
    descriptor_names: Sequence[str] | None = None,
    classes: Sequence[Any] | None = None,
) -> BalancedSubsampling:
    """Recompute class × descriptor coverage on ``n_repeats`` class-balanced subsamples.

    Each repeat draws, for every class in the order of the class axis, ``n_per_class`` of its
    samples without replacement (``numpy.random.default_rng(seed).choice``); a class with no
    more samples than that keeps all of them (its row shows ``n_drawn < n_per_class``).
    ``n_per_class`` defaults to the smallest non-empty class, as in the released SemCovNet
    code. Coverage is the masked mean of :func:`~semcov_metrics.class_descriptor_coverage`.
    If the rank agreement with the full data stays high, the coverage pattern is not a
    by-product of the class sizes.

    Released code: the mean balanced coverage counts an undefined cell (no labelled sample in
    a subsample) as 0. Here: such repeats are left out of that cell's mean, sd and interval,
    and ``n_defined`` says how many remain.

    Args:
        descriptors: concept values in [0, 1], shape (N, K); NaN marks a missing label.
        labels: class of each sample, shape (N,).
        mask: optional (N, K) booleans or 0/1, True where the label is observed.
        n_repeats: number of subsamples (>= 2).
        n_per_class: samples drawn per class; default the smallest non-empty class size.
        confidence: level of the percentile interval over the repeats, in (0, 1).
        seed: seed of the draws.
        descriptor_names: K names; default the DataFrame columns or ``d0 … d{K-1}``.
        classes: the class axis; default the sorted labels present.

    Returns:
        A :class:`BalancedSubsampling`.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> y = np.repeat([0, 1], [900, 100])
        >>> a = (rng.random((1000, 2)) < [[0.1, 0.5]] + 0.3 * y[:, None]).astype(float)
        >>> result = class_balanced_subsampling(a, y, n_repeats=50)
        >>> print(result.table[["class", "descriptor", "n_drawn", "coverage",
        ...                     "balanced_mean"]].round(3))
          class descriptor  n_drawn  coverage  balanced_mean
        0     0         d0      100     0.098          0.101
        1     0         d1      100     0.512          0.510
        2     1         d0      100     0.510          0.510
        3     1         d1      100     0.870          0.870
    """
    _check(n_repeats, n_per_class, confidence)
    concepts = validate_masked(descriptors, labels, mask, descriptor_names, classes)
    n_classes = len(concepts.classes)
    sizes = np.bincount(concepts.codes, minlength=n_classes)
    take = int(sizes[sizes > 0].min()) if n_per_class is None else int(n_per_class)
    members = [np.flatnonzero(concepts.codes == t) for t in range(n_classes)]
    full = ratio(*concepts.class_sums())
    full_bands = _bands(full)
    rng = np.random.default_rng(seed)
    draws = np.empty((n_repeats, *full.shape))
    rows = []
    for repeat in range(n_repeats):
        chosen = np.concatenate(
            [rng.choice(ix, size=take, replace=False) if ix.size > take else ix for ix in members]
        )
        draws[repeat] = ratio(
            *masked_class_sums(
                concepts.values[chosen],
                concepts.observed[chosen],
                concepts.codes[chosen],
                n_classes,
            )
        )
        rows.append(_agreement(repeat, take, full, full_bands, draws[repeat]))
    tail = (1.0 - confidence) / 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(draws, axis=0)
        sd = np.nanstd(draws, axis=0, ddof=1)
        low, high = np.nanquantile(draws, [tail, 1.0 - tail], axis=0)
    table = long_frame(
        concepts.classes,
        concepts.descriptors,
        n_samples=sizes[:, None],
        n_drawn=np.minimum(sizes, take)[:, None],
        coverage=full,
        balanced_mean=mean,
        balanced_sd=sd,
        balanced_low=low,
        balanced_high=high,
        n_defined=(~np.isnan(draws)).sum(axis=0),
    )
    repeats = pd.DataFrame(rows)
    if repeats["spearman"].isna().any():
        warn_undefined(
            f"{int(repeats['spearman'].isna().sum())} of {n_repeats} repeats have fewer than 3 "
            "defined cells or a constant coverage; their rank agreement is NaN"
        )
    return BalancedSubsampling(table, repeats, take, float(confidence))


def _bands(coverage: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        return coverage_strata(coverage)[0]


def _agreement(
    repeat: int, take: int, full: np.ndarray, full_bands: np.ndarray, drawn: np.ndarray
) -> dict[str, Any]:
    from scipy.stats import pearsonr, spearmanr

    a, b = full.ravel(), drawn.ravel()
    both = np.isfinite(a) & np.isfinite(b)
    spearman = pearson = float("nan")
    if both.sum() >= 3 and np.ptp(a[both]) > 0 and np.ptp(b[both]) > 0:
        spearman = float(spearmanr(a[both], b[both]).statistic)
        pearson = float(pearsonr(a[both], b[both]).statistic)
    bands_full, bands_drawn = full_bands.ravel(), _bands(drawn).ravel()
    tail = both & (bands_full == "Tail")
    return {
        "repeat": repeat,
        "n_per_class": take,
        "spearman": spearman,
        "pearson": pearson,
        "mean_abs_diff": float(np.abs(a[both] - b[both]).mean()) if both.any() else np.nan,
        "band_agreement": float((bands_full[both] == bands_drawn[both]).mean())
        if both.any()
        else np.nan,
        "tail_recall": float((bands_drawn[tail] == "Tail").mean()) if tail.any() else np.nan,
    }


def _check(n_repeats: Any, n_per_class: Any, confidence: Any) -> None:
    if isinstance(n_repeats, bool) or not isinstance(n_repeats, int | np.integer) or n_repeats < 2:
        raise ValueError(f"n_repeats must be an integer >= 2, got {n_repeats!r}")
    if n_per_class is not None and (
        isinstance(n_per_class, bool)
        or not isinstance(n_per_class, int | np.integer)
        or n_per_class < 1
    ):
        raise ValueError(f"n_per_class must be a positive integer or None, got {n_per_class!r}")
    if not isinstance(confidence, float) or not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be a float in (0, 1), got {confidence!r}")
