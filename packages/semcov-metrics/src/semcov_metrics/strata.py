"""Tail / Middle / Head strata of training coverage (at its quartiles) and the pooled TPR, ECE and
reliability curve of the SCGs in each stratum."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from semcov_metrics._groups import MEMBERSHIPS, Grid, membership_threshold, validate_split
from semcov_metrics._validation import (
    as_float_array,
    check_choice,
    check_finite,
    check_same_length,
    encode,
    to_numpy,
    warn_undefined,
)
from semcov_metrics.calibration import expected_calibration_error, reliability_diagram

__all__ = [
    "BANDS",
    "MEMBERSHIP_COLUMNS",
    "coverage_strata",
    "stratum_metrics",
    "stratum_reliability",
]

#: The strata, lowest coverage first.
BANDS = ("Tail", "Middle", "Head")
TIE_RULES = ("tail", "head")
_TEST = ("test_descriptors", "test_labels", "test_subgroups")
_AXES = ("class", "descriptor", "subgroup", "coverage")
#: The table columns (support, TPR, valid) of each test membership, as in
#: :attr:`SemanticFairnessReport.table`.
MEMBERSHIP_COLUMNS = {
    "soft": ("support", "tpr", "valid"),
    "hard": ("support_hard", "tpr_hard", "valid_hard"),
}


def coverage_strata(
    coverage: Any, *, low: float = 0.25, high: float = 0.75, tie: str = "tail"
) -> tuple[np.ndarray, tuple[float, float]]:
    """Band every coverage value into Tail (``<= q_low``), Middle (between) or Head (``>= q_high``).

    ``q_low`` and ``q_high`` are the ``low`` and ``high`` quantiles (numpy's default linear
    interpolation) of the finite values; NaN values are left out of the quantiles and get no
    band (``""``). These are descriptive strata, as in the released SemCovNet code (Q25/Q75),
    not a definition of under-coverage. Pass the coverage of the SCGs to rank and NaN for the
    others (for a report's table: ``np.where(table.valid, table.coverage, np.nan)``).

    Tie rule: a value equal to ``q_low`` is Tail and one equal to ``q_high`` is Head. When the
    two quantiles coincide (for example most coverages are 0), a value equal to both is Tail
    with ``tie="tail"`` (default: a zero coverage is the tail) and Head with ``tie="head"``, the
    released code's result (its Head assignment runs last and overwrites).

    Args:
        coverage: coverage values, any shape (flattened), NaN for values outside the ranking.
        low, high: the quantile levels, ``0 < low < high < 1``.
        tie: ``"tail"`` or ``"head"``, see above.

    Returns:
        ``(bands, (q_low, q_high))``: an object array of ``"Tail"``, ``"Middle"``, ``"Head"``
        or ``""`` of the input's shape, and the two thresholds (NaN, with
        :class:`~semcov_metrics.UndefinedMetricWarning`, when no value is finite).

    Example:
        >>> bands, (q_low, q_high) = coverage_strata([0.0, 0.1, 0.2, 0.5, 0.9, float("nan")])
        >>> bands.tolist(), round(q_low, 3), round(q_high, 3)
        (['Tail', 'Tail', 'Middle', 'Head', 'Head', ''], 0.1, 0.5)
    """
    raw = to_numpy(coverage, "coverage")
    values = as_float_array(raw.reshape(-1), "coverage", ndim=1).reshape(raw.shape)
    check_choice(tie, "tie", TIE_RULES)
    for name, level in (("low", low), ("high", high)):
        if isinstance(level, bool) or not isinstance(level, int | float) or not 0 < level < 1:
            raise ValueError(f"{name} must be a number in (0, 1), got {level!r}")
    if not low < high:
        raise ValueError(f"low must be below high, got low={low}, high={high}")
    if np.isinf(values).any():
        raise ValueError("coverage contains infinite values; use NaN for values outside the bands")
    bands = np.full(values.shape, "", dtype=object)
    finite = np.isfinite(values)
    if not finite.any():
        warn_undefined("no coverage value is finite; the strata are undefined")
        return bands, (float("nan"), float("nan"))
    q_low, q_high = (float(q) for q in np.quantile(values[finite], [low, high]))
    tail = finite & (values <= q_low)
    head = finite & (values >= q_high)
    if tie == "tail":
        head &= ~tail
    else:
        tail &= ~head
    bands[finite & ~tail & ~head] = "Middle"
    bands[tail] = "Tail"
    bands[head] = "Head"
    return bands, (q_low, q_high)


def stratum_metrics(
    table: pd.DataFrame,
    *,
    test_descriptors: Any,
    test_labels: Any,
    test_subgroups: Any,
    test_scores: Any = None,
    band_column: str = "band",
    membership: str = "soft",
    threshold: float | Sequence[float] = 0.5,
    n_bins: int = 15,
    classes: Sequence[Any] | None = None,
    descriptor_names: Sequence[str] | None = None,
    subgroup_values: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """Pooled TPR and calibration of the valid SCGs in each coverage band.

    ``table`` is a per-SCG table such as :attr:`SemanticFairnessReport.table` (columns
    ``class, descriptor, subgroup, coverage, support, tpr, valid``) with a band column
    (:func:`coverage_strata`'s labels). For each band only its *valid* SCGs count:

    * ``tpr = Σ_g support_g · tpr_g / Σ_g support_g`` — membership-weighted correct predictions
      over membership mass, pooled over the band's SCGs (a sample in several of them counts
      once per SCG, as in their supports);
    * ``ece``: the positive-class expected calibration error (``mode="positive"``, ``n_bins``
      equal bins) of ``test_scores`` where test sample i weighs ``w_i = Σ_{g in band} w_{i,g}``,
      its membership mass in the band's SCGs (``w_{i,g} = 1[y_i = c_g]·1[s_i = s_g]·p_{i,d_g}``
      soft, ``1[p_{i,d_g} >= threshold]`` hard). NaN with
      :class:`~semcov_metrics.UndefinedMetricWarning` without scores, for a task that is not
      binary, or for a band without weight.

    ``membership="soft"`` reads the table's ``support, tpr, valid``; ``"hard"`` reads
    ``support_hard, tpr_hard, valid_hard`` (a report's table has both; with a report of hard
    membership both sets are hard). ``threshold`` must be the one behind the hard columns. The
    band supports are recomputed from the test arrays: a mismatch (another split, membership or
    threshold) is a ValueError.

    Args:
        table: the per-SCG table with a ``band_column``.
        test_descriptors: test descriptor probabilities, (N, K), columns in the table's
            descriptor order (a DataFrame is matched by its column names).
        test_labels: test classes, (N,).
        test_subgroups: test subgroups, (N,).
        test_scores: probability of the positive class, ``classes[1]``, (N,); ``None``: no ECE.
        band_column: the column holding the bands.
        membership: ``"soft"`` or ``"hard"``: which of the table's columns to read.
        threshold: hard-membership threshold (scalar or one per descriptor).
        n_bins: number of ECE bins.
        classes, descriptor_names, subgroup_values: the grid axes; default the table's values
            in order of first appearance (the report's grid order).

    Returns:
        DataFrame, one row per band of :data:`BANDS`: ``band, coverage_low, coverage_high``
        (range of the band's valid SCGs' coverage), ``n_scgs`` (valid SCGs), ``support``,
        ``tpr``, ``ece``.

    Example:
        >>> import numpy as np, pandas as pd
        >>> table = pd.DataFrame({"class": [0, 0, 1, 1], "descriptor": ["a", "b", "a", "b"],
        ...     "subgroup": ["x"] * 4, "coverage": [0.1, 0.4, 0.6, 0.9],
        ...     "support": [1.0, 1.0, 1.0, 1.0], "tpr": [0.0, 1.0, 1.0, 1.0], "valid": True})
        >>> table["band"] = coverage_strata(table["coverage"])[0]
        >>> p = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
        >>> out = stratum_metrics(table, test_descriptors=p, test_labels=[0, 0, 1, 1],
        ...     test_subgroups=["x"] * 4, test_scores=[0.2, 0.1, 0.9, 0.6])
        >>> print(out[["band", "n_scgs", "support", "tpr", "ece"]])
             band  n_scgs  support  tpr  ece
        0    Tail       1      1.0  0.0  0.2
        1  Middle       2      2.0  1.0  0.1
        2    Head       1      1.0  1.0  0.4
    """
    prepared = _prepare(
        table,
        band_column,
        test_descriptors,
        test_labels,
        test_subgroups,
        test_scores,
        membership,
        threshold,
        classes,
        descriptor_names,
        subgroup_values,
    )
    rows = []
    for band, weight in zip(BANDS, prepared.weights, strict=True):
        scgs = prepared.table[prepared.table["band"] == band]
        support = float(scgs["support"].sum())
        if support > 0:
            tpr = float((scgs["support"] * scgs["tpr"]).sum() / support)
        else:
            tpr = warn_undefined(f"band {band!r} has no valid SCG with support; its TPR is NaN")
        rows.append(
            {
                "band": band,
                "coverage_low": float(scgs["coverage"].min()) if len(scgs) else np.nan,
                "coverage_high": float(scgs["coverage"].max()) if len(scgs) else np.nan,
                "n_scgs": len(scgs),
                "support": support,
                "tpr": tpr,
                "ece": _band_ece(prepared, band, weight, n_bins),
            }
        )
    return pd.DataFrame(rows)


def stratum_reliability(
    table: pd.DataFrame,
    *,
    test_descriptors: Any,
    test_labels: Any,
    test_subgroups: Any,
    test_scores: Any,
    band_column: str = "band",
    membership: str = "soft",
    threshold: float | Sequence[float] = 0.5,
    n_bins: int = 15,
    classes: Sequence[Any] | None = None,
    descriptor_names: Sequence[str] | None = None,
    subgroup_values: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """The reliability curve behind :func:`stratum_metrics`'s ECE, one per band.

    Same arguments as :func:`stratum_metrics` (``test_scores`` required, binary task).

    Returns:
        DataFrame, ``n_bins`` rows per band of :data:`BANDS`: ``band, bin_lower, bin_upper,
        weight`` (the band's membership mass in the bin), ``confidence`` (weighted mean
        positive-class score) and ``accuracy`` (weighted share of positive samples); NaN for
        bins without weight. Plot accuracy against confidence, sized by weight.
    """
    if test_scores is None:
        raise TypeError("test_scores is required for a reliability curve")
    prepared = _prepare(
        table,
        band_column,
        test_descriptors,
        test_labels,
        test_subgroups,
        test_scores,
        membership,
        threshold,
        classes,
        descriptor_names,
        subgroup_values,
    )
    if prepared.positive is None:
        raise ValueError(
            "a reliability curve of the positive-class score needs 2 classes, got "
            f"{prepared.grid.classes}"
        )
    frames = []
    for band, weight in zip(BANDS, prepared.weights, strict=True):
        curve = reliability_diagram(
            prepared.positive,
            prepared.scores,
            n_bins=n_bins,
            mode="positive",
            sample_weight=weight,
        )
        curve.insert(0, "band", band)
        frames.append(curve[["band", "bin_lower", "bin_upper", "weight", "confidence", "accuracy"]])
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class _Prepared:
    """The table's valid SCGs, the band weights of every test sample (3, N), positive labels and
    scores (``positive`` is None where the task is not binary or no scores were given)."""

    table: pd.DataFrame
    grid: Grid
    weights: np.ndarray
    positive: np.ndarray | None
    scores: np.ndarray | None


def _prepare(
    table: Any,
    band_column: str,
    descriptors: Any,
    labels: Any,
    subgroups: Any,
    scores: Any,
    membership: str,
    threshold: Any,
    classes: Sequence[Any] | None,
    descriptor_names: Sequence[str] | None,
    subgroup_values: Sequence[Any] | None,
) -> _Prepared:
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a DataFrame, got {type(table).__name__}")
    check_choice(membership, "membership", MEMBERSHIPS)
    support_column, tpr_column, valid_column = MEMBERSHIP_COLUMNS[membership]
    needed = (*_AXES, support_column, tpr_column, valid_column, band_column)
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise ValueError(f"table lacks columns {missing}; found {list(table.columns)}")
    unknown = sorted(set(map(str, table[band_column])) - {*BANDS, ""})
    if unknown:
        raise ValueError(f"table column {band_column!r} holds values {unknown}; expected {BANDS}")
    grid = Grid(
        classes=_axis(classes, table["class"], "classes"),
        descriptors=[
            str(d) for d in _axis(descriptor_names, table["descriptor"], "descriptor_names")
        ],
        subgroups=_axis(subgroup_values, table["subgroup"], "subgroup_values"),
    )
    if isinstance(descriptors, pd.DataFrame):
        if set(map(str, descriptors.columns)) != set(grid.descriptors):
            raise ValueError(
                f"test_descriptors columns {list(descriptors.columns)} are not the table's "
                f"descriptors {grid.descriptors}"
            )
        descriptors = descriptors.rename(columns=str)[grid.descriptors]
    matrix, label_array, subgroup_array, _ = validate_split(
        descriptors, labels, subgroups, _TEST, grid.descriptors
    )
    class_codes = encode(label_array, "test_labels", grid.classes, "classes")
    subgroup_codes = encode(subgroup_array, "test_subgroups", grid.subgroups, "subgroup_values")
    cell = grid.cells(class_codes, subgroup_codes)
    tau = membership_threshold(len(grid.descriptors), membership, threshold)
    member = matrix if tau is None else (matrix >= tau).astype(np.float64)

    kept = table[table[valid_column].astype(bool)]
    kept = pd.DataFrame(
        {
            **{column: kept[column] for column in _AXES},
            "support": kept[support_column],
            "tpr": kept[tpr_column],
            "band": kept[band_column].astype(str),
        }
    )
    rows = grid.cells(
        encode(kept["class"].to_numpy(), "table class", grid.classes, "classes"),
        encode(kept["subgroup"].to_numpy(), "table subgroup", grid.subgroups, "subgroup_values"),
    )
    columns = pd.Index(grid.descriptors).get_indexer(kept["descriptor"].astype(str))
    weights = np.zeros((len(BANDS), len(label_array)))
    for b, band in enumerate(BANDS):
        in_band = np.zeros((grid.n_cells, len(grid.descriptors)))
        chosen = (kept["band"] == band).to_numpy()
        in_band[rows[chosen], columns[chosen]] = 1.0
        weights[b] = (in_band[cell] * member).sum(axis=1)
        expected = float(kept.loc[chosen, "support"].sum())
        if not np.isclose(weights[b].sum(), expected, rtol=1e-6, atol=1e-6):
            raise ValueError(
                f"band {band!r}: the table's support ({expected:g}) does not match the test "
                f"arrays under membership={membership!r} ({weights[b].sum():g}); pass the "
                "test split and the membership the table was computed with"
            )
    positive, score_array = _positive(scores, grid.classes, class_codes)
    return _Prepared(kept, grid, weights, positive, score_array)


def _axis(given: Sequence[Any] | None, column: pd.Series, name: str) -> list[Any]:
    if given is None:
        return list(dict.fromkeys(column.tolist()))
    values = to_numpy(given, name).tolist()
    outside = sorted(set(map(str, column)) - set(map(str, values)))
    if outside:
        raise ValueError(f"table values {outside[:5]} are not in {name} = {values}")
    return values


def _positive(
    scores: Any, classes: list[Any], class_codes: np.ndarray
) -> tuple[np.ndarray | None, np.ndarray | None]:
    if scores is None:
        return None, None
    array = as_float_array(scores, "test_scores", ndim=1)
    check_finite(array, "test_scores")
    check_same_length(test_labels=class_codes, test_scores=array)
    if len(classes) != 2:
        return None, array
    return (class_codes == 1).astype(np.intp), array


def _band_ece(prepared: _Prepared, band: str, weight: np.ndarray, n_bins: int) -> float:
    if prepared.scores is None:
        return warn_undefined(f"band {band!r}: no test_scores, so no ECE")
    if prepared.positive is None:
        return warn_undefined(
            f"band {band!r}: the positive-class ECE needs 2 classes, got {prepared.grid.classes}"
        )
    if weight.sum() <= 0:
        return warn_undefined(f"band {band!r} has no test membership; its ECE is NaN")
    return expected_calibration_error(
        prepared.positive, prepared.scores, n_bins=n_bins, mode="positive", sample_weight=weight
    )
