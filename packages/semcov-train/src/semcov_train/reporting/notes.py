"""Table notes in words: what a paired difference shows, and whether the paper's agrees."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .tables import DIGITS

__all__ = ["difference_sentence"]


def _finite(value: Any) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


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
    mean, half, count = paired.get(metric), paired.get(f"{metric}_h"), paired.get(f"{metric}_n")
    count = int(count) if _finite(count) else 0
    if not _finite(mean) or count == 0:
        text = f"{label}: no matched (fold, seed) pair with a defined value"
    elif not _finite(half):
        text = (
            f"{label}: {float(mean):.{digits}f} from one matched pair (no interval: it needs "
            "at least two seeds or folds)"
        )
    else:
        mean, half = float(mean), float(half)
        text = (
            f"{label}: {mean:.{digits}f} ± {half:.{digits}f} over {count} matched (fold, seed) "
            "pairs (95 % t-interval); "
        )
        if mean - half <= 0.0 <= mean + half:
            text += "the interval covers 0, so these runs show no difference"
        else:
            side = "higher" if mean > 0 else "lower"
            text += f"the interval excludes 0: {treatment or paired.get('treatment')} is {side}"
    if paper is not None and _finite(paper):
        paper = float(paper)
        text += f"; the paper reports {paper:.{digits}f}"
        if _finite(mean) and count and float(mean) != 0.0 and paper != 0.0:
            same = (float(mean) > 0) == (paper > 0)
            text += " (same sign)" if same else " (opposite sign: ours and the paper's disagree)"
    if paired.get("unmatched"):
        text += f"; not paired: {paired['unmatched']}"
    return text + "."
