"""Training coverage of every Semantic Coverage Group: descriptor presence per class, subgroup."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from semcov_metrics._groups import Grid, Split, cell_sums, encode_split, make_grid, validate_split
from semcov_metrics._validation import (
    check_choice,
    check_probabilities,
    check_threshold,
    to_numpy,
)

__all__ = ["coverage_tensor", "scg_coverage"]

COVERAGE_KINDS = ("rate", "mass")
_NAMES = ("descriptors", "labels", "subgroups")


def scg_coverage(
    descriptors: Any,
    labels: Any,
    subgroups: Any,
    *,
    descriptor_names: Sequence[str] | None = None,
    classes: Sequence[Any] | None = None,
    subgroup_values: Sequence[Any] | None = None,
    threshold: float | Sequence[float] | None = None,
    kind: str = "rate",
) -> pd.DataFrame:
    """Coverage of every SCG g = (class c, descriptor d, subgroup s) in a training split.

    Soft coverage (paper §7) is the mean descriptor probability over the training samples of
    class c in subgroup s: ``c_g = mean_{i: y_i = c, s_i = s} p_{i,d}``. With ``threshold`` the
    probabilities are binarised first (hard coverage, ``1[p >= tau_d]``). ``kind="mass"`` gives
    the expected count ``sum p`` instead of the mean.

    Every cell of the full grid classes × descriptors × subgroups is returned, in that order.
    A (class, subgroup) cell without training samples has ``n_train = 0`` and ``coverage = 0.0``:
    it has no representation at all, and it is kept rather than dropped.

    Args:
        descriptors: descriptor probabilities in [0, 1], shape (N, K) (a DataFrame gives the names).
        labels: class of each sample, shape (N,).
        subgroups: subgroup of each sample (site, skin tone, ...), shape (N,). Missing values
            are an error: fill them explicitly (for example with ``"unknown"``).
        descriptor_names: K names; default the DataFrame columns or ``d0 … d{K-1}``.
        classes: the class axis of the grid; default the sorted labels present.
        subgroup_values: the subgroup axis; default the sorted subgroups present. Give it to keep
            subgroups that have no training samples.
        threshold: a scalar or one value per descriptor in [0, 1] for hard coverage.
        kind: ``"rate"`` (mean, the paper's coverage) or ``"mass"`` (sum).

    Returns:
        DataFrame with columns ``class, descriptor, subgroup, n_train, coverage``.

    Example:
        >>> import numpy as np
        >>> p = np.array([[0.9, 0.1], [0.7, 0.3], [0.2, 0.8]])
        >>> table = scg_coverage(p, ["mel", "mel", "nev"], ["arm", "arm", "leg"],
        ...                      descriptor_names=["hair", "pen"])
        >>> print(table)
          class descriptor subgroup  n_train  coverage
        0   mel       hair      arm        2       0.8
        1   mel       hair      leg        0       0.0
        2   mel        pen      arm        2       0.2
        3   mel        pen      leg        0       0.0
        4   nev       hair      arm        0       0.0
        5   nev       hair      leg        1       0.2
        6   nev        pen      arm        0       0.0
        7   nev        pen      leg        1       0.8
    """
    check_choice(kind, "kind", COVERAGE_KINDS)
    matrix, label_array, subgroup_array, names = validate_split(
        descriptors, labels, subgroups, _NAMES, descriptor_names
    )
    grid = make_grid(classes, names, subgroup_values, [label_array], [subgroup_array])
    split = encode_split(grid, matrix, label_array, subgroup_array, _NAMES)
    n_train, coverage = coverage_arrays(grid, split, threshold, kind)
    return grid.frame(n_train=n_train, coverage=coverage)


def coverage_arrays(
    grid: Grid, split: Split, threshold: Any, kind: str
) -> tuple[np.ndarray, np.ndarray]:
    """Counts and coverage as (n_cells, K) arrays; shared with the fairness report."""
    n_descriptors = split.descriptors.shape[1]
    tau = None if threshold is None else check_threshold(threshold, "threshold", n_descriptors)
    cell = grid.cells(split.labels, split.subgroups)
    counts = np.bincount(cell, minlength=grid.n_cells).astype(np.int64)
    sums = cell_sums(cell, grid.n_cells, split.descriptors, threshold=tau)
    n_train = np.repeat(counts[:, None], n_descriptors, axis=1)
    if kind == "mass":
        return n_train, sums
    with np.errstate(invalid="ignore", divide="ignore"):
        coverage = np.where(n_train > 0, sums / np.maximum(n_train, 1), 0.0)
    return n_train, coverage


def coverage_tensor(
    coverage: Any,
    *,
    classes: Sequence[Any] | None = None,
    descriptors: Sequence[Any] | None = None,
    subgroups: Sequence[Any] | None = None,
) -> np.ndarray:
    """Training coverage as a (num_classes, num_descriptors, num_subgroups) array.

    Args:
        coverage: such an array (or tensor) of values in [0, 1], or the DataFrame of
            :func:`scg_coverage` (columns ``class``, ``descriptor``, ``subgroup``, ``coverage``).
        classes, descriptors, subgroups: for a DataFrame, the order of each axis (e.g. class
            codes ``range(T)``); default: first appearance in the table, which is the grid order.

    Returns:
        float64 array (T, K, S).

    Raises:
        ValueError: wrong shape or values; a table that does not hold the full grid of the
            axes, or holds a value outside a given axis.

    Example:
        >>> table = pd.DataFrame({"class": [0, 0, 1, 1], "descriptor": ["a"] * 4,
        ...                       "subgroup": ["x", "y", "x", "y"], "coverage": [.1, .2, .3, .4]})
        >>> coverage_tensor(table, subgroups=["y", "x"])[:, 0, :].tolist()
        [[0.2, 0.1], [0.4, 0.3]]
    """
    if isinstance(coverage, pd.DataFrame):
        columns = ("class", "descriptor", "subgroup")
        missing = [c for c in (*columns, "coverage") if c not in coverage]
        if missing:
            raise ValueError(f"coverage lacks columns {missing}; found {list(coverage.columns)}")
        given = (classes, descriptors, subgroups)
        axes = [
            list(dict.fromkeys(coverage[c])) if order is None else list(order)
            for c, order in zip(columns, given, strict=True)
        ]
        for column, axis in zip(columns, axes, strict=True):
            outside = sorted(set(coverage[column]) - set(axis), key=str)
            if outside:
                raise ValueError(f"coverage {column} values {outside} are not in the axis {axis}")
        shape = tuple(len(a) for a in axes)
        index = pd.MultiIndex.from_product(axes)
        values = coverage.set_index(list(columns))["coverage"]
        if len(coverage) != int(np.prod(shape)) or values.index.duplicated().any():
            raise ValueError(
                "coverage table must hold the full grid classes × descriptors × subgroups"
            )
        return values.reindex(index).to_numpy(dtype=np.float64).reshape(shape)
    array = np.asarray(to_numpy(coverage, "coverage"), dtype=np.float64)
    if array.ndim != 3:
        raise ValueError(
            "coverage must have shape (num_classes, num_descriptors, num_subgroups), got "
            f"{array.shape}"
        )
    check_probabilities(array, "coverage")
    return array
