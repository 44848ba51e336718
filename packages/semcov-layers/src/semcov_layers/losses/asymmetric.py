"""Asymmetric loss (ASL, Ridnik et al., ICCV 2021): asymmetric focusing and probability shifting."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .._validation import (
    check_choice,
    check_floating,
    check_index_range,
    check_integer,
    check_tensor,
)
from ._common import REDUCTIONS, reduce_loss

__all__ = ["AsymmetricLoss", "asymmetric_loss"]

_FLOOR = 1e-12


def _binary_targets(logits: Tensor, targets: Tensor) -> Tensor:
    logits = check_tensor(logits, "logits", ndim=(1, 2), shape="(B, C) or (B,)")
    check_floating(logits, "logits")
    targets = check_tensor(
        targets,
        "targets",
        ndim=(1, 2),
        shape=f"{tuple(logits.shape)} (multi-hot) or (B,) class indices",
    )
    if targets.shape == logits.shape:
        if targets.is_floating_point():
            if bool(((targets < 0) | (targets > 1)).any()):
                raise ValueError("`targets` of the same shape as `logits` must lie in [0, 1]")
            return targets.to(logits.dtype)
        check_integer(targets, "targets")
        check_index_range(targets, "targets", 2)
        return targets.to(logits.dtype)
    if logits.dim() == 2 and targets.dim() == 1 and targets.shape[0] == logits.shape[0]:
        check_integer(targets, "targets")
        check_index_range(targets, "targets", logits.shape[1])
        return F.one_hot(targets.long(), logits.shape[1]).to(logits.dtype)
    raise ValueError(
        f"`targets` must have shape {tuple(logits.shape)} (multi-hot) or (B,) class indices for "
        f"(B, C) logits, got shape {tuple(targets.shape)}"
    )


def asymmetric_loss(
    logits: Tensor,
    targets: Tensor,
    *,
    gamma_neg: float = 4.0,
    gamma_pos: float = 1.0,
    clip: float = 0.05,
    reduction: str = "mean",
) -> Tensor:
    """ASL: ``-[y (1-p)^g+ log p + (1-y) p_m^g- log(1-p_m)]`` with ``p_m = max(p - clip, 0)``.

    Summed over classes, reduced over the batch (the reference implementation returns the sum over
    all entries, i.e. ``reduction="sum"``). The focusing weights carry gradient, as in the reference
    default. Log-probabilities are computed with ``logsigmoid``, so with ``gamma = 0`` and
    ``clip = 0`` this equals binary cross-entropy with logits exactly, without the reference's
    ``eps`` clamp.

    Args:
        logits: Shape (B, C) or (B,).
        targets: Multi-hot / binary of the same shape as `logits`, or (B,) class indices for (B, C).
        gamma_neg: Focusing exponent of negatives (gamma-).
        gamma_pos: Focusing exponent of positives (gamma+).
        clip: Probability margin m of negatives, in [0, 1).
        reduction: ``mean | sum | none`` over the batch.

    Returns:
        Scalar, or shape (B,) with ``reduction="none"``.
    """
    check_choice(reduction, "reduction", REDUCTIONS)
    if gamma_neg < 0 or gamma_pos < 0:
        raise ValueError(f"`gamma_neg` and `gamma_pos` must be >= 0, got {gamma_neg}, {gamma_pos}")
    if not 0.0 <= clip < 1.0:
        raise ValueError(f"`clip` must be in [0, 1), got {clip}")
    y = _binary_targets(logits, targets).float()
    x = logits.float()
    prob = torch.sigmoid(x)
    log_pos = F.logsigmoid(x)
    if clip > 0:
        # 1 - p_m = min(1 - p + clip, 1) >= clip > 0, so the log is always finite.
        prob_neg = prob.sub(clip).clamp_min(0.0)
        log_neg = torch.log((1.0 - prob + clip).clamp_max(1.0))
    else:
        prob_neg = prob
        log_neg = F.logsigmoid(-x)
    loss_pos = y * log_pos
    loss_neg = (1.0 - y) * log_neg
    # The floor keeps the derivative of base**gamma finite at base = 0 when gamma < 1.
    if gamma_pos > 0:
        loss_pos = loss_pos * torch.pow((1.0 - prob).clamp_min(_FLOOR), gamma_pos)
    if gamma_neg > 0:
        loss_neg = loss_neg * torch.pow(prob_neg.clamp_min(_FLOOR), gamma_neg)
    per_entry = -(loss_pos + loss_neg)
    per_sample = per_entry.sum(dim=1) if per_entry.dim() == 2 else per_entry
    return reduce_loss(per_sample, reduction)


class AsymmetricLoss(nn.Module):
    """Asymmetric loss for (multi-label or binary) classification (Ridnik et al. 2021).

    Args:
        gamma_neg: Focusing exponent of negatives (default 4).
        gamma_pos: Focusing exponent of positives (default 1).
        clip: Probability margin of negatives (default 0.05).
        reduction: ``mean | sum | none`` over the batch.
    """

    def __init__(
        self,
        *,
        gamma_neg: float = 4.0,
        gamma_pos: float = 1.0,
        clip: float = 0.05,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        check_choice(reduction, "reduction", REDUCTIONS)
        if gamma_neg < 0 or gamma_pos < 0:
            raise ValueError(
                f"`gamma_neg` and `gamma_pos` must be >= 0, got {gamma_neg}, {gamma_pos}"
            )
        if not 0.0 <= clip < 1.0:
            raise ValueError(f"`clip` must be in [0, 1), got {clip}")
        self.gamma_neg = gamma_neg
        self.gamma_pos = gamma_pos
        self.clip = clip
        self.reduction = reduction

    def forward(self, logits: Tensor, targets: Tensor) -> Tensor:
        """Compute the loss; see :func:`asymmetric_loss` for shapes."""
        return asymmetric_loss(
            logits,
            targets,
            gamma_neg=self.gamma_neg,
            gamma_pos=self.gamma_pos,
            clip=self.clip,
            reduction=self.reduction,
        )

    def extra_repr(self) -> str:
        return (
            f"gamma_neg={self.gamma_neg}, gamma_pos={self.gamma_pos}, clip={self.clip}, "
            f"reduction={self.reduction!r}"
        )
