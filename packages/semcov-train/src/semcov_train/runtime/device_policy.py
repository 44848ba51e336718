"""How a run uses its device: the autocast dtype, channels-last, and objectives kept in float32.

AMP and channels-last are CUDA-only: ``auto`` turns them on there and off elsewhere, and an
explicit request for them on another device is an error rather than a silent no-op.
"""

from __future__ import annotations

import dataclasses
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import torch

from ..config import TrainConfig

__all__ = ["amp_dtype", "autocast", "float_output", "use_channels_last"]


def amp_dtype(config: TrainConfig, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for `config.amp` on `device`, or None for full precision.

    ``auto`` picks bf16 on CUDA devices that support it, fp16 on other CUDA devices and None
    elsewhere.

    Raises:
        ValueError: ``amp`` is ``fp16`` or ``bf16`` and `device` is not a CUDA device.
    """
    if config.amp == "off":
        return None
    if device.type != "cuda":
        if config.amp != "auto":
            raise ValueError(f"amp={config.amp!r} needs a CUDA device; use --amp auto or off")
        return None
    if config.amp == "fp16":
        return torch.float16
    if config.amp == "bf16" or torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16


def use_channels_last(config: TrainConfig, device: torch.device) -> bool:
    """Whether models and image batches use the channels-last memory format on `device`.

    Raises:
        ValueError: ``channels_last`` is ``on`` and `device` is not a CUDA device.
    """
    if config.channels_last == "off":
        return False
    if device.type != "cuda":
        if config.channels_last == "on":
            raise ValueError("channels_last='on' needs a CUDA device; use auto or off")
        return False
    return True


def autocast(device: torch.device, dtype: torch.dtype | None) -> AbstractContextManager[Any]:
    """``torch.autocast`` on `device` at `dtype`; a context doing nothing when `dtype` is None."""
    if dtype is None:
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def float_output(output: Any) -> Any:
    """A copy of a model output dataclass with its low-precision tensors in float32, so the
    objectives (cross-entropy, DVA, CDI statistics) never run in bf16 / fp16."""
    changes = {
        field.name: value.float()
        for field in dataclasses.fields(output)
        if isinstance(value := getattr(output, field.name), torch.Tensor)
        and value.dtype in (torch.float16, torch.bfloat16)
    }
    return dataclasses.replace(output, **changes) if changes else output
