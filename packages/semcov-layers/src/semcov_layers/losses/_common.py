"""Helpers shared by the losses: reductions and float promotion."""

from __future__ import annotations

import torch
from torch import Tensor

from .._validation import check_choice

__all__ = ["REDUCTIONS", "as_float", "reduce_loss"]

REDUCTIONS = ("mean", "sum", "none")


def reduce_loss(values: Tensor, reduction: str) -> Tensor:
    """Apply ``mean | sum | none`` to per-sample values."""
    check_choice(reduction, "reduction", REDUCTIONS)
    if reduction == "mean":
        return values.mean()
    if reduction == "sum":
        return values.sum()
    return values


def as_float(value: Tensor) -> Tensor:
    """Promote low-precision tensors to float32 for numerically sensitive statistics."""
    return value.float() if value.dtype in (torch.float16, torch.bfloat16) else value
