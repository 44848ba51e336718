"""The audit sections of the fairness report beyond CDI: coverage bands with TPR, ECE and
reliability curves, per-SCG q-values and flags, and the worst descriptor-pair intersections."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from semcov_metrics.exceptions import UndefinedMetricWarning
from semcov_metrics.intersections import worst_intersections
from semcov_metrics.scg_flags import DEFAULT_FDR, scg_error_q_values
from semcov_metrics.strata import coverage_strata, stratum_metrics, stratum_reliability

__all__ = ["DEFAULT_FDR", "ReportSections", "report_sections"]

#: Intersections kept in a report (the worst by error lift).
TOP_INTERSECTIONS = 20


@dataclass(frozen=True)
class ReportSections:
    """The table with ``band, q_value, flagged``; the strata; reliability; intersections."""

    table: pd.DataFrame
    strata: pd.DataFrame
    reliability: dict[str, dict[str, list[float]]]
    intersections: pd.DataFrame


def report_sections(
    table: pd.DataFrame,
    *,
    train: tuple[np.ndarray, np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray, np.ndarray],
    predicted: np.ndarray,
    scores: np.ndarray | None,
    grid: Any,
    membership: str,
    threshold: Any,
    fdr: float = DEFAULT_FDR,
) -> ReportSections:
    """Every section from the report's table and its inputs (arrays as the report holds them:
    descriptors (N, K), raw labels and subgroups (N,), predicted labels (N,))."""
    axes = {
        "classes": grid.classes,
        "descriptor_names": grid.descriptors,
        "subgroup_values": grid.subgroups,
    }
    bands, _ = coverage_strata(np.where(table["valid"], table["coverage"], np.nan))
    table = table.assign(band=np.where(bands == "", None, bands))  # type: ignore[call-overload]
    flags = scg_error_q_values(
        table,
        test_labels=test[1],
        test_predictions=predicted,
        membership=membership,
        fdr=fdr,
        classes=grid.classes,
    )
    table = table.assign(q_value=flags["q_value"].to_numpy(), flagged=flags["flagged"].to_numpy())
    samples: dict[str, Any] = {
        "test_descriptors": test[0],
        "test_labels": test[1],
        "test_subgroups": test[2],
    }
    common = {**samples, "membership": membership, "threshold": threshold, **axes}
    strata = stratum_metrics(table.fillna({"band": ""}), test_scores=scores, **common)
    reliability: dict[str, dict[str, list[float]]] = {}
    if scores is not None and len(grid.classes) == 2:
        curves = stratum_reliability(table.fillna({"band": ""}), test_scores=scores, **common)
        for band, rows in curves.groupby("band", sort=False):
            rows = rows[rows["weight"] > 0]
            reliability[str(band)] = {
                name: [float(v) for v in rows[name]]
                for name in ("confidence", "accuracy", "weight")
            }
    if len(grid.descriptors) < 2:
        return ReportSections(table, strata, reliability, pd.DataFrame())
    with warnings.catch_warnings():
        # An intersection search with no pair above min_support says so in its counts.
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        found = worst_intersections(
            train_descriptors=train[0],
            train_labels=train[1],
            train_subgroups=train[2],
            test_predictions=predicted,
            threshold=threshold,
            top=TOP_INTERSECTIONS,
            fdr=fdr,
            **samples,
            **axes,
        )
    return ReportSections(
        table=table, strata=strata, reliability=reliability, intersections=found.table
    )
