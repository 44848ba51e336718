"""Table notes in words: what a paired difference shows, and whether the paper's agrees."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .tables import DIGITS

__all__ = ["difference_sentence"]


def _float(value: Any) -> float:
    """`value` as a float; NaN for None and anything that is not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def difference_sentence(
    paired: Mapping,
    metric: str,
    *,
    treatment: str | None = None,
    control: str | None = None,
    name: str | None = None,
    paper: float | None = None,
    digits: int = DIGITS,
) -> str:
    """One sentence on a paired difference, for a table's note.

    It gives ``d ± h`` and the number of pairs, says whether the 95 % interval covers 0 (then
    the runs do not show a difference) or which side it lies on, compares the sign with the
    paper's difference when `paper` is given, and names runs left without a partner.

    For example: ``SemCovNet − ENet-B0, CDI: -0.0500 ± 0.0800 over 3 matched (fold, seed)
    pairs (95 % t-interval); the interval covers 0, so these runs show no difference; the
    paper reports -0.5594 (same sign).``

    Args:
        paired: one record of :func:`~semcov_train.reporting.paired_differences`.
        metric: the metric's column.
        treatment, control: labels (default the record's ``treatment`` / ``control``).
        name: the metric's label (default `metric`).
        paper: the paper's difference (treatment − control), or None.
        digits: decimals.
    """
    label = (
        f"{treatment or paired.get('treatment')} − {control or paired.get('control')}, "
        f"{name or metric}"
    )
    mean, half = _float(paired.get(metric)), _float(paired.get(f"{metric}_h"))
    count = _float(paired.get(f"{metric}_n"))
    pairs = int(count) if math.isfinite(count) else 0
    if not math.isfinite(mean) or pairs == 0:
        text = f"{label}: no matched (fold, seed) pair with a defined value"
    elif not math.isfinite(half):
        text = (
            f"{label}: {mean:.{digits}f} from one matched pair (no interval: it needs "
            "at least two seeds or folds)"
        )
    else:
        text = (
            f"{label}: {mean:.{digits}f} ± {half:.{digits}f} over {pairs} matched (fold, seed) "
            "pairs (95 % t-interval); "
        )
        if mean - half <= 0.0 <= mean + half:
            text += "the interval covers 0, so these runs show no difference"
        else:
            side = "higher" if mean > 0 else "lower"
            text += f"the interval excludes 0: {treatment or paired.get('treatment')} is {side}"
    reported = _float(paper)
    if math.isfinite(reported):
        text += f"; the paper reports {reported:.{digits}f}"
        if math.isfinite(mean) and pairs and mean != 0.0 and reported != 0.0:
            same = (mean > 0) == (reported > 0)
            text += " (same sign)" if same else " (opposite sign: ours and the paper's disagree)"
    if paired.get("unmatched"):
        text += f"; not paired: {paired['unmatched']}"
    return text + "."
