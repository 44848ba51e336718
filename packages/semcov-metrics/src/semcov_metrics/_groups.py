"""The Semantic Coverage Group grid: encoding inputs into cells and summing weights per cell."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, overload

import numpy as np
import pandas as pd

from semcov_metrics._validation import (
    as_descriptor_matrix,
    as_float_array,
    as_labels,
    categories,
    check_choice,
    check_same_length,
    check_threshold,
    encode,
)

__all__: list[str] = []

MEMBERSHIPS = ("soft", "hard")


@dataclass(frozen=True)
class Grid:
    """The axes of an SCG grid: classes × descriptors × subgroups."""

    classes: list[Any]
    descriptors: list[str]
    subgroups: list[Any]

    @property
    def n_cells(self) -> int:
        """Number of (class, subgroup) cells; cell = class code · n_subgroups + subgroup code."""
        return len(self.classes) * len(self.subgroups)

    def cells(self, class_codes: np.ndarray, subgroup_codes: np.ndarray) -> np.ndarray:
        return class_codes * len(self.subgroups) + subgroup_codes

    def frame(self, **columns: np.ndarray) -> pd.DataFrame:
        """A tidy frame, one row per SCG; each column is given as an (n_cells, K) array."""
        n_c, n_k, n_s = len(self.classes), len(self.descriptors), len(self.subgroups)
        data: dict[str, Any] = {
            "class": np.repeat(np.asarray(self.classes, dtype=object), n_k * n_s),
            "descriptor": np.tile(np.repeat(np.asarray(self.descriptors, dtype=object), n_s), n_c),
            "subgroup": np.tile(np.asarray(self.subgroups, dtype=object), n_c * n_k),
        }
        for name, values in columns.items():
            # (class, subgroup, descriptor) -> (class, descriptor, subgroup), row-major.
            data[name] = np.asarray(values).reshape(n_c, n_s, n_k).transpose(0, 2, 1).ravel()
        return pd.DataFrame(data)


@dataclass(frozen=True)
class Split:
    """One validated split: descriptor matrix (N, K), class codes and subgroup codes (N,)."""

    descriptors: np.ndarray
    labels: np.ndarray
    subgroups: np.ndarray


def validate_split(
    descriptors: Any,
    labels: Any,
    subgroups: Any,
    names: tuple[str, str, str],
    descriptor_names: Sequence[str] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Check one split's inputs; labels and subgroups stay raw until the grid is known."""
    d_name, l_name, s_name = names
    matrix, names_k = as_descriptor_matrix(descriptors, d_name, descriptor_names)
    label_array = as_labels(labels, l_name)
    subgroup_array = as_labels(subgroups, s_name)
    check_same_length(**{d_name: matrix, l_name: label_array, s_name: subgroup_array})
    return matrix, label_array, subgroup_array, names_k


def encode_split(
    grid: Grid,
    matrix: np.ndarray,
    labels: np.ndarray,
    subgroups: np.ndarray,
    names: tuple[str, str, str],
) -> Split:
    return Split(
        descriptors=matrix,
        labels=encode(labels, names[1], grid.classes, "classes"),
        subgroups=encode(subgroups, names[2], grid.subgroups, "subgroup_values"),
    )


def make_grid(
    classes: Sequence[Any] | None,
    descriptor_names: list[str],
    subgroup_values: Sequence[Any] | None,
    observed_labels: Sequence[np.ndarray],
    observed_subgroups: Sequence[np.ndarray],
) -> Grid:
    return Grid(
        classes=categories(classes, "classes", *observed_labels),
        descriptors=descriptor_names,
        subgroups=categories(subgroup_values, "subgroup_values", *observed_subgroups),
    )


def cell_sums(
    cell: np.ndarray,
    n_cells: int,
    weights: np.ndarray,
    *,
    threshold: np.ndarray | None = None,
    sample_weight: np.ndarray | None = None,
    also_threshold: np.ndarray | None = None,
) -> np.ndarray:
    """Σ weights[i, k] over the rows i of every cell: an (n_cells, K) array.

    ``threshold`` turns the weights into hard membership ``1[w >= threshold]`` and
    ``sample_weight`` multiplies each row, both on the fly. ``also_threshold`` adds K more
    columns in the same pass, the sums of ``1[w >= also_threshold]`` (hard beside soft):
    the result is then (n_cells, 2K). Rows are processed in blocks that fit in cache: each
    block is transposed so that every ``np.bincount`` reads one contiguous column, which is
    several times faster than strided columns and never materialises a transformed copy of
    the whole (N, K) matrix.
    """
    n_columns = weights.shape[1]
    extra = also_threshold is not None
    out = np.zeros(((2 if extra else 1) * n_columns, n_cells))
    for start in range(0, len(cell), _BLOCK_ROWS):
        stop = start + _BLOCK_ROWS
        block = weights[start:stop]
        if threshold is not None:
            block = np.greater_equal(block, threshold)
        block = np.ascontiguousarray(block.T, dtype=np.float64)
        blocks = [block]
        if also_threshold is not None:
            blocks.append(np.greater_equal(block, also_threshold[:, None]).astype(np.float64))
        if sample_weight is not None:
            # A Fortran-ordered input (DataFrame.to_numpy() often is) gives a view here:
            # multiplying in place would overwrite the caller's descriptors.
            if np.may_share_memory(block, weights):
                blocks[0] = block * sample_weight[start:stop]
            else:
                block *= sample_weight[start:stop]
            for hard in blocks[1:]:
                hard *= sample_weight[start:stop]
        cells = cell[start:stop]
        for offset, part in enumerate(blocks):
            for k in range(n_columns):
                out[offset * n_columns + k] += np.bincount(
                    cells, weights=part[k], minlength=n_cells
                )
    return out.T


_BLOCK_ROWS = 8192


@overload
def membership_threshold(
    n_descriptors: int, membership: Literal["hard"], threshold: Any
) -> np.ndarray: ...


@overload
def membership_threshold(
    n_descriptors: int, membership: str, threshold: Any
) -> np.ndarray | None: ...


def membership_threshold(n_descriptors: int, membership: str, threshold: Any) -> np.ndarray | None:
    """None for soft membership (weights are the probabilities); the thresholds for hard."""
    check_choice(membership, "membership", MEMBERSHIPS)
    if membership == "soft":
        return None
    return check_threshold(threshold, "threshold", n_descriptors)


def prediction_codes(value: Any, name: str, classes: list[Any]) -> np.ndarray:
    """Class codes of predictions given as labels (N,) or as class scores (N, n_classes)."""
    array = np.asarray(value) if not hasattr(value, "detach") else value
    ndim = getattr(array, "ndim", None)
    if ndim == 2:
        scores = as_float_array(array, name, ndim=2)
        if scores.shape[1] != len(classes):
            raise ValueError(
                f"{name} has {scores.shape[1]} score columns but there are {len(classes)} "
                f"classes ({classes})"
            )
        if not np.isfinite(scores).all():
            raise ValueError(f"{name} contains NaN or infinite values")
        return scores.argmax(axis=1)
    labels = as_labels(value, name)
    codes = pd.Index(classes).get_indexer(labels)
    if (codes < 0).any():
        unknown = sorted({str(v) for v in labels[codes < 0]})[:5]
        raise ValueError(
            f"{name} contains values that are not classes: {unknown}; classes = {classes}. "
            "Pass predicted labels (threshold scores first) or an (N, n_classes) score matrix."
        )
    return codes.astype(np.intp)


def prediction_labels(value: Any, name: str) -> np.ndarray | None:
    """The label values of 1-D predictions (to join the class axis); None for score matrices."""
    array = value if hasattr(value, "ndim") else np.asarray(value)
    if array.ndim != 1:
        return None
    labels = as_labels(value, name)
    if np.issubdtype(labels.dtype, np.floating) and (labels != np.round(labels)).any():
        raise ValueError(
            f"{name} holds non-integer floats, which look like scores; pass predicted labels "
            "(threshold the scores first) or an (N, n_classes) score matrix"
        )
    return labels
