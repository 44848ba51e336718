"""The statistics of a fairness report over one SCG set: CDI, TPR_w, TPR_std, per-class CDI."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from semcov_metrics._validation import warn_undefined
from semcov_metrics.cdi import pearson_abs
from semcov_metrics.exceptions import UndefinedMetricWarning

__all__: list[str] = []

#: Default minimum expected test membership (support) of an SCG that counts in the statistics.
#: One expected member: below it an SCG's TPR rests on a fraction of one image (a single
#: melanoma with p_d = 0.3 would set TPR_w to 0 or 1 by itself). With hard membership support
#: is a count, so this equals "at least one member". On MILK10k-sized test splits (90 melanomas,
#: 8 sites, 7 MONET descriptors) it keeps about 87 % of the populated soft SCGs; 5 would drop
#: almost half of them.
DEFAULT_MIN_SUPPORT = 1.0


def valid_mask(support: np.ndarray, tpr: np.ndarray, min_support: float) -> np.ndarray:
    """The SCGs that count: test support of at least ``min_support`` and a defined TPR."""
    return (support >= min_support) & ~np.isnan(tpr)


def scg_statistics(
    coverage: np.ndarray, support: np.ndarray, tpr: np.ndarray, min_support: float
) -> tuple[float, float, float]:
    """(CDI, TPR_w, TPR_std) over the valid SCGs; all arrays are flat, shape (G,)."""
    valid = valid_mask(support, tpr, min_support)
    if not valid.any():
        undefined = warn_undefined(
            f"no SCG has test support of at least min_support={min_support:g}; TPR_w is undefined"
        )
        return pearson_abs(coverage[valid], 1.0 - tpr[valid]), undefined, undefined
    kept = tpr[valid]
    return pearson_abs(coverage[valid], 1.0 - kept), float(kept.min()), float(kept.std())


def per_class_cdi(
    classes: list[Any], class_of: np.ndarray, coverage: np.ndarray, error: np.ndarray
) -> dict[Any, float]:
    """CDI within each class over the given (valid) SCGs: ``{class: |r|}``.

    Args:
        classes: the class axis.
        class_of: class code of every SCG, shape (G,).
        coverage: coverage per SCG, shape (G,).
        error: error per SCG, NaN where the SCG does not count, shape (G,).
    """
    result = {}
    for code, class_value in enumerate(classes):
        rows = class_of == code
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UndefinedMetricWarning)
            result[class_value] = pearson_abs(coverage[rows], error[rows])
        for warning in caught:
            warn_undefined(f"class {class_value!r}: {warning.message}")
    return result
