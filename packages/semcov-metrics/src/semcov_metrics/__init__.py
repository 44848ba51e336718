"""semcov-metrics: coverage-aware fairness metrics (CDI, per-SCG coverage and TPR) and the
performance and calibration metrics of the SemCovNet paper, and the dataset diagnostics of its
released code. Imports numpy, pandas, scikit-learn and scipy only; torch tensors are accepted as
inputs without importing torch."""

from __future__ import annotations

from typing import Any

from semcov_metrics._groups import MEMBERSHIPS
from semcov_metrics._version import __version__
from semcov_metrics.alignment import align_gap, alignment_cosine, recall_at_1
from semcov_metrics.calibration import expected_calibration_error, reliability_diagram
from semcov_metrics.cdi import cdi_null_floor, coverage_disparity_index
from semcov_metrics.cell_permutation import CDITest, cdi_permutation_test
from semcov_metrics.class_coverage import class_descriptor_coverage
from semcov_metrics.coverage import coverage_tensor, scg_coverage
from semcov_metrics.coverage_bootstrap import coverage_bootstrap_intervals
from semcov_metrics.disparity import fpr_disparity, group_rates, tpr_disparity
from semcov_metrics.exceptions import UndefinedMetricWarning
from semcov_metrics.intersections import WorstIntersections, worst_intersections
from semcov_metrics.performance import (
    PERFORMANCE_KEYS,
    performance_report,
    sensitivity_at_specificity,
)
from semcov_metrics.power import PowerAnalysis, cdi_power
from semcov_metrics.prevalence_null import class_permutation_test
from semcov_metrics.report import SemanticFairnessReport, semantic_fairness_report
from semcov_metrics.scarcity import (
    cas_sampling_weights,
    cas_subsets,
    compositional_attribute_scarcity,
)
from semcov_metrics.scg_flags import scg_error_q_values
from semcov_metrics.semantic_scale import semantic_scale
from semcov_metrics.significance import CoverageErrorTest, coverage_error_slope, coverage_error_test
from semcov_metrics.slope import CoverageErrorSlope
from semcov_metrics.strata import BANDS, coverage_strata, stratum_metrics, stratum_reliability
from semcov_metrics.subsampling import BalancedSubsampling, class_balanced_subsampling
from semcov_metrics.tail import tail_groups, tail_sensitivity_at_specificity
from semcov_metrics.tpr import scg_tpr

__all__ = [
    "BANDS",
    "MEMBERSHIPS",
    "PERFORMANCE_KEYS",
    "BalancedSubsampling",
    "CDITest",
    "CoverageDisparityIndex",
    "CoverageErrorSlope",
    "CoverageErrorTest",
    "PowerAnalysis",
    "SemanticFairnessReport",
    "UndefinedMetricWarning",
    "WorstIntersections",
    "__version__",
    "align_gap",
    "alignment_cosine",
    "cas_sampling_weights",
    "cas_subsets",
    "cdi_null_floor",
    "cdi_permutation_test",
    "cdi_power",
    "class_balanced_subsampling",
    "class_descriptor_coverage",
    "class_permutation_test",
    "compositional_attribute_scarcity",
    "coverage_bootstrap_intervals",
    "coverage_disparity_index",
    "coverage_error_slope",
    "coverage_error_test",
    "coverage_strata",
    "coverage_tensor",
    "expected_calibration_error",
    "fpr_disparity",
    "group_rates",
    "performance_report",
    "recall_at_1",
    "reliability_diagram",
    "scg_coverage",
    "scg_error_q_values",
    "scg_tpr",
    "semantic_fairness_report",
    "semantic_scale",
    "sensitivity_at_specificity",
    "stratum_metrics",
    "stratum_reliability",
    "tail_groups",
    "tail_sensitivity_at_specificity",
    "tpr_disparity",
    "worst_intersections",
]


def __getattr__(name: str) -> Any:
    # The torchmetrics integration imports torch, so it loads only when asked for.
    if name == "CoverageDisparityIndex":
        from semcov_metrics.streaming import CoverageDisparityIndex

        return CoverageDisparityIndex
    raise AttributeError(f"module 'semcov_metrics' has no attribute {name!r}")
