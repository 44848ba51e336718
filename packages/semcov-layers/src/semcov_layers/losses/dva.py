"""Descriptor-Vision Alignment (DVA) contrastive loss (paper Eq. 7)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .._validation import check_choice, check_floating, check_tensor
from ._common import REDUCTIONS, as_float, reduce_loss
from .distributed import gather_with_grad, is_distributed, process_rank

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
    gather: bool = False,
    reduction: str = "mean",
) -> Tensor:
    """DVA loss ``CE(S, I)`` with ``S = normalize(z) normalize(d)^T / tau`` (paper Eq. 7).

    Row i of S scores image i against the descriptor embeddings of the batch; its target is i.
    ``symmetric=True`` averages this image-to-descriptor term with the descriptor-to-image term
    (CLIP style). paper: one direction; here: one direction by default.

    ``gather=True`` under torch.distributed (DDP): the batch is every process's share, so each
    process scores its own images against the descriptor embeddings of all processes (and, with
    ``symmetric``, its descriptors against all images), gathered with their gradient. After DDP
    averages the gradients, value (averaged over processes) and gradient equal the loss on one
    process holding the whole batch. Every process must hold the same batch size B. Without
    torch.distributed it changes nothing.

    Args:
        embedding: Visual embedding z, shape (B, D).
        descriptor_embedding: Projected descriptors Linear(p), shape (B, D).
        temperature: tau > 0 (float or 0-d tensor, may require grad).
        symmetric: Average both directions.
        gather: Score against the embeddings of every process (see above).
        reduction: ``mean | sum | none`` over this process's B samples.

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
    batch = visual.shape[0]
    gather = gather and is_distributed()
    # Row i's positive is its own pair, at this process's offset in a gathered batch.
    offset = process_rank() * batch if gather else 0
    targets = torch.arange(batch, device=visual.device) + offset
    all_semantic = gather_with_grad(semantic) if gather else semantic
    similarity = visual @ all_semantic.transpose(0, 1) / temperature
    per_sample = F.cross_entropy(similarity, targets, reduction="none")
    if symmetric:
        if gather:
            reverse_similarity = semantic @ gather_with_grad(visual).transpose(0, 1) / temperature
        else:
            reverse_similarity = similarity.transpose(0, 1)
        reverse = F.cross_entropy(reverse_similarity, targets, reduction="none")
        per_sample = 0.5 * (per_sample + reverse)
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
        gather: Under DDP, score against the embeddings of every process (:func:`dva_loss`).
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
        gather: bool = False,
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
        self.gather = gather
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
            gather=self.gather,
            reduction=self.reduction,
        )

    def extra_repr(self) -> str:
        return (
            f"temperature={float(self.temperature):.4f}, symmetric={self.symmetric}, "
            f"gather={self.gather}, reduction={self.reduction!r}"
        )
