"""Power of the coverage–error tests by simulation: how often an audit of a given design rejects
at α when error follows coverage with a planted slope, and the smallest slope it detects."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from semcov_metrics._groups import (
    cell_sums,
    encode_split,
    make_grid,
    membership_threshold,
    validate_split,
)
from semcov_metrics._statistics import DEFAULT_MIN_SUPPORT, valid_mask
from semcov_metrics._validation import warn_undefined
from semcov_metrics.cell_permutation import MIN_TEST_PERMUTATIONS, check_n_permutations
from semcov_metrics.coverage import coverage_arrays
from semcov_metrics.exceptions import UndefinedMetricWarning
from semcov_metrics.significance import significance_from_arrays
from semcov_metrics.slope import sample_coverage

__all__ = ["DEFAULT_REFERENCE_SLOPE", "PowerAnalysis", "cdi_power"]

#: The effect an audit should be able to see, unless told otherwise: a miss probability that
#: rises by 0.05 for every 0.1 of training coverage lost. See docs/paper-notes.md#cdi-power.
DEFAULT_REFERENCE_SLOPE = -0.5
#: Slope magnitudes at which power is simulated to find the minimum detectable slope.
SLOPE_GRID = (0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0)
_TRAIN = ("train_descriptors", "train_labels", "train_subgroups")
_TEST = ("test_descriptors", "test_labels", "test_subgroups")


@dataclass(frozen=True)
class PowerAnalysis:
    """Simulated power of an audit design.

    Attributes:
        slope: the planted slope of the headline numbers.
        power_cdi: probability that the CDI test rejects at ``alpha`` under ``slope``.
        power_slope: the same for the slope's test.
        min_detectable_slope_cdi: smallest slope magnitude (in the planted direction) detected
            with ``target_power`` by the CDI test; NaN when none on the grid is.
        min_detectable_slope: the same for the slope's test.
        false_positive_cdi, false_positive_slope: rejection rates at slope 0 (should be near
            or below ``alpha``).
        alpha, target_power, n_simulations, n_permutations: the settings.
        n_test: test samples per simulated audit.
        curve: power at every simulated slope (columns ``slope, power_cdi, power_slope``).
    """

    slope: float
    power_cdi: float
    power_slope: float
    min_detectable_slope_cdi: float
    min_detectable_slope: float
    false_positive_cdi: float
    false_positive_slope: float
    alpha: float
    target_power: float
    n_simulations: int
    n_permutations: int
    n_test: int
    curve: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)

    @property
    def underpowered(self) -> bool:
        """True when the CDI test's power at ``slope`` is below ``target_power``."""
        return not self.power_cdi >= self.target_power

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN becomes None), with the power curve as records."""

        def plain(value: float) -> float | None:
            return float(value) if np.isfinite(value) else None

        return {
            "reference_slope": plain(self.slope),
            "power_at_reference": plain(self.power_cdi),
            "power_slope_at_reference": plain(self.power_slope),
            "min_detectable_slope": plain(self.min_detectable_slope_cdi),
            "min_detectable_slope_slope_test": plain(self.min_detectable_slope),
            "false_positive_cdi": plain(self.false_positive_cdi),
            "false_positive_slope": plain(self.false_positive_slope),
            "alpha": self.alpha,
            "target_power": self.target_power,
            "underpowered": self.underpowered,
            "n_simulations": self.n_simulations,
            "n_permutations": self.n_permutations,
            "n_test": self.n_test,
            "curve": [
                {k: plain(v) for k, v in row.items()} for row in self.curve.to_dict("records")
            ],
        }


@dataclass(frozen=True)
class _Design:
    """The fixed parts of a simulated audit (coverage, the sample pool, its codes)."""

    coverage: np.ndarray  # (n_cells, K)
    weights: np.ndarray  # (M, K) pool of test-sample memberships
    classes: np.ndarray  # (M,)
    subgroups: np.ndarray  # (M,)
    n_classes: int
    n_subgroups: int


def _simulate(
    design: _Design,
    draws: list[np.ndarray] | None,
    slopes: np.ndarray,
    base: np.ndarray,
    cell_sd: float,
    min_support: float,
    alpha: float,
    n_simulations: int,
    n_permutations: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Rejection rates (len(slopes),) of the CDI test and the slope test; every slope sees the
    same simulated designs, uniforms and null seeds (common random numbers)."""
    rng = np.random.default_rng(seed)
    reject_cdi = np.zeros(len(slopes))
    reject_slope = np.zeros(len(slopes))
    n_cells = design.n_classes * design.n_subgroups
    for sim in range(n_simulations):
        rows = draws[sim] if draws is not None else np.arange(len(design.classes))
        weights, labels = design.weights[rows], design.classes[rows]
        subgroups = design.subgroups[rows]
        cells = labels * design.n_subgroups + subgroups
        kappa = sample_coverage(weights, labels, subgroups, design.coverage, design.n_subgroups)
        defined = np.isfinite(kappa)
        counts = np.bincount(labels[defined], minlength=design.n_classes)
        sums = np.bincount(labels[defined], kappa[defined], minlength=design.n_classes)
        centred = np.where(defined, kappa - (sums / np.maximum(counts, 1))[labels], 0.0)
        cell_effect = rng.normal(0.0, cell_sd, n_cells) if cell_sd > 0 else np.zeros(n_cells)
        uniforms = rng.random(len(rows))
        support = cell_sums(cells, n_cells, weights)
        null_seed = int(rng.integers(2**31))
        for j, slope in enumerate(slopes):
            probability = np.clip(base[labels] + cell_effect[cells] + slope * centred, 0.0, 1.0)
            miss = uniforms < probability
            missed = cell_sums(cells, n_cells, weights * miss[:, None])
            with np.errstate(invalid="ignore", divide="ignore"):
                error = np.where(support > 0, missed / np.where(support > 0, support, 1), np.nan)
            valid = valid_mask(support, 1.0 - error, min_support)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UndefinedMetricWarning)
                result = significance_from_arrays(
                    coverage=design.coverage,
                    support=support,
                    error=error,
                    valid=valid,
                    class_codes=labels,
                    subgroup_codes=subgroups,
                    weights=weights,
                    miss=miss,
                    n_subgroups=design.n_subgroups,
                    n_replicates=n_permutations,
                    seed=null_seed,
                    confidence=0.95,
                )
            reject_cdi[j] += result.p_value <= alpha
            reject_slope[j] += result.slope.p_value <= alpha
    return reject_cdi / n_simulations, reject_slope / n_simulations


def _detectable(magnitudes: np.ndarray, power: np.ndarray, target: float) -> float:
    """The smallest magnitude whose power reaches ``target`` (linear between grid points)."""
    above = np.flatnonzero(power >= target)
    if above.size == 0:
        return float("nan")
    first = int(above[0])
    if first == 0:
        return float(magnitudes[0])
    low, high = magnitudes[first - 1], magnitudes[first]
    fraction = (target - power[first - 1]) / (power[first] - power[first - 1])
    return float(low + fraction * (high - low))


def _class_values(value: Any, classes: list[Any], name: str) -> np.ndarray:
    """A scalar or a {class: value} mapping as one value per class."""
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in classes]
        missing = [c for c in classes if c not in value]
        if unknown or missing:
            raise ValueError(
                f"{name} must give every class {classes}; unknown {unknown}, missing {missing}"
            )
        values = np.array([float(value[c]) for c in classes])
    else:
        values = np.full(len(classes), float(value))
    return values


def cdi_power(
    *,
    train_descriptors: Any,
    train_labels: Any,
    train_subgroups: Any,
    n_test: int | None = None,
    class_proportions: Mapping[Any, float] | None = None,
    test_descriptors: Any = None,
    test_labels: Any = None,
    test_subgroups: Any = None,
    slope: float = DEFAULT_REFERENCE_SLOPE,
    base_error: float | Mapping[Any, float] = 0.2,
    cell_sd: float = 0.0,
    membership: str = "soft",
    threshold: float | Sequence[float] = 0.5,
    min_support: float = DEFAULT_MIN_SUPPORT,
    alpha: float = 0.05,
    target_power: float = 0.8,
    n_simulations: int = 200,
    n_permutations: int = 199,
    seed: int = 0,
    descriptor_names: Sequence[str] | None = None,
    classes: Sequence[Any] | None = None,
    subgroup_values: Sequence[Any] | None = None,
) -> PowerAnalysis:
    """How likely is an audit of this design to detect that error follows coverage?

    Coverage comes from the training split. Each simulated audit takes a test set: the given
    test samples (their descriptors, classes and subgroups: the design of an audit at hand),
    or, with ``n_test``, ``n_test`` rows drawn with replacement from the training split with
    ``class_proportions`` (default: the training proportions) and each class's subgroup mix
    as in training, standing in for test images of the same population. A sample's miss is
    then drawn with probability ``base_error[c] + u_cell + slope · (κ_i − κ̄_c)``, clipped to
    [0, 1]: κ_i is the sample's coverage (the regressor of :func:`coverage_error_slope`), κ̄_c
    its class mean, ``u_cell ~ N(0, cell_sd)`` a (class, subgroup) effect unrelated to
    coverage. The audit is scored by :func:`coverage_error_test` with ``n_permutations``
    replicates; power is its rejection rate at ``alpha``. Power is simulated at 0, at ``slope``
    and on a grid of magnitudes (:data:`SLOPE_GRID`) in the direction of ``slope``, with
    common random numbers, to find the minimum detectable slope at ``target_power``. See
    ``docs/paper-notes.md#cdi-power``.

    Args:
        train_descriptors, train_labels, train_subgroups: the training split (coverage).
        n_test: simulated test size (draws from the training rows); give it, or the test arrays.
        class_proportions: with ``n_test``: ``{class: share}`` summing to 1.
        test_descriptors, test_labels, test_subgroups: a fixed test design instead of draws.
        slope: the planted slope whose power is reported (negative: scarcity hurts).
        base_error: miss probability at the class's mean coverage, scalar or per class.
        cell_sd: standard deviation of cell effects unrelated to coverage.
        membership, threshold, min_support: as in :func:`semantic_fairness_report`.
        alpha: level of the test, in (0, 1).
        target_power: power for the minimum detectable slope, in (0, 1).
        n_simulations: simulated audits per slope (>= 20).
        n_permutations: null replicates per audit (>= 99).
        seed: seed of the simulation.
        descriptor_names, classes, subgroup_values: axes, as in the report.

    Returns:
        A :class:`PowerAnalysis`.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> sites = rng.integers(0, 6, 3000)
        >>> p = (rng.random((3000, 4)) < 0.08 + 0.1 * sites[:, None]).astype(float)
        >>> power = cdi_power(train_descriptors=p, train_labels=rng.integers(0, 2, 3000),
        ...     train_subgroups=sites, n_test=1000, n_simulations=40, n_permutations=99)
        >>> power.power_cdi >= 0.8, round(power.min_detectable_slope_cdi, 2)
        (True, -0.46)
    """
    n_permutations = check_n_permutations(n_permutations)
    if isinstance(n_simulations, bool) or not isinstance(n_simulations, int | np.integer):
        raise TypeError(f"n_simulations must be an integer, got {n_simulations!r}")
    if n_simulations < 20:
        raise ValueError(f"n_simulations must be >= 20, got {n_simulations}")
    for name, value in (("alpha", alpha), ("target_power", target_power)):
        if not isinstance(value, float) or not 0.0 < value < 1.0:
            raise ValueError(f"{name} must be a float in (0, 1), got {value!r}")
    if alpha < 1.0 / (1 + n_permutations):
        raise ValueError(
            f"alpha={alpha} is below the smallest p-value 1/(1 + n_permutations) = "
            f"{1 / (1 + n_permutations):.4f}; raise n_permutations (>= {MIN_TEST_PERMUTATIONS})"
        )
    if not np.isfinite(slope) or not np.isfinite(cell_sd) or cell_sd < 0:
        raise ValueError(f"slope must be finite and cell_sd >= 0, got {slope!r}, {cell_sd!r}")
    fixed = test_labels is not None
    if fixed == (n_test is not None):
        raise ValueError("give either n_test (draws from the training rows) or the test arrays")
    train = validate_split(
        train_descriptors, train_labels, train_subgroups, _TRAIN, descriptor_names
    )
    observed_labels, observed_subgroups = [train[1]], [train[2]]
    if fixed:
        test = validate_split(test_descriptors, test_labels, test_subgroups, _TEST, train[3])
        observed_labels.append(test[1])
        observed_subgroups.append(test[2])
    grid = make_grid(classes, train[3], subgroup_values, observed_labels, observed_subgroups)
    train_split = encode_split(grid, *train[:3], _TRAIN)
    _, coverage = coverage_arrays(grid, train_split, None, "rate")
    tau = membership_threshold(len(grid.descriptors), membership, threshold)
    base = _class_values(base_error, grid.classes, "base_error")
    if ((base < 0) | (base > 1)).any():
        raise ValueError(f"base_error must lie in [0, 1], got {base_error!r}")
    rng = np.random.default_rng(seed)
    draws: list[np.ndarray] | None = None
    if fixed:
        pool = encode_split(grid, *test[:3], _TEST)
    else:
        pool = train_split
        draws = _training_draws(
            train_split.labels, grid.classes, n_test, class_proportions, n_simulations, rng
        )
    weights = pool.descriptors if tau is None else (pool.descriptors >= tau).astype(np.float64)
    design = _Design(
        coverage=coverage,
        weights=weights,
        classes=pool.labels,
        subgroups=pool.subgroups,
        n_classes=len(grid.classes),
        n_subgroups=len(grid.subgroups),
    )
    direction = -1.0 if slope < 0 else 1.0
    grid_slopes = direction * np.asarray(SLOPE_GRID)
    slopes = np.concatenate([[0.0, float(slope)], grid_slopes])
    power_cdi, power_slope = _simulate(
        design,
        draws,
        slopes,
        base,
        float(cell_sd),
        float(min_support),
        alpha,
        int(n_simulations),
        n_permutations,
        int(rng.integers(2**31)),
    )
    magnitudes = np.asarray(SLOPE_GRID)
    mds_cdi = _detectable(magnitudes, power_cdi[2:], target_power)
    mds_slope = _detectable(magnitudes, power_slope[2:], target_power)
    if np.isnan(mds_cdi):
        warn_undefined(
            f"the CDI test reaches power {target_power:g} at no slope up to {SLOPE_GRID[-1]:g} "
            "with this design; the minimum detectable slope is undefined"
        )
    curve = pd.DataFrame({"slope": slopes, "power_cdi": power_cdi, "power_slope": power_slope})
    return PowerAnalysis(
        slope=float(slope),
        power_cdi=float(power_cdi[1]),
        power_slope=float(power_slope[1]),
        min_detectable_slope_cdi=direction * mds_cdi,
        min_detectable_slope=direction * mds_slope,
        false_positive_cdi=float(power_cdi[0]),
        false_positive_slope=float(power_slope[0]),
        alpha=alpha,
        target_power=target_power,
        n_simulations=int(n_simulations),
        n_permutations=n_permutations,
        n_test=int(len(pool.labels) if fixed else n_test),  # type: ignore[arg-type]
        curve=curve.drop_duplicates("slope").sort_values("slope").reset_index(drop=True),
    )


def _training_draws(
    labels: np.ndarray,
    classes: list[Any],
    n_test: Any,
    proportions: Mapping[Any, float] | None,
    n_simulations: int,
    rng: np.random.Generator,
) -> list[np.ndarray]:
    """Row indices of each simulated test set, drawn by class from the training rows."""
    if isinstance(n_test, bool) or not isinstance(n_test, int | np.integer) or n_test < 10:
        raise ValueError(f"n_test must be an integer >= 10, got {n_test!r}")
    counts = np.bincount(labels, minlength=len(classes))
    if proportions is None:
        share = counts / counts.sum()
    else:
        share = _class_values(proportions, classes, "class_proportions")
        if (share < 0).any() or not np.isclose(share.sum(), 1.0):
            raise ValueError(f"class_proportions must be >= 0 and sum to 1, got {proportions}")
    empty = [classes[c] for c in range(len(classes)) if share[c] > 0 and counts[c] == 0]
    if empty:
        raise ValueError(f"class_proportions asks for classes without training rows: {empty}")
    members = [np.flatnonzero(labels == c) for c in range(len(classes))]
    draws = []
    for _ in range(n_simulations):
        per_class = rng.multinomial(int(n_test), share)
        draws.append(
            np.concatenate(
                [rng.choice(members[c], size=k, replace=True) for c, k in enumerate(per_class) if k]
            )
        )
    return draws
