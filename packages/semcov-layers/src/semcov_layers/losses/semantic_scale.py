"""Dynamic semantic-scale-balanced loss (Ma et al., ICLR 2023): class weights from diversity."""

from __future__ import annotations

import math

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn

from .._validation import (
    check_choice,
    check_floating,
    check_positive_int,
    check_same_batch,
    check_tensor,
)
from ._common import REDUCTIONS
from .class_balanced import CB_LOSS_TYPES, class_balanced_loss
from .distributed import sum_across_processes

__all__ = [
    "SemanticScaleBalancedLoss",
    "class_semantic_scale",
    "semantic_scale_weights",
]


def class_semantic_scale(
    features: Tensor, *, normalize: bool = True, center: bool = True
) -> Tensor:
    """Semantic scale ``S = 1/2 log2 det(I + (d / m) Z^T Z)`` of one class's features.

    Z holds the m feature vectors of the class as rows (d dimensions each). By default each vector
    is L2-normalized and the class mean is then subtracted, so S measures spread (diversity), not
    feature magnitude. The determinant is taken on the smaller of the two Gram matrices
    (``det(I_d + a Z^T Z) = det(I_m + a Z Z^T)``), in float64.

    Args:
        features: Shape (m, d), m >= 1.
        normalize: L2-normalize every vector first.
        center: Subtract the mean vector.

    Returns:
        0-d float64 tensor, >= 0.
    """
    features = check_tensor(features, "features", ndim=2, shape="(m, d) with m >= 1")
    check_floating(features, "features")
    if features.shape[0] == 0:
        raise ValueError("`features` must have shape (m, d) with m >= 1, got 0 rows")
    z = features.detach().double()
    if normalize:
        z = F.normalize(z, dim=1)
    if center:
        z = z - z.mean(dim=0, keepdim=True)
    m, d = z.shape
    gram = z @ z.transpose(0, 1) if m <= d else z.transpose(0, 1) @ z
    identity = torch.eye(gram.shape[0], dtype=gram.dtype, device=gram.device)
    _, logdet = torch.linalg.slogdet(identity + (d / m) * gram)
    return 0.5 * logdet / math.log(2.0)


def semantic_scale_weights(scales: Tensor, *, alpha: float = 1.0, eps: float = 1e-6) -> Tensor:
    """Class weights ``w_c = C S_c^-alpha / sum_j S_j^-alpha`` (they sum to C).

    paper (only the abstract is at hand): "dynamic re-weighting" from semantic scales; here the
    weights are inverse powers of the scales, normalized like class-balanced weights, so a class of
    low feature diversity is up-weighted.

    Args:
        scales: Semantic scale per class, shape (C,).
        alpha: Exponent (0 gives equal weights).
        eps: Floor for S, so a degenerate class (all features equal) gets a large, finite weight.

    Returns:
        Float32 weights, shape (C,).
    """
    scales = check_tensor(scales, "scales", ndim=1, shape="(C,)")
    if alpha < 0:
        raise ValueError(f"`alpha` must be >= 0, got {alpha}")
    inverse = scales.double().clamp_min(eps).pow(-alpha)
    return (inverse * scales.numel() / inverse.sum()).float()


class SemanticScaleBalancedLoss(nn.Module):
    """Cross-entropy weighted by semantic-scale class weights that are updated during training.

    In training mode every call stores the (detached) features of the batch in a per-class ring
    buffer of ``bank_size`` vectors and, every ``update_interval`` calls, recomputes the semantic
    scale of each class from its stored features and the class weights from the scales. Until every
    class has ``min_samples`` stored features the weights stay at 1 (plain cross-entropy). This
    follows the paper's dynamic re-weighting framework, which relies on features drifting slowly so
    that recently stored features stand in for the current model's. Under ``torch.distributed`` the
    scales are averaged over processes so the weights agree everywhere; each process stores its own
    features.

    Args:
        num_classes: Number of classes C.
        feature_dim: Width d of the features passed to ``forward``.
        bank_size: Stored features per class.
        alpha: Exponent of the inverse-scale weights.
        normalize: L2-normalize features before measuring the scale.
        update_interval: Recompute the weights every this many training calls.
        min_samples: Stored features a class needs before the weights are used.
        loss_type: ``softmax`` (cross-entropy) or ``sigmoid`` (one-vs-all BCE).
        reduction: ``mean | sum | none`` over the batch.
    """

    bank: Tensor
    bank_count: Tensor
    bank_pointer: Tensor
    scales: Tensor
    weights: Tensor
    steps: Tensor

    def __init__(
        self,
        num_classes: int,
        feature_dim: int,
        *,
        bank_size: int = 256,
        alpha: float = 1.0,
        normalize: bool = True,
        update_interval: int = 1,
        min_samples: int = 2,
        loss_type: str = "softmax",
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        check_positive_int(num_classes, "num_classes", minimum=2)
        check_positive_int(feature_dim, "feature_dim")
        check_positive_int(bank_size, "bank_size", minimum=2)
        check_positive_int(update_interval, "update_interval")
        check_positive_int(min_samples, "min_samples", minimum=2)
        if min_samples > bank_size:
            raise ValueError(f"`min_samples` ({min_samples}) must be <= `bank_size` ({bank_size})")
        if alpha < 0:
            raise ValueError(f"`alpha` must be >= 0, got {alpha}")
        check_choice(loss_type, "loss_type", CB_LOSS_TYPES)
        check_choice(reduction, "reduction", REDUCTIONS)
        self.num_classes = num_classes
        self.feature_dim = feature_dim
        self.bank_size = bank_size
        self.alpha = alpha
        self.normalize = normalize
        self.update_interval = update_interval
        self.min_samples = min_samples
        self.loss_type = loss_type
        self.reduction = reduction
        self.register_buffer("bank", torch.zeros(num_classes, bank_size, feature_dim))
        self.register_buffer("bank_count", torch.zeros(num_classes, dtype=torch.long))
        self.register_buffer("bank_pointer", torch.zeros(num_classes, dtype=torch.long))
        self.register_buffer("scales", torch.zeros(num_classes))
        self.register_buffer("weights", torch.ones(num_classes))
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def enqueue(self, features: Tensor, targets: Tensor) -> None:
        """Store features in the ring buffer of their class.

        Args:
            features: Shape (B, d).
            targets: Class indices, shape (B,).
        """
        features = features.detach().to(self.bank)
        for cls in torch.unique(targets).tolist():
            rows = features[targets == cls][-self.bank_size :]
            count = rows.shape[0]
            slots = (
                self.bank_pointer[cls] + torch.arange(count, device=rows.device)
            ) % self.bank_size
            self.bank[cls, slots] = rows
            self.bank_pointer[cls] = (self.bank_pointer[cls] + count) % self.bank_size
            self.bank_count[cls] = min(int(self.bank_count[cls]) + count, self.bank_size)

    @torch.no_grad()
    def update_weights(self) -> bool:
        """Recompute scales and weights from the bank; returns False while a class lacks samples."""
        if int(self.bank_count.min()) < self.min_samples:
            return False
        scales = torch.stack(
            [
                class_semantic_scale(
                    self.bank[cls, : int(self.bank_count[cls])], normalize=self.normalize
                )
                for cls in range(self.num_classes)
            ]
        ).to(self.scales)
        if dist.is_available() and dist.is_initialized():
            scales = sum_across_processes(scales) / dist.get_world_size()
        self.scales.copy_(scales)
        self.weights.copy_(semantic_scale_weights(scales, alpha=self.alpha))
        return True

    def forward(self, logits: Tensor, targets: Tensor, features: Tensor) -> Tensor:
        """Weighted loss; in training mode also store features and refresh the weights.

        Args:
            logits: Shape (B, C), or (B,) binary with ``loss_type="sigmoid"``.
            targets: Class indices, shape (B,).
            features: Features whose diversity defines the scales (e.g. the embedding z),
                shape (B, d).

        Returns:
            Scalar, or shape (B,) with ``reduction="none"``.
        """
        features = check_tensor(
            features,
            "features",
            ndim=2,
            shape=f"(B, d) with d = {self.feature_dim}",
            sizes={1: self.feature_dim},
        )
        check_floating(features, "features")
        logits = check_tensor(logits, "logits", ndim=(1, 2), shape=f"(B, {self.num_classes})")
        check_same_batch(logits, "logits", features, "features")
        loss = class_balanced_loss(
            logits, targets, self.weights, loss_type=self.loss_type, reduction=self.reduction
        )
        if self.training:
            self.enqueue(features, targets)
            self.steps += 1
            if int(self.steps) % self.update_interval == 0:
                self.update_weights()
        return loss

    def extra_repr(self) -> str:
        return (
            f"num_classes={self.num_classes}, feature_dim={self.feature_dim}, "
            f"bank_size={self.bank_size}, alpha={self.alpha}, loss_type={self.loss_type!r}"
        )
