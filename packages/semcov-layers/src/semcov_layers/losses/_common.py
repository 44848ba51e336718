"""Helpers shared by the losses: reductions and cross-process sums under torch.distributed."""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor

from .._validation import check_choice

__all__ = ["REDUCTIONS", "as_float", "distributed_sum", "reduce_loss", "sum_across_processes"]

REDUCTIONS = ("mean", "sum", "none")


def reduce_loss(values: Tensor, reduction: str) -> Tensor:
    """Apply ``mean | sum | none`` to per-sample values."""
    check_choice(reduction, "reduction", REDUCTIONS)
    if reduction == "mean":
        return values.mean()
    if reduction == "sum":
        return values.sum()
    return values


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def sum_across_processes(value: Tensor) -> Tensor:
    """Detached sum of `value` over all processes (the detached value itself without DDP)."""
    total = value.detach().clone()
    if _distributed():
        dist.all_reduce(total, op=dist.ReduceOp.SUM)
    return total


def distributed_sum(local: Tensor) -> Tensor:
    """Global sum over processes that keeps the gradient of the local contribution.

    Other processes' parts enter as constants, so each process back-propagates through its own
    samples only, while the value equals the global statistic.
    """
    if not _distributed():
        return local
    return local + (sum_across_processes(local) - local.detach())


def as_float(value: Tensor) -> Tensor:
    """Promote low-precision tensors to float32 for numerically sensitive statistics."""
    return value.float() if value.dtype in (torch.float16, torch.bfloat16) else value
