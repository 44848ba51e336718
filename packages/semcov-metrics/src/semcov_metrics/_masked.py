"""Concept labels that may be missing: validation into (values, observed) matrices and the
masked class sums shared by the dataset diagnostics (coverage, permutation null, subsampling,
bootstrap)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from semcov_metrics._validation import (
    as_float_array,
    as_labels,
    categories,
    check_same_length,
    descriptor_axis,
    encode,
    to_numpy,
    warn_undefined,
)

__all__: list[str] = []


@dataclass(frozen=True)
class MaskedConcepts:
    """Validated concept labels of one split.

    Attributes:
        values: concept values in [0, 1] with every missing entry set to 0, shape (N, K).
        observed: 1.0 where the concept label is observed, 0.0 where it is missing, (N, K).
        codes: class code of each sample in ``classes``, shape (N,).
        classes: the class axis.
        descriptors: the K descriptor names.
    """

    values: np.ndarray
    observed: np.ndarray
    codes: np.ndarray
    classes: list[Any]
    descriptors: list[str]

    @property
    def has_missing(self) -> bool:
        return bool((self.observed == 0).any())

    def class_sums(self, codes: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(Σ observed values, Σ observed) per class and descriptor, each (T, K)."""
        return masked_class_sums(
            self.values, self.observed, self.codes if codes is None else codes, len(self.classes)
        )


def validate_masked(
    descriptors: Any,
    labels: Any,
    mask: Any,
    descriptor_names: Sequence[str] | None,
    classes: Sequence[Any] | None,
) -> MaskedConcepts:
    """Check descriptors (N, K) whose NaN entries are missing labels, an optional observed
    ``mask`` (N, K) of booleans or 0/1, and class labels (N,)."""
    frame = isinstance(descriptors, pd.DataFrame)
    names_from_frame = list(map(str, descriptors.columns)) if frame else None
    array = as_float_array(descriptors, "descriptors", ndim=(1, 2))
    if array.ndim == 1:
        array = array[:, None]
    observed = ~np.isnan(array)
    if mask is not None:
        observed &= _mask_array(mask, array.shape)
    values = np.where(observed, array, 0.0)
    if np.isinf(values).any():
        raise ValueError("descriptors contains infinite values; mark a missing label with NaN")
    if (values < 0).any() or (values > 1).any():
        low, high = values[observed].min(), values[observed].max()
        raise ValueError(
            f"descriptors must hold probabilities in [0, 1] where observed, got values in "
            f"[{low:g}, {high:g}]"
        )
    names = descriptor_axis(descriptor_names, names_from_frame, array.shape[1], "descriptors")
    label_array = as_labels(labels, "labels")
    check_same_length(descriptors=array, labels=label_array)
    axis = categories(classes, "classes", label_array)
    codes = encode(label_array, "labels", axis, "classes")
    return MaskedConcepts(values, observed.astype(np.float64), codes, axis, names)


def _mask_array(mask: Any, shape: tuple[int, ...]) -> np.ndarray:
    array = to_numpy(mask, "mask")
    if array.ndim == 1 and shape[1] == 1:
        array = array[:, None]
    if array.shape != shape:
        raise ValueError(f"mask must have the shape of descriptors {shape}, got {array.shape}")
    if array.dtype != bool:
        if not np.issubdtype(array.dtype, np.number):
            raise TypeError(f"mask must hold booleans or 0/1, got dtype {array.dtype}")
        if not np.isin(array, (0, 1)).all():
            raise ValueError("mask must hold booleans or 0/1 (1 = the label is observed)")
    return array.astype(bool)


def masked_class_sums(
    values: np.ndarray, observed: np.ndarray, codes: np.ndarray, n_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """(Σ_i values·observed, Σ_i observed) over the samples of each class: two (T, K) arrays.
    ``values`` already holds 0 where a label is missing."""
    k = values.shape[1]
    presence = np.zeros((n_classes, k))
    labelled = np.zeros((n_classes, k))
    for j in range(k):
        presence[:, j] = np.bincount(codes, weights=values[:, j], minlength=n_classes)
        labelled[:, j] = np.bincount(codes, weights=observed[:, j], minlength=n_classes)
    return presence, labelled


def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is 0 (no labelled sample)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        safe = np.where(denominator > 0, denominator, 1)
        return np.where(denominator > 0, numerator / safe, np.nan)


def warn_unlabelled(
    coverage: np.ndarray, classes: list[Any], descriptors: list[str], what: str
) -> None:
    """One UndefinedMetricWarning naming the (class, descriptor) cells left NaN."""
    empty = np.argwhere(np.isnan(coverage))
    if empty.size:
        shown = ", ".join(f"({classes[t]!r}, {descriptors[k]!r})" for t, k in empty[:5])
        more = " ..." if len(empty) > 5 else ""
        warn_undefined(
            f"{len(empty)} {what} cell(s) have no labelled sample, so their coverage is NaN: "
            f"{shown}{more}"
        )


def long_frame(classes: list[Any], descriptors: list[str], **columns: np.ndarray) -> pd.DataFrame:
    """One row per (class, descriptor), class-major; each column is given as a (T, K) array."""
    t, k = len(classes), len(descriptors)
    data: dict[str, Any] = {
        "class": np.repeat(np.asarray(classes, dtype=object), k),
        "descriptor": np.tile(np.asarray(descriptors, dtype=object), t),
    }
    for name, value in columns.items():
        data[name] = np.broadcast_to(np.asarray(value), (t, k)).ravel()
    return pd.DataFrame(data)
