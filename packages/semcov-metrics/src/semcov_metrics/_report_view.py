"""The fields of a semantic fairness report as the HTML page shows them: read with ``getattr`` so
that a field the report does not carry yet is shown as "not computed", formatted once."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "BANDS",
    "MISSING",
    "NOT_COMPUTED",
    "descriptor_test_rows",
    "excluded_rows",
    "field",
    "fmt",
    "fmt_change",
    "fmt_interval",
    "fmt_p",
    "intersection_rows",
    "ordered_scgs",
    "percent",
    "scg_name",
    "scg_rows",
    "slope_details",
    "strata_rows",
]

#: Shown for a field the report does not carry.
NOT_COMPUTED = "not computed"
#: Coverage bands of the report's ``band`` column, from scarce to plentiful.
BANDS = ("Tail", "Middle", "Head")


class _Missing:
    """The marker of a field absent from the report (distinct from a NaN value)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def field(report: Any, name: str) -> Any:
    """``report.name``, or :data:`MISSING` when the report has no such field.

    Example:
        >>> class Old:
        ...     cdi = 0.2
        >>> field(Old(), "cdi"), field(Old(), "cdi_p_value")
        (0.2, MISSING)
    """
    value = getattr(report, name, MISSING)
    # Results with a JSON form (the power analysis) are read as that mapping.
    return value.to_dict() if hasattr(value, "to_dict") and not hasattr(value, "columns") else value


def _undefined(value: Any) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def fmt(value: Any, digits: int = 3) -> str:
    """A number as the page prints it: "not computed" when missing, "undefined" for NaN/None.

    Example:
        >>> fmt(0.12345), fmt(12), fmt(float("nan")), fmt(MISSING), fmt(True)
        ('0.123', '12', 'undefined', 'not computed', 'yes')
    """
    if value is MISSING:
        return NOT_COMPUTED
    if _undefined(value):
        return "undefined"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        return f"{float(value):.{digits}f}"
    return str(value)


def fmt_p(value: Any) -> str:
    """A p- or q-value: three decimals, "< 0.001" below that.

    Example:
        >>> fmt_p(0.04321), fmt_p(0.0002), fmt_p(MISSING)
        ('0.043', '< 0.001', 'not computed')
    """
    if value is MISSING or _undefined(value):
        return fmt(value)
    return "< 0.001" if float(value) < 0.001 else f"{float(value):.3f}"


def fmt_change(value: Any, digits: int = 4) -> str:
    """A signed change, "+0.0123" or "-0.0004"; one too small to show is "0.0000", not "-0.0000".

    Example:
        >>> fmt_change(0.01234), fmt_change(-0.00004), fmt_change(-0.0004), fmt_change(None)
        ('+0.0123', '0.0000', '-0.0004', 'undefined')
    """
    if value is MISSING or _undefined(value):
        return fmt(value)
    text = f"{float(value):+.{digits}f}"
    return text[1:] if float(text) == 0.0 else text


def fmt_interval(interval: Any, digits: int = 3, between: str = " to ") -> str:
    """``[low, high]`` as "low to high"; "" when the interval is missing or undefined.

    Example:
        >>> fmt_interval((0.1, 0.25)), fmt_interval([None, None]), fmt_interval(MISSING)
        ('0.100 to 0.250', '', '')
        >>> fmt_interval((0.1, 0.25), 2, between="–")
        '0.10–0.25'
    """
    if interval is MISSING or interval is None:
        return ""
    low, high = list(interval)
    if _undefined(low) or _undefined(high):
        return ""
    return f"{float(low):.{digits}f}{between}{float(high):.{digits}f}"


def percent(value: float) -> str:
    """A share as the page writes it, "95 %".

    Example:
        >>> percent(0.95), percent(0.999)
        ('95\\xa0%', '99.9\\xa0%')
    """
    return f"{100 * float(value):.3g}\u00a0%"  # no line break inside "95 %"


def scg_name(*parts: Any) -> str:
    """An SCG named by its parts, underscores read as spaces: "MEL · blue white veil · leg".

    Example:
        >>> scg_name("MEL", "MONET_hair", "lower_extremity")
        'MEL · MONET hair · lower extremity'
    """
    return " · ".join(str(part).replace("_", " ") for part in parts)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([MISSING] * len(frame), index=frame.index, dtype=object)


def ordered_scgs(table: pd.DataFrame) -> pd.DataFrame:
    """The valid SCGs, worst first: flagged ones first (when the table has ``flagged``), then by
    TPR ascending; undefined TPRs last.

    Example:
        >>> t = pd.DataFrame({"tpr": [0.9, 0.2, 0.5], "valid": [True, True, False],
        ...                   "flagged": [True, False, False]})
        >>> ordered_scgs(t)["tpr"].tolist()
        [0.9, 0.2]
    """
    valid = table[table["valid"].astype(bool)]
    flagged = (
        valid["flagged"].eq(True)
        if "flagged" in valid.columns
        else pd.Series(False, index=valid.index)
    )
    keys = pd.DataFrame({"flag": ~flagged, "tpr": valid["tpr"]}, index=valid.index)
    order = keys.sort_values(["flag", "tpr"], na_position="last", kind="stable").index
    return valid.loc[order]


def scg_rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    """One formatted row per valid SCG of ``table``, worst first (:func:`ordered_scgs`)."""
    rows = ordered_scgs(table)
    columns = {
        name: _column(rows, name).tolist()
        for name in ("band", "tpr_low", "tpr_high", "q_value", "flagged")
    }
    out = []
    for i, row in enumerate(rows.itertuples(index=False)):
        flagged = columns["flagged"][i]
        band = columns["band"][i]
        interval = (
            (columns["tpr_low"][i], columns["tpr_high"][i])
            if columns["tpr_low"][i] is not MISSING
            else MISSING
        )
        out.append(
            {
                "class": str(row[0]),
                "descriptor": str(row.descriptor),
                "subgroup": str(row.subgroup),
                "n_train": fmt(int(row.n_train)),
                "coverage": fmt(row.coverage),
                "band": NOT_COMPUTED if band is MISSING else ("–" if band is None else str(band)),
                "support": fmt(row.support, 1),
                "tpr": fmt(row.tpr),
                "tpr_interval": (
                    NOT_COMPUTED if interval is MISSING else fmt_interval(interval, between="–")
                ),
                "q_value": fmt_p(columns["q_value"][i]),
                "flagged": flagged is not MISSING and bool(flagged),
                "flag": NOT_COMPUTED if flagged is MISSING else ("flagged" if flagged else ""),
            }
        )
    return out


def excluded_rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The SCGs left out of the statistics, with their counts and the reason (``exclusion``)."""
    rows = table[~table["valid"].astype(bool)]
    reasons = _column(rows, "exclusion").tolist()
    return [
        {
            "class": str(row[0]),
            "descriptor": str(row.descriptor),
            "subgroup": str(row.subgroup),
            "n_train": fmt(int(row.n_train)),
            "support": fmt(row.support, 2),
            "reason": NOT_COMPUTED if reason is MISSING else (str(reason) or "–"),
        }
        for row, reason in zip(rows.itertuples(index=False), reasons, strict=True)
    ]


def strata_rows(strata: Any) -> list[dict[str, str]]:
    """One formatted row per coverage band of ``report.strata``; [] when missing or empty."""
    if not isinstance(strata, pd.DataFrame) or strata.empty:
        return []
    return [
        {
            "band": str(row.band),
            "coverage": f"{fmt(row.coverage_low)} to {fmt(row.coverage_high)}",
            "n_scgs": fmt(int(row.n_scgs)),
            "support": fmt(row.support, 1),
            "tpr": fmt(row.tpr),
            "ece": fmt(row.ece),
        }
        for row in strata.itertuples(index=False)
    ]


def intersection_rows(intersections: Any, limit: int = 15) -> tuple[list[dict[str, str]], int]:
    """The ``limit`` strongest intersections (lowest q-value, then highest lift) as formatted
    rows, and how many the report found."""
    if not isinstance(intersections, pd.DataFrame) or intersections.empty:
        return [], 0
    ranked = intersections.sort_values(
        ["q_value", "error_lift"], ascending=[True, False], na_position="last", kind="stable"
    ).head(limit)
    classes = ranked["class"].tolist()
    rows = [
        {
            "name": scg_name(class_value, row.intersection, row.subgroup),
            "n_train": fmt(int(row.n_train_both)),
            "coverage": fmt(row.train_coverage),
            "support": fmt(row.support, 1),
            "error": fmt(row.error),
            "lift": fmt(row.error_lift, 2),
            "p_value": fmt_p(row.p_value),
            "q_value": fmt_p(row.q_value),
        }
        for class_value, row in zip(classes, ranked.itertuples(index=False), strict=True)
    ]
    return rows, len(intersections)


def descriptor_test_rows(tests: Any) -> list[dict[str, str]]:
    """The training set's per-descriptor class-permutation tests as formatted rows, lowest
    q-value first (empty when the report has none)."""
    if not isinstance(tests, pd.DataFrame) or tests.empty:
        return []
    ranked = tests.sort_values(["q_value", "descriptor"], na_position="last", kind="stable")
    return [
        {
            "descriptor": str(row.descriptor).replace("_", " "),
            "statistic": fmt(row.statistic, 5),
            "null_q95": fmt(row.null_q95, 5),
            "p_value": fmt_p(row.p_value),
            "q_value": fmt_p(row.q_value),
        }
        for row in ranked.itertuples(index=False)
    ]


def slope_details(report: Any) -> dict[str, Any]:
    """The support-aware slope, its interval, p-value and sample/cluster counts (from
    ``to_dict()``'s ``coverage_error_slope`` entry when the report has it)."""
    details: dict[str, Any] = {
        "slope": field(report, "coverage_error_slope"),
        "interval": field(report, "slope_interval"),
        "p_value": field(report, "slope_p_value"),
        "n_samples": MISSING,
        "n_clusters": MISSING,
    }
    if getattr(report, "slope", MISSING) is None:  # a report whose slope was not fitted
        details["slope"] = MISSING
    entry = report.to_dict().get("coverage_error_slope") if hasattr(report, "to_dict") else None
    if isinstance(entry, Mapping):
        details["n_samples"] = entry.get("n_samples", MISSING)
        details["n_clusters"] = entry.get("n_clusters", MISSING)
    return details
