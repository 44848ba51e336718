"""The semantic fairness report: coverage on train, per-SCG TPR on test, CDI (soft and hard
membership, per class, with its permutation null floor), TPR_w, TPR_std and S@95_tail."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from semcov_metrics._groups import (
    Grid,
    Split,
    encode_split,
    make_grid,
    membership_threshold,
    prediction_codes,
    prediction_labels,
    validate_split,
)
from semcov_metrics._html_method import to_html
from semcov_metrics._statistics import (
    DEFAULT_MIN_SUPPORT,
    per_class_cdi,
    scg_statistics,
    valid_mask,
)
from semcov_metrics._validation import as_float_array, check_finite, check_same_length
from semcov_metrics.cdi import DEFAULT_N_PERMUTATIONS, null_floor
from semcov_metrics.coverage import coverage_arrays
from semcov_metrics.exceptions import UndefinedMetricWarning
from semcov_metrics.performance import _sens_at_spec
from semcov_metrics.tail import tail_groups, tail_membership
from semcov_metrics.tpr import rate, tpr_sums

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "DEFAULT_MIN_SUPPORT",
    "DEFAULT_N_PERMUTATIONS",
    "SemanticFairnessReport",
    "semantic_fairness_report",
]

# (grid, test split, predicted class codes): the leading arguments of ``tpr_sums``.
_SumsArgs = tuple[Grid, Split, np.ndarray]

_TRAIN = ("train_descriptors", "train_labels", "train_subgroups")
_TEST = ("test_descriptors", "test_labels", "test_subgroups")
#: Statistics with bootstrap intervals, in the order of the replicate table's columns.
_STATISTICS = ("cdi", "tpr_worst", "tpr_std", "cdi_hard")


@dataclass(frozen=True)
class SemanticFairnessReport:
    """Semantic fairness of one model on one test split.

    Every statistic but ``cdi_hard`` is computed over the same SCG set, the *valid* SCGs: those
    whose test support (membership mass, under the report's ``membership``) is at least
    ``min_support`` and whose TPR is defined. ``cdi_hard`` uses the SCGs that are valid under
    hard membership (``valid_hard``).

    Attributes:
        table: one row per SCG: ``class, descriptor, subgroup, n_train, coverage, support, tpr,
            error, valid`` under the report's membership, then ``support_hard, tpr_hard,
            error_hard, valid_hard`` under hard membership at the descriptor threshold.
        cdi: |Pearson r| between coverage and error over the valid SCGs (the report's
            membership, default soft: the paper's rule).
        cdi_hard: the same with hard test membership ``1[p_d >= threshold]``; coverage is the
            same soft training coverage.
        cdi_null: the CDI expected with no coverage–error relation: mean |r| over
            ``n_permutations`` seeded permutations of the valid SCGs' errors
            (:func:`~semcov_metrics.cdi_null_floor`). A CDI below it is noise.
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

    def summary(self) -> dict[str, float]:
        """The statistics (and interval bounds, if any) as a flat mapping; per-class CDIs are
        ``cdi_class_<class>``."""
        names = ("cdi", "cdi_hard", "cdi_null", "tpr_worst", "tpr_std", "s95_tail")
        result: dict[str, float] = {name: getattr(self, name) for name in names}
        result["n_valid"] = self.n_valid
        for class_value, value in self.cdi_per_class.items():
            result[f"cdi_class_{class_value}"] = value
        for name, (low, high) in self.intervals.items():
            result[f"{name}_low"] = low
            result[f"{name}_high"] = high
        return result

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (NaN becomes None): every statistic, ``cdi_per_class`` with
        string keys, ``intervals`` as ``[low, high]`` lists, ``n_scgs`` (rows of the table),
        ``n_valid``, ``n_valid_hard``, ``min_support`` and ``confidence``."""
        result: dict[str, Any] = {
            "cdi": _plain(self.cdi),
            "cdi_interval": _plain(list(self.intervals.get("cdi", (None, None)))),
            "cdi_hard": _plain(self.cdi_hard),
            "cdi_null": _plain(self.cdi_null),
            "cdi_per_class": {str(k): _plain(v) for k, v in self.cdi_per_class.items()},
            "tpr_worst": _plain(self.tpr_worst),
            "tpr_std": _plain(self.tpr_std),
            "s95_tail": _plain(self.s95_tail),
            "n_scgs": len(self.table),
            "n_valid": self.n_valid,
            "n_valid_hard": int(self.table["valid_hard"].sum()),
            "min_support": self.min_support,
            "confidence": self.confidence,
            "intervals": {k: _plain(list(v)) for k, v in self.intervals.items()},
        }
        return result

    def worst_groups(self, n: int = 5) -> pd.DataFrame:
        """The ``n`` valid SCGs with the lowest TPR."""
        return self.table[self.table["valid"]].nsmallest(n, "tpr")

    to_html = to_html  # one self-contained HTML file; needs the html extra

    def plot_coverage_error(self, ax: Axes | None = None) -> Axes:
        """Coverage–error scatter of the valid SCGs with the least-squares line (paper Fig. 1)."""
        from semcov_metrics.plotting import plot_coverage_error

        return plot_coverage_error(self, ax=ax)

    def plot_coverage_heatmap(self, class_value: Any = None, ax: Axes | None = None) -> Axes:
        """Heatmap of training coverage, descriptors × subgroups, for one class (paper Fig. 5)."""
        from semcov_metrics.plotting import plot_coverage_heatmap

        return plot_coverage_heatmap(self.table, class_value=class_value, ax=ax)


def _plain(value: Any) -> Any:
    """Python floats for JSON; NaN and None become None."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None


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

    **Noise floor.** ``cdi_null`` is the CDI that errors unrelated to coverage would give on the
    same valid SCGs (mean |r| over ``n_permutations`` permutations of their errors, seeded by
    ``seed``); with ~91 SCGs it is about 0.08. Paper: CDI alone; here: the floor beside it.

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
        seed: seed of the bootstrap and of the null-floor permutations.
        confidence: level of the bootstrap intervals, in (0, 1).
        n_permutations: permutations behind ``cdi_null`` (>= 1).
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
        (0.03, 0.168)
    """
    _check_options(n_boot, min_support, confidence, n_permutations, tail_fraction)
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
    cdi_null = null_floor(table_coverage, valid_error, n_permutations, seed)
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
    return SemanticFairnessReport(
        table=table,
        cdi=cdi,
        tpr_worst=tpr_worst,
        tpr_std=tpr_std,
        n_valid=int(valid.sum()),
        intervals=intervals,
        bootstrap=replicates,
        confidence=confidence,
        cdi_hard=cdi_hard,
        cdi_null=cdi_null,
        cdi_per_class=cdi_per_class,
        s95_tail=s95_tail,
        min_support=float(min_support),
    )


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
    if (
        isinstance(n_permutations, bool)
        or not isinstance(n_permutations, int | np.integer)
        or n_permutations < 1
    ):
        raise ValueError(f"n_permutations must be a positive integer, got {n_permutations!r}")
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
