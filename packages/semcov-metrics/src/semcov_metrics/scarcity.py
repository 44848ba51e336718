"""Compositional attribute scarcity (CAS): rank-based rarity of an image's attribute combination."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from semcov_metrics._validation import (
    as_float_array,
    as_labels,
    check_choice,
    check_finite,
    check_same_length,
    to_numpy,
)

__all__ = ["cas_sampling_weights", "cas_subsets", "compositional_attribute_scarcity"]

TIE_METHODS = ("min", "dense", "average", "max", "first")
CAS_SUBSETS = ("low", "middle", "high")


def compositional_attribute_scarcity(
    attributes: Any, labels: Any = None, *, tie_method: str = "min"
) -> np.ndarray:
    """CAS score of every sample (Compositional Attribute Imbalance paper, §3).

    For every attribute (column) and every class, the attribute's values are ranked by
    frequency within the class, most frequent first (rank 1). A value's scarcity is its rank;
    a sample's CAS is the sum of the scarcity of its values over all attributes. Higher means
    a rarer combination.

    Args:
        attributes: categorical attributes, shape (N, A): any hashable values (binarised
            descriptor scores, CelebA attributes, ...). A DataFrame is read column by column.
        labels: class of each sample (N,); ``None`` ranks over the whole set.
        tie_method: how equally frequent values are ranked (pandas ``rank`` method); paper: not
            stated; here: ``"min"``, so equally frequent values share the better rank.

    Returns:
        CAS scores as floats, shape (N,).

    Example:
        >>> compositional_attribute_scarcity([[0, "a"], [0, "a"], [1, "a"], [0, "b"]]).tolist()
        [2.0, 2.0, 3.0, 3.0]
    """
    check_choice(tie_method, "tie_method", TIE_METHODS)
    frame = (
        attributes
        if isinstance(attributes, pd.DataFrame)
        else pd.DataFrame(_attribute_matrix(attributes))
    )
    if frame.ndim != 2 or frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f"attributes must be a non-empty (N, A) table, got shape {frame.shape}")
    if frame.isna().to_numpy().any():
        raise ValueError("attributes contains missing values; binarise or fill them first")
    group = np.zeros(len(frame), dtype=np.intp)
    if labels is not None:
        label_array = as_labels(labels, "labels")
        check_same_length(attributes=frame, labels=label_array)
        group = pd.factorize(label_array)[0]
    scores = np.zeros(len(frame), dtype=np.float64)
    keys = pd.Series(group, index=frame.index)
    for column in frame.columns:
        values = frame[column]
        # Frequency of each (class, value) pair, then its rank among the class's values.
        frequency = values.groupby([keys, values]).transform("size")
        table = pd.DataFrame({"group": keys, "value": values, "frequency": frequency})
        distinct = table.drop_duplicates(["group", "value"]).copy()
        distinct["rank"] = distinct.groupby("group")["frequency"].rank(
            method=tie_method, ascending=False
        )
        rank = table.merge(distinct[["group", "value", "rank"]], on=["group", "value"], how="left")
        scores += rank["rank"].to_numpy()
    return scores


def _attribute_matrix(attributes: Any) -> np.ndarray:
    array = to_numpy(attributes, "attributes")
    if array.ndim != 2:
        raise ValueError(f"attributes must be 2-D (N, A), got shape {array.shape}")
    return array


def cas_sampling_weights(scores: Any, power: float = 1.2) -> np.ndarray:
    """Sampling probabilities ``r_i^b / Σ_j r_j^b`` from CAS scores (the paper's power transform).

    Args:
        scores: non-negative CAS scores, shape (N,).
        power: the exponent b; > 1 sharpens the preference for scarce samples (paper: 1.2).

    Example:
        >>> cas_sampling_weights([1.0, 3.0], power=1.0).tolist()
        [0.25, 0.75]
    """
    if isinstance(power, bool) or not isinstance(power, int | float | np.number):
        raise TypeError(f"power must be a number, got {power!r}")
    if not np.isfinite(power) or power <= 0:
        raise ValueError(f"power must be a finite number > 0, got {power}")
    r = as_float_array(scores, "scores", ndim=1)
    check_finite(r, "scores")
    if r.min() < 0:
        raise ValueError(f"scores must be >= 0, got a minimum of {r.min()}")
    transformed = r**power
    total = transformed.sum()
    if total == 0:
        raise ValueError("scores are all zero; sampling probabilities are undefined")
    return transformed / total


def cas_subsets(scores: Any, fractions: Sequence[float] = (0.3, 0.3, 0.4)) -> np.ndarray:
    """Split samples into ``low`` / ``middle`` / ``high`` CAS subsets (paper: 30 / 30 / 40 %).

    Samples are ordered by score (ties keep their input order); the first ``fractions[0]`` are
    ``low``, the next ``fractions[1]`` ``middle`` and the rest ``high``. Subset sizes are
    ``floor`` of the cumulative fraction times N.

    Example:
        >>> cas_subsets([5, 1, 9, 3, 7, 2, 8, 4, 6, 10]).tolist()
        ['middle', 'low', 'high', 'low', 'high', 'low', 'high', 'middle', 'middle', 'high']
    """
    r = as_float_array(scores, "scores", ndim=1)
    check_finite(r, "scores")
    f = np.asarray(to_numpy(fractions, "fractions"), dtype=np.float64)
    if f.shape != (3,) or (f < 0).any() or not np.isclose(f.sum(), 1.0):
        raise ValueError(
            f"fractions must be three non-negative numbers summing to 1, got {list(f)}"
        )
    order = np.argsort(r, kind="stable")
    bounds = np.floor(np.cumsum(f)[:2] * len(r) + 1e-9).astype(np.intp)
    position = np.empty(len(r), dtype=np.intp)
    position[order] = np.arange(len(r))
    return np.asarray(CAS_SUBSETS, dtype=object)[np.searchsorted(bounds, position, side="right")]
