"""A streaming CDI for torchmetrics: fixed-size per-SCG sums that reduce by addition under DDP.

Needs the optional ``torchmetrics`` extra (``pip install semcov-metrics[torchmetrics]``).
"""

from __future__ import annotations

from typing import Any

try:
    import torch
    from torchmetrics import Metric
    from torchmetrics.utilities import dim_zero_cat
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "CoverageDisparityIndex needs torchmetrics: pip install 'semcov-metrics[torchmetrics]'"
    ) from error

import numpy as np

from semcov_metrics._groups import MEMBERSHIPS
from semcov_metrics._validation import check_choice
from semcov_metrics.cdi import pearson_abs
from semcov_metrics.cell_permutation import DEFAULT_N_PERMUTATIONS, check_n_permutations
from semcov_metrics.coverage import coverage_tensor
from semcov_metrics.significance import significance_from_arrays

__all__ = ["CoverageDisparityIndex", "coverage_tensor"]


class CoverageDisparityIndex(Metric):
    """Streaming CDI: accumulates soft (or hard) per-SCG support and hits over batches.

    The states are two (num_classes, num_subgroups, num_descriptors) sums with
    ``dist_reduce_fx="sum"``, so the metric syncs across DDP processes and logs in Lightning.
    ``compute`` gives the same value as :func:`semantic_fairness_report` on the concatenated
    batches (with the same coverage, membership and ``min_support``).

    Args:
        coverage: training coverage, (num_classes, num_descriptors, num_subgroups) or the
            DataFrame of :func:`scg_coverage`.
        membership: ``"soft"`` or ``"hard"``.
        threshold: hard-membership threshold.
        min_support: SCGs need support strictly above this to count.
        keep_samples: also keep each sample's cell, memberships and miss (K + 2 numbers a
            sample, gathered across DDP processes) so that :meth:`compute_test` can test CDI and
            fit the coverage–error slope; ``False`` keeps only the fixed-size sums.

    ``update(preds, target, descriptors, subgroups)``: ``preds`` predicted class indices (B,) or
    class scores (B, num_classes); ``target`` class indices (B,); ``descriptors`` (B, K)
    probabilities; ``subgroups`` subgroup indices (B,).

    ``compute_test()`` gives the CDI with its p-value, its null's mean and 95 % quantile and
    the support-aware slope, as :func:`semantic_fairness_report` does on the same samples.
    """

    full_state_update = False
    higher_is_better = False
    is_differentiable = False
    coverage: torch.Tensor
    support: torch.Tensor
    hits: torch.Tensor
    sample_cells: list[torch.Tensor]
    sample_weights: list[torch.Tensor]
    sample_misses: list[torch.Tensor]

    def __init__(
        self,
        coverage: Any,
        *,
        membership: str = "soft",
        threshold: float = 0.5,
        min_support: float = 0.0,
        keep_samples: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.membership = check_choice(membership, "membership", MEMBERSHIPS)
        if not 0.0 <= float(threshold) <= 1.0:
            raise ValueError(f"threshold must lie in [0, 1], got {threshold}")
        if min_support < 0:
            raise ValueError(f"min_support must be >= 0, got {min_support}")
        self.threshold = float(threshold)
        self.min_support = float(min_support)
        values = coverage_tensor(coverage)
        self.num_classes, self.num_descriptors, self.num_subgroups = values.shape
        self.register_buffer("coverage", torch.tensor(values, dtype=torch.float64))
        shape = (self.num_classes * self.num_subgroups, self.num_descriptors)
        self.add_state("support", torch.zeros(shape, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("hits", torch.zeros(shape, dtype=torch.float64), dist_reduce_fx="sum")
        self.keep_samples = bool(keep_samples)
        if self.keep_samples:
            for name in ("sample_cells", "sample_weights", "sample_misses"):
                self.add_state(name, default=[], dist_reduce_fx="cat")

    def update(
        self,
        preds: torch.Tensor,
        target: torch.Tensor,
        descriptors: torch.Tensor,
        subgroups: torch.Tensor,
    ) -> None:
        """Add one batch."""
        if preds.ndim == 2:
            if preds.shape[1] != self.num_classes:
                raise ValueError(
                    f"preds has {preds.shape[1]} score columns, expected {self.num_classes}"
                )
            preds = preds.argmax(dim=1)
        if preds.ndim != 1 or target.ndim != 1 or subgroups.ndim != 1:
            raise ValueError("preds, target and subgroups must be 1-D (B,)")
        if descriptors.ndim != 2 or descriptors.shape[1] != self.num_descriptors:
            raise ValueError(
                f"descriptors must have shape (B, {self.num_descriptors}), "
                f"got {tuple(descriptors.shape)}"
            )
        size = target.shape[0]
        if not (preds.shape[0] == size == descriptors.shape[0] == subgroups.shape[0]):
            raise ValueError("preds, target, descriptors and subgroups must have the same length")
        if size and (target.min() < 0 or target.max() >= self.num_classes):
            raise ValueError(f"target must hold class indices in [0, {self.num_classes})")
        if size and (subgroups.min() < 0 or subgroups.max() >= self.num_subgroups):
            raise ValueError(f"subgroups must hold indices in [0, {self.num_subgroups})")
        if size and (
            not torch.isfinite(descriptors).all() or descriptors.min() < 0 or descriptors.max() > 1
        ):
            raise ValueError("descriptors must hold probabilities in [0, 1]")
        weights = descriptors.to(torch.float64)
        if self.membership == "hard":
            weights = (weights >= self.threshold).to(torch.float64)
        cell = target.long() * self.num_subgroups + subgroups.long()
        correct = (preds.long() == target.long()).to(torch.float64)
        self.support.index_add_(0, cell, weights)
        self.hits.index_add_(0, cell, weights * correct[:, None])
        if self.keep_samples:
            self.sample_cells.append(cell)
            self.sample_weights.append(weights)
            self.sample_misses.append(1.0 - correct)

    def compute(self) -> torch.Tensor:
        """The CDI over SCGs with support above ``min_support`` (``nan`` + warning if undefined)."""
        support = self.support.reshape(self.num_classes, self.num_subgroups, self.num_descriptors)
        hits = self.hits.reshape_as(support)
        valid = support > self.min_support
        tpr = torch.where(valid, hits / support.clamp_min(1e-300), torch.nan)
        coverage = self.coverage.permute(0, 2, 1)
        value = pearson_abs(coverage[valid].cpu().numpy(), (1.0 - tpr[valid]).cpu().numpy())
        return torch.tensor(value, dtype=torch.float64, device=self.support.device)

    def compute_test(
        self,
        *,
        n_permutations: int = DEFAULT_N_PERMUTATIONS,
        seed: int = 0,
        confidence: float = 0.95,
    ) -> dict[str, Any]:
        """CDI, ``cdi_p_value``, ``cdi_null`` (the null's mean), ``cdi_null_q95``,
        ``coverage_error_slope``, ``slope_interval`` and ``slope_p_value`` over the samples seen
        (the null of :func:`coverage_error_test`); needs ``keep_samples=True``."""
        if not self.keep_samples:
            raise ValueError("compute_test needs keep_samples=True: the samples were not kept")
        check_n_permutations(n_permutations)
        # Gather the states across processes as compute() does, and restore them afterwards.
        with self.sync_context(
            dist_sync_fn=self.dist_sync_fn,
            should_sync=self._to_sync,
            should_unsync=self._should_unsync,
        ):
            result = self._test(int(n_permutations), int(seed), float(confidence))
        return {
            "cdi": result.cdi,
            "cdi_p_value": result.p_value,
            "cdi_null": result.null_mean,
            "cdi_null_q95": result.null_q95,
            "coverage_error_slope": result.slope.slope,
            "slope_interval": result.slope.interval,
            "slope_p_value": result.slope.p_value,
        }

    def _test(self, n_permutations: int, seed: int, confidence: float) -> Any:
        """The test on the (synced) states."""
        # A list of batches, or one tensor once the states were gathered across processes.
        if isinstance(self.sample_cells, list) and not self.sample_cells:
            raise ValueError("compute_test before any update: no samples")
        cells = dim_zero_cat(self.sample_cells).cpu().numpy().astype(np.intp)
        weights = dim_zero_cat(self.sample_weights).cpu().numpy()
        miss = dim_zero_cat(self.sample_misses).cpu().numpy() > 0.5
        support = self.support.cpu().numpy()
        hits = self.hits.cpu().numpy()
        valid = support > self.min_support
        with np.errstate(invalid="ignore", divide="ignore"):
            error = np.where(support > 0, 1.0 - hits / np.where(support > 0, support, 1), np.nan)
        coverage = self.coverage.permute(0, 2, 1).reshape(-1, self.num_descriptors)
        return significance_from_arrays(
            coverage=coverage.cpu().numpy(),
            support=support,
            error=error,
            valid=valid,
            class_codes=cells // self.num_subgroups,
            subgroup_codes=cells % self.num_subgroups,
            weights=weights,
            miss=miss,
            n_subgroups=self.num_subgroups,
            n_replicates=n_permutations,
            seed=seed,
            confidence=confidence,
        )
