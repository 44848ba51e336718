"""Online Group DRO (Sagawa et al., ICLR 2020): exponentiated-gradient weights on group losses."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .._validation import (
    check_floating,
    check_index_range,
    check_integer,
    check_positive_int,
    check_same_batch,
    check_tensor,
)
from .distributed import sum_across_processes

__all__ = ["GroupDROLoss", "group_dro_loss", "group_losses"]


def _check_inputs(losses: object, groups: object, num_groups: int) -> None:
    losses = check_tensor(
        losses, "losses", ndim=1, shape="(B,) per-sample losses (use reduction='none')"
    )
    check_floating(losses, "losses")
    groups = check_tensor(groups, "groups", ndim=1, shape="(B,) of group indices")
    check_integer(groups, "groups")
    check_same_batch(losses, "losses", groups, "groups")
    check_index_range(groups, "groups", num_groups)


def group_losses(losses: Tensor, groups: Tensor, num_groups: int) -> tuple[Tensor, Tensor]:
    """Mean loss and sample count of every group in a batch (an absent group has loss 0, count 0).

    Args:
        losses: Per-sample losses, shape (B,).
        groups: Group indices, shape (B,).
        num_groups: G.

    Returns:
        ``(group_loss, group_count)``, both shape (G,).
    """
    _check_inputs(losses, groups, num_groups)
    losses = losses.float()
    sums = torch.zeros(num_groups, device=losses.device, dtype=losses.dtype).index_add(
        0, groups.long(), losses
    )
    counts = torch.zeros(num_groups, device=losses.device, dtype=losses.dtype).index_add(
        0, groups.long(), torch.ones_like(losses)
    )
    return sums / counts.clamp_min(1.0), counts


def group_dro_loss(losses: Tensor, groups: Tensor, group_weights: Tensor) -> Tensor:
    """Robust objective ``sum_g q_g L_g`` for fixed group weights q (no update).

    Args:
        losses: Per-sample losses, shape (B,).
        groups: Group indices, shape (B,).
        group_weights: q on the simplex, shape (G,).

    Returns:
        Scalar.
    """
    group_weights = check_tensor(group_weights, "group_weights", ndim=1, shape="(G,)")
    per_group, _ = group_losses(losses, groups, group_weights.shape[0])
    return per_group @ group_weights.to(per_group)


class GroupDROLoss(nn.Module):
    """Online Group DRO: ``q_g <- q_g exp(eta (L_g + C / sqrt(n_g)))``; loss ``sum_g q_g L_g``.

    Each training call first updates q with the batch's group mean losses (detached), then returns
    the robust loss with the updated q, as in the reference implementation (kohpangwei/group_DRO).
    Differences from it, on purpose:

    * The generalization adjustment ``C / sqrt(n_g)`` enters only the weight update. The reference
      adds it in place to the group-loss tensor it also uses for the robust loss and reports, so
      the returned loss and logged group losses there include the adjustment; here
      :attr:`last_group_losses` and the returned loss are the unadjusted group means.
    * A group absent from the batch keeps its (unnormalized) weight. The reference treats its batch
      loss as 0, which is the same without adjustment, but with one it still raises the weight of
      a group the batch says nothing about.
    * The weights are kept in log space (same result, no underflow over long runs), and under
      ``torch.distributed`` the group sums are all-reduced before the update so q stays identical
      on every process.

    ``reduction`` does not apply: the objective is a weighted sum of group means.

    Args:
        num_groups: Number of groups G.
        step_size: eta of the exponentiated-gradient update (reference default 0.01).
        adjustment: C >= 0; needs ``group_counts``.
        group_counts: Training samples per group n_g, length G (for the adjustment).
    """

    group_counts: Tensor
    log_weights: Tensor

    def __init__(
        self,
        num_groups: int,
        *,
        step_size: float = 0.01,
        adjustment: float = 0.0,
        group_counts: Sequence[int] | Tensor | None = None,
    ) -> None:
        super().__init__()
        check_positive_int(num_groups, "num_groups")
        if step_size < 0:
            raise ValueError(f"`step_size` must be >= 0, got {step_size}")
        if adjustment < 0:
            raise ValueError(f"`adjustment` must be >= 0, got {adjustment}")
        self.num_groups = num_groups
        self.step_size = step_size
        self.adjustment = adjustment
        if group_counts is not None:
            counts = torch.as_tensor(group_counts, dtype=torch.float32)
            if counts.shape != (num_groups,) or bool((counts <= 0).any()):
                raise ValueError(
                    f"`group_counts` must hold {num_groups} positive counts, got {counts.tolist()}"
                )
        elif adjustment > 0:
            raise ValueError(
                "`group_counts` (training samples per group) is required when `adjustment` > 0"
            )
        else:
            counts = torch.ones(num_groups)
        self.register_buffer("group_counts", counts)
        self.register_buffer(
            "log_weights",
            torch.full((num_groups,), -torch.log(torch.tensor(float(num_groups))).item()),
        )
        self.last_group_losses: Tensor | None = None
        self.last_group_counts: Tensor | None = None

    @property
    def group_weights(self) -> Tensor:
        """Current q, shape (G,), on the simplex."""
        return self.log_weights.softmax(dim=0)

    def reset(self) -> None:
        """Set q back to uniform."""
        self.log_weights.fill_(-torch.log(torch.tensor(float(self.num_groups))).item())

    @torch.no_grad()
    def update(self, group_loss: Tensor, group_count: Tensor) -> None:
        """One exponentiated-gradient step on the present groups.

        Args:
            group_loss: Mean loss per group, shape (G,).
            group_count: Batch samples per group, shape (G,).
        """
        step = group_loss.detach().to(self.log_weights) + self.adjustment / self.group_counts.sqrt()
        present = group_count > 0
        self.log_weights.add_(torch.where(present, self.step_size * step, torch.zeros_like(step)))
        self.log_weights.sub_(torch.logsumexp(self.log_weights, dim=0))

    def forward(self, losses: Tensor, groups: Tensor) -> Tensor:
        """Update q (training mode) and return ``sum_g q_g L_g``.

        Args:
            losses: Per-sample losses, shape (B,), e.g. ``F.cross_entropy(..., reduction="none")``.
            groups: Group indices in [0, G), shape (B,).

        Returns:
            Scalar robust loss.
        """
        per_group, counts = group_losses(losses, groups, self.num_groups)
        if self.training:
            global_counts = sum_across_processes(counts)
            global_means = sum_across_processes(per_group * counts) / global_counts.clamp_min(1.0)
            self.update(global_means, global_counts)
        self.last_group_losses = per_group.detach()
        self.last_group_counts = counts.detach()
        return per_group @ self.group_weights.to(per_group)

    def extra_repr(self) -> str:
        return (
            f"num_groups={self.num_groups}, step_size={self.step_size}, "
            f"adjustment={self.adjustment}"
        )
