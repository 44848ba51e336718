"""Losses under torch.distributed: sums over processes that keep the local gradient, a gather
with gradient, and the gradient scale that makes a globally-valued loss exact under DDP.

Without an initialised process group of more than one process every function is the identity
(or the plain value), so the losses built on them run unchanged on one process.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor

__all__ = [
    "distributed_sum",
    "gather_with_grad",
    "is_distributed",
    "process_rank",
    "scale_gradient",
    "sum_across_processes",
    "world_size",
]


def is_distributed() -> bool:
    """Whether torch.distributed runs with more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def sum_across_processes(value: Tensor) -> Tensor:
    """Detached sum of `value` over all processes (the detached value itself without DDP)."""
    total = value.detach().clone()
    if is_distributed():
        dist.all_reduce(total, op=dist.ReduceOp.SUM)
    return total


def distributed_sum(local: Tensor) -> Tensor:
    """Global sum over processes that keeps the gradient of the local contribution.

    Other processes' parts enter as constants, so each process back-propagates through its own
    samples only, while the value equals the global statistic.
    """
    if not is_distributed():
        return local
    return local + (sum_across_processes(local) - local.detach())


def world_size() -> int:
    """Number of processes (1 without torch.distributed)."""
    return dist.get_world_size() if is_distributed() else 1


def process_rank() -> int:
    """This process's rank (0 without torch.distributed)."""
    return dist.get_rank() if is_distributed() else 0


class _GatherWithGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, tensor: Tensor) -> Tensor:
        ctx.rank, ctx.size = dist.get_rank(), tensor.shape[0]
        parts = [torch.empty_like(tensor) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, tensor.contiguous())
        return torch.cat(parts)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        grad = grad.contiguous().clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        return grad[ctx.rank * ctx.size : (ctx.rank + 1) * ctx.size]


def gather_with_grad(tensor: Tensor) -> Tensor:
    """Every process's `tensor` (equal shapes) concatenated along dim 0, in rank order.

    The backward pass sums the gradients all processes computed for this process's slice, so
    after DDP averages parameter gradients, a per-process mean over rows scored against the
    gathered tensor gets exactly the gradient of one process holding the whole batch.

    Args:
        tensor: This process's part, shape (B, ...); B must be equal on every process.

    Returns:
        Shape (N·B, ...); `tensor` itself on one process.
    """
    if not is_distributed():
        return tensor
    return _GatherWithGrad.apply(tensor)


def scale_gradient(value: Tensor, factor: float) -> Tensor:
    """`value` unchanged, its gradient multiplied by `factor`.

    A loss whose statistics are all-reduced (its value global, its gradient through the local
    samples only) needs ``factor = world_size()`` under DDP, which averages gradients.
    """
    if factor == 1:
        return value
    return value + (factor - 1) * (value - value.detach())
