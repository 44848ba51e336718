"""Descriptor-Vision Alignment (DVA) contrastive loss (paper Eq. 7)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .._validation import check_choice, check_floating, check_tensor
from ._common import REDUCTIONS, as_float, reduce_loss

__all__ = ["DVALoss", "dva_loss"]


def _check_pair(embedding: object, descriptor_embedding: object) -> None:
    embedding = check_tensor(embedding, "embedding", ndim=2, shape="(B, D)")
    descriptor_embedding = check_tensor(
        descriptor_embedding,
        "descriptor_embedding",
        ndim=2,
        shape=f"(B, D) matching `embedding` {tuple(embedding.shape)}",
        sizes={0: embedding.shape[0], 1: embedding.shape[1]},
    )
    check_floating(embedding, "embedding")
    check_floating(descriptor_embedding, "descriptor_embedding")


def dva_loss(
    embedding: Tensor,
    descriptor_embedding: Tensor,
    temperature: float | Tensor = 0.07,
    *,
    symmetric: bool = False,
    reduction: str = "mean",
) -> Tensor:
    """DVA loss ``CE(S, I)`` with ``S = normalize(z) normalize(d)^T / tau`` (paper Eq. 7).

    Row i of S scores image i against the descriptor embeddings of the batch; its target is i.
    ``symmetric=True`` averages this image-to-descriptor term with the descriptor-to-image term
    (CLIP style). paper: one direction; here: one direction by default.

    Args:
        embedding: Visual embedding z, shape (B, D).
        descriptor_embedding: Projected descriptors Linear(p), shape (B, D).
        temperature: tau > 0 (float or 0-d tensor, may require grad).
        symmetric: Average both directions.
        reduction: ``mean | sum | none`` over the B samples.

    Returns:
        Scalar, or shape (B,) with ``reduction="none"``.
    """
    _check_pair(embedding, descriptor_embedding)
    check_choice(reduction, "reduction", REDUCTIONS)
    if isinstance(temperature, Tensor):
        if temperature.numel() != 1:
            raise ValueError(
                f"`temperature` must be a scalar, got shape {tuple(temperature.shape)}"
            )
    elif not temperature > 0:
        raise ValueError(f"`temperature` must be > 0, got {temperature}")
    visual = F.normalize(as_float(embedding), dim=-1)
    semantic = F.normalize(as_float(descriptor_embedding), dim=-1)
    similarity = visual @ semantic.transpose(0, 1) / temperature
    targets = torch.arange(similarity.shape[0], device=similarity.device)
    per_sample = F.cross_entropy(similarity, targets, reduction="none")
    if symmetric:
        per_sample = 0.5 * (
            per_sample + F.cross_entropy(similarity.transpose(0, 1), targets, reduction="none")
        )
    return reduce_loss(per_sample, reduction)


class DVALoss(nn.Module):
    """DVA loss with a learnable temperature (paper Eq. 7).

    paper: "tau is a learnable temperature"; here (as in CLIP) tau is parametrized as
    ``exp(log_tau)`` with ``log_tau`` initialised at ``log(0.07)`` and tau clamped to
    ``[min_temperature, max_temperature]`` in the forward pass. Remember to give this module's
    parameters to the optimizer.

    Args:
        temperature: Initial tau.
        learnable: Learn tau; otherwise it stays fixed (a buffer).
        min_temperature: Lower clamp of tau.
        max_temperature: Upper clamp of tau.
        symmetric: Average both directions.
        reduction: ``mean | sum | none``.
    """

    def __init__(
        self,
        temperature: float = 0.07,
        *,
        learnable: bool = True,
        min_temperature: float = 0.01,
        max_temperature: float = 1.0,
        symmetric: bool = False,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        if not 0 < min_temperature <= temperature <= max_temperature:
            raise ValueError(
                "`temperature` must satisfy 0 < min_temperature <= temperature <= "
                f"max_temperature, got {min_temperature}, {temperature}, {max_temperature}"
            )
        check_choice(reduction, "reduction", REDUCTIONS)
        log_temperature = torch.tensor(math.log(temperature))
        if learnable:
            self.log_temperature = nn.Parameter(log_temperature)
        else:
            self.register_buffer("log_temperature", log_temperature)
        self.min_temperature = min_temperature
        self.max_temperature = max_temperature
        self.symmetric = symmetric
        self.reduction = reduction

    @property
    def temperature(self) -> Tensor:
        """The clamped temperature tau (0-d tensor)."""
        return self.log_temperature.exp().clamp(self.min_temperature, self.max_temperature)

    def forward(self, embedding: Tensor, descriptor_embedding: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            embedding: Visual embedding z, shape (B, D).
            descriptor_embedding: Projected descriptors, shape (B, D).

        Returns:
            Scalar, or shape (B,) with ``reduction="none"``.
        """
        return dva_loss(
            embedding,
            descriptor_embedding,
            self.temperature,
            symmetric=self.symmetric,
            reduction=self.reduction,
        )

    def extra_repr(self) -> str:
        return (
            f"temperature={float(self.temperature):.4f}, symmetric={self.symmetric}, "
            f"reduction={self.reduction!r}"
        )
