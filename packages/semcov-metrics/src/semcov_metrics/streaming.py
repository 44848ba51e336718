"""A streaming CDI for torchmetrics: fixed-size per-SCG sums that reduce by addition under DDP.

Needs the optional ``torchmetrics`` extra (``pip install semcov-metrics[torchmetrics]``).
"""

from __future__ import annotations

from typing import Any

try:
    import torch
    from torchmetrics import Metric
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "CoverageDisparityIndex needs torchmetrics: pip install 'semcov-metrics[torchmetrics]'"
    ) from error

from semcov_metrics._groups import MEMBERSHIPS
from semcov_metrics._validation import check_choice
from semcov_metrics.cdi import pearson_abs
from semcov_metrics.coverage import coverage_tensor

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

    ``update(preds, target, descriptors, subgroups)``: ``preds`` predicted class indices (B,) or
    class scores (B, num_classes); ``target`` class indices (B,); ``descriptors`` (B, K)
    probabilities; ``subgroups`` subgroup indices (B,).
    """

    full_state_update = False
    higher_is_better = False
    is_differentiable = False
    coverage: torch.Tensor
    support: torch.Tensor
    hits: torch.Tensor

    def __init__(
        self,
        coverage: Any,
        *,
        membership: str = "soft",
        threshold: float = 0.5,
        min_support: float = 0.0,
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

    def compute(self) -> torch.Tensor:
        """The CDI over SCGs with support above ``min_support`` (``nan`` + warning if undefined)."""
        support = self.support.reshape(self.num_classes, self.num_subgroups, self.num_descriptors)
        hits = self.hits.reshape_as(support)
        valid = support > self.min_support
        tpr = torch.where(valid, hits / support.clamp_min(1e-300), torch.nan)
        coverage = self.coverage.permute(0, 2, 1)
        value = pearson_abs(coverage[valid].cpu().numpy(), (1.0 - tpr[valid]).cpu().numpy())
        return torch.tensor(value, dtype=torch.float64, device=self.support.device)
