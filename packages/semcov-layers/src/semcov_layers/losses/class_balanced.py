"""Class-balanced loss from the effective number of samples (Cui et al., CVPR 2019)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .._validation import (
    check_choice,
    check_floating,
    check_index_range,
    check_integer,
    check_same_batch,
    check_tensor,
)
from ._common import REDUCTIONS, reduce_loss

__all__ = [
    "CB_LOSS_TYPES",
    "ClassBalancedLoss",
    "class_balanced_loss",
    "effective_number_class_weights",
]

CB_LOSS_TYPES = ("softmax", "sigmoid")


def effective_number_class_weights(
    samples_per_class: Sequence[int] | Tensor, beta: float = 0.9999, *, normalize: bool = True
) -> Tensor:
    """Per-class weights ``(1 - beta) / (1 - beta^n_c)``, the inverse effective number of samples.

    Args:
        samples_per_class: n_c > 0 for every class, length C.
        beta: In [0, 1); 0 gives equal weights, beta -> 1 approaches inverse frequency.
        normalize: Rescale so the weights sum to C (as Cui et al. do).

    Returns:
        Float32 weights, shape (C,).

    Example:
        >>> effective_number_class_weights([100, 10], beta=0.9)
        tensor([0.7889, 1.2111])
    """
    counts = torch.as_tensor(samples_per_class, dtype=torch.float64)
    if counts.dim() != 1 or counts.numel() == 0:
        raise ValueError(
            f"`samples_per_class` must be a non-empty 1-D sequence, got shape {tuple(counts.shape)}"
        )
    if not bool(torch.isfinite(counts).all()) or bool((counts <= 0).any()):
        raise ValueError("`samples_per_class` must be positive for every class")
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"`beta` must be in [0, 1), got {beta}")
    weights = (1.0 - beta) / (1.0 - torch.pow(torch.tensor(beta, dtype=torch.float64), counts))
    if normalize:
        weights = weights * counts.numel() / weights.sum()
    return weights.float()


def _check_inputs(logits: object, targets: object, num_classes: int) -> bool:
    logits = check_tensor(
        logits, "logits", ndim=(1, 2), shape=f"(B, {num_classes}), or (B,) for binary sigmoid"
    )
    check_floating(logits, "logits")
    binary = logits.dim() == 1
    if binary and num_classes != 2:
        raise ValueError(f"`logits` of shape (B,) are binary but there are {num_classes} classes")
    if not binary and logits.shape[1] != num_classes:
        raise ValueError(
            f"`logits` must have shape (B, {num_classes}) to match `samples_per_class`, got shape "
            f"{tuple(logits.shape)}"
        )
    targets = check_tensor(targets, "targets", ndim=1, shape="(B,) of class indices")
    check_integer(targets, "targets")
    check_same_batch(logits, "logits", targets, "targets")
    check_index_range(targets, "targets", num_classes)
    return binary


def class_balanced_loss(
    logits: Tensor,
    targets: Tensor,
    weights: Tensor,
    *,
    loss_type: str = "softmax",
    reduction: str = "mean",
) -> Tensor:
    """Class-balanced loss: each sample's loss times the weight of its class.

    * ``softmax``: ``w_y * CE(logits, y)``.
    * ``sigmoid``: ``w_y * sum_c BCE(logits_c, 1[c = y])`` (one-vs-all); (B,) logits are one
      binary logit with targets in {0, 1}. Cui et al.'s reference code averages the sigmoid form
      over all B * C entries; here it is summed over classes and reduced over the batch like the
      softmax form.

    Args:
        logits: Shape (B, C), or (B,) binary (``sigmoid`` only).
        targets: Class indices, shape (B,).
        weights: Per-class weights, shape (C,) (see :func:`effective_number_class_weights`).
        loss_type: ``softmax`` or ``sigmoid``.
        reduction: ``mean | sum | none`` over the batch.

    Returns:
        Scalar, or shape (B,) with ``reduction="none"``.
    """
    check_choice(loss_type, "loss_type", CB_LOSS_TYPES)
    check_choice(reduction, "reduction", REDUCTIONS)
    weights = check_tensor(weights, "weights", ndim=1, shape="(C,)")
    binary = _check_inputs(logits, targets, weights.shape[0])
    if binary and loss_type == "softmax":
        raise ValueError(
            "`logits` of shape (B,) need loss_type='sigmoid'; use (B, 2) logits for softmax"
        )
    sample_weight = weights.to(device=logits.device, dtype=torch.float32)[targets.long()]
    logits = logits.float()
    if loss_type == "softmax":
        per_sample = F.cross_entropy(logits, targets.long(), reduction="none")
    elif binary:
        per_sample = F.binary_cross_entropy_with_logits(logits, targets.float(), reduction="none")
    else:
        one_hot = F.one_hot(targets.long(), logits.shape[1]).float()
        per_sample = F.binary_cross_entropy_with_logits(logits, one_hot, reduction="none").sum(
            dim=1
        )
    return reduce_loss(sample_weight * per_sample, reduction)


class ClassBalancedLoss(nn.Module):
    """Class-balanced loss (Cui et al. 2019) with weights ``(1 - beta) / (1 - beta^n_c)``.

    Args:
        samples_per_class: Training samples per class, length C, all > 0.
        beta: Effective-number hyperparameter in [0, 1).
        loss_type: ``softmax`` (cross-entropy) or ``sigmoid`` (one-vs-all BCE).
        reduction: ``mean | sum | none``.
    """

    weights: Tensor

    def __init__(
        self,
        samples_per_class: Sequence[int] | Tensor,
        *,
        beta: float = 0.9999,
        loss_type: str = "softmax",
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        check_choice(loss_type, "loss_type", CB_LOSS_TYPES)
        check_choice(reduction, "reduction", REDUCTIONS)
        self.beta = beta
        self.loss_type = loss_type
        self.reduction = reduction
        self.register_buffer("weights", effective_number_class_weights(samples_per_class, beta))

    def forward(self, logits: Tensor, targets: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            logits: Shape (B, C), or (B,) binary with ``loss_type="sigmoid"``.
            targets: Class indices, shape (B,).

        Returns:
            Scalar, or shape (B,) with ``reduction="none"``.
        """
        return class_balanced_loss(
            logits, targets, self.weights, loss_type=self.loss_type, reduction=self.reduction
        )

    def extra_repr(self) -> str:
        return f"beta={self.beta}, loss_type={self.loss_type!r}, reduction={self.reduction!r}"
