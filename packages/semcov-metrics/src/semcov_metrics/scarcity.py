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
    attributes: Any,
    labels: Any = None,
    *,
    tie_method: str = "min",
    reference: Any = None,
    reference_labels: Any = None,
) -> np.ndarray:
    """CAS score of every sample (Compositional Attribute Imbalance paper, §3).

    For every attribute (column) and every class, the attribute's values are ranked by
    frequency within the class, most frequent first (rank 1). A value's scarcity is its rank;
    a sample's CAS is the sum of the scarcity of its values over all attributes. Higher means
    a rarer combination.

    The frequencies are counted in ``reference`` (for example the training split, whose
    scarcity a model has seen) and default to ``attributes`` itself. A value the reference
    never shows within the sample's class ranks after every value it does show (rank = number
    of distinct reference values + 1); paper: not stated (its frequencies and subsets come from
    one set); here: unseen is rarest.

    Args:
        attributes: categorical attributes, shape (N, A): any hashable values (binarised
            descriptor scores, CelebA attributes, ...). A DataFrame is read column by column.
        labels: class of each sample (N,); ``None`` ranks over the whole set.
        tie_method: how equally frequent values are ranked (pandas ``rank`` method); paper: not
            stated; here: ``"min"``, so equally frequent values share the better rank.
        reference: the attributes whose frequencies rank the values, shape (M, A), the same
            columns as ``attributes``; default ``attributes``.
        reference_labels: class of each reference sample (M,); needed exactly when ``labels``
            is given with a ``reference``. Every class of ``labels`` must occur in it.

    Returns:
        CAS scores as floats, shape (N,).

    Example:
        >>> compositional_attribute_scarcity([[0, "a"], [0, "a"], [1, "a"], [0, "b"]]).tolist()
        [2.0, 2.0, 3.0, 3.0]
        >>> compositional_attribute_scarcity([[1, "a"], [0, "c"]], reference=[[0, "a"], [0, "a"],
        ...     [1, "a"], [0, "b"]]).tolist()
        [3.0, 4.0]
    """
    check_choice(tie_method, "tie_method", TIE_METHODS)
    frame = _attribute_frame(attributes, "attributes")
    if reference is None:
        if reference_labels is not None:
            raise ValueError("reference_labels is given without reference")
        reference_frame, reference_labels = frame, labels
    else:
        reference_frame = _attribute_frame(reference, "reference")
        if list(reference_frame.columns) != list(frame.columns):
            raise ValueError(
                f"reference has columns {list(reference_frame.columns)} but attributes has "
                f"{list(frame.columns)}; they must match"
            )
        if (labels is None) != (reference_labels is None):
            raise ValueError("labels and reference_labels must be given together")
    group, reference_group = _class_codes(frame, labels, reference_frame, reference_labels)
    scores = np.zeros(len(frame), dtype=np.float64)
    for column in frame.columns:
        counts = pd.DataFrame({"group": reference_group, "value": reference_frame[column]})
        frequency = counts.value_counts(sort=False)
        rank = frequency.groupby(level="group").rank(method=tie_method, ascending=False)
        key = pd.MultiIndex.from_arrays([group, frame[column].to_numpy()])
        values = np.array(rank.reindex(key), dtype=np.float64)
        unseen = np.isnan(values)
        if unseen.any():
            distinct = frequency.groupby(level="group").size()
            values[unseen] = distinct.reindex(group[unseen]).to_numpy(dtype=np.float64) + 1.0
        scores += values
    return scores


def _attribute_frame(value: Any, name: str) -> pd.DataFrame:
    if isinstance(value, pd.DataFrame):
        frame = value.reset_index(drop=True)
    else:
        array = to_numpy(value, name)
        if array.ndim != 2:
            raise ValueError(f"{name} must be 2-D (N, A), got shape {array.shape}")
        frame = pd.DataFrame(array)
    if frame.ndim != 2 or frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty (N, A) table, got shape {frame.shape}")
    if frame.isna().to_numpy().any():
        raise ValueError(f"{name} contains missing values; binarise or fill them first")
    return frame


def _class_codes(
    frame: pd.DataFrame, labels: Any, reference_frame: pd.DataFrame, reference_labels: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Class codes of the samples and of the reference samples, on the reference's classes."""
    if labels is None:
        return np.zeros(len(frame), dtype=np.intp), np.zeros(len(reference_frame), dtype=np.intp)
    label_array = as_labels(labels, "labels")
    check_same_length(attributes=frame, labels=label_array)
    if reference_labels is labels:
        codes = pd.factorize(label_array)[0]
        return codes, codes
    reference_array = as_labels(reference_labels, "reference_labels")
    check_same_length(reference=reference_frame, reference_labels=reference_array)
    reference_codes, classes = pd.factorize(reference_array)
    codes = pd.Index(classes).get_indexer(label_array)
    if (codes < 0).any():
        missing = sorted({str(v) for v in label_array[codes < 0]})[:5]
        raise ValueError(
            f"labels holds classes that reference_labels never shows: {missing}; CAS ranks "
            "values within a class, so every class needs reference samples"
        )
    return codes, reference_codes


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


def cas_subsets(
    scores: Any, fractions: Sequence[float] = (0.3, 0.3, 0.4), *, seed: int | None = 0
) -> np.ndarray:
    """Split samples into ``low`` / ``middle`` / ``high`` CAS subsets (paper: 30 / 30 / 40 %).

    Samples are ordered by score; the first ``fractions[0]`` are ``low``, the next
    ``fractions[1]`` ``middle`` and the rest ``high``. Subset sizes are ``floor`` of the
    cumulative fraction times N. CAS takes few distinct values, so many samples tie at a
    boundary; paper: ties not stated; here: they are ordered by a permutation seeded by
    ``seed`` (``seed=None``: input order, which would let the file's row order decide).

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
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)):
        raise TypeError(f"seed must be an integer or None, got {seed!r}")
    tiebreak = (
        np.arange(len(r)) if seed is None else np.random.default_rng(seed).permutation(len(r))
    )
    order = np.lexsort((tiebreak, r))
    bounds = np.floor(np.cumsum(f)[:2] * len(r) + 1e-9).astype(np.intp)
    position = np.empty(len(r), dtype=np.intp)
    position[order] = np.arange(len(r))
    return np.asarray(CAS_SUBSETS, dtype=object)[np.searchsorted(bounds, position, side="right")]
