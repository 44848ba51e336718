"""The descriptor sensitivity by coverage band on the HTML page: flip rates pooled over the
SCGs of each band, checked against a hand computation over the rows, none lost."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from semcov_metrics._sensitivity_view import LEFT_OUT_BAND, sensitivity_by_band
from semcov_metrics.html_report import render_html


def _sensitivity(report, seed: int = 0) -> pd.DataFrame:
    """One row per SCG of ``report`` and setting, with the SCG's band (None when left out)."""
    rng = np.random.default_rng(seed)
    rows = report.table[["class", "descriptor", "subgroup", "band"]]
    frame = pd.concat([rows.assign(setting=s) for s in ("0", "1")], ignore_index=True)
    frame["mean_score_change"] = rng.normal(0, 0.05, len(frame))
    frame["decision_flip_rate"] = rng.uniform(0, 0.4, len(frame))
    frame["n"] = rng.integers(1, 40, len(frame))
    return frame


def test_flip_rates_by_band_match_a_hand_computation(binary_audit):
    full = binary_audit[4]
    sensitivity = _sensitivity(full)
    assert sensitivity["band"].isna().any()  # some SCGs are left out: they must still count
    table = sensitivity_by_band(sensitivity, ("Tail", "Middle", "Head"))
    assert len(table) == sensitivity[["descriptor", "setting"]].drop_duplicates().shape[0]
    for row in table.to_dict("records"):
        rows = sensitivity[
            (sensitivity["descriptor"] == row["descriptor"])
            & (sensitivity["setting"] == row["setting"])
        ]
        for band in ("Tail", "Middle", "Head", LEFT_OUT_BAND):
            members = rows[rows["band"].isna() if band == LEFT_OUT_BAND else rows["band"] == band]
            n = int(members["n"].sum())
            assert row[f"n_{band}"] == n
            if n:
                expected = float(np.average(members["decision_flip_rate"], weights=members["n"]))
                assert row[band] == pytest.approx(expected, rel=1e-12)
    counted = table[[c for c in table.columns if c.startswith("n_")]].to_numpy().sum()
    assert counted == sensitivity["n"].sum()  # no row lost


def test_page_shows_the_band_table_only_when_bands_are_given(binary_audit, html_tools):
    full = binary_audit[4]
    sensitivity = _sensitivity(full)
    page = html_tools.Page(render_html(full, sensitivity=sensitivity))
    header, *rows = page.tables["sensitivity-bands"]
    assert header == ["descriptor", "set to", "Tail", "Middle", "Head", LEFT_OUT_BAND]
    expected = sensitivity_by_band(sensitivity, ("Tail", "Middle", "Head"))
    assert len(rows) == len(expected)
    first = expected.iloc[0]
    assert rows[0][2] == f"{first['Tail']:.3f} ({int(first['n_Tail']):,})"
    plain = html_tools.Page(render_html(full, sensitivity=sensitivity.drop(columns="band")))
    assert "sensitivity-bands" not in plain.tables and "sensitivity-table" in plain.tables
