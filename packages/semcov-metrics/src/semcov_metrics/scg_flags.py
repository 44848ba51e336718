"""Which SCGs err more than their class? One-sided p-values per valid SCG of a fairness report's
table, BH q-values across them and a flag at a false discovery rate."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from semcov_metrics._error_test import error_p_values
from semcov_metrics._groups import MEMBERSHIPS, prediction_codes, prediction_labels
from semcov_metrics._validation import (
    as_labels,
    check_choice,
    check_same_length,
    encode,
    to_numpy,
    warn_undefined,
)
from semcov_metrics.prevalence_null import bh_q_values
from semcov_metrics.strata import MEMBERSHIP_COLUMNS

__all__ = ["DEFAULT_FDR", "scg_error_q_values"]

#: False discovery rate at which an SCG (or an intersection) is flagged.
DEFAULT_FDR = 0.05


def scg_error_q_values(
    table: pd.DataFrame,
    *,
    test_labels: Any,
    test_predictions: Any,
    membership: str = "soft",
    method: str = "z",
    alternative: str = "greater",
    fdr: float = DEFAULT_FDR,
    classes: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """Per valid SCG, a p-value for "its error is above its class's", with BH q-values.

    An SCG g of class c holds ``n_g = support_g`` of the class's ``n_c`` test samples (its
    membership mass) and ``m_g = support_g · (1 − tpr_g)`` of its ``m_c`` misses. It is
    compared with *the rest of its class*: mass ``n_c − n_g`` and misses ``m_c − m_g`` (with
    soft membership a class member i contributes ``1 − w_{i,g}`` to the rest). The SCG's
    supports overlap (a sample is in K SCGs), so the class totals come from the test arrays,
    not from the table: ``n_c`` is the number of test samples of class c, ``m_c`` those not
    predicted as c.

    * ``method="z"`` (default): the pooled two-proportion z-test on the effective counts,
      fractional as they are (a normal approximation: read it for SCGs with several expected
      members and misses).
    * ``method="fisher"``: Fisher's exact test on the counts rounded to the nearest integer
      (exact for hard membership, whose counts are integers).

    q-values are Benjamini–Hochberg across every valid SCG with a defined p-value
    (:func:`scipy.stats.false_discovery_control`); ``flagged = q < fdr``. Invalid SCGs, and an
    SCG holding its whole class (no rest to compare with), have NaN p and q, are not counted
    among the tests and are not flagged.

    Args:
        table: per-SCG table with ``class, descriptor, subgroup`` and, for ``membership="soft"``,
            ``support, tpr, valid`` or, for ``"hard"``, ``support_hard, tpr_hard, valid_hard``
            (:attr:`SemanticFairnessReport.table` has both).
        test_labels: test classes, (N,), the split the table was computed on.
        test_predictions: predicted labels (N,) or class scores (N, n_classes) whose argmax is
            taken, the predictions behind the table's TPR.
        membership: which of the table's support columns to test.
        method: ``"z"`` or ``"fisher"``.
        alternative: ``"greater"`` (error above the rest of the class), ``"less"`` or
            ``"two-sided"``.
        fdr: false discovery rate of the flag, in (0, 1).
        classes: the class axis (score columns' order); default the table's classes in order
            of first appearance.

    Returns:
        A copy of ``table`` with columns ``class_support, class_error, misses, p_value,
        q_value, flagged`` added.

    Example:
        >>> import pandas as pd
        >>> table = pd.DataFrame({"class": ["mel"] * 3, "descriptor": ["a", "b", "c"],
        ...     "subgroup": ["x"] * 3, "support": [20.0, 40.0, 40.0],
        ...     "tpr": [0.4, 0.9, 0.9], "valid": True})
        >>> y = ["mel"] * 100
        >>> pred = ["mel"] * 84 + ["nev"] * 16
        >>> out = scg_error_q_values(table, test_labels=y, test_predictions=pred)
        >>> print(out[["descriptor", "misses", "class_error", "p_value", "flagged"]].round(4))
          descriptor  misses  class_error  p_value  flagged
        0          a    12.0         0.16   0.0000     True
        1          b     4.0         0.16   0.9093    False
        2          c     4.0         0.16   0.9093    False
    """
    check_choice(membership, "membership", MEMBERSHIPS)
    if isinstance(fdr, bool) or not isinstance(fdr, int | float) or not 0 < fdr < 1:
        raise ValueError(f"fdr must be a number in (0, 1), got {fdr!r}")
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a DataFrame, got {type(table).__name__}")
    support_column, tpr_column, valid_column = MEMBERSHIP_COLUMNS[membership]
    needed = ("class", support_column, tpr_column, valid_column)
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise ValueError(
            f"table lacks columns {missing} needed for membership={membership!r}; found "
            f"{list(table.columns)}"
        )
    axis = (
        list(dict.fromkeys(table["class"].tolist()))
        if classes is None
        else to_numpy(classes, "classes").tolist()
    )
    class_support, class_misses = class_totals(test_labels, test_predictions, axis)
    class_code = encode(table["class"].to_numpy(), "table class", axis, "classes")
    valid = table[valid_column].to_numpy(dtype=bool)
    support = table[support_column].to_numpy(dtype=np.float64)
    misses = support * (1.0 - table[tpr_column].to_numpy(dtype=np.float64))
    p = error_p_values(
        np.where(valid, misses, np.nan),
        np.where(valid, support, 0.0),
        class_misses[class_code],
        class_support[class_code],
        method=method,
        alternative=alternative,
    )
    whole = valid & np.isnan(p)
    if whole.any():
        warn_undefined(
            f"{int(whole.sum())} valid SCG(s) hold their whole class, so there is no rest of "
            "the class to compare with; their p-value is NaN"
        )
    out = table.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["class_support"] = class_support[class_code]
        out["class_error"] = class_misses[class_code] / class_support[class_code]
    out["misses"] = misses
    out["p_value"] = p
    out["q_value"] = bh_q_values(p)
    out["flagged"] = out["q_value"].to_numpy() < fdr
    return out


def class_totals(
    test_labels: Any, test_predictions: Any, classes: list[Any]
) -> tuple[np.ndarray, np.ndarray]:
    """(test samples, misses) per class of the axis, each (T,) float. Predicted labels are
    compared with the true ones as they are (a predicted class need not be on the axis);
    score matrices are read by their argmax over the axis."""
    labels = as_labels(test_labels, "test_labels")
    codes = encode(labels, "test_labels", classes, "classes")
    predicted = prediction_labels(test_predictions, "test_predictions")
    if predicted is None:
        wrong = prediction_codes(test_predictions, "test_predictions", classes) != codes
    else:
        check_same_length(test_labels=labels, test_predictions=predicted)
        wrong = predicted != labels
    check_same_length(test_labels=labels, test_predictions=wrong)
    n = len(classes)
    support = np.bincount(codes, minlength=n).astype(np.float64)
    misses = np.bincount(codes, weights=wrong.astype(np.float64), minlength=n)
    return support, misses
