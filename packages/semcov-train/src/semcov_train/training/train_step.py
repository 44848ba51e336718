"""Model and objective as one module: what DDP wraps and what the training benchmark times."""

from __future__ import annotations

import torch
from torch import nn

from ..runtime.device_policy import autocast, float_output
from ..runtime.distributed import DistContext

__all__ = ["TrainStep"]


class TrainStep(nn.Module):
    """Model and objective as one module: ``step(images, batch)`` returns the objective's terms.

    One module so that DDP synchronises the objective's parameters (the DVA temperature)
    together with the model's; the forward pass runs under autocast when `amp` is a dtype and
    the objective always sees float32 outputs.

    Args:
        model: called as ``model(images, batch["descriptors"])``.
        objective: called as ``objective(output, batch, context)``.
        context: the process's :class:`~semcov_train.runtime.distributed.DistContext`.
        amp: autocast dtype (:func:`semcov_train.runtime.device_policy.amp_dtype`), or None.
    """

    def __init__(
        self,
        model: nn.Module,
        objective: nn.Module,
        context: DistContext,
        amp: torch.dtype | None,
    ) -> None:
        super().__init__()
        self.model = model
        self.objective = objective
        self.context = context
        self.amp = amp

    def forward(self, images: torch.Tensor, batch: dict) -> dict[str, torch.Tensor]:
        """The objective's terms (``loss`` and its parts) for `images` (B, C, H, W) and `batch`
        (``label`` (B,), ``descriptors`` (B, K), ``subgroup`` (B,), optionally
        ``soft_target`` (B, T))."""
        with autocast(images.device, self.amp):
            output = self.model(images, batch["descriptors"])
        if self.amp is not None:
            output = float_output(output)
        return self.objective(output, batch, self.context)
