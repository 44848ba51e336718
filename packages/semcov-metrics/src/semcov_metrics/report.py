"""The semantic fairness report: coverage on train, per-SCG TPR on test, CDI (soft and hard
membership, per class, with its permutation null floor), TPR_w, TPR_std and S@95_tail."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from semcov_metrics._audit_inputs import audit_inputs
from semcov_metrics._groups import (
    Grid,
    Split,
    membership_threshold,
)
from semcov_metrics._statistics import (
    DEFAULT_MIN_SUPPORT,
    per_class_cdi,
    scg_statistics,
    valid_mask,
)
from semcov_metrics._validation import as_float_array, check_finite, check_same_length
from semcov_metrics.cell_permutation import DEFAULT_N_PERMUTATIONS, check_n_permutations
from semcov_metrics.coverage import coverage_arrays
from semcov_metrics.exceptions import UndefinedMetricWarning
from semcov_metrics.fairness_report import SemanticFairnessReport
from semcov_metrics.performance import _sens_at_spec
from semcov_metrics.power import DEFAULT_REFERENCE_SLOPE, cdi_power
from semcov_metrics.report_extras import exclusion_reasons, subgroup_roc, wilson_interval
from semcov_metrics.report_sections import report_sections
from semcov_metrics.significance import significance_from_arrays
from semcov_metrics.tail import tail_groups, tail_membership
from semcov_metrics.tpr import rate, tpr_sums

__all__ = [
    "DEFAULT_MIN_SUPPORT",
    "DEFAULT_N_PERMUTATIONS",
    "SemanticFairnessReport",
    "semantic_fairness_report",
]

# (grid, test split, predicted class codes): the leading arguments of ``tpr_sums``.
_SumsArgs = tuple[Grid, Split, np.ndarray]

#: Simulated audits and null replicates of each audit behind ``power=True``: the power at the
#: reference slope then has a Monte Carlo standard error of at most 0.07, and the p-values
#: resolve 0.01 (docs/paper-notes.md#cdi-power).
POWER_SIMULATIONS = 50
POWER_PERMUTATIONS = 99
#: Statistics with bootstrap intervals, in the order of the replicate table's columns.
_STATISTICS = ("cdi", "tpr_worst", "tpr_std", "cdi_hard")


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
    min_support: float = DEFAULT_MIN_SUPPORT,
    n_boot: int = 0,
    seed: int = 0,
    confidence: float = 0.95,
    n_permutations: int = DEFAULT_N_PERMUTATIONS,
    power: bool = False,
    reference_slope: float = DEFAULT_REFERENCE_SLOPE,
    test_scores: Any = None,
    tail_fraction: float = 0.3,
    descriptor_names: Any = None,
    classes: Any = None,
    subgroup_values: Any = None,
) -> SemanticFairnessReport:
    """Semantic fairness of a model: CDI, TPR_w and TPR_std over Semantic Coverage Groups.

    Coverage comes from the training split only (soft coverage, the mean descriptor probability
    per class and subgroup); TPR per SCG from the test split, with soft or hard membership
    (see :func:`scg_tpr`).

    **One SCG set.** CDI, its null floor, the per-class CDIs, TPR_w, TPR_std and S@95_tail are
    all computed over the *valid* SCGs: test support of at least ``min_support`` and a defined
    TPR (an SCG whose cell has no training sample counts with coverage 0 when it has that test
    support). The other SCGs stay in ``table`` with ``valid = False``. Paper: SCGs are not
    filtered and the tail's SCG set is not stated; here: one support rule for every statistic,
    and by default at least one expected test member (``min_support=1.0``), so that an SCG
    resting on a fraction of one image cannot set TPR_w. ``cdi_hard`` applies the same rule to
    hard-membership support.

    **A test, not only a number.** ``cdi_p_value`` tests CDI against a null that keeps how
    the SCGs hang together (SCGs of one cell share test samples): the cells' error rates are
    permuted within each class and every test sample's miss is redrawn from its cell's rate
    (:func:`coverage_error_test`); ``cdi_null`` is that null's mean, ``cdi_null_q95`` its 95 %
    quantile. ``slope`` is the support-aware coverage–error slope over every test sample, with
    its interval and p-value. With ``power=True`` the audit's own test design is simulated
    with a planted slope of ``reference_slope`` (:func:`cdi_power`): ``power`` says whether the
    audit could have seen an effect. Paper: CDI alone; here: its test, slope and power beside it
    (``docs/paper-notes.md#cdi-test``).

    With ``n_boot > 0`` the test samples are resampled with replacement ``n_boot`` times
    (coverage stays fixed: it is a property of the training data) and percentile intervals
    at level ``confidence`` are returned. A CDI over ~100 SCGs moves a lot between test sets;
    read it with its interval and its floor.

    Args:
        train_descriptors: descriptor probabilities of the training split, (N_train, K).
        train_labels: training classes, (N_train,).
        train_subgroups: training subgroups, (N_train,).
        test_descriptors: descriptor probabilities of the test split, (N_test, K).
        test_labels: test classes, (N_test,).
        test_predictions: predicted labels (N_test,) or class scores (N_test, n_classes).
        test_subgroups: test subgroups, (N_test,).
        membership: ``"soft"`` (default) or ``"hard"`` test membership of ``cdi``, TPR_w,
            TPR_std; ``cdi_hard`` is always hard.
        threshold: hard-membership threshold (scalar or one per descriptor).
        min_support: an SCG counts when its test support is at least this (>= 0).
        n_boot: number of bootstrap replicates (0: none).
        seed: seed of the bootstrap, the null and the power simulation.
        confidence: level of the bootstrap intervals, the slope's and each SCG's TPR interval.
        n_permutations: null replicates behind ``cdi_p_value`` (>= 99).
        power: simulate the power of this test design (slower: about a hundred audits).
        reference_slope: the planted slope of the power simulation.
        test_scores: positive-class scores of a binary task (N_test,), for ``s95_tail``
            (class 1 of the class axis is the positive class); ``None``: ``s95_tail`` is NaN.
        tail_fraction: share of the valid SCGs, by lowest coverage, in the S@95 tail.
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
        >>> round(report.cdi_hard, 3), round(report.cdi_null, 3)  # the CDI is below its floor
        (0.03, 0.169)
        >>> round(report.cdi_p_value, 3), round(report.cdi_null_q95, 3)  # no evidence
        (0.951, 0.383)
        >>> fit = report.slope  # every test sample once, intervals clustered by cell
        >>> round(fit.slope, 3), [round(v, 3) for v in fit.interval], round(fit.p_value, 3)
        (-0.951, [-3.349, 1.446], 0.591)
    """
    _check_options(n_boot, min_support, confidence, n_permutations, tail_fraction)
    inputs = audit_inputs(
        train=(train_descriptors, train_labels, train_subgroups),
        test=(test_descriptors, test_labels, test_subgroups),
        test_predictions=test_predictions,
        descriptor_names=descriptor_names,
        classes=classes,
        subgroup_values=subgroup_values,
    )
    grid, train, test = inputs.grid, inputs.train_raw, inputs.test_raw
    train_split, test_split, predicted_codes = inputs.train, inputs.test, inputs.predicted
    scores = _positive_scores(test_scores, grid.classes, len(predicted_codes))

    n_train, coverage = coverage_arrays(grid, train_split, None, "rate")
    tau = membership_threshold(len(grid.descriptors), membership, threshold)
    tau_hard = membership_threshold(len(grid.descriptors), "hard", threshold)
    args = (grid, test_split, predicted_codes)
    support, correct, support_hard, correct_hard = _membership_sums(args, tau, tau_hard)
    tpr, tpr_hard = rate(correct, support), rate(correct_hard, support_hard)
    table = grid.frame(n_train=n_train, coverage=coverage, support=support, tpr=tpr)
    table["error"] = 1.0 - table["tpr"]
    table["valid"] = valid_mask(table["support"].to_numpy(), table["tpr"].to_numpy(), min_support)
    hard = grid.frame(support=support_hard, tpr=tpr_hard)
    table["support_hard"] = hard["support"]
    table["tpr_hard"] = hard["tpr"]
    table["error_hard"] = 1.0 - hard["tpr"]
    table["valid_hard"] = valid_mask(
        hard["support"].to_numpy(), hard["tpr"].to_numpy(), min_support
    )

    flat_coverage = coverage.ravel()
    cdi, tpr_worst, tpr_std = scg_statistics(
        flat_coverage, support.ravel(), tpr.ravel(), min_support
    )
    cdi_hard = scg_statistics(flat_coverage, support_hard.ravel(), tpr_hard.ravel(), min_support)[0]
    valid = table["valid"].to_numpy()
    valid_error = np.where(valid, table["error"].to_numpy(), np.nan)
    table_coverage = table["coverage"].to_numpy()
    weights = test_split.descriptors if tau is None else (test_split.descriptors >= tau) * 1.0
    significance = significance_from_arrays(
        coverage=coverage,
        support=support,
        error=1.0 - tpr,
        valid=valid_mask(support, tpr, min_support),
        class_codes=test_split.labels,
        subgroup_codes=test_split.subgroups,
        weights=weights,
        miss=predicted_codes != test_split.labels,
        n_subgroups=len(grid.subgroups),
        n_replicates=n_permutations,
        seed=seed,
        confidence=confidence,
    )
    low, high = wilson_interval(table["tpr"].to_numpy(), table["support"].to_numpy(), confidence)
    table["tpr_low"], table["tpr_high"] = low, high
    table["exclusion"] = exclusion_reasons(table, min_support)
    class_codes = pd.Index(grid.classes).get_indexer(table["class"])
    cdi_per_class = per_class_cdi(grid.classes, class_codes, table_coverage, valid_error)
    s95_tail = float("nan")
    if scores is not None:
        s95_tail = _tail_sensitivity(table, tail_fraction, test, scores, tau_hard, grid)

    intervals: dict[str, tuple[float, float]] = {}
    replicates = pd.DataFrame(columns=list(_STATISTICS))
    if n_boot > 0:
        replicates = _bootstrap(args, (tau, tau_hard), flat_coverage, min_support, n_boot, seed)
        tail = (1.0 - confidence) / 2.0
        for name in _STATISTICS:
            values = replicates[name].dropna().to_numpy()
            intervals[name] = (
                (float(np.quantile(values, tail)), float(np.quantile(values, 1.0 - tail)))
                if values.size
                else (float("nan"), float("nan"))
            )
    roc = {} if scores is None else subgroup_roc(test_split, scores, grid)
    sections = report_sections(
        table,
        train=train[:3],
        test=test[:3],
        predicted=np.asarray(grid.classes, dtype=object)[predicted_codes],
        scores=scores,
        grid=grid,
        membership=membership,
        threshold=threshold,
        n_permutations=n_permutations,
        seed=seed,
    )
    power_analysis = None
    if power:
        power_analysis = cdi_power(
            train_descriptors=train[0],
            train_labels=train[1],
            train_subgroups=train[2],
            test_descriptors=test[0],
            test_labels=test[1],
            test_subgroups=test[2],
            slope=reference_slope,
            base_error=_class_errors(test_split.labels, predicted_codes, grid.classes),
            membership=membership,
            threshold=threshold,
            min_support=min_support,
            n_simulations=POWER_SIMULATIONS,
            n_permutations=POWER_PERMUTATIONS,
            seed=seed,
            descriptor_names=grid.descriptors,
            classes=grid.classes,
            subgroup_values=grid.subgroups,
        )
    return SemanticFairnessReport(
        table=sections.table,
        cdi=cdi,
        tpr_worst=tpr_worst,
        tpr_std=tpr_std,
        n_valid=int(valid.sum()),
        intervals=intervals,
        bootstrap=replicates,
        confidence=confidence,
        cdi_hard=cdi_hard,
        cdi_null=significance.null_mean,
        cdi_null_q95=significance.null_q95,
        cdi_p_value=significance.p_value,
        slope=significance.slope,
        power=power_analysis,
        n_permutations=n_permutations,
        classes=list(grid.classes),
        cdi_per_class=cdi_per_class,
        s95_tail=s95_tail,
        min_support=float(min_support),
        roc=roc,
        strata=sections.strata,
        reliability=sections.reliability,
        intersections=sections.intersections,
        class_coverage=sections.class_coverage,
        descriptor_tests=sections.descriptor_tests,
    )


def _class_errors(labels: np.ndarray, predicted: np.ndarray, classes: list[Any]) -> dict:
    """Observed miss rate of each class (the power simulation's base error), 0.5 if absent."""
    errors = {}
    for code, value in enumerate(classes):
        rows = labels == code
        errors[value] = float((predicted[rows] != code).mean()) if rows.any() else 0.5
    return errors


def _check_options(
    n_boot: Any, min_support: Any, confidence: Any, n_permutations: Any, tail_fraction: Any
) -> None:
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 0:
        raise ValueError(f"n_boot must be a non-negative integer, got {n_boot!r}")
    if isinstance(min_support, bool) or not isinstance(min_support, int | float | np.number):
        raise TypeError(f"min_support must be a number, got {min_support!r}")
    if not np.isfinite(min_support) or min_support < 0:
        raise ValueError(f"min_support must be a finite number >= 0, got {min_support!r}")
    if not isinstance(confidence, float) or not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be a float in (0, 1), got {confidence!r}")
    check_n_permutations(n_permutations)
    if (
        isinstance(tail_fraction, bool)
        or not isinstance(tail_fraction, int | float)
        or not 0 < tail_fraction <= 1
    ):
        raise ValueError(f"tail_fraction must be a number in (0, 1], got {tail_fraction!r}")


def _positive_scores(value: Any, classes: list[Any], n: int) -> np.ndarray | None:
    if value is None:
        return None
    if len(classes) != 2:
        raise ValueError(
            f"test_scores needs a binary task (2 classes) for s95_tail, got classes {classes}"
        )
    scores = as_float_array(value, "test_scores", ndim=1)
    check_finite(scores, "test_scores")
    check_same_length(test_labels=np.empty(n), test_scores=scores)
    return scores


def _tail_sensitivity(
    table: pd.DataFrame,
    fraction: float,
    test: tuple[np.ndarray, np.ndarray, np.ndarray, list[str]],
    scores: np.ndarray,
    threshold: np.ndarray,
    grid: Any,
) -> float:
    """S@95 on the hard members of the lowest-coverage ``fraction`` of the valid SCGs."""
    matrix, labels, subgroups, names = test
    tail = tail_groups(table, fraction)
    weight = tail_membership(tail, matrix, labels, subgroups, names, threshold)
    keep = weight > 0
    positive = (labels == grid.classes[1]).astype(np.intp)
    return _sens_at_spec(positive[keep], scores[keep], 0.95, weight[keep])


def _bootstrap(
    args: _SumsArgs,
    thresholds: tuple[np.ndarray | None, np.ndarray],
    coverage: np.ndarray,
    min_support: float,
    n_boot: int,
    seed: int,
) -> pd.DataFrame:
    """One row of ``_STATISTICS`` per replicate of the test samples (drawn with replacement)."""
    rng = np.random.default_rng(seed)
    n = len(args[2])
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        for _ in range(n_boot):
            counts = np.bincount(rng.integers(0, n, n), minlength=n).astype(np.float64)
            sums = _membership_sums(args, *thresholds, sample_weight=counts)
            row = []
            for boot_support, boot_correct in (sums[:2], sums[2:]):
                boot_tpr = rate(boot_correct, boot_support)
                row.append(
                    scg_statistics(coverage, boot_support.ravel(), boot_tpr.ravel(), min_support)
                )
            rows.append((*row[0], row[1][0]))
    return pd.DataFrame(rows, columns=list(_STATISTICS))


def _membership_sums(
    args: _SumsArgs,
    threshold: np.ndarray | None,
    hard_threshold: np.ndarray,
    sample_weight: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Support and hits under the report's membership and under hard membership, (n_cells, K)
    each; soft and hard come from one pass over the descriptors."""
    if threshold is not None:  # hard membership already: both are the same sums
        support, correct = tpr_sums(*args, threshold, sample_weight=sample_weight)
        return support, correct, support, correct
    support, correct = tpr_sums(
        *args, None, sample_weight=sample_weight, also_threshold=hard_threshold
    )
    k = support.shape[1] // 2
    return support[:, :k], correct[:, :k], support[:, k:], correct[:, k:]
