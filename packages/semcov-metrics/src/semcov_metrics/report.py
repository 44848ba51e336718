"""The semantic fairness report: coverage on train, per-SCG TPR on test, CDI, TPR_w, TPR_std."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from semcov_metrics._groups import (
    encode_split,
    make_grid,
    membership_threshold,
    prediction_codes,
    prediction_labels,
    validate_split,
)
from semcov_metrics._validation import check_same_length, warn_undefined
from semcov_metrics.cdi import pearson_abs
from semcov_metrics.coverage import coverage_arrays
from semcov_metrics.exceptions import UndefinedMetricWarning
from semcov_metrics.tpr import rate, tpr_sums

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["SemanticFairnessReport", "semantic_fairness_report"]

_TRAIN = ("train_descriptors", "train_labels", "train_subgroups")
_TEST = ("test_descriptors", "test_labels", "test_subgroups")
_STATISTICS = ("cdi", "tpr_worst", "tpr_std")


@dataclass(frozen=True)
class SemanticFairnessReport:
    """Semantic fairness of one model on one test split.

    Attributes:
        table: one row per SCG: ``class, descriptor, subgroup, n_train, coverage, support, tpr,
            error, valid`` (``valid``: test support above ``min_support``, used by the statistics).
        cdi: |Pearson r| between coverage and error over the valid SCGs.
        tpr_worst: the lowest TPR among valid SCGs.
        tpr_std: population standard deviation (ddof = 0) of TPR over valid SCGs.
        n_valid: number of valid SCGs.
        intervals: percentile bootstrap intervals ``{"cdi": (low, high), ...}``; empty without
            bootstrap. Replicates in which a statistic is undefined are left out of its interval.
        bootstrap: the bootstrap replicates, one row each (empty without bootstrap).
        confidence: the level of the intervals.
    """

    table: pd.DataFrame
    cdi: float
    tpr_worst: float
    tpr_std: float
    n_valid: int
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    bootstrap: pd.DataFrame = field(default_factory=pd.DataFrame)
    confidence: float = 0.95

    def summary(self) -> dict[str, float]:
        """The statistics (and interval bounds, if any) as a flat mapping."""
        result: dict[str, float] = {name: getattr(self, name) for name in _STATISTICS}
        result["n_valid"] = self.n_valid
        for name, (low, high) in self.intervals.items():
            result[f"{name}_low"] = low
            result[f"{name}_high"] = high
        return result

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


def semantic_fairness_report(
    *,
    train_descriptors: Any,
    train_labels: Any,
    train_subgroups: Any,
    test_descriptors: Any,
    test_labels: Any,
    test_predictions: Any,
    test_subgroups: Any,
    membership: str = "soft",
    threshold: float | Any = 0.5,
    min_support: float = 0.0,
    n_boot: int = 0,
    seed: int = 0,
    confidence: float = 0.95,
    descriptor_names: Any = None,
    classes: Any = None,
    subgroup_values: Any = None,
) -> SemanticFairnessReport:
    """Semantic fairness of a model: CDI, TPR_w and TPR_std over Semantic Coverage Groups.

    Coverage comes from the training split only (soft coverage, the mean descriptor probability
    per class and subgroup); TPR per SCG from the test split, with soft or hard membership
    (see :func:`scg_tpr`). SCGs whose test support is at most ``min_support`` are reported but
    excluded from the statistics.

    With ``n_boot > 0`` the test samples are resampled with replacement ``n_boot`` times
    (coverage stays fixed: it is a property of the training data) and percentile intervals
    at level ``confidence`` are returned. A CDI over ~100 SCGs moves a lot between test sets;
    read it with its interval.

    Args:
        train_descriptors: descriptor probabilities of the training split, (N_train, K).
        train_labels: training classes, (N_train,).
        train_subgroups: training subgroups, (N_train,).
        test_descriptors: descriptor probabilities of the test split, (N_test, K).
        test_labels: test classes, (N_test,).
        test_predictions: predicted labels (N_test,) or class scores (N_test, n_classes).
        test_subgroups: test subgroups, (N_test,).
        membership: ``"soft"`` (default) or ``"hard"`` test membership.
        threshold: hard-membership threshold (scalar or one per descriptor).
        min_support: SCGs need test support strictly above this to count.
        n_boot: number of bootstrap replicates (0: none).
        seed: seed of the bootstrap.
        confidence: level of the bootstrap intervals, in (0, 1).
        descriptor_names: K names; default the DataFrame columns or ``d0 … d{K-1}``.
        classes: class axis; default the sorted union of all labels and predicted labels.
        subgroup_values: subgroup axis; default the sorted union of train and test subgroups.

    Returns:
        A :class:`SemanticFairnessReport`.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> p_train, p_test = rng.random((400, 3)), rng.random((200, 3))
        >>> y_train, y_test = rng.integers(0, 2, 400), rng.integers(0, 2, 200)
        >>> s_train, s_test = rng.integers(0, 4, 400), rng.integers(0, 4, 200)
        >>> report = semantic_fairness_report(
        ...     train_descriptors=p_train, train_labels=y_train, train_subgroups=s_train,
        ...     test_descriptors=p_test, test_labels=y_test,
        ...     test_predictions=rng.integers(0, 2, 200), test_subgroups=s_test, n_boot=200)
        >>> report.n_valid
        24
        >>> round(report.cdi, 3), [round(x, 3) for x in report.intervals["cdi"]]
        (0.016, [0.002, 0.356])
    """
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 0:
        raise ValueError(f"n_boot must be a non-negative integer, got {n_boot!r}")
    if isinstance(min_support, bool) or not isinstance(min_support, int | float | np.number):
        raise TypeError(f"min_support must be a number, got {min_support!r}")
    if not np.isfinite(min_support) or min_support < 0:
        raise ValueError(f"min_support must be a finite number >= 0, got {min_support!r}")
    if not isinstance(confidence, float) or not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be a float in (0, 1), got {confidence!r}")

    train = validate_split(
        train_descriptors, train_labels, train_subgroups, _TRAIN, descriptor_names
    )
    test = validate_split(test_descriptors, test_labels, test_subgroups, _TEST, descriptor_names)
    if train[0].shape[1] != test[0].shape[1]:
        raise ValueError(
            f"train_descriptors has {train[0].shape[1]} columns but test_descriptors has "
            f"{test[0].shape[1]}"
        )
    if train[3] != test[3]:
        raise ValueError(
            f"train and test descriptor names differ: {train[3]} vs {test[3]}; reorder the "
            "columns or pass descriptor_names"
        )
    predicted = prediction_labels(test_predictions, "test_predictions")
    observed = [train[1], test[1]] + ([] if predicted is None else [predicted])
    grid = make_grid(classes, train[3], subgroup_values, observed, [train[2], test[2]])
    train_split = encode_split(grid, *train[:3], _TRAIN)
    test_split = encode_split(grid, *test[:3], _TEST)
    predicted_codes = prediction_codes(test_predictions, "test_predictions", grid.classes)
    check_same_length(test_labels=test[1], test_predictions=predicted_codes)

    n_train, coverage = coverage_arrays(grid, train_split, None, "rate")
    tau = membership_threshold(len(grid.descriptors), membership, threshold)
    args = (grid, test_split, predicted_codes, tau)
    support, correct = tpr_sums(*args)
    tpr = rate(correct, support)
    table = grid.frame(n_train=n_train, coverage=coverage, support=support, tpr=tpr)
    table["error"] = 1.0 - table["tpr"]
    table["valid"] = (table["support"] > min_support) & table["tpr"].notna()
    statistics = _statistics(coverage.ravel(), support.ravel(), tpr.ravel(), min_support)

    intervals: dict[str, tuple[float, float]] = {}
    replicates = pd.DataFrame(columns=list(_STATISTICS))
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        n = len(predicted_codes)
        rows = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            for _ in range(n_boot):
                counts = np.bincount(rng.integers(0, n, n), minlength=n).astype(np.float64)
                boot_support, boot_correct = tpr_sums(*args, sample_weight=counts)
                boot_tpr = rate(boot_correct, boot_support)
                rows.append(
                    _statistics(
                        coverage.ravel(), boot_support.ravel(), boot_tpr.ravel(), min_support
                    )
                )
        replicates = pd.DataFrame(rows, columns=list(_STATISTICS))
        tail = (1.0 - confidence) / 2.0
        for name in _STATISTICS:
            values = replicates[name].dropna().to_numpy()
            intervals[name] = (
                (float(np.quantile(values, tail)), float(np.quantile(values, 1.0 - tail)))
                if values.size
                else (float("nan"), float("nan"))
            )
    return SemanticFairnessReport(
        table=table,
        cdi=statistics[0],
        tpr_worst=statistics[1],
        tpr_std=statistics[2],
        n_valid=int(table["valid"].sum()),
        intervals=intervals,
        bootstrap=replicates,
        confidence=confidence,
    )


def _statistics(
    coverage: np.ndarray, support: np.ndarray, tpr: np.ndarray, min_support: float
) -> tuple[float, float, float]:
    valid = (support > min_support) & ~np.isnan(tpr)
    if not valid.any():
        undefined = warn_undefined("no SCG has test support above min_support; TPR_w is undefined")
        return pearson_abs(coverage[valid], 1.0 - tpr[valid]), undefined, undefined
    kept = tpr[valid]
    return pearson_abs(coverage[valid], 1.0 - kept), float(kept.min()), float(kept.std())
