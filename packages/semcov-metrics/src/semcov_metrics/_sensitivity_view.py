"""The descriptor-sensitivity section of the HTML page: a table of how a model's score and
decision move when one descriptor is set to 0 or 1, pooled over subgroups, and the same by
coverage band (does the model use a concept where it is rare?)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from semcov_metrics import report_figures
from semcov_metrics._report_view import fmt, fmt_change

__all__ = [
    "LEFT_OUT_BAND",
    "SENSITIVITY_COLUMNS",
    "sensitivity_by_band",
    "sensitivity_section",
    "sensitivity_summary",
]

#: Columns a descriptor-sensitivity table must have (one row per descriptor, class, subgroup
#: and setting of the descriptor, "0" or "1").
SENSITIVITY_COLUMNS = (
    "descriptor",
    "class",
    "subgroup",
    "setting",
    "mean_score_change",
    "decision_flip_rate",
    "n",
)
#: The band of a sensitivity row whose SCG has no band (too little test support).
LEFT_OUT_BAND = "left out"


def sensitivity_summary(sensitivity: pd.DataFrame) -> pd.DataFrame:
    """Descriptor sensitivity pooled over subgroups: one row per descriptor, class and setting,
    ``n``-weighted means of ``mean_score_change`` and ``decision_flip_rate``, ``n`` summed.

    Example:
        >>> s = pd.DataFrame({"descriptor": ["hair"] * 2, "class": ["MEL"] * 2,
        ...     "subgroup": ["arm", "leg"], "setting": ["1", "1"], "mean_score_change": [0.1, 0.4],
        ...     "decision_flip_rate": [0.0, 0.2], "n": [30, 10]})
        >>> sensitivity_summary(s).round(3)
          descriptor class setting  mean_score_change  decision_flip_rate   n
        0       hair   MEL       1              0.175                0.05  40
    """
    if not isinstance(sensitivity, pd.DataFrame):
        raise TypeError(f"sensitivity must be a pandas DataFrame, got {type(sensitivity).__name__}")
    missing = [c for c in SENSITIVITY_COLUMNS if c not in sensitivity.columns]
    if missing:
        raise ValueError(f"sensitivity lacks the columns {missing}; it needs {SENSITIVITY_COLUMNS}")
    frame = sensitivity.assign(setting=sensitivity["setting"].astype(str))
    n = frame["n"].to_numpy(dtype=float)
    weighted = frame.assign(
        mean_score_change=frame["mean_score_change"] * n,
        decision_flip_rate=frame["decision_flip_rate"] * n,
    )
    keys = ["descriptor", "class", "setting"]
    columns = ["mean_score_change", "decision_flip_rate", "n"]
    pooled = weighted.groupby(keys, sort=False)[columns].sum().reset_index()
    for column in ("mean_score_change", "decision_flip_rate"):
        pooled[column] = pooled[column] / pooled["n"].where(pooled["n"] > 0)
    return pooled


def sensitivity_by_band(sensitivity: pd.DataFrame, bands: Sequence[str]) -> pd.DataFrame:
    """Decision-flip rate per descriptor and setting in each coverage band (the ``band`` column
    of the SCGs, pooled over classes and subgroups, ``n``-weighted); SCGs without a band (left
    out for too little test support) form the column :data:`LEFT_OUT_BAND`, so no row is lost.

    Returns:
        One row per descriptor and setting; a flip-rate column and an ``n_<band>`` count per
        band present (in the order of `bands`, then :data:`LEFT_OUT_BAND`).

    Example:
        >>> s = pd.DataFrame({"descriptor": "hair", "class": ["MEL", "MEL", "NV"],
        ...     "subgroup": ["arm", "leg", "arm"], "setting": "1",
        ...     "mean_score_change": 0.0, "decision_flip_rate": [0.5, 0.1, 0.2],
        ...     "n": [10, 30, 10], "band": ["Tail", "Head", None]})
        >>> table = sensitivity_by_band(s, ("Tail", "Middle", "Head"))
        >>> table[["Tail", "Head", "left out", "n_Tail", "n_Head", "n_left out"]]
           Tail  Head  left out  n_Tail  n_Head  n_left out
        0   0.5   0.1       0.2      10      30          10
    """
    if "band" not in sensitivity.columns:
        raise ValueError("sensitivity has no band column (the SCGs' coverage bands)")
    band = sensitivity["band"].astype(object).where(sensitivity["band"].notna(), LEFT_OUT_BAND)
    pooled = sensitivity_summary(sensitivity.assign(**{"class": band.astype(str)}))
    order = [b for b in (*bands, LEFT_OUT_BAND) if b in set(pooled["class"])]
    keys = ["descriptor", "setting"]
    rates = pooled.pivot(index=keys, columns="class", values="decision_flip_rate")[order]
    counts = pooled.pivot(index=keys, columns="class", values="n")[order]
    counts = counts.fillna(0).astype(int).add_prefix("n_")
    rows = pooled[keys].drop_duplicates()
    table = rates.join(counts).reindex(pd.MultiIndex.from_frame(rows)).reset_index()
    table.columns.name = None
    return table


def sensitivity_section(
    sensitivity: pd.DataFrame, svg: Callable[[Any, str], Any], bands: Sequence[str]
) -> dict[str, Any]:
    """What the page's sensitivity section shows: pooled rows, the figure (through `svg`),
    and, when the table has the SCGs' bands, the flip rate per band."""
    summary = sensitivity_summary(sensitivity)
    pooled = sensitivity_summary(sensitivity.assign(**{"class": "all"}))
    section: dict[str, Any] = {
        "rows": [
            {
                "descriptor": str(r.descriptor),
                "class": str(r[1]),
                "setting": r.setting,
                "change": fmt_change(r.mean_score_change),
                "flips": fmt(r.decision_flip_rate),
                "n": fmt(int(r.n)),
            }
            for r in summary.itertuples(index=False)
        ],
        "figure": svg(report_figures.sensitivity_figure(pooled), "Descriptor sensitivity"),
        "n_rows": len(sensitivity),
        "bands": [],
        "band_rows": [],
    }
    if "band" in sensitivity.columns:
        by_band = sensitivity_by_band(sensitivity, bands)
        names = [c for c in by_band.columns if c not in ("descriptor", "setting")]
        section["bands"] = [c for c in names if not c.startswith("n_")]
        section["band_rows"] = [
            {
                "descriptor": str(row["descriptor"]),
                "setting": str(row["setting"]),
                "cells": [
                    f"{fmt(row[b])} ({fmt(int(row[f'n_{b}']))})" if row[f"n_{b}"] > 0 else "–"
                    for b in section["bands"]
                ],
            }
            for row in by_band.to_dict("records")
        ]
    return section
