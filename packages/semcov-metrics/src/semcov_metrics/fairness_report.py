"""The semantic fairness report object: per-SCG table, CDI with its test and interval, the
support-aware slope, power, strata and intersections, and its versioned JSON form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from semcov_metrics._html_method import to_html
from semcov_metrics._statistics import DEFAULT_MIN_SUPPORT
from semcov_metrics.scg_flags import DEFAULT_FDR

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from semcov_metrics.power import PowerAnalysis
    from semcov_metrics.slope import CoverageErrorSlope

__all__ = ["REPORT_SCHEMA_VERSION", "SemanticFairnessReport"]

#: Version of the JSON form of the report (``to_dict``); docs/report-schema.md describes it.
REPORT_SCHEMA_VERSION = 1
#: The null behind ``cdi_p_value``, as written into the JSON form.
NULL_NAME = "cell-rate resampling"


@dataclass(frozen=True)
class SemanticFairnessReport:
    """Semantic fairness of one model on one test split.

    Every statistic but ``cdi_hard`` is computed over the same SCG set, the *valid* SCGs: those
    whose test support (membership mass, under the report's ``membership``) is at least
    ``min_support`` and whose TPR is defined. ``cdi_hard`` uses the SCGs that are valid under
    hard membership (``valid_hard``).

    Attributes:
        table: one row per SCG: ``class, descriptor, subgroup, n_train, coverage, support, tpr,
            error, valid`` under the report's membership, ``support_hard, tpr_hard,
            error_hard, valid_hard`` under hard membership at the descriptor threshold, then
            ``tpr_low, tpr_high`` (Wilson interval at ``confidence`` on the support),
            ``exclusion`` (why an SCG does not count; empty when it does), and where computed
            ``band`` (Tail/Middle/Head), ``q_value`` and ``flagged``.
        cdi: |Pearson r| between coverage and error over the valid SCGs (the report's
            membership, default soft: the paper's rule).
        cdi_hard: the same with hard test membership ``1[p_d >= threshold]``; coverage is the
            same soft training coverage.
        cdi_null: the MEAN CDI under the null of :func:`coverage_error_test` (a noise floor:
            about half of the null draws exceed it, so it is not a threshold).
        cdi_null_q95: the 95 % quantile of that null: a CDI above it rejects at α = 0.05.
        cdi_p_value: the p-value of CDI against that null.
        slope: the support-aware coverage–error slope (:class:`CoverageErrorSlope`).
        power: the simulated power of this audit's design (:class:`PowerAnalysis`), or None.
        cdi_per_class: ``{class: CDI over the valid SCGs of that class}``.
        tpr_worst: the lowest TPR among valid SCGs.
        tpr_std: population standard deviation (ddof = 0) of TPR over valid SCGs.
        s95_tail: sensitivity at 95 % specificity on the test samples of the lowest-coverage
            ``tail_fraction`` of the valid SCGs (hard tail membership); ``nan`` unless
            ``test_scores`` were given.
        n_valid: number of valid SCGs.
        min_support: the support rule used.
        intervals: percentile bootstrap intervals ``{"cdi": (low, high), ...}`` for ``cdi,
            tpr_worst, tpr_std, cdi_hard``; empty without bootstrap. Replicates in which a
            statistic is undefined are left out of its interval.
        bootstrap: the bootstrap replicates, one row each (empty without bootstrap).
        confidence: the level of the intervals.
        n_permutations: null replicates behind ``cdi_p_value``.
        classes: the class axis.
        strata: one row per coverage band (Tail/Middle/Head): coverage range, SCG count,
            support, pooled TPR, ECE; empty when not computed.
        reliability: ``{band: {"confidence", "accuracy", "weight"}}`` reliability curves of a
            binary task's scores per band; empty when not computed.
        intersections: the worst descriptor pairs × subgroup found in the test data; empty
            when not computed.
        roc: ``{subgroup: {"fpr", "tpr", "auc"}}`` for a binary task with scores; else empty.
        fdr: the false-discovery rate behind ``flagged`` (SCGs and intersections).
    """

    table: pd.DataFrame
    cdi: float
    tpr_worst: float
    tpr_std: float
    n_valid: int
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    bootstrap: pd.DataFrame = field(default_factory=pd.DataFrame)
    confidence: float = 0.95
    cdi_hard: float = float("nan")
    cdi_null: float = float("nan")
    cdi_per_class: dict[Any, float] = field(default_factory=dict)
    s95_tail: float = float("nan")
    min_support: float = DEFAULT_MIN_SUPPORT
    cdi_null_q95: float = float("nan")
    cdi_p_value: float = float("nan")
    slope: CoverageErrorSlope | None = None
    power: PowerAnalysis | None = None
    n_permutations: int = 0
    classes: list[Any] = field(default_factory=list)
    strata: pd.DataFrame = field(default_factory=pd.DataFrame)
    reliability: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    intersections: pd.DataFrame = field(default_factory=pd.DataFrame)
    roc: dict[str, dict[str, Any]] = field(default_factory=dict)
    fdr: float = DEFAULT_FDR

    @property
    def coverage_error_slope(self) -> float:
        """The slope of a test sample's miss probability on its coverage (NaN if not fitted)."""
        return float("nan") if self.slope is None else self.slope.slope

    @property
    def slope_interval(self) -> tuple[float, float]:
        """The slope's confidence interval."""
        return (float("nan"),) * 2 if self.slope is None else self.slope.interval

    @property
    def slope_p_value(self) -> float:
        """The slope's p-value against the null of ``cdi_p_value``."""
        return float("nan") if self.slope is None else self.slope.p_value

    def summary(self) -> dict[str, float]:
        """The statistics (and interval bounds, if any) as a flat mapping; per-class CDIs are
        ``cdi_class_<class>``."""
        names = (
            "cdi",
            "cdi_hard",
            "cdi_null",
            "cdi_null_q95",
            "cdi_p_value",
            "coverage_error_slope",
            "slope_p_value",
            "tpr_worst",
            "tpr_std",
            "s95_tail",
        )
        result: dict[str, float] = {name: getattr(self, name) for name in names}
        result["slope_low"], result["slope_high"] = self.slope_interval
        result["n_valid"] = self.n_valid
        for class_value, value in self.cdi_per_class.items():
            result[f"cdi_class_{class_value}"] = value
        for name, (low, high) in self.intervals.items():
            result[f"{name}_low"] = low
            result[f"{name}_high"] = high
        return result

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (NaN becomes None), schema ``REPORT_SCHEMA_VERSION``: every
        statistic, ``cdi_per_class`` with string keys, ``intervals`` as ``[low, high]``,
        ``cdi_test``, ``coverage_error_slope``, ``power``, ``strata``, ``intersections``,
        ``reliability``, ``roc``, the counts and settings (docs/report-schema.md)."""
        return {
            "schema_version": REPORT_SCHEMA_VERSION,
            "cdi": plain(self.cdi),
            "cdi_interval": plain(list(self.intervals.get("cdi", (None, None)))),
            "cdi_hard": plain(self.cdi_hard),
            "cdi_null": plain(self.cdi_null),
            "cdi_null_q95": plain(self.cdi_null_q95),
            "cdi_p_value": plain(self.cdi_p_value),
            "cdi_test": {"null": NULL_NAME, "n_permutations": self.n_permutations},
            "cdi_per_class": {str(k): plain(v) for k, v in self.cdi_per_class.items()},
            "coverage_error_slope": None if self.slope is None else self.slope.to_dict(),
            "power": None if self.power is None else self.power.to_dict(),
            "tpr_worst": plain(self.tpr_worst),
            "tpr_std": plain(self.tpr_std),
            "s95_tail": plain(self.s95_tail),
            "n_scgs": len(self.table),
            "n_valid": self.n_valid,
            "n_valid_hard": int(self.table["valid_hard"].sum()),
            "min_support": self.min_support,
            "confidence": self.confidence,
            "intervals": {k: plain(list(v)) for k, v in self.intervals.items()},
            "classes": [str(c) for c in self.classes],
            "strata": records(self.strata),
            "intersections": records(self.intersections),
            "reliability": self.reliability,
            "roc": self.roc,
            "fdr": self.fdr,
        }

    to_html = to_html  # one self-contained HTML file; needs the html extra

    def worst_groups(self, n: int = 5) -> pd.DataFrame:
        """The ``n`` valid SCGs with the lowest TPR."""
        return self.table[self.table["valid"]].nsmallest(n, "tpr")

    def plot_coverage_error(self, ax: Axes | None = None) -> Axes:
        """Coverage–error scatter of the valid SCGs with the least-squares line (paper Fig. 1)."""
        from semcov_metrics.plotting import plot_coverage_error

        return plot_coverage_error(self, ax=ax)

    def plot_coverage_heatmap(self, class_value: Any = None, ax: Axes | None = None) -> Axes:
        """Heatmap of training coverage, descriptors × subgroups, for one class (paper Fig. 5)."""
        from semcov_metrics.plotting import plot_coverage_heatmap

        return plot_coverage_heatmap(self.table, class_value=class_value, ax=ax)


def plain(value: Any) -> Any:
    """Python floats for JSON; NaN and None become None."""
    if isinstance(value, list):
        return [plain(v) for v in value]
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as JSON-ready records: numbers as floats or ints, NaN as None, others as str."""
    out = []
    for row in frame.to_dict("records"):
        item: dict[str, Any] = {}
        for key, value in row.items():
            if isinstance(value, bool | np.bool_):
                item[str(key)] = bool(value)
            elif isinstance(value, int | np.integer):
                item[str(key)] = int(value)
            elif isinstance(value, float | np.floating):
                item[str(key)] = plain(value)
            elif value is None:
                item[str(key)] = None
            else:
                item[str(key)] = str(value)
        out.append(item)
    return out
