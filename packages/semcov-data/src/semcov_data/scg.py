"""Semantic Coverage Group index of any table: class × descriptor × subgroup, and its coverage."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from semcov_data._validation import DescriptorFill, check_descriptors, require_columns
from semcov_metrics import scg_coverage

__all__ = [
    "AGE_BINS",
    "UNKNOWN",
    "SCGIndex",
    "age_bin_labels",
    "build_scg_index",
    "subgroup_labels",
]

#: The explicit value an empty subgroup cell becomes.
UNKNOWN = "unknown"

#: Default age bin edges (years, left-closed); paper: silent; here: five bins of about 15 years.
AGE_BINS: tuple[float, ...] = (0, 30, 45, 60, 75, float("inf"))

_SEPARATOR = "|"


def age_bin_labels(edges: Sequence[float]) -> list[str]:
    """Readable labels of left-closed bins: ``(0, 30, 45, inf)`` → ``['<30', '30-44', '45+']``."""
    edges = [float(e) for e in edges]
    if len(edges) < 2 or any(b <= a for a, b in itertools.pairwise(edges)):
        raise ValueError(f"age bins must be at least two increasing edges, got {edges}")
    labels = []
    for low, high in itertools.pairwise(edges):
        if low <= 0 and np.isfinite(high):
            labels.append(f"<{high:g}")
        elif not np.isfinite(high):
            labels.append(f"{low:g}+")
        else:
            labels.append(f"{low:g}-{high - 1:g}")
    return labels


def _column_labels(values: pd.Series, bins: Sequence[float] | None, unknown: str) -> pd.Series:
    if bins is not None:
        numeric = pd.to_numeric(values, errors="coerce")
        cut = pd.cut(numeric, bins=list(bins), right=False, labels=age_bin_labels(bins))
        return cut.astype(object).where(cut.notna(), unknown).astype(str)
    text = values.astype(object).where(values.notna(), unknown).astype(str).str.strip()
    # Integers read as floats (skin tone 3.0 when a cell is empty) are shown as integers.
    text = text.str.replace(r"^(-?\d+)\.0$", r"\1", regex=True)
    return text.where(text != "", unknown)


def subgroup_labels(
    table: pd.DataFrame,
    columns: str | Sequence[str],
    *,
    bins: Mapping[str, Sequence[float]] | None = None,
    unknown: str = UNKNOWN,
) -> pd.Series:
    """Subgroup of every row from one column or a combination of columns.

    Empty cells become ``unknown``; numeric columns named in ``bins`` are binned first (age);
    several columns are joined with ``|`` (``"trunk|male"``).

    Args:
        table: the table.
        columns: one column name or several.
        bins: bin edges per column, e.g. ``{"age_approx": AGE_BINS}``.
        unknown: the label of empty cells.

    Returns:
        A string Series aligned with ``table``.

    Example:
        >>> t = pd.DataFrame({"site": ["arm", None], "age": [33, 80]})
        >>> subgroup_labels(t, ["site", "age"], bins={"age": AGE_BINS}).tolist()
        ['arm|30-44', 'unknown|75+']
    """
    names = [columns] if isinstance(columns, str) else list(columns)
    if not names:
        raise ValueError("subgroup columns must name at least one column")
    require_columns(table, names, "subgroup")
    bins = dict(bins or {})
    parts = [_column_labels(table[c], bins.get(c), unknown) for c in names]
    out = parts[0]
    for part in parts[1:]:
        out = out + _SEPARATOR + part
    return out.rename("subgroup")


@dataclass(frozen=True)
class SCGIndex:
    """Membership of every sample in the SCG grid: class × descriptor × subgroup.

    Attributes:
        labels: class name of each sample, shape (N,).
        descriptors: descriptor probabilities (soft) or 0/1 (hard), shape (N, K).
        subgroups: subgroup label of each sample, shape (N,).
        classes: the class axis of the grid.
        descriptor_names: the descriptor axis (K names).
        subgroup_values: the subgroup axis; kept whole even where a split has no sample.
    """

    labels: np.ndarray
    descriptors: np.ndarray
    subgroups: np.ndarray
    classes: tuple[str, ...]
    descriptor_names: tuple[str, ...]
    subgroup_values: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def n_scgs(self) -> int:
        """Nominal number of SCGs: classes × descriptors × subgroups (empty ones included)."""
        return len(self.classes) * len(self.descriptor_names) * len(self.subgroup_values)

    def cell_codes(self) -> np.ndarray:
        """Index of each sample's (class, subgroup) cell, ``class * n_subgroups + subgroup``."""
        class_code = pd.Categorical(self.labels, categories=list(self.classes)).codes
        sub_code = pd.Categorical(self.subgroups, categories=list(self.subgroup_values)).codes
        return class_code.astype(np.int64) * len(self.subgroup_values) + sub_code

    def subset(self, rows: np.ndarray | Sequence[int]) -> SCGIndex:
        """The same grid restricted to some samples (a boolean mask or positions)."""
        rows = np.asarray(rows)
        return SCGIndex(
            self.labels[rows],
            self.descriptors[rows],
            self.subgroups[rows],
            self.classes,
            self.descriptor_names,
            self.subgroup_values,
        )

    def coverage(
        self,
        rows: np.ndarray | Sequence[int] | None = None,
        *,
        threshold: float | Sequence[float] | None = None,
        kind: str = "rate",
    ) -> pd.DataFrame:
        """Coverage of every SCG over some rows (the training split), via ``scg_coverage``.

        Args:
            rows: a boolean mask or positions of the training samples; default all.
            threshold: hard coverage threshold(s) τ_d; default soft coverage.
            kind: ``"rate"`` (the paper's mean) or ``"mass"`` (expected count).

        Returns:
            The full grid: ``class, descriptor, subgroup, n_train, coverage``.
        """
        index = self if rows is None else self.subset(rows)
        return scg_coverage(
            index.descriptors,
            index.labels,
            index.subgroups,
            descriptor_names=list(self.descriptor_names),
            classes=list(self.classes),
            subgroup_values=list(self.subgroup_values),
            threshold=threshold,
            kind=kind,
        )


def build_scg_index(
    table: pd.DataFrame,
    *,
    class_column: str,
    descriptor_columns: Sequence[str],
    subgroup_columns: str | Sequence[str],
    bins: Mapping[str, Sequence[float]] | None = None,
    threshold: float | None = None,
    classes: Sequence[str] | None = None,
    subgroup_values: Sequence[str] | None = None,
    descriptor_fill: DescriptorFill = None,
    unknown: str = UNKNOWN,
) -> SCGIndex:
    """SCG index of any table (one row per sample).

    Args:
        table: the table.
        class_column: the class of each row.
        descriptor_columns: descriptor columns, probabilities in [0, 1] or 0/1.
        subgroup_columns: one subgroup column or several to combine.
        bins: bin edges for numeric subgroup columns, e.g. ``{"age_approx": AGE_BINS}``.
        threshold: binarise descriptors at this value (hard descriptors); default keep soft.
        classes: the class axis; default the sorted classes present.
        subgroup_values: the subgroup axis; default the sorted subgroups present.
        descriptor_fill: policy for NaN / out-of-range descriptors (default: error).
        unknown: the label of empty subgroup cells.

    Returns:
        An :class:`SCGIndex`; ``index.coverage(train_mask)`` gives the coverage table.

    Example:
        >>> t = pd.DataFrame({"y": ["mel", "nev", "mel"], "hair": [0.9, 0.1, 0.3],
        ...                   "site": ["arm", "leg", None]})
        >>> idx = build_scg_index(t, class_column="y", descriptor_columns=["hair"],
        ...                       subgroup_columns="site")
        >>> idx.n_scgs, idx.subgroup_values
        (6, ('arm', 'leg', 'unknown'))
    """
    require_columns(table, [class_column, *descriptor_columns], "table")
    if not descriptor_columns:
        raise ValueError("descriptor_columns must name at least one column")
    checked, _ = check_descriptors(table, descriptor_columns, "table", fill=descriptor_fill)
    matrix = checked[list(descriptor_columns)].to_numpy(np.float64)
    if threshold is not None:
        matrix = (matrix >= float(threshold)).astype(np.float64)
    if table[class_column].isna().any():
        raise ValueError(
            f"class column {class_column!r} has {table[class_column].isna().sum()} empty cells"
        )
    labels = table[class_column].astype(str).to_numpy(dtype=object)
    subgroups = subgroup_labels(table, subgroup_columns, bins=bins, unknown=unknown).to_numpy(
        dtype=object
    )
    class_axis = tuple(classes) if classes is not None else tuple(sorted(set(labels)))
    sub_axis = (
        tuple(subgroup_values) if subgroup_values is not None else tuple(sorted(set(subgroups)))
    )
    for name, values, axis in (("class", labels, class_axis), ("subgroup", subgroups, sub_axis)):
        unseen = sorted(set(values) - set(axis))
        if unseen:
            raise ValueError(
                f"{name} value(s) {unseen[:5]} are not on the given {name} axis {axis}"
            )
    return SCGIndex(labels, matrix, subgroups, class_axis, tuple(descriptor_columns), sub_axis)
