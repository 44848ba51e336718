"""The worst descriptor intersections found, not only predefined: every pair of descriptors ×
subgroup within each class, ranked by how much more its test samples are missed than the class's."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from semcov_metrics._audit_inputs import audit_inputs
from semcov_metrics._error_test import error_p_values
from semcov_metrics._validation import check_threshold, warn_undefined
from semcov_metrics.prevalence_null import bh_q_values
from semcov_metrics.scg_flags import DEFAULT_FDR

__all__ = ["WorstIntersections", "worst_intersections"]


@dataclass(frozen=True)
class WorstIntersections:
    """The searched intersections, worst first.

    Attributes:
        table: the ``top`` tested intersections by ``error_lift`` (descending; NaN last, ties
            by larger support): ``class, descriptor_1, descriptor_2, subgroup, intersection``
            (``"d1 & d2"``), ``support`` (hard test members), ``misses, error, class_error,
            error_lift`` (error / class error), ``error_minus_class, n_train`` (training
            samples of the class in the subgroup), ``n_train_both, train_coverage``
            (share of those with both descriptors present), ``p_value, q_value, flagged``.
        n_candidates: class × descriptor pairs × subgroups searched.
        n_tested: candidates with test support of at least ``min_support`` (the BH family).
        n_below_min_support: candidates with support below ``min_support`` (not tested).
        n_empty: of those, candidates without any test member.
    """

    table: pd.DataFrame
    n_candidates: int
    n_tested: int
    n_below_min_support: int
    n_empty: int


def worst_intersections(
    *,
    train_descriptors: Any,
    train_labels: Any,
    train_subgroups: Any,
    test_descriptors: Any,
    test_labels: Any,
    test_predictions: Any,
    test_subgroups: Any,
    threshold: float | Sequence[float] = 0.5,
    min_support: int = 5,
    top: int | None = 20,
    method: str = "fisher",
    fdr: float = DEFAULT_FDR,
    descriptor_names: Sequence[str] | None = None,
    classes: Sequence[Any] | None = None,
    subgroup_values: Sequence[Any] | None = None,
) -> WorstIntersections:
    """Search every (class, descriptor pair, subgroup) intersection for above-class error.

    Membership is hard: test sample i is in intersection (c, d1, d2, s) when ``y_i = c``,
    ``s_i = s``, ``p_{i,d1} >= threshold`` and ``p_{i,d2} >= threshold`` (a product of two
    soft memberships would make every pair a weak, diffuse group). Its ``error`` is the share
    of its members not predicted as c; ``class_error`` the share of all class-c test samples
    not predicted as c; ``error_lift = error / class_error`` (NaN when the class makes no
    error). ``train_coverage`` is the share of the class's training samples in subgroup s with
    both descriptors present (0 with ``n_train = 0``: the intersection was never seen).

    Intersections with at least ``min_support`` test members are tested: a one-sided p-value
    for "error above the rest of the class" (Fisher's exact test by default, or the z-test,
    as in :func:`~semcov_metrics.scg_error_q_values`) and BH q-values over all tested
    intersections; ``flagged = q < fdr``. The others are counted in the result, not listed.

    Args:
        train_descriptors, train_labels, train_subgroups: the training split, (N_train, K) and
            (N_train,) each, for ``train_coverage``.
        test_descriptors, test_labels, test_subgroups: the test split, (N_test, K), (N_test,).
        test_predictions: predicted labels (N_test,) or class scores (N_test, n_classes).
        threshold: descriptor presence threshold, a scalar or one per descriptor.
        min_support: fewest test members of a tested intersection (>= 1).
        top: rows kept in ``table`` (None: all tested).
        method: ``"fisher"`` or ``"z"``.
        fdr: false discovery rate of the flag, in (0, 1).
        descriptor_names: K names; default the DataFrame columns or ``d0 … d{K-1}``.
        classes: class axis; default the sorted union of labels and predicted labels.
        subgroup_values: subgroup axis; default the sorted union of train and test subgroups.

    Returns:
        A :class:`WorstIntersections`.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> p = rng.random((2000, 3))
        >>> y = rng.integers(0, 2, 2000)
        >>> s = rng.choice(["arm", "leg"], 2000)
        >>> trap = (p[:, 0] >= 0.5) & (p[:, 2] >= 0.5) & (s == "leg")
        >>> wrong = rng.random(2000) < np.where(trap, 0.6, 0.1)
        >>> found = worst_intersections(
        ...     train_descriptors=p, train_labels=y, train_subgroups=s, test_descriptors=p,
        ...     test_labels=y, test_predictions=np.where(wrong, 1 - y, y), test_subgroups=s,
        ...     descriptor_names=["hair", "pen", "vessels"], top=3)
        >>> print(found.table[["class", "intersection", "subgroup", "support", "error_lift",
        ...                    "flagged"]].round(2))
          class    intersection subgroup  support  error_lift  flagged
        0     1  hair & vessels      leg      112        3.79     True
        1     0  hair & vessels      leg      117        3.69     True
        2     1      hair & pen      leg      118        2.67     True
        >>> found.n_candidates, found.n_tested
        (12, 12)
    """
    _check(min_support, top, fdr)
    inputs = audit_inputs(
        train=(train_descriptors, train_labels, train_subgroups),
        test=(test_descriptors, test_labels, test_subgroups),
        test_predictions=test_predictions,
        descriptor_names=descriptor_names,
        classes=classes,
        subgroup_values=subgroup_values,
    )
    grid, train_split, test_split = inputs.grid, inputs.train, inputs.test
    predicted = inputs.predicted
    if len(grid.descriptors) < 2:
        raise ValueError(
            f"an intersection needs at least 2 descriptors, got {len(grid.descriptors)}"
        )
    tau = check_threshold(threshold, "threshold", len(grid.descriptors))

    n_cells = grid.n_cells
    train_cell = grid.cells(train_split.labels, train_split.subgroups)
    test_cell = grid.cells(test_split.labels, test_split.subgroups)
    train_present = (train_split.descriptors >= tau).astype(np.float64)
    test_present = (test_split.descriptors >= tau).astype(np.float64)
    wrong = (predicted != test_split.labels).astype(np.float64)
    pairs = list(itertools.combinations(range(len(grid.descriptors)), 2))
    first, second = (np.array([pair[j] for pair in pairs], dtype=np.intp) for j in (0, 1))
    support = np.zeros((n_cells, len(pairs)))
    misses = np.zeros((n_cells, len(pairs)))
    n_both_train = np.zeros((n_cells, len(pairs)))
    for cell in range(n_cells):
        rows = test_present[test_cell == cell]
        both = rows.T @ rows  # co-occurrence counts, (K, K)
        hit = rows.T @ (rows * wrong[test_cell == cell][:, None])
        support[cell], misses[cell] = both[first, second], hit[first, second]
        trained = train_present[train_cell == cell]
        n_both_train[cell] = (trained.T @ trained)[first, second]
    n_train = np.bincount(train_cell, minlength=n_cells).astype(np.float64)
    class_of_cell = np.arange(n_cells) // len(grid.subgroups)
    class_support = np.bincount(test_split.labels, minlength=len(grid.classes)).astype(float)
    class_misses = np.bincount(test_split.labels, weights=wrong, minlength=len(grid.classes))

    cell_index, pair_index = np.divmod(np.arange(n_cells * len(pairs)), len(pairs))
    flat_support, flat_misses = support.ravel(), misses.ravel()
    class_code = class_of_cell[cell_index]
    tested = flat_support >= min_support
    with np.errstate(invalid="ignore", divide="ignore"):
        error = flat_misses / flat_support
        class_error = class_misses[class_code] / class_support[class_code]
        lift = np.where(class_error > 0, error / np.where(class_error > 0, class_error, 1), np.nan)
    p = np.full(len(flat_support), np.nan)
    p[tested] = error_p_values(
        flat_misses[tested],
        flat_support[tested],
        class_misses[class_code[tested]],
        class_support[class_code[tested]],
        method=method,
        alternative="greater",
    )
    q = bh_q_values(p)
    names = np.asarray(grid.descriptors, dtype=object)
    frame = pd.DataFrame(
        {
            "class": np.asarray(grid.classes, dtype=object)[class_code],
            "descriptor_1": names[first[pair_index]],
            "descriptor_2": names[second[pair_index]],
            "subgroup": np.asarray(grid.subgroups, dtype=object)[cell_index % len(grid.subgroups)],
            "intersection": names[first[pair_index]] + " & " + names[second[pair_index]],
            "support": flat_support.astype(np.int64),
            "misses": flat_misses.astype(np.int64),
            "error": error,
            "class_error": class_error,
            "error_lift": lift,
            "error_minus_class": error - class_error,
            "n_train": n_train[cell_index].astype(np.int64),
            "n_train_both": n_both_train.ravel().astype(np.int64),
            "train_coverage": np.where(
                n_train[cell_index] > 0,
                n_both_train.ravel() / np.maximum(n_train[cell_index], 1),
                0.0,
            ),
            "p_value": p,
            "q_value": q,
            "flagged": q < fdr,
        }
    )[tested]
    if frame["error_lift"].isna().any():
        warn_undefined("a class makes no test error, so its intersections' error lift is NaN")
    frame = frame.sort_values(
        ["error_lift", "support"], ascending=False, na_position="last", kind="stable"
    )
    kept = frame if top is None else frame.head(top)
    below = int((~tested).sum())
    return WorstIntersections(
        table=kept.reset_index(drop=True),
        n_candidates=len(flat_support),
        n_tested=int(tested.sum()),
        n_below_min_support=below,
        n_empty=int((flat_support == 0).sum()),
    )


def _check(min_support: Any, top: Any, fdr: Any) -> None:
    def positive_int(value: Any) -> bool:
        return bool(
            not isinstance(value, bool) and isinstance(value, int | np.integer) and value >= 1
        )

    if not positive_int(min_support):
        raise ValueError(f"min_support must be an integer >= 1, got {min_support!r}")
    if top is not None and not positive_int(top):
        raise ValueError(f"top must be a positive integer or None, got {top!r}")
    if isinstance(fdr, bool) or not isinstance(fdr, int | float) or not 0 < fdr < 1:
        raise ValueError(f"fdr must be a number in (0, 1), got {fdr!r}")
