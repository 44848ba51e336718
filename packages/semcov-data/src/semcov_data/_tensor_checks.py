"""Checks of the tensors, generators, sizes and mixing coefficients given to batch mixing."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

__all__ = [
    "check_generator",
    "check_images",
    "check_mix_lambda",
    "check_positive",
    "check_size",
]


def check_generator(generator: Any) -> torch.device:
    if generator is None:
        return torch.device("cpu")
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {generator!r}")
    return generator.device


def check_positive(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(float(value)) or float(value) <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
    return float(value)


def check_size(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


def check_images(images: Any, name: str) -> None:
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(images).__name__}")
    if images.ndim != 4 or min(images.shape) < 1:
        raise ValueError(f"{name} must have shape (B, C, H, W), got {tuple(images.shape)}")
    if images.is_complex() or images.dtype == torch.bool:
        raise TypeError(f"{name} must be real-valued, got dtype {images.dtype}")


def check_mix_lambda(lam: Any, size: int | None = None) -> torch.Tensor:
    """Requested mixing coefficients as a float64 CPU tensor of shape (B,)."""
    if isinstance(lam, bool) or lam is None:
        raise TypeError(f"lam must be a number or a 1-D tensor, got {lam!r}")
    if isinstance(lam, int | float | np.number):
        if size is None:
            raise TypeError("lam must be a 1-D tensor when no batch size is known")
        values = torch.full((size,), float(lam), dtype=torch.float64)
    elif isinstance(lam, torch.Tensor | np.ndarray | Sequence) and not isinstance(lam, str):
        values = torch.as_tensor(lam).detach().to("cpu", torch.float64)
        if values.ndim == 0 and size is not None:
            values = values.expand(size).clone()
    else:
        raise TypeError(f"lam must be a number or a 1-D tensor, got {type(lam).__name__}")
    if values.ndim != 1 or len(values) == 0 or (size is not None and len(values) != size):
        want = f"({size},)" if size is not None else "(B,) with B >= 1"
        raise ValueError(f"lam must have shape {want}, got {tuple(values.shape)}")
    if not torch.isfinite(values).all() or (values < 0).any() or (values > 1).any():
        raise ValueError(f"lam must lie in [0, 1], got {values.tolist()}")
    return values
