"""The learning-rate schedule of paper §4.1: a warm-up at a fraction of lr, then one cosine cycle.

The schedule advances once per optimisation step (not per epoch), so a run stopped inside an
epoch resumes at the same learning rate.
"""

from __future__ import annotations

import math

import torch

from ..config import TrainConfig

__all__ = ["cosine_schedule", "lr_factor"]


def lr_factor(
    step: int,
    *,
    warmup_steps: int,
    total_steps: int,
    warmup_factor: float,
    min_lr_ratio: float,
) -> float:
    """The multiplier of the base learning rate at optimisation step `step` (0-based).

    During the first `warmup_steps` steps the factor is `warmup_factor` (constant, not a ramp);
    from there it follows half a cosine from 1 down to `min_lr_ratio`, reached at
    `total_steps` and held after it.

    Args:
        step: optimisation steps taken so far.
        warmup_steps: steps at `warmup_factor` (``warmup_epochs`` × steps per epoch).
        total_steps: steps of the whole run (``epochs`` × steps per epoch).
        warmup_factor: the factor during the warm-up (paper: 0.1, lr/10).
        min_lr_ratio: the factor at the end of the cosine cycle.

    Example:
        >>> lr_factor(0, warmup_steps=2, total_steps=10, warmup_factor=0.1, min_lr_ratio=0.0)
        0.1
        >>> lr_factor(2, warmup_steps=2, total_steps=10, warmup_factor=0.1, min_lr_ratio=0.0)
        1.0
        >>> lr_factor(6, warmup_steps=2, total_steps=10, warmup_factor=0.1, min_lr_ratio=0.0)
        0.5
        >>> lr_factor(10, warmup_steps=2, total_steps=10, warmup_factor=0.1, min_lr_ratio=0.2)
        0.2
    """
    if step < warmup_steps:
        return warmup_factor
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return min_lr_ratio + (1.0 - min_lr_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def cosine_schedule(
    optimizer: torch.optim.Optimizer, config: TrainConfig, steps_per_epoch: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """The run's scheduler: :func:`lr_factor` with `config`'s ``warmup_epochs``, ``epochs``,
    ``warmup_factor`` and ``min_lr_ratio``, stepped once per optimisation step."""
    warmup_steps = config.warmup_epochs * steps_per_epoch
    total_steps = config.epochs * steps_per_epoch

    # A plain function, not a partial: LambdaLR checkpoints a callable object's attributes,
    # and last.pt holds the same scheduler state as before this module existed.
    def factor(step: int) -> float:
        return lr_factor(
            step,
            warmup_steps=warmup_steps,
            total_steps=total_steps,
            warmup_factor=config.warmup_factor,
            min_lr_ratio=config.min_lr_ratio,
        )

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
