"""How precisely is each coverage cell estimated? Percentile intervals from a bootstrap that
resamples the training samples within each class (or each class × subgroup cell)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from semcov_metrics._masked import ratio, validate_masked
from semcov_metrics._validation import as_labels, categories, check_same_length, encode

__all__ = ["coverage_bootstrap_intervals"]

#: Replicates per block: (block, N, 2K) gathered values stay in tens of megabytes.
_BLOCK_VALUES = 4_000_000


def coverage_bootstrap_intervals(
    descriptors: Any,
    labels: Any,
    subgroups: Any = None,
    *,
    mask: Any = None,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    descriptor_names: Sequence[str] | None = None,
    classes: Sequence[Any] | None = None,
    subgroup_values: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """Within-class bootstrap percentile intervals of every coverage cell.

    A *stratum* is a class, or a (class, subgroup) cell when ``subgroups`` are given. Each
    replicate draws, for every stratum, as many of its samples with replacement as it has,
    and recomputes the masked coverage ``Σ m·a / Σ m`` of every (stratum, descriptor) cell;
    the class sizes (and cell sizes) are fixed, as in the released SemCovNet code's
    within-class bootstrap. The interval is the ``(1 ± confidence) / 2`` percentiles of the
    replicates; ``boot_se`` their standard deviation (ddof = 0). A replicate in which a cell
    has no labelled sample is left out of that cell's interval (``n_defined`` counts the
    others).

    Replicate b draws ``u = default_rng(seed).random(N)`` (replicates in order) and, with the
    samples sorted stably by stratum, takes from a stratum of n samples starting at position
    s the sample at sorted position ``s + floor(u_r · n)`` for each of its positions r.

    Args:
        descriptors: concept values in [0, 1], shape (N, K); NaN marks a missing label.
        labels: class of each sample, shape (N,).
        subgroups: optional subgroup of each sample, shape (N,).
        mask: optional (N, K) booleans or 0/1, True where the label is observed.
        n_boot: number of replicates (>= 1).
        confidence: interval level, in (0, 1).
        seed: seed of the replicates.
        descriptor_names: K names; default the DataFrame columns or ``d0 … d{K-1}``.
        classes: the class axis; default the sorted labels present.
        subgroup_values: the subgroup axis; default the sorted subgroups present.

    Returns:
        DataFrame, one row per cell (class-major, then descriptor, then subgroup, the order of
        :func:`~semcov_metrics.scg_coverage`): ``class, descriptor[, subgroup], n_samples,
        n_labelled, coverage`` (NaN without a labelled sample), ``boot_low, boot_high,
        boot_se, n_defined``.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> y = np.repeat([0, 1], [400, 100])
        >>> a = (rng.random((500, 1)) < 0.3).astype(float)
        >>> table = coverage_bootstrap_intervals(a, y, n_boot=500)
        >>> print(table[["class", "n_samples", "coverage", "boot_low", "boot_high"]].round(3))
          class  n_samples  coverage  boot_low  boot_high
        0     0        400     0.262      0.22      0.305
        1     1        100     0.240      0.17      0.320
    """
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer, got {n_boot!r}")
    if not isinstance(confidence, float) or not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be a float in (0, 1), got {confidence!r}")
    concepts = validate_masked(descriptors, labels, mask, descriptor_names, classes)
    if subgroups is None:
        strata, subgroup_axis = concepts.codes, None
    else:
        raw = as_labels(subgroups, "subgroups")
        check_same_length(labels=concepts.codes, subgroups=raw)
        subgroup_axis = categories(subgroup_values, "subgroup_values", raw)
        codes = encode(raw, "subgroups", subgroup_axis, "subgroup_values")
        strata = concepts.codes * len(subgroup_axis) + codes
    n_strata = len(concepts.classes) * (1 if subgroup_axis is None else len(subgroup_axis))
    values = np.concatenate([concepts.values, concepts.observed], axis=1)
    k = concepts.values.shape[1]

    order = np.argsort(strata, kind="stable")
    sizes = np.bincount(strata, minlength=n_strata)
    starts = np.concatenate(([0], np.cumsum(sizes)))[:-1]
    row_start, row_size = starts[strata[order]], sizes[strata[order]]
    sorted_values = values[order]
    nonempty = np.flatnonzero(sizes)
    full = np.zeros((n_strata, 2 * k))
    full[nonempty] = np.add.reduceat(sorted_values, starts[nonempty], axis=0)
    coverage = ratio(full[:, :k], full[:, k:])

    rng = np.random.default_rng(seed)
    replicates = np.full((n_boot, n_strata, k), np.nan)
    block = max(1, _BLOCK_VALUES // max(1, values.size))
    for first in range(0, n_boot, block):
        size = min(block, n_boot - first)
        u = rng.random((size, len(order)))
        picks = row_start + (u * row_size).astype(np.int64)
        sums = np.add.reduceat(sorted_values[picks], starts[nonempty], axis=1)
        replicates[first : first + size, nonempty] = ratio(sums[..., :k], sums[..., k:])
    tail = (1.0 - confidence) / 2.0
    low, high, se = _intervals(replicates.reshape(n_boot, -1), tail)
    return _frame(
        concepts.classes,
        concepts.descriptors,
        subgroup_axis,
        n_samples=np.repeat(sizes[:, None], k, axis=1),
        n_labelled=full[:, k:].astype(np.int64),
        coverage=coverage,
        boot_low=low.reshape(n_strata, k),
        boot_high=high.reshape(n_strata, k),
        boot_se=se.reshape(n_strata, k),
        n_defined=(~np.isnan(replicates)).sum(axis=0),
    )


def _intervals(replicates: np.ndarray, tail: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Percentile bounds and sd per column; a column with NaN replicates uses the defined ones
    (``nanquantile`` is slow, so only those columns take it)."""
    n_columns = replicates.shape[1]
    low, high, se = (
        np.full(n_columns, np.nan),
        np.full(n_columns, np.nan),
        np.full(n_columns, np.nan),
    )
    complete = ~np.isnan(replicates).any(axis=0)
    if complete.any():
        low[complete], high[complete] = np.quantile(
            replicates[:, complete], [tail, 1.0 - tail], axis=0
        )
        se[complete] = replicates[:, complete].std(axis=0)
    for column in np.flatnonzero(~complete):
        defined = replicates[:, column][~np.isnan(replicates[:, column])]
        if defined.size:
            low[column], high[column] = np.quantile(defined, [tail, 1.0 - tail])
            se[column] = defined.std()
    return low, high, se


def _frame(
    classes: list[Any], descriptors: list[str], subgroups: list[Any] | None, **columns: np.ndarray
) -> pd.DataFrame:
    """One row per cell from (n_strata, K) arrays, ordered class, descriptor, subgroup."""
    n_c, n_k = len(classes), len(descriptors)
    n_s = 1 if subgroups is None else len(subgroups)
    data: dict[str, Any] = {
        "class": np.repeat(np.asarray(classes, dtype=object), n_k * n_s),
        "descriptor": np.tile(np.repeat(np.asarray(descriptors, dtype=object), n_s), n_c),
    }
    if subgroups is not None:
        data["subgroup"] = np.tile(np.asarray(subgroups, dtype=object), n_c * n_k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for name, value in columns.items():
            data[name] = np.asarray(value).reshape(n_c, n_s, n_k).transpose(0, 2, 1).ravel()
    return pd.DataFrame(data)
