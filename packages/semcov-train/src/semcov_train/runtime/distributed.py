"""torchrun / DDP plumbing: process group, seeds, samplers and gathers for 1..N processes."""

from __future__ import annotations

import datetime
import math
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import Tensor
from torch.utils.data import DistributedSampler, Sampler

from semcov_layers.losses import distributed as layers_distributed

__all__ = [
    "DistContext",
    "ShardSampler",
    "WeightedDistributedSampler",
    "all_gather_objects",
    "barrier",
    "derive_seed",
    "gather_tensor",
    "gather_with_grad",
    "sampling_summary",
    "scale_grad",
    "seed_everything",
    "setup_distributed",
    "teardown_distributed",
    "uniform_sampler",
]


@dataclass(frozen=True)
class DistContext:
    """Where this process stands: rank, world size, local rank and the device it trains on."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    initialized_here: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def _resolve_device(requested: str, local_rank: int) -> torch.device:
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank % torch.cuda.device_count())
        return torch.device("cpu")
    device = torch.device(requested)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device={requested!r} but CUDA is not available")
        if device.index is None:
            device = torch.device("cuda", local_rank % torch.cuda.device_count())
    return device


def setup_distributed(device: str = "auto") -> DistContext:
    """Join the process group that ``torchrun`` describes in the environment (or run alone).

    NCCL on CUDA, gloo on the CPU. A process group that is already initialised is reused.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    resolved = _resolve_device(device, local_rank)
    if world_size <= 1:
        return DistContext(device=resolved)
    initialized_here = False
    if not dist.is_initialized():
        if resolved.type == "cuda":
            torch.cuda.set_device(resolved)
        backend = "nccl" if resolved.type == "cuda" else "gloo"
        dist.init_process_group(backend, timeout=datetime.timedelta(minutes=30))
        initialized_here = True
    return DistContext(
        rank=dist.get_rank(),
        world_size=dist.get_world_size(),
        local_rank=local_rank,
        device=resolved,
        initialized_here=initialized_here,
    )


def teardown_distributed(context: DistContext) -> None:
    """Leave the process group if :func:`setup_distributed` created it."""
    if context.initialized_here and dist.is_initialized():
        dist.destroy_process_group()


def barrier(context: DistContext) -> None:
    if context.distributed:
        dist.barrier()


def derive_seed(seed: int, *parts: int) -> int:
    """A 31-bit seed that depends on `seed` and every part (epoch, rank, ...), never colliding
    for small values the way ``seed + epoch`` and ``seed + rank`` would."""
    value = np.random.SeedSequence([int(seed), *map(int, parts)]).generate_state(1)[0]
    return int(value) & 0x7FFFFFFF


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (all devices) from one number."""
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 (the global generator third-party code uses)
    torch.manual_seed(seed)


def uniform_sampler(n: int, context: DistContext, seed: int) -> DistributedSampler:
    """Shuffled sampler of a training split for this rank (``set_epoch`` reshuffles)."""
    return DistributedSampler(
        # The sampler only takes len() of its dataset; torch annotates it as Dataset.
        range(n),  # type: ignore[arg-type]
        num_replicas=context.world_size,
        rank=context.rank,
        shuffle=True,
        seed=seed,
        drop_last=False,
    )


class WeightedDistributedSampler(Sampler[int]):
    """Draws ``num_samples`` indices with replacement by weight, the same global draw on every
    rank (generator seeded with ``seed`` and the epoch), and keeps this rank's share
    ``draws[rank::world_size]`` (padded to equal length like ``DistributedSampler``).

    Args:
        weights: sampling weights (N,), not necessarily normalised.
        num_replicas: world size.
        rank: this process.
        seed: base seed; :meth:`set_epoch` gives every epoch its own draw.
        num_samples: global draws per epoch; default N.
    """

    def __init__(
        self,
        weights: Any,
        *,
        num_replicas: int = 1,
        rank: int = 0,
        seed: int = 0,
        num_samples: int | None = None,
    ) -> None:
        w = torch.as_tensor(np.asarray(weights, dtype=np.float64))
        if w.ndim != 1 or len(w) == 0 or not torch.isfinite(w).all() or (w < 0).any():
            raise ValueError("weights must be a non-empty 1-d array of finite values >= 0")
        if float(w.sum()) <= 0:
            raise ValueError("weights must not all be zero")
        self.weights = w
        self.num_replicas = num_replicas
        self.rank = rank
        self.seed = seed
        self.total = int(num_samples or len(w))
        self.num_samples = math.ceil(self.total / num_replicas)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.num_samples

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator().manual_seed(derive_seed(self.seed, self.epoch))
        draws = torch.multinomial(self.weights, self.total, replacement=True, generator=generator)
        padded = self.num_samples * self.num_replicas
        if padded > self.total:
            draws = torch.cat([draws, draws[: padded - self.total]])
        return iter(draws[self.rank : padded : self.num_replicas].tolist())


def sampling_summary(sampler: Sampler, kind: str) -> dict[str, Any]:
    """What a training sampler draws, as recorded in ``config.json`` (``resolved["sampling"]``).

    The per-draw probability p (N,) of each training sample: its normalised weight under a
    :class:`WeightedDistributedSampler`, 1/N under a shuffled ``DistributedSampler`` (each
    sample once per epoch).

    Args:
        sampler: the training sampler of the run.
        kind: the method's sampling (``uniform`` or ``cas``).

    Returns:
        ``{"kind", "n", "weight_min", "weight_max", "effective_size"}``: min and max of p and
        the effective sample size ``1 / sum(p**2)`` (N when uniform, smaller the more skewed).
    """
    if isinstance(sampler, WeightedDistributedSampler):
        weights = sampler.weights.double()
        p = weights / weights.sum()
    else:
        n = len(sampler.dataset)  # type: ignore[attr-defined]
        p = torch.full((n,), 1.0 / n, dtype=torch.float64)
    return {
        "kind": kind,
        "n": len(p),
        "weight_min": float(p.min()),
        "weight_max": float(p.max()),
        "effective_size": float(1.0 / (p**2).sum()),
    }


class ShardSampler(Sampler[int]):
    """Evaluation shard ``rank::world_size`` of ``range(n)``: no padding, no duplicates, so the
    gathered shards are exactly the full split."""

    def __init__(self, n: int, context: DistContext) -> None:
        self.indices = list(range(context.rank, n, context.world_size))

    def __len__(self) -> int:
        return len(self.indices)

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)


def all_gather_objects(value: Any, context: DistContext) -> list[Any]:
    """Every rank's `value` (picklable), in rank order; ``[value]`` on one process."""
    if not context.distributed:
        return [value]
    gathered: list[Any] = [None] * context.world_size
    dist.all_gather_object(gathered, value)
    return gathered


def gather_with_grad(tensor: Tensor, context: DistContext) -> Tensor:
    """Concatenate every rank's `tensor` (equal shapes) along dim 0, in rank order.

    The backward pass sums the gradients all ranks computed for this rank's slice, so after
    DDP averages parameter gradients a loss over the gathered batch gets exactly the gradient
    it would have on one process holding the whole batch.
    """
    if not context.distributed:
        return tensor
    return layers_distributed.gather_with_grad(tensor)


def gather_tensor(tensor: Tensor, context: DistContext) -> Tensor:
    """Concatenate every rank's `tensor` (equal shapes) along dim 0, without gradient."""
    if not context.distributed:
        return tensor
    parts = [torch.empty_like(tensor) for _ in range(context.world_size)]
    dist.all_gather(parts, tensor.contiguous())
    return torch.cat(parts)


def scale_grad(value: Tensor, factor: float) -> Tensor:
    """`value` unchanged, its gradient multiplied by `factor`.

    A loss whose statistics are all-reduced (value global, gradient through local samples only)
    needs ``factor = world_size``: DDP divides gradients by the world size when it averages.
    """
    return layers_distributed.scale_gradient(value, factor)
