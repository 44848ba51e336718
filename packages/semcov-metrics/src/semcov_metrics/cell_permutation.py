"""The cell-permutation null of CDI: whole (class, subgroup) cells are exchanged within a class,
so the SCGs that share a cell's test samples move together."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from semcov_metrics._validation import warn_undefined

__all__ = [
    "DEFAULT_N_PERMUTATIONS",
    "MIN_TEST_PERMUTATIONS",
    "CDITest",
    "cdi_permutation_test",
]

#: Permutations behind a p-value by default: its Monte Carlo standard error at p = 0.05 is
#: then about 0.007.
DEFAULT_N_PERMUTATIONS = 1000
#: Fewest random permutations behind a p-value: with fewer the smallest attainable p-value,
#: ``1 / (1 + n_permutations)``, exceeds 0.01.
MIN_TEST_PERMUTATIONS = 99
#: Ties between a null statistic and the observed one are decided with this slack, so that the
#: identity permutation always counts as "at least as extreme" despite rounding.
_TIE = 1e-12
_BLOCK = 512


@dataclass(frozen=True)
class CDITest:
    """A permutation test of CDI under the cell-permutation null.

    Attributes:
        statistic: the observed CDI (|Pearson r| over the valid SCGs).
        p_value: ``(1 + #{null >= statistic}) / (1 + n_permutations)`` for random draws; the
            share of the null at least as large as the statistic when every permutation was
            enumerated (``exact``).
        null_mean: mean of the null CDIs (the "noise floor").
        null_q95: 95 % quantile of the null CDIs: a CDI above it rejects at α = 0.05.
        n_permutations: null draws behind the p-value (undefined draws left out).
        exact: every distinct within-class permutation of the cells was enumerated.
        null: the null CDIs.
    """

    statistic: float
    p_value: float
    null_mean: float
    null_q95: float
    n_permutations: int
    exact: bool
    null: np.ndarray = field(repr=False, default_factory=lambda: np.empty(0))


def check_n_permutations(value: Any, name: str = "n_permutations") -> int:
    """An integer of at least :data:`MIN_TEST_PERMUTATIONS`: fewer cannot give a p-value."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < MIN_TEST_PERMUTATIONS:
        raise ValueError(
            f"{name} must be >= {MIN_TEST_PERMUTATIONS} for a p-value (the smallest p-value is "
            f"1 / (1 + {name})), got {value}"
        )
    return int(value)


def n_distinct_permutations(n_classes: int, n_subgroups: int) -> float:
    """``(n_subgroups!) ** n_classes``, as a float (it overflows quickly)."""
    return math.exp(n_classes * math.lgamma(n_subgroups + 1))


def cell_permutations(
    n_classes: int, n_subgroups: int, n_permutations: int, seed: int
) -> tuple[np.ndarray, bool]:
    """Source cells of every permuted position: an (B, n_cells) index array and ``exact``.

    Row b sends the data of cell ``index[b, k]`` to position ``k``; cells are ``class ·
    n_subgroups + subgroup`` and every row permutes the subgroups of each class on its own.
    When ``(n_subgroups!) ** n_classes <= n_permutations`` every permutation is enumerated once
    (the identity included) and ``exact`` is True; otherwise ``n_permutations`` seeded draws.
    """
    base = np.arange(n_classes)[:, None] * n_subgroups
    if n_distinct_permutations(n_classes, n_subgroups) <= n_permutations:
        one_class = np.array(list(itertools.permutations(range(n_subgroups))), dtype=np.intp)
        rows = [
            np.concatenate([one_class[choice] + base[c] for c, choice in enumerate(combo)])
            for combo in itertools.product(range(len(one_class)), repeat=n_classes)
        ]
        return np.asarray(rows, dtype=np.intp).reshape(-1, n_classes * n_subgroups), True
    rng = np.random.default_rng(seed)
    draws = rng.permuted(
        np.broadcast_to(np.arange(n_subgroups), (n_permutations, n_classes, n_subgroups)), axis=2
    )
    return (draws + base[None]).reshape(n_permutations, -1).astype(np.intp), False


def permutation_p_value(observed: float, null: np.ndarray, exact: bool) -> float:
    """Share of the null at least as extreme as ``observed`` (NaN draws left out)."""
    null = null[~np.isnan(null)]
    hits = int(np.count_nonzero(null >= observed - _TIE))
    if exact:
        return hits / null.size if null.size else float("nan")
    return (1 + hits) / (1 + null.size)


def masked_abs_pearson(coverage: np.ndarray, error: np.ndarray) -> np.ndarray:
    """|Pearson r| of one coverage vector (G,) with each row of ``error`` (B, G); NaN entries of
    either are left out pair by pair; rows with fewer than 3 pairs or no variance give NaN."""
    keep = ~(np.isnan(error) | np.isnan(coverage)[None, :])
    x = np.where(keep, coverage[None, :], 0.0)
    y = np.where(keep, error, 0.0)
    n = keep.sum(axis=1).astype(np.float64)
    # Constant rows are found exactly (max == min); centred sums of a constant need not be 0.
    x_range = np.where(keep, x, np.inf).min(axis=1) < np.where(keep, x, -np.inf).max(axis=1)
    y_range = np.where(keep, y, np.inf).min(axis=1) < np.where(keep, y, -np.inf).max(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        # Centre on the row means first: raw moment formulas lose digits when errors are close.
        dx = np.where(keep, x - (x.sum(axis=1) / n)[:, None], 0.0)
        dy = np.where(keep, y - (y.sum(axis=1) / n)[:, None], 0.0)
        r = (dx * dy).sum(axis=1) / np.sqrt((dx * dx).sum(axis=1) * (dy * dy).sum(axis=1))
    defined = (n >= 3) & x_range & y_range
    return np.where(defined, np.minimum(np.abs(r), 1.0), np.nan)


def cell_test(
    coverage: np.ndarray,
    error: np.ndarray,
    index: np.ndarray,
    exact: bool,
) -> CDITest:
    """The test on (n_cells, K) arrays; ``error`` is NaN where an SCG does not count."""
    flat_coverage = coverage.ravel()
    observed = float(masked_abs_pearson(flat_coverage, error.reshape(1, -1))[0])
    if np.isnan(observed):
        undefined = warn_undefined(
            "the CDI test is undefined: fewer than 3 SCGs count, or coverage or error is constant"
        )
        return CDITest(undefined, undefined, undefined, undefined, 0, exact)
    width = error.size
    null = np.concatenate(
        [
            masked_abs_pearson(flat_coverage, error[rows].reshape(len(rows), width))
            for rows in (index[start : start + _BLOCK] for start in range(0, len(index), _BLOCK))
        ]
    )
    defined = null[~np.isnan(null)]
    if defined.size == 0:
        undefined = warn_undefined("the CDI test is undefined: every permuted CDI is undefined")
        return CDITest(observed, undefined, undefined, undefined, 0, exact, null)
    p_value = permutation_p_value(observed, null, exact)
    if exact and defined.size < MIN_TEST_PERMUTATIONS + 1:
        warn_undefined(
            f"the cells admit only {defined.size} distinct within-class permutations: the "
            f"smallest attainable p-value is {1 / defined.size:.3g}"
        )
    return CDITest(
        statistic=observed,
        p_value=p_value,
        null_mean=float(defined.mean()),
        null_q95=float(np.quantile(defined, 0.95)),
        n_permutations=int(defined.size),
        exact=exact,
        null=null,
    )


def cdi_permutation_test(
    table: pd.DataFrame,
    *,
    n_permutations: int = DEFAULT_N_PERMUTATIONS,
    seed: int = 0,
    error: str = "error",
    valid: str | None = "valid",
) -> CDITest:
    """Permutation p-value of CDI that respects the SCGs sharing a cell's test samples.

    Every descriptor SCG of one (class, subgroup) cell is measured on the same test samples, so
    their errors move together; permuting SCGs one by one treats them as independent and rejects
    far too often when a cell as a whole is hard. This null permutes whole cells within each
    class: under a permutation σ, SCG (c, d, s) keeps its coverage and takes the error (and
    validity) of SCG (c, d, σ(s)). A class-wide difference in error and every descriptor's own
    difficulty are kept, so the test asks whether error follows coverage *across the subgroups
    of a class* beyond what exchangeable cells give. It needs only an SCG table; with test
    samples at hand, :func:`coverage_error_test` (the report's test) also keeps each SCG's
    sampling noise in place. See ``docs/paper-notes.md#cdi-test``.

    Args:
        table: one row per SCG with columns ``class``, ``descriptor``, ``subgroup``,
            ``coverage`` and the error column (e.g. the table of
            :func:`semantic_fairness_report`, or :func:`scg_coverage` joined with the error).
        n_permutations: random permutations (>= 99); when the cells admit no more distinct
            permutations than this, all of them are enumerated and the test is exact.
        seed: seed of the permutations.
        error: the error column (``1 - TPR``).
        valid: a boolean column of the SCGs that count, or None to count every row whose
            error is defined.

    Returns:
        A :class:`CDITest`; its values are NaN (with an :class:`UndefinedMetricWarning`) when
        fewer than 3 SCGs count or coverage or error is constant.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> grid = pd.MultiIndex.from_product([[0, 1], list("abc"), range(6)],
        ...                                   names=["class", "descriptor", "subgroup"])
        >>> table = grid.to_frame(index=False)
        >>> table["coverage"] = rng.random(len(table))
        >>> table["error"] = 0.5 - 0.4 * table["coverage"] + rng.normal(0, 0.05, len(table))
        >>> test = cdi_permutation_test(table, valid=None)
        >>> round(test.statistic, 3), test.p_value, round(test.null_q95, 3)
        (0.927, 0.000999000999000999, 0.416)
    """
    n_permutations = check_n_permutations(n_permutations)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an integer, got {seed!r}")
    columns = ["class", "descriptor", "subgroup", "coverage", error]
    if valid is not None:
        columns.append(valid)
    missing = [name for name in columns if name not in table.columns]
    if missing:
        raise ValueError(f"table is missing the column(s) {missing}; it has {list(table.columns)}")
    values = table[error].to_numpy(dtype=np.float64, copy=True)
    if valid is not None:
        values[~table[valid].to_numpy(dtype=bool)] = np.nan
    classes = pd.unique(table["class"])
    subgroups = pd.unique(table["subgroup"])
    descriptors = pd.unique(table["descriptor"])
    shape = (len(classes), len(subgroups), len(descriptors))
    position = (
        pd.Index(classes).get_indexer(table["class"]) * shape[1]
        + pd.Index(subgroups).get_indexer(table["subgroup"])
    ) * shape[2] + pd.Index(descriptors).get_indexer(table["descriptor"])
    if len(np.unique(position)) != len(position):
        raise ValueError("table holds an (class, descriptor, subgroup) SCG more than once")
    coverage = np.full(int(np.prod(shape)), np.nan)
    errors = np.full(coverage.shape, np.nan)
    coverage[position] = table["coverage"].to_numpy(dtype=np.float64)
    errors[position] = values
    index, exact = cell_permutations(shape[0], shape[1], n_permutations, int(seed))
    cells = shape[0] * shape[1]
    return cell_test(coverage.reshape(cells, -1), errors.reshape(cells, -1), index, exact)
