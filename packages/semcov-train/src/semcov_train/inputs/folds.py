"""Fold k of the 70:10:20 rotation: which part (train, val, test) each sample is in."""

from __future__ import annotations

import numpy as np
import pandas as pd

from semcov_data import grouped_kfold

from ..config import N_FOLDS

__all__ = ["fold_parts"]


def fold_parts(labels: np.ndarray, groups: np.ndarray, fold: int, seed: int) -> np.ndarray:
    """``"train" | "val" | "test"`` per sample for fold ``k`` of the 70:10:20 rotation.

    The samples are cut into ten stratified, grouped tenths (``grouped_kfold``); fold k tests on
    tenths ``(8 + 2k) % 10`` and ``(9 + 2k) % 10`` and validates on ``(7 + 2k) % 10``. Fold 0 is
    exactly ``grouped_split(labels, groups, seed=seed)``; the 5 folds' test sets are disjoint and
    cover every sample (paper: "group-stratified K-fold", proportions 70:10:20).
    """
    n_groups = len(pd.unique(pd.Series(groups, dtype=object)))
    if n_groups < 10:
        raise ValueError(
            f"the dataset has {n_groups} leakage groups (lesions/patients); the 70:10:20 split "
            "needs at least 10"
        )
    tenths = grouped_kfold(labels, groups, n_splits=10, seed=seed)
    if not 0 <= fold < N_FOLDS:
        raise ValueError(f"fold must be in 0..{N_FOLDS - 1}, got {fold}")
    test = {(8 + 2 * fold) % 10, (9 + 2 * fold) % 10}
    val = (7 + 2 * fold) % 10
    parts = np.full(len(labels), "train", dtype=object)
    parts[np.isin(tenths, list(test))] = "test"
    parts[tenths == val] = "val"
    return parts
