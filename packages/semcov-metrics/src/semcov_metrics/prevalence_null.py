"""Does a concept's coverage differ between classes more than chance? A class-permutation test
that keeps every sample's concepts (so each concept's prevalence) and the class sizes."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from semcov_metrics._masked import MaskedConcepts, ratio, validate_masked, warn_unlabelled
from semcov_metrics._validation import warn_undefined

__all__ = ["MIN_PERMUTATIONS", "bh_q_values", "class_permutation_test"]

#: Fewest permutations accepted: with fewer, the smallest attainable p-value (1 / (1 + B))
#: is above 0.01 and a BH correction over a handful of descriptors can never reject.
MIN_PERMUTATIONS = 99
#: Indicator entries per block of permutations (block × T × N float64: about 32 MB).
_BLOCK_ENTRIES = 4_000_000


def class_permutation_test(
    descriptors: Any,
    labels: Any,
    *,
    mask: Any = None,
    n_permutations: int = 1000,
    seed: int = 0,
    descriptor_names: Sequence[str] | None = None,
    classes: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """Per descriptor, a permutation p-value for "its coverage differs between classes".

    The statistic is the released SemCovNet code's: the population variance across classes
    (ddof = 0) of the masked class coverage ``C_{y,k}`` (see
    :func:`~semcov_metrics.class_descriptor_coverage`), ``V_k = Var_y C_{y,k}``; classes
    without a labelled sample are left out of the variance. The null shuffles the class labels
    over the samples while every sample keeps its concept values and mask, so the prevalence
    of each concept, the class sizes and N are preserved and only the class–concept association
    is destroyed. ``p_k = (1 + #{b: V_{k,b} >= V_k}) / (1 + n_permutations)``; "``>=``"
    allows a relative rounding tolerance of 100 machine epsilons, so a permutation that merely
    reorders a class counts as reaching the observed value. BH q-values across the descriptors
    come from :func:`scipy.stats.false_discovery_control`.

    Permutation b is row b of ``numpy.random.default_rng(seed).permuted(np.tile(codes,
    (n_permutations, 1)), axis=1)`` (generated in blocks from the one generator), so results
    are reproducible and independent of the block size.

    Args:
        descriptors: concept values in [0, 1], shape (N, K); NaN marks a missing label.
        labels: class of each sample, shape (N,); at least two classes.
        mask: optional (N, K) booleans or 0/1, True where the label is observed.
        n_permutations: number of permutations, at least :data:`MIN_PERMUTATIONS` (99).
        seed: seed of the permutations.
        descriptor_names: K names; default the DataFrame columns or ``d0 … d{K-1}``.
        classes: the class axis; default the sorted labels present.

    Returns:
        DataFrame, one row per descriptor: ``descriptor, statistic`` (``V_k``), ``null_mean,
        null_q95`` (mean and 95th percentile of the permuted statistics), ``effect_ratio``
        (statistic / null mean), ``p_value, q_value, n_permutations``. A descriptor labelled in
        fewer than two classes has NaN statistic, p and q (with
        :class:`~semcov_metrics.UndefinedMetricWarning`) and is left out of the BH correction.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> y = rng.integers(0, 2, 500)
        >>> a = np.stack([rng.random(500) < 0.3, rng.random(500) < 0.2 + 0.3 * y], axis=1)
        >>> test = class_permutation_test(a.astype(float), y, n_permutations=999,
        ...                               descriptor_names=["flat", "planted"])
        >>> print(test[["descriptor", "p_value", "q_value"]].round(3))
          descriptor  p_value  q_value
        0       flat    0.758    0.758
        1    planted    0.001    0.002
    """
    if isinstance(n_permutations, bool) or not isinstance(n_permutations, int | np.integer):
        raise TypeError(f"n_permutations must be an integer, got {n_permutations!r}")
    if n_permutations < MIN_PERMUTATIONS:
        raise ValueError(
            f"n_permutations must be at least {MIN_PERMUTATIONS}, got {n_permutations}"
        )
    concepts = validate_masked(descriptors, labels, mask, descriptor_names, classes)
    if len(concepts.classes) < 2:
        raise ValueError(f"labels must hold at least 2 classes, got {concepts.classes}")
    presence, labelled = concepts.class_sums()
    coverage = ratio(presence, labelled)
    warn_unlabelled(coverage, concepts.classes, concepts.descriptors, "class × descriptor")
    observed = _between_class_variance(coverage)
    null = permutation_statistics(concepts, int(n_permutations), seed)
    tolerance = 100 * np.finfo(np.float64).eps * np.abs(observed)
    reached = (null >= observed - tolerance).sum(axis=0)
    p_value = (1.0 + reached) / (1.0 + n_permutations)
    undefined = np.isnan(observed)
    p_value[undefined] = np.nan
    if undefined.any():
        names = [concepts.descriptors[k] for k in np.flatnonzero(undefined)]
        warn_undefined(f"descriptors {names} are labelled in fewer than 2 classes; p is NaN")
    with np.errstate(invalid="ignore", divide="ignore"):
        null_mean = null.mean(axis=0)
        effect = observed / null_mean
    return pd.DataFrame(
        {
            "descriptor": concepts.descriptors,
            "statistic": observed,
            "null_mean": null_mean,
            "null_q95": np.quantile(null, 0.95, axis=0),
            "effect_ratio": effect,
            "p_value": p_value,
            "q_value": bh_q_values(p_value),
            "n_permutations": int(n_permutations),
        }
    )


def permutation_statistics(concepts: MaskedConcepts, n_permutations: int, seed: int) -> np.ndarray:
    """The statistic of every descriptor under each class permutation, (n_permutations, K)."""
    rng = np.random.default_rng(seed)
    n_classes = len(concepts.classes)
    codes = concepts.codes.astype(np.int16 if n_classes < 2**15 else np.int64)
    masked = concepts.has_missing
    # One matrix product per block gives every permuted class sum; the denominators move with
    # the permutation only when labels are missing (otherwise they are the class sizes).
    columns = (
        np.concatenate([concepts.values, concepts.observed], axis=1) if masked else concepts.values
    )
    sizes = np.bincount(concepts.codes, minlength=n_classes).astype(np.float64)
    k = concepts.values.shape[1]
    out = np.empty((n_permutations, k))
    class_axis = np.arange(n_classes, dtype=codes.dtype)
    block = max(1, _BLOCK_ENTRIES // (n_classes * len(codes)))
    for start in range(0, n_permutations, block):
        size = min(block, n_permutations - start)
        permuted = rng.permuted(np.tile(codes, (size, 1)), axis=1)
        indicator = (permuted[:, None, :] == class_axis[None, :, None]).astype(np.float64)
        sums = (indicator.reshape(size * n_classes, -1) @ columns).reshape(size, n_classes, -1)
        denominator = sums[:, :, k:] if masked else sizes[None, :, None]
        out[start : start + size] = _between_class_variance(ratio(sums[:, :, :k], denominator))
    return out


def _between_class_variance(coverage: np.ndarray) -> np.ndarray:
    """Population variance over the class axis (second to last), ignoring NaN; NaN where fewer
    than two classes are defined."""
    defined = (~np.isnan(coverage)).sum(axis=-2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        variance = np.nanvar(coverage, axis=-2)
    return np.where(defined >= 2, variance, np.nan)


def bh_q_values(p_values: Any) -> np.ndarray:
    """Benjamini–Hochberg q-values (:func:`scipy.stats.false_discovery_control`) of the finite
    p-values; NaN entries stay NaN and are not counted among the tests."""
    from scipy.stats import false_discovery_control

    p = np.asarray(p_values, dtype=np.float64)
    q = np.full(p.shape, np.nan)
    finite = np.isfinite(p)
    if finite.any():
        q[finite] = false_discovery_control(p[finite], method="bh")
    return q
