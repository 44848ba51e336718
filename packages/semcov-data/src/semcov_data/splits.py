"""Leakage-free splits (stratified by class, grouped by lesion or patient) and a leakage audit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

__all__ = [
    "DEFAULT_FRACTIONS",
    "LeakageReport",
    "audit_leakage",
    "grouped_kfold",
    "grouped_split",
    "leakage_groups",
]

#: Paper §4.1: 70:10:20.
DEFAULT_FRACTIONS: Mapping[str, float] = {"train": 0.7, "val": 0.1, "test": 0.2}
_MAX_FOLDS = 20


def _is_empty(value: object) -> bool:
    return (
        value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == ""
    )


def leakage_groups(table: pd.DataFrame, columns: Sequence[str], *, id_column: str) -> np.ndarray:
    """Leakage group of every row: rows sharing a value in any of ``columns`` are one group.

    Groups are the connected components of "shares a lesion id or a patient id", so a lesion
    seen once with and once without a patient id still cannot land in two parts. A row with
    every id empty is its own group (named by ``id_column``), never one big "empty" group.

    Args:
        table: the table.
        columns: id columns that link rows, e.g. ``["patient_id", "lesion_id"]``.
        id_column: unique row id, names the groups of rows without any link.

    Returns:
        An object array of group names, shape (N,).

    Example:
        >>> t = pd.DataFrame({"img": ["a", "b", "c", "d"], "patient": ["p1", None, "p1", None],
        ...                   "lesion": ["l1", "l1", None, None]})
        >>> leakage_groups(t, ["patient", "lesion"], id_column="img").tolist()
        ['patient:p1', 'patient:p1', 'patient:p1', 'img:d']
    """
    n = len(table)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_key: dict[int, str] = {}
    for column in columns:
        seen: dict[str, int] = {}
        for i, value in enumerate(table[column].tolist()):
            if _is_empty(value):
                continue
            key = str(value).strip()
            if key in seen:
                a, b = find(i), find(seen[key])
                if a != b:
                    parent[max(a, b)] = min(a, b)
            else:
                seen[key] = i
            first_key.setdefault(i, f"{column.removesuffix('_id')}:{key}")
    ids = table[id_column].astype(str).tolist()
    # A group is named by the first id of its first row, so names are stable across runs.
    names: dict[int, str] = {}
    out = np.empty(n, dtype=object)
    for i in range(n):
        root = find(i)
        if root not in names:
            names[root] = first_key.get(root, f"{id_column.removesuffix('_id')}:{ids[root]}")
        out[i] = names[root]
    return out


def _fold_ids(labels: np.ndarray, groups: np.ndarray, n_folds: int, seed: int) -> np.ndarray:
    labels = np.asarray(labels)
    groups = np.asarray(groups)
    if labels.shape != groups.shape or labels.ndim != 1:
        raise ValueError(
            f"labels and groups must be 1-d of one length, got {labels.shape} and {groups.shape}"
        )
    if pd.isna(pd.Series(groups)).any():
        raise ValueError("groups must not be empty: give rows without an id their own group")
    n_groups = len(set(groups.tolist()))
    if n_groups < n_folds:
        raise ValueError(f"groups: {n_groups} group(s) cannot fill {n_folds} folds")
    folds = np.full(len(labels), -1, dtype=np.int64)
    # Groups are given as codes in a seeded order: StratifiedGroupKFold's tie-breaking then depends
    # on the seed only, not on the table's row order or the group names.
    codes = pd.factorize(groups)[0]
    perm = np.random.default_rng(seed).permutation(codes.max() + 1)
    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    for k, (_, test) in enumerate(splitter.split(np.zeros(len(labels)), labels, perm[codes])):
        folds[test] = k
    return folds


def grouped_kfold(
    labels: Sequence, groups: Sequence, *, n_splits: int = 5, seed: int = 0
) -> np.ndarray:
    """Fold of every sample for K-fold cross-validation, stratified by class, grouped.

    Args:
        labels: class of each sample, shape (N,).
        groups: leakage group of each sample (see :func:`leakage_groups`), shape (N,).
        n_splits: K.
        seed: same seed, same folds.

    Returns:
        Fold index in ``0 … K-1`` per sample, shape (N,).
    """
    if not isinstance(n_splits, int) or n_splits < 2:
        raise ValueError(f"n_splits must be an integer >= 2, got {n_splits!r}")
    return _fold_ids(np.asarray(labels), np.asarray(groups, dtype=object), n_splits, seed)


def grouped_split(
    labels: Sequence,
    groups: Sequence,
    *,
    fractions: Mapping[str, float] = DEFAULT_FRACTIONS,
    seed: int = 0,
) -> np.ndarray:
    """Part name of every sample: stratified by class, no group in two parts.

    The fractions are turned into a number of equal folds (70:10:20 → 10 folds: 7, 1, 2) by
    ``StratifiedGroupKFold``, so each part keeps the class ratio as far as the groups allow.

    Args:
        labels: class of each sample, shape (N,).
        groups: leakage group of each sample, shape (N,).
        fractions: part name → share, summing to 1, each a multiple of 1/20 or finer
            fraction with denominator ≤ 20.
        seed: same seed, same split.

    Returns:
        Object array of part names, shape (N,).
    """
    if not fractions:
        raise ValueError("fractions must name at least one part")
    shares = {
        name: Fraction(float(f)).limit_denominator(_MAX_FOLDS) for name, f in fractions.items()
    }
    if any(s <= 0 for s in shares.values()) or sum(shares.values()) != 1:
        raise ValueError(f"fractions must be positive and sum to 1, got {dict(fractions)}")
    n_folds = int(np.lcm.reduce([s.denominator for s in shares.values()]))
    if n_folds > _MAX_FOLDS:
        raise ValueError(f"fractions {dict(fractions)} need {n_folds} folds; at most {_MAX_FOLDS}")
    folds = _fold_ids(np.asarray(labels), np.asarray(groups, dtype=object), n_folds, seed)
    part_of_fold = []
    for name, share in shares.items():
        part_of_fold += [name] * int(share * n_folds)
    return np.asarray(part_of_fold, dtype=object)[folds]


@dataclass(frozen=True)
class LeakageReport:
    """Ids found in more than one part of a split.

    Attributes:
        overlaps: id column → sorted ids present in two or more parts.
        parts: the part names audited.
    """

    overlaps: Mapping[str, list[str]]
    parts: tuple[str, ...]

    @property
    def is_clean(self) -> bool:
        """True when no id is in two parts."""
        return not any(self.overlaps.values())

    def to_dict(self) -> dict[str, list[str]]:
        """``{"lesion_overlap": [...], "patient_overlap": [...]}`` (key: column without ``_id``)."""
        return {f"{c.removesuffix('_id')}_overlap": ids for c, ids in self.overlaps.items()}


def audit_leakage(
    table: pd.DataFrame,
    *,
    part_column: str,
    id_columns: Sequence[str] = ("lesion_id", "patient_id"),
) -> LeakageReport:
    """Which lesion / patient ids appear in more than one part of a given split.

    Args:
        table: one row per image, with the part of each row and the id columns.
        part_column: column holding the part (``"train"``, ``"valid"``, ...).
        id_columns: id columns to audit; empty ids are not ids and are skipped.

    Returns:
        A :class:`LeakageReport`.

    Example:
        >>> t = pd.DataFrame({"part": ["train", "valid", "valid"], "lesion_id": ["l1", "l1", None]})
        >>> audit_leakage(t, part_column="part", id_columns=["lesion_id"]).to_dict()
        {'lesion_overlap': ['l1']}
    """
    missing = [c for c in (part_column, *id_columns) if c not in table.columns]
    if missing:
        raise ValueError(
            f"audit: missing column(s) {missing}; columns found: {list(table.columns)}"
        )
    overlaps: dict[str, list[str]] = {}
    for column in id_columns:
        ids = table[column].astype(object)
        keep = ~ids.map(_is_empty)
        parts_per_id = (
            table.loc[keep].groupby(ids[keep].astype(str).str.strip())[part_column].nunique()
        )
        overlaps[column] = sorted(parts_per_id.index[parts_per_id > 1].tolist())
    return LeakageReport(overlaps, tuple(sorted(table[part_column].astype(str).unique())))
