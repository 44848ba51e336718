"""Training objectives: one module per method family, each returning its loss and logged terms.

An objective is called as ``objective(output, batch, context)`` with the model output, the batch
dict (``label``, ``descriptors``, ``subgroup``, optionally ``soft_target`` after batch mixing)
and the :class:`~semcov_train.runtime.distributed.DistContext`; it returns a dict whose
``"loss"`` is back-propagated and whose other entries are logged (detached) per epoch.
"""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from semcov_layers import SemCovLoss

from ..runtime.distributed import DistContext, gather_tensor, gather_with_grad

__all__ = [
    "CrossEntropyObjective",
    "GroupDROObjective",
    "LossObjective",
    "NIRObjective",
    "SemCovObjective",
    "SemanticScaleObjective",
    "classification_loss",
    "global_batch",
]


def global_batch(*tensors: Tensor, context: DistContext) -> tuple[Tensor, ...]:
    """The tensors of every process concatenated (floating ones keep their gradient).

    Objectives whose value depends on batch statistics (group means, per-neuron means, feature
    banks) compute it on the global batch, identically on every rank; with
    :func:`gather_with_grad` the gradient each rank keeps is exactly its share, so N processes
    optimise the same objective as one process with the whole batch. It also keeps collective
    calls inside those losses in lockstep across ranks.
    """
    if not context.distributed:
        return tensors
    return tuple(
        gather_with_grad(t, context) if t.is_floating_point() else gather_tensor(t, context)
        for t in tensors
    )


def classification_loss(logits: Tensor, batch: dict) -> Tensor:
    """Cross-entropy with the integer labels, or with ``soft_target`` after batch mixing."""
    soft = batch.get("soft_target")
    if soft is not None:
        return -(soft.to(logits.dtype) * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
    return F.cross_entropy(logits, batch["label"])


class CrossEntropyObjective(nn.Module):
    """Plain (or soft-target) cross-entropy: ERM, ViT, CLIP, MONET and the CAS mixing methods."""

    def forward(self, output, batch: dict, context: DistContext) -> dict[str, Tensor]:
        loss = classification_loss(output.logits.float(), batch)
        return {"loss": loss, "ce": loss}


class LossObjective(nn.Module):
    """A ``loss(logits, labels)`` module from semcov_layers (class-balanced, asymmetric)."""

    def __init__(self, loss: nn.Module, name: str) -> None:
        super().__init__()
        self.loss = loss
        self.name = name

    def forward(self, output, batch: dict, context: DistContext) -> dict[str, Tensor]:
        loss = self.loss(output.logits.float(), batch["label"])
        return {"loss": loss, self.name: loss}


class GroupDROObjective(nn.Module):
    """Online Group DRO over per-sample cross-entropy; groups from the batch.

    ``groups``: ``subgroup`` (e.g. the 8 sites), ``class_subgroup`` (class × subgroup), or
    ``scg`` (class × the sample's most probable descriptor × subgroup). paper: "GroupDRO" with
    groups unstated for SCGs; here a sample's SCG is its argmax descriptor, since soft
    membership would put every sample in K groups at once.
    """

    def __init__(self, loss: nn.Module, groups: str, num_descriptors: int, num_subgroups: int):
        super().__init__()
        self.loss = loss
        self.groups = groups
        self.num_descriptors = num_descriptors
        self.num_subgroups = num_subgroups

    def group_of(self, labels: Tensor, descriptors: Tensor, subgroups: Tensor) -> Tensor:
        return group_index(
            self.groups, labels, descriptors, subgroups, self.num_descriptors, self.num_subgroups
        )

    def forward(self, output, batch: dict, context: DistContext) -> dict[str, Tensor]:
        logits, labels = global_batch(output.logits.float(), batch["label"], context=context)
        descriptors, subgroups = global_batch(
            batch["descriptors"], batch["subgroup"], context=context
        )
        per_sample = F.cross_entropy(logits, labels, reduction="none")
        loss = self.loss(per_sample, self.group_of(labels, descriptors, subgroups))
        return {"loss": loss, "ce": per_sample.mean().detach(), "robust": loss}


def group_index(
    kind: str,
    labels: Tensor,
    descriptors: Tensor,
    subgroups: Tensor,
    num_descriptors: int,
    num_subgroups: int,
) -> Tensor:
    """Group id per sample for :class:`GroupDROObjective` (torch or numpy-compatible tensors)."""
    if kind == "subgroup":
        return subgroups
    if kind == "class_subgroup":
        return labels * num_subgroups + subgroups
    dominant = descriptors.argmax(dim=1)
    return (labels * num_descriptors + dominant) * num_subgroups + subgroups


def count_groups(kind: str, num_classes: int, num_descriptors: int, num_subgroups: int) -> int:
    if kind == "subgroup":
        return num_subgroups
    if kind == "class_subgroup":
        return num_classes * num_subgroups
    return num_classes * num_descriptors * num_subgroups


class NIRObjective(nn.Module):
    """Cross-entropy + ``lambda`` × the NIR regularizer on the penultimate features."""

    def __init__(self, regularizer: nn.Module, weight: float) -> None:
        super().__init__()
        self.regularizer = regularizer
        self.weight = weight

    def forward(self, output, batch: dict, context: DistContext) -> dict[str, Tensor]:
        logits, labels = global_batch(output.logits.float(), batch["label"], context=context)
        (embedding,) = global_batch(output.embedding.float(), context=context)
        ce = F.cross_entropy(logits, labels)
        nir = self.regularizer(embedding, logits)
        return {"loss": ce + self.weight * nir, "ce": ce, "nir": nir}


class SemanticScaleObjective(nn.Module):
    """Semantic-scale-balanced cross-entropy; the scales come from the embeddings z."""

    def __init__(self, loss: nn.Module) -> None:
        super().__init__()
        self.loss = loss

    def forward(self, output, batch: dict, context: DistContext) -> dict[str, Tensor]:
        logits, labels = global_batch(output.logits.float(), batch["label"], context=context)
        (embedding,) = global_batch(output.embedding.float(), context=context)
        loss = self.loss(logits, labels, embedding)
        return {"loss": loss, "ssb": loss}


class SemCovObjective(nn.Module):
    """The SemCovNet objective (paper Eq. 12): ``CE + l_desc BCE + l_dva DVA + l_cdi CDI``.

    Wraps :class:`semcov_layers.SemCovLoss` built with ``distributed=True`` (its DVA temperature
    is a parameter and its CDI regularizer keeps running per-SCG sums, both part of this
    module's state): under DDP the DVA term scores each process's images against the descriptor
    embeddings of every process, and the CDI term, whose statistics are all-reduced, gets its
    gradient scaled by the world size, so N processes optimise the same objective as one.

    Args:
        coverage: training coverage (classes, descriptors, subgroups), or None (CDI off).
        use_dva: include the DVA term.
        lambda_desc, lambda_dva, lambda_cdi: the weights (paper 0.05 / 0.1 / 0.1).
        temperature: initial DVA temperature.
        symmetric_dva: symmetric DVA variant.
        cdi_decay: running-sum decay of the CDI regularizer.
        cdi_membership: ``soft`` or ``hard`` SCG membership in the regularizer.
    """

    def __init__(
        self,
        coverage: Tensor | None,
        *,
        use_dva: bool = True,
        lambda_desc: float = 0.05,
        lambda_dva: float = 0.1,
        lambda_cdi: float = 0.1,
        temperature: float = 0.07,
        symmetric_dva: bool = False,
        cdi_decay: float = 0.95,
        cdi_membership: str = "soft",
    ) -> None:
        super().__init__()

        cdi_options: dict[str, Any] = {}
        if coverage is not None:
            cdi_options = {"decay": cdi_decay, "membership": cdi_membership}
        self.criterion = SemCovLoss(
            coverage,
            lambda_desc=lambda_desc,
            lambda_dva=lambda_dva if use_dva else 0.0,
            lambda_cdi=lambda_cdi,
            temperature=temperature,
            symmetric_dva=symmetric_dva,
            distributed=True,
            **cdi_options,
        )
        self.use_dva = use_dva

    def forward(self, output, batch: dict, context: DistContext) -> dict[str, Tensor]:
        subgroups = batch["subgroup"] if self.criterion.cdi is not None else None
        terms = self.criterion(output, batch["label"], batch["descriptors"], subgroups)
        result = {"loss": terms.total, "ce": terms.classification, "desc": terms.descriptor}
        if self.use_dva:
            result["dva"] = terms.dva
        if self.criterion.cdi is not None:
            result["cdi"] = terms.cdi
        return result
