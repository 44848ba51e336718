"""Input checks shared by every public module: errors name the argument and the expected shape."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = [
    "check_choice",
    "check_floating",
    "check_index_range",
    "check_integer",
    "check_positive_int",
    "check_probabilities",
    "check_same_batch",
    "check_tensor",
]


def _shape(x: Tensor) -> tuple[int, ...]:
    return tuple(x.shape)


def check_tensor(
    value: object,
    name: str,
    *,
    ndim: int | Sequence[int] | None = None,
    shape: str = "",
    sizes: dict[int, int] | None = None,
) -> Tensor:
    """Check that `value` is a tensor of the given rank and fixed dimension sizes.

    Args:
        value: The object passed by the caller.
        name: The argument name, used in the error message.
        ndim: Allowed number(s) of dimensions.
        shape: Human-readable expected shape, e.g. ``"(B, K)"``.
        sizes: ``{dim: size}`` that must hold (negative dims allowed).

    Returns:
        The tensor, unchanged.

    Raises:
        TypeError: `value` is not a tensor.
        ValueError: wrong rank or a wrong fixed size.
    """
    if not isinstance(value, Tensor):
        raise TypeError(
            f"`{name}` must be a torch.Tensor of shape {shape}, got {type(value).__name__}"
        )
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if value.dim() not in allowed:
            raise ValueError(f"`{name}` must have shape {shape}, got shape {_shape(value)}")
    if sizes:
        for dim, size in sizes.items():
            if value.shape[dim] != size:
                raise ValueError(f"`{name}` must have shape {shape}, got shape {_shape(value)}")
    return value


def check_floating(value: Tensor, name: str) -> Tensor:
    """Raise TypeError unless `value` has a floating-point dtype."""
    if not value.is_floating_point():
        raise TypeError(f"`{name}` must be a floating-point tensor, got dtype {value.dtype}")
    return value


def check_integer(value: Tensor, name: str) -> Tensor:
    """Raise TypeError unless `value` holds integers (bool is not accepted)."""
    if value.is_floating_point() or value.is_complex() or value.dtype == torch.bool:
        raise TypeError(f"`{name}` must be an integer tensor of indices, got dtype {value.dtype}")
    return value


def check_same_batch(first: Tensor, first_name: str, other: Tensor, other_name: str) -> None:
    """Raise ValueError unless both tensors have the same leading (batch) size."""
    if first.shape[0] != other.shape[0]:
        raise ValueError(
            f"`{other_name}` must have the same batch size as `{first_name}` "
            f"({first.shape[0]}), got shape {_shape(other)}"
        )


def _eager() -> bool:
    # Value checks read tensor data; skip them while torch.compile traces, where they would
    # force a graph break, and keep them in eager mode where user errors happen.
    return not torch.compiler.is_compiling()


def check_probabilities(value: Tensor, name: str) -> Tensor:
    """Raise ValueError unless every entry lies in [0, 1] (eager mode only)."""
    if _eager() and value.numel() > 0:
        low, high = torch.aminmax(value.detach())
        low, high = torch.stack((low, high)).tolist()
        # Written so that NaN fails: every comparison with NaN is False.
        if not (low >= 0.0 and high <= 1.0):
            raise ValueError(
                f"`{name}` must hold probabilities in [0, 1], got values in [{low}, {high}]"
            )
    return value


def check_feature_map(features: object, name: str, channels: int, label: str = "D") -> Tensor:
    """A floating (B, C, H, W) tensor with C = ``channels``; ``label`` names C in the message."""
    features = check_tensor(
        features,
        name,
        ndim=4,
        shape=f"(B, {label}, H, W) with {label} = {channels}",
        sizes={1: channels},
    )
    return check_floating(features, name)


def check_descriptors(
    descriptors: object, num_descriptors: int, batch_of: Tensor, batch_name: str
) -> Tensor:
    """Floating (B, K) descriptor probabilities whose batch matches ``batch_of``."""
    descriptors = check_tensor(
        descriptors,
        "descriptors",
        ndim=2,
        shape=f"(B, K) with K = {num_descriptors}",
        sizes={1: num_descriptors},
    )
    check_floating(descriptors, "descriptors")
    check_same_batch(batch_of, batch_name, descriptors, "descriptors")
    return descriptors


def check_index_range(value: Tensor, name: str, upper: int) -> Tensor:
    """Raise ValueError unless every index lies in ``[0, upper)`` (eager mode only)."""
    if _eager() and value.numel() > 0:
        low, high = int(value.min()), int(value.max())
        if low < 0 or high >= upper:
            raise ValueError(
                f"`{name}` must hold indices in [0, {upper}), got values in [{low}, {high}]"
            )
    return value


def check_choice(value: str, name: str, choices: Sequence[str]) -> str:
    """Raise ValueError unless `value` is one of `choices`."""
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"`{name}` must be one of {options}, got {value!r}")
    return value


def check_positive_int(value: object, name: str, *, minimum: int = 1) -> int:
    """Raise TypeError/ValueError unless `value` is an int >= `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"`{name}` must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}, got {value}")
    return value
