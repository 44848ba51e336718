"""Neuron Incidence Redistribution (NIR): spread class evidence over the penultimate neurons."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .._validation import check_choice, check_floating, check_same_batch, check_tensor
from ._common import REDUCTIONS, as_float, reduce_loss

__all__ = ["NIRRegularizer", "nir_regularizer"]


def nir_regularizer(activations: Tensor, logits: Tensor, *, reduction: str = "mean") -> Tensor:
    """Variance across neurons of the probability-weighted mean activations (no group labels).

    For every class c the probability-weighted mean activation of neuron j is
    ``m_cj = sum_i P(c | x_i) h_ij / sum_i P(c | x_i)``; the penalty of class c is the population
    variance of ``m_c.`` across the N neurons. It is 0 when every neuron carries the same mean
    evidence and grows when one channel dominates a prediction, the mechanism the NIR paper ties to
    subgroup disparities. paper (abstract only): "variance of predicted-probability-weighted mean
    activations across penultimate-layer neurons"; here the per-class penalties (both the positive
    and the negative prediction for binary logits) are reduced with ``reduction``, and gradients
    flow through both activations and probabilities.

    Args:
        activations: Penultimate activations h, shape (B, N).
        logits: (B,) / (B, 1) binary logits (sigmoid), or (B, C) class logits (softmax).
        reduction: ``mean | sum | none`` over the classes.

    Returns:
        Scalar, or shape (C,) with ``reduction="none"`` (C = 2 for binary logits).
    """
    check_choice(reduction, "reduction", REDUCTIONS)
    activations = check_tensor(activations, "activations", ndim=2, shape="(B, N)")
    check_floating(activations, "activations")
    logits = check_tensor(
        logits, "logits", ndim=(1, 2), shape="(B, C), or (B,) / (B, 1) for binary"
    )
    check_floating(logits, "logits")
    check_same_batch(activations, "activations", logits, "logits")
    logits = as_float(logits)
    if logits.dim() == 2 and logits.shape[1] == 1:
        logits = logits[:, 0]
    if logits.dim() == 1:
        positive = torch.sigmoid(logits)
        probabilities = torch.stack((1.0 - positive, positive), dim=1)
    else:
        probabilities = logits.softmax(dim=1)
    hidden = as_float(activations).to(probabilities.dtype)
    mass = probabilities.sum(dim=0).clamp_min(1e-12)
    weighted_means = probabilities.transpose(0, 1) @ hidden / mass.unsqueeze(1)
    per_class = weighted_means.var(dim=1, unbiased=False)
    return reduce_loss(per_class, reduction)


class NIRRegularizer(nn.Module):
    """Module form of :func:`nir_regularizer`.

    Args:
        reduction: ``mean | sum | none`` over the classes.
    """

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__()
        check_choice(reduction, "reduction", REDUCTIONS)
        self.reduction = reduction

    def forward(self, activations: Tensor, logits: Tensor) -> Tensor:
        """Compute the penalty.

        Args:
            activations: Penultimate activations, shape (B, N).
            logits: (B,) / (B, 1) binary or (B, C) class logits.

        Returns:
            Scalar, or shape (C,) with ``reduction="none"``.
        """
        return nir_regularizer(activations, logits, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"
