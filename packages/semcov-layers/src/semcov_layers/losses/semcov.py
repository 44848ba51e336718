"""The SemCovNet joint objective (paper Eq. 10-12): CE + desc BCE + DVA + CDI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .._validation import (
    check_choice,
    check_floating,
    check_index_range,
    check_integer,
    check_probabilities,
    check_same_batch,
    check_tensor,
)
from .cdi import CDIRegularizer
from .distributed import scale_gradient, world_size
from .dva import DVALoss, dva_loss

__all__ = ["SemCovLoss", "SemCovLossOutput", "semcov_loss"]

_REDUCTIONS = ("mean", "sum")


class _NetOutput(Protocol):
    """What :class:`SemCovLoss` reads from a model output (e.g. a ``SemCovNetOutput``)."""

    logits: Tensor
    descriptor_logits: Tensor
    embedding: Tensor
    descriptor_embedding: Tensor


@dataclass
class SemCovLossOutput:
    """Total loss and every weighted-sum term (unweighted), for logging.

    Attributes:
        total: ``classification + l_desc * descriptor + l_dva * dva + l_cdi * cdi`` (Eq. 12).
        classification: L_cls (Eq. 10).
        descriptor: L_desc (Eq. 11).
        dva: L_DVA (Eq. 7).
        cdi: L_CDI (Eq. 9); 0 without a coverage tensor.
    """

    total: Tensor
    classification: Tensor
    descriptor: Tensor
    dva: Tensor
    cdi: Tensor


def _classification(logits: Tensor, targets: Tensor, reduction: str) -> Tensor:
    if logits.dim() == 1 or logits.shape[1] == 1:
        return F.binary_cross_entropy_with_logits(
            logits.reshape(-1), targets.to(logits.dtype), reduction=reduction
        )
    return F.cross_entropy(logits, targets.long(), reduction=reduction)


def semcov_loss(
    logits: Tensor,
    descriptor_logits: Tensor,
    embedding: Tensor,
    descriptor_embedding: Tensor,
    targets: Tensor,
    descriptors: Tensor,
    *,
    temperature: float | Tensor = 0.07,
    cdi: Tensor | None = None,
    lambda_desc: float = 0.05,
    lambda_dva: float = 0.1,
    lambda_cdi: float = 0.1,
    symmetric_dva: bool = False,
    gather_dva: bool = False,
    classification_loss: Callable[[Tensor, Tensor], Tensor] | None = None,
    reduction: str = "mean",
) -> SemCovLossOutput:
    """``L = L_cls + l_desc L_desc + l_dva L_DVA + l_cdi L_CDI`` (paper Eq. 10-12).

    ``L_cls = CE(y_hat, y)`` (Eq. 10; BCE-with-logits for (B,) / (B, 1) binary logits, or any
    ``classification_loss(logits, targets)`` such as :class:`ClassBalancedLoss`);
    ``L_desc = BCEWithLogits(p_hat, p)`` (Eq. 11), averaged over the K descriptors of a sample.

    Args:
        logits: Class logits, shape (B, T), or (B,) / (B, 1) binary.
        descriptor_logits: p_hat, shape (B, K).
        embedding: z, shape (B, D).
        descriptor_embedding: Linear(p), shape (B, D).
        targets: Class indices, shape (B,).
        descriptors: Descriptor probabilities p (the targets of Eq. 11), shape (B, K).
        temperature: DVA temperature.
        cdi: A precomputed L_CDI (scalar), or None for 0.
        lambda_desc: Weight of L_desc (paper 0.05).
        lambda_dva: Weight of L_DVA (paper 0.1).
        lambda_cdi: Weight of L_CDI (paper 0.1).
        symmetric_dva: Use the symmetric DVA variant.
        gather_dva: Under DDP, DVA scores this process's images against the descriptor
            embeddings of every process (``dva_loss(gather=True)``).
        classification_loss: Replaces the cross-entropy of Eq. 10; its own reduction applies.
        reduction: ``mean`` or ``sum`` over the batch for the per-sample terms.

    Returns:
        :class:`SemCovLossOutput`.
    """
    check_choice(reduction, "reduction", _REDUCTIONS)
    logits = check_tensor(
        logits, "logits", ndim=(1, 2), shape="(B, T), or (B,) / (B, 1) for binary"
    )
    check_floating(logits, "logits")
    targets = check_tensor(targets, "targets", ndim=1, shape="(B,) of class indices")
    check_integer(targets, "targets")
    check_same_batch(logits, "logits", targets, "targets")
    binary = logits.dim() == 1 or logits.shape[1] == 1
    check_index_range(targets, "targets", 2 if binary else logits.shape[1])
    descriptors = check_tensor(descriptors, "descriptors", ndim=2, shape="(B, K)")
    check_floating(descriptors, "descriptors")
    check_same_batch(logits, "logits", descriptors, "descriptors")
    check_probabilities(descriptors, "descriptors")
    descriptor_logits = check_tensor(
        descriptor_logits,
        "descriptor_logits",
        ndim=2,
        shape=f"(B, K) matching `descriptors` {tuple(descriptors.shape)}",
        sizes={0: descriptors.shape[0], 1: descriptors.shape[1]},
    )
    check_floating(descriptor_logits, "descriptor_logits")
    embedding = check_tensor(embedding, "embedding", ndim=2, shape="(B, D)")
    check_same_batch(logits, "logits", embedding, "embedding")

    if classification_loss is None:
        classification = _classification(logits, targets, reduction)
    else:
        classification = classification_loss(logits, targets)
    per_sample_desc = F.binary_cross_entropy_with_logits(
        descriptor_logits.float(), descriptors.float(), reduction="none"
    ).mean(dim=1)
    descriptor = per_sample_desc.mean() if reduction == "mean" else per_sample_desc.sum()
    alignment = dva_loss(
        embedding,
        descriptor_embedding,
        temperature,
        symmetric=symmetric_dva,
        gather=gather_dva,
        reduction=reduction,
    )
    if cdi is None:
        cdi = torch.zeros((), device=logits.device, dtype=classification.dtype)
    total = classification + lambda_desc * descriptor + lambda_dva * alignment + lambda_cdi * cdi
    return SemCovLossOutput(
        total=total, classification=classification, descriptor=descriptor, dva=alignment, cdi=cdi
    )


class SemCovLoss(nn.Module):
    """The SemCovNet training objective (paper Eq. 12) with the paper's weights 0.05 / 0.1 / 0.1.

    Holds a :class:`DVALoss` (learnable temperature: pass this module's parameters to the
    optimizer) and, when a coverage tensor is given, a :class:`CDIRegularizer` (running per-SCG
    statistics: call ``loss.cdi.reset()`` where you want them forgotten). Without coverage the CDI
    term is 0.

    ``distributed=True`` makes the objective exact under DDP, where each of N processes holds a
    share of the batch and gradients are averaged: DVA scores each process's images against the
    descriptor embeddings of all processes, gathered with their gradient (``DVALoss(gather=True)``),
    and the CDI term, whose per-SCG statistics are all-reduced (same value on every process,
    gradient through the local samples only), has its gradient multiplied by N. Loss and
    gradients then equal those of one process with the whole batch. Without torch.distributed it
    changes nothing.

    Args:
        coverage: Training coverage c_g, shape (num_classes, num_descriptors, num_subgroups),
            or None.
        lambda_desc: Weight of L_desc.
        lambda_dva: Weight of L_DVA.
        lambda_cdi: Weight of L_CDI.
        temperature: Initial DVA temperature.
        learnable_temperature: Learn the DVA temperature.
        symmetric_dva: Use the symmetric DVA variant.
        distributed: Exact under DDP (see above).
        classification_loss: Replaces the cross-entropy of Eq. 10 (e.g. a ClassBalancedLoss).
        reduction: ``mean`` or ``sum`` over the batch for the per-sample terms.
        **cdi_options: Passed to :class:`CDIRegularizer` (``membership``, ``decay``, ...).
    """

    def __init__(
        self,
        coverage: Tensor | None = None,
        *,
        lambda_desc: float = 0.05,
        lambda_dva: float = 0.1,
        lambda_cdi: float = 0.1,
        temperature: float = 0.07,
        learnable_temperature: bool = True,
        symmetric_dva: bool = False,
        distributed: bool = False,
        classification_loss: nn.Module | None = None,
        reduction: str = "mean",
        **cdi_options: Any,
    ) -> None:
        super().__init__()
        check_choice(reduction, "reduction", _REDUCTIONS)
        for name, value in (
            ("lambda_desc", lambda_desc),
            ("lambda_dva", lambda_dva),
            ("lambda_cdi", lambda_cdi),
        ):
            if value < 0:
                raise ValueError(f"`{name}` must be >= 0, got {value}")
        if coverage is None and cdi_options:
            raise ValueError(f"CDI options {sorted(cdi_options)} need a `coverage` tensor")
        self.lambda_desc = lambda_desc
        self.lambda_dva = lambda_dva
        self.lambda_cdi = lambda_cdi
        self.reduction = reduction
        self.distributed = distributed
        self.dva = DVALoss(
            temperature,
            learnable=learnable_temperature,
            symmetric=symmetric_dva,
            gather=distributed,
        )
        self.cdi = CDIRegularizer(coverage, **cdi_options) if coverage is not None else None
        self.classification_loss = classification_loss

    def forward(
        self,
        output: object,
        targets: Tensor,
        descriptors: Tensor,
        subgroups: Tensor | None = None,
    ) -> SemCovLossOutput:
        """Compute every term.

        Args:
            output: A :class:`SemCovNetOutput` (anything with ``logits``, ``descriptor_logits``,
                ``embedding`` and ``descriptor_embedding``).
            targets: Class indices, shape (B,).
            descriptors: Descriptor probabilities p, shape (B, K).
            subgroups: Subgroup indices, shape (B,); required when built with ``coverage``.

        Returns:
            :class:`SemCovLossOutput`.
        """
        missing = [
            name
            for name in ("logits", "descriptor_logits", "embedding", "descriptor_embedding")
            if not hasattr(output, name)
        ]
        if missing:
            raise TypeError(
                "`output` must be a SemCovNetOutput (or have logits, descriptor_logits, embedding, "
                f"descriptor_embedding); missing {missing} on {type(output).__name__}"
            )
        net = cast(_NetOutput, output)
        cdi = None
        if self.cdi is not None:
            if subgroups is None:
                raise ValueError("`subgroups` of shape (B,) is required: this loss has a CDI term")
            cdi = self.cdi(net.logits, targets, descriptors, subgroups)
            if self.distributed:
                cdi = scale_gradient(cdi, world_size())
        elif subgroups is not None:
            raise ValueError(
                "`subgroups` was given but the loss has no CDI term; build it with `coverage`"
            )
        return semcov_loss(
            net.logits,
            net.descriptor_logits,
            net.embedding,
            net.descriptor_embedding,
            targets,
            descriptors,
            temperature=self.dva.temperature,
            cdi=cdi,
            lambda_desc=self.lambda_desc,
            lambda_dva=self.lambda_dva,
            lambda_cdi=self.lambda_cdi,
            symmetric_dva=self.dva.symmetric,
            gather_dva=self.dva.gather,
            classification_loss=self.classification_loss,
            reduction=self.reduction,
        )

    def extra_repr(self) -> str:
        return (
            f"lambda_desc={self.lambda_desc}, lambda_dva={self.lambda_dva}, "
            f"lambda_cdi={self.lambda_cdi}, distributed={self.distributed}, "
            f"reduction={self.reduction!r}"
        )
