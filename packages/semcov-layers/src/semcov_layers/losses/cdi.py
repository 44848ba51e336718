"""CDI regularizer R_CDI (paper Eq. 8-9): decorrelate per-SCG error from training coverage."""

from __future__ import annotations

import math

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
from ._common import as_float
from .distributed import distributed_sum

__all__ = [
    "GAIN_BOUND_FACTOR",
    "MEMBERSHIPS",
    "CDIRegularizer",
    "cdi_regularizer",
    "coverage_error_correlation",
    "scg_recall_sums",
    "true_class_probability",
]

MEMBERSHIPS = ("soft", "hard")
# Sums of squared deviations below this count as "no variance": the correlation is undefined there
# and its gradient would explode, so the regularizer returns 0 instead.
_VARIANCE_TOL = 1e-8
# Batch membership mass below which an SCG counts as absent when the gradient gain is formed.
_MIN_BATCH_MASS = 1e-12
#: The default bound of the gradient gain, in units of its steady-state value 1 / (1 - decay):
#: at 1 the gain shrinks every SCG with less than its usual batch mass and biases the gradient
#: (relative bias 0.33 at batch 32), at 5 the bias is that of no bound (0.17 vs 0.15) while a
#: sliver of mass cannot multiply a sample's gradient by more than 100 (layers README).
GAIN_BOUND_FACTOR = 5.0


def true_class_probability(logits: Tensor, targets: Tensor) -> Tensor:
    """Probability q_i the model gives to the true class (the summand of paper Eq. 8).

    Args:
        logits: (B,) or (B, 1) binary logits (sigmoid), or (B, T) class logits (softmax).
        targets: Class indices, shape (B,).

    Returns:
        q, shape (B,), float32 or wider.
    """
    logits = as_float(logits)
    if logits.dim() == 2 and logits.shape[1] == 1:
        logits = logits[:, 0]
    if logits.dim() == 1:
        positive = torch.sigmoid(logits)
        return torch.where(targets == 1, positive, 1.0 - positive)
    return logits.softmax(dim=-1).gather(1, targets.long().unsqueeze(1)).squeeze(1)


def scg_recall_sums(
    true_probability: Tensor,
    targets: Tensor,
    descriptors: Tensor,
    subgroups: Tensor,
    num_classes: int,
    num_subgroups: int,
    *,
    membership: str = "soft",
    threshold: float = 0.5,
) -> tuple[Tensor, Tensor]:
    """Per-SCG membership mass and membership-weighted true-class probability.

    The weight of sample i in SCG g = (c, d, s) is ``1[y_i = c] 1[s_i = s] w_id`` with
    ``w_id = p_id`` (``soft``) or ``1[p_id >= threshold]`` (``hard``).

    Args:
        true_probability: q, shape (B,).
        targets: Class indices, shape (B,).
        descriptors: Probabilities p, shape (B, K).
        subgroups: Subgroup indices, shape (B,).
        num_classes: C.
        num_subgroups: S.
        membership: ``soft`` or ``hard``.
        threshold: Descriptor threshold of hard membership.

    Returns:
        ``(support, hits)``, both shape (C, K, S); ``hits / support`` is the soft TPR_g of Eq. 8.
    """
    check_choice(membership, "membership", MEMBERSHIPS)
    weights = as_float(descriptors)
    if membership == "hard":
        weights = (weights >= threshold).to(weights.dtype)
    classes = F.one_hot(targets.long(), num_classes).to(weights.dtype)
    groups = F.one_hot(subgroups.long(), num_subgroups).to(weights.dtype)
    support = torch.einsum("bc,bk,bs->cks", classes, weights, groups)
    hits = torch.einsum(
        "b,bc,bk,bs->cks", true_probability.to(weights.dtype), classes, weights, groups
    )
    return support, hits


def coverage_error_correlation(
    coverage: Tensor,
    support: Tensor,
    hits: Tensor,
    *,
    min_support: float = 0.0,
) -> Tensor:
    """``|Pearson(c_g, e_g)|`` across the SCGs whose support exceeds ``min_support`` (Eq. 9).

    paper: Eq. 9 averages a per-group ``Corr(c_g, e_g)``, which is undefined for one group;
    here (docs/paper-notes.md): one Pearson correlation across SCGs of the fixed coverage c_g and
    the soft miss rate ``e_g = 1 - hits_g / support_g``. Fewer than 3 valid SCGs or (near-)zero
    variance of c or e gives 0 (still attached to the graph), never NaN.

    Args:
        coverage: c_g, shape (C, K, S).
        support: Membership mass per SCG, shape (C, K, S).
        hits: Membership-weighted true-class probability per SCG, shape (C, K, S).
        min_support: SCGs with ``support <= min_support`` are left out.

    Returns:
        Scalar in [0, 1].
    """
    coverage = as_float(coverage).to(hits.dtype)
    valid = support > min_support
    mask = valid.to(hits.dtype)
    count = mask.sum()
    safe_support = torch.where(valid, support, torch.ones_like(support))
    error = torch.where(valid, 1.0 - hits / safe_support, torch.zeros_like(hits))
    denominator = count.clamp_min(1.0)
    centred_coverage = (coverage - (coverage * mask).sum() / denominator) * mask
    centred_error = (error - (error * mask).sum() / denominator) * mask
    covariance = (centred_coverage * centred_error).sum()
    var_coverage = centred_coverage.square().sum()
    var_error = centred_error.square().sum()
    correlation = covariance / torch.sqrt(var_coverage * var_error + 1e-20)
    defined = (count >= 3) & (var_coverage > _VARIANCE_TOL) & (var_error > _VARIANCE_TOL)
    magnitude = correlation.abs()
    return torch.where(defined, magnitude, magnitude * 0.0)


def _check_inputs(
    logits: object,
    targets: object,
    descriptors: object,
    subgroups: object,
    num_classes: int,
    num_descriptors: int,
    num_subgroups: int,
) -> None:
    logits = check_tensor(
        logits, "logits", ndim=(1, 2), shape=f"(B,) or (B, 1) binary, or (B, {num_classes})"
    )
    check_floating(logits, "logits")
    binary = logits.dim() == 1 or logits.shape[1] == 1
    if binary and num_classes != 2:
        raise ValueError(
            f"`logits` of shape {tuple(logits.shape)} are binary, but the coverage tensor has "
            f"{num_classes} classes; pass logits of shape (B, {num_classes})"
        )
    if not binary and logits.shape[1] != num_classes:
        raise ValueError(
            f"`logits` must have shape (B, {num_classes}) to match the coverage tensor, got shape "
            f"{tuple(logits.shape)}"
        )
    targets = check_tensor(targets, "targets", ndim=1, shape="(B,) of class indices")
    check_integer(targets, "targets")
    check_same_batch(logits, "logits", targets, "targets")
    check_index_range(targets, "targets", num_classes)
    descriptors = check_tensor(
        descriptors,
        "descriptors",
        ndim=2,
        shape=f"(B, K) with K = {num_descriptors}",
        sizes={1: num_descriptors},
    )
    check_floating(descriptors, "descriptors")
    check_same_batch(logits, "logits", descriptors, "descriptors")
    check_probabilities(descriptors, "descriptors")
    subgroups = check_tensor(subgroups, "subgroups", ndim=1, shape="(B,) of subgroup indices")
    check_integer(subgroups, "subgroups")
    check_same_batch(logits, "logits", subgroups, "subgroups")
    check_index_range(subgroups, "subgroups", num_subgroups)


def _check_coverage(coverage: object) -> Tensor:
    coverage = check_tensor(
        coverage, "coverage", ndim=3, shape="(num_classes, num_descriptors, num_subgroups)"
    )
    check_floating(coverage, "coverage")
    if not bool(torch.isfinite(coverage).all()) or bool((coverage < 0).any()):
        raise ValueError("`coverage` must be finite and non-negative (an empty SCG has coverage 0)")
    return coverage


def cdi_regularizer(
    logits: Tensor,
    targets: Tensor,
    descriptors: Tensor,
    subgroups: Tensor,
    coverage: Tensor,
    *,
    membership: str = "soft",
    threshold: float = 0.5,
    min_support: float = 0.0,
) -> Tensor:
    """R_CDI on one batch, without running statistics (see :class:`CDIRegularizer` for those).

    Args:
        logits: (B,) / (B, 1) binary or (B, C) class logits.
        targets: Class indices, shape (B,).
        descriptors: Probabilities p, shape (B, K).
        subgroups: Subgroup indices, shape (B,).
        coverage: Training coverage c_g, shape (C, K, S).
        membership: ``soft`` or ``hard``.
        threshold: Descriptor threshold of hard membership.
        min_support: SCGs with support at or below this are left out.

    Returns:
        Scalar ``|rho(c_g, e_g)|``.
    """
    _check_coverage(coverage)
    num_classes, num_descriptors, num_subgroups = coverage.shape
    _check_inputs(
        logits, targets, descriptors, subgroups, num_classes, num_descriptors, num_subgroups
    )
    support, hits = scg_recall_sums(
        true_class_probability(logits, targets),
        targets,
        descriptors,
        subgroups,
        num_classes,
        num_subgroups,
        membership=membership,
        threshold=threshold,
    )
    return coverage_error_correlation(coverage, support, hits, min_support=min_support)


def _gradient_gain(memory: Tensor, batch_support: Tensor, max_gain: float) -> Tensor:
    """Detached ``r_g = min((memory_g + s_g) / s_g, max_gain)`` per SCG; 1 where the batch has
    (almost) no mass.

    Below ``_MIN_BATCH_MASS`` the samples' weights are themselves that small, so their gradient
    is negligible either way and the ratio is left at 1 rather than overflowing.
    """
    present = batch_support > _MIN_BATCH_MASS
    safe = torch.where(present, batch_support, torch.ones_like(batch_support))
    gain = torch.where(present, (memory + batch_support) / safe, torch.ones_like(batch_support))
    return gain.clamp(max=max_gain)


def _scale_gradient(value: Tensor, gain: Tensor) -> Tensor:
    """``value`` unchanged in the forward pass, its gradient multiplied by ``gain`` (detached)."""
    detached = value.detach()
    return detached + (value - detached) * gain


class CDIRegularizer(nn.Module):
    """R_CDI with running per-SCG statistics (paper Eq. 8-9, read as in docs/paper-notes.md).

    A batch of 32 populates few of the 112 SCGs, so the per-SCG sums (membership mass s_g and
    membership-weighted true-class probability h_g) are kept across batches in buffers: the loss
    is computed on ``S_g = decay * running_g + s_g`` and ``H_g`` likewise, i.e. on the smoothed
    miss rate ``e_g = 1 - H_g / S_g``; in training mode ``running`` then becomes ``S.detach()``.

    paper: Eq. 8-9 are written for one set of samples and the accumulation is not described;
    here the *value* is smoothed but the *gradient* is that of a full estimate on the current
    batch. Derivation: the running part is a constant, so ``d e_g / d h_g = -1 / S_g``, whereas
    the batch-only estimate ``1 - h_g / s_g`` has ``-1 / s_g``; back-propagating through the
    totals as they are would shrink every sample's gradient by ``s_g / S_g`` (about
    ``1 - decay``, 0.05 at decay 0.95, once the memory is full). The batch sums therefore enter
    the totals with their value unchanged but their gradient multiplied by the detached ratio
    ``r_g = S_g / s_g`` of accumulated to batch membership mass (1 at the first batch or with
    ``decay = 0``, ``1 / (1 - decay)`` in steady state). Then
    ``dL/dq_i = sum_g dL/de_g * (-w_ig / s_g)``: exactly the batch estimate's per-sample
    gradient, with the correlation's sensitivity ``dL/de_g`` read at the smoothed statistics
    (the support path, which matters only if ``descriptors`` carry a gradient, gets
    ``(1 - e_g) / s_g`` the same way). SCGs absent from the batch get no gradient, as before.
    Under ``torch.distributed`` the batch sums (and so s_g in r_g) are all-reduced first, so
    every process sees the same statistics and back-propagates through its own samples the
    gradient of the estimate on the global batch.

    The gain is bounded by ``max_gain``, by default ``GAIN_BOUND_FACTOR / (1 - decay)`` (100 at
    decay 0.95): an SCG with a sliver of mass in a batch (at batch 32 most of 112 SCGs hold 0–1
    samples) would otherwise get an arbitrarily large ``r_g``, and one sample would dominate the
    gradient. The bound sits at five times the steady-state gain ``1 / (1 - decay)``, because
    bounding at the steady-state gain itself shrinks every SCG with less than its usual batch
    mass and biases the gradient. Paper: no accumulation, so no gain; here: bounded, with bias
    and spread against the full-batch gradient at batches 32, 64 and 512 measured by
    ``benchmarks/bench_cdi_gradient.py --quality`` (layers README).

    paper: the memory length is not given; here ``decay = 0.95`` (about 20 batches); ``decay = 1``
    accumulates over an epoch (call :meth:`reset` at epoch start), ``decay = 0`` uses the batch
    alone. ``reduction`` does not apply: the loss is one correlation across SCGs.

    Args:
        coverage: Training coverage c_g, shape (num_classes, num_descriptors, num_subgroups),
            computed on the training split (finite, >= 0; an empty SCG has coverage 0).
        membership: ``soft`` (weight p_id) or ``hard`` (``p_id >= threshold``).
        threshold: Descriptor threshold of hard membership.
        decay: Factor applied to the running sums before adding a batch, in [0, 1].
        min_support: SCGs whose accumulated support is at or below this are left out.
        max_gain: Bound of the gradient gain ``r_g``; default ``GAIN_BOUND_FACTOR / (1 - decay)``
            (no bound at ``decay = 1``); ``math.inf`` leaves it unbounded.
    """

    coverage: Tensor
    running_support: Tensor
    running_hits: Tensor

    def __init__(
        self,
        coverage: Tensor,
        *,
        membership: str = "soft",
        threshold: float = 0.5,
        decay: float = 0.95,
        min_support: float = 0.0,
        max_gain: float | None = None,
    ) -> None:
        super().__init__()
        _check_coverage(coverage)
        check_choice(membership, "membership", MEMBERSHIPS)
        if not 0.0 <= decay <= 1.0:
            raise ValueError(f"`decay` must be in [0, 1], got {decay}")
        if min_support < 0:
            raise ValueError(f"`min_support` must be >= 0, got {min_support}")
        if max_gain is None:
            max_gain = math.inf if decay == 1.0 else GAIN_BOUND_FACTOR / (1.0 - decay)
        if not max_gain >= 1.0:
            raise ValueError(f"`max_gain` must be >= 1, got {max_gain}")
        self.max_gain = float(max_gain)
        self.membership = membership
        self.threshold = threshold
        self.decay = decay
        self.min_support = min_support
        self.register_buffer("coverage", coverage.detach().clone().float())
        self.register_buffer("running_support", torch.zeros_like(self.coverage))
        self.register_buffer("running_hits", torch.zeros_like(self.coverage))

    @property
    def num_classes(self) -> int:
        return self.coverage.shape[0]

    @property
    def num_descriptors(self) -> int:
        return self.coverage.shape[1]

    @property
    def num_subgroups(self) -> int:
        return self.coverage.shape[2]

    def reset(self) -> None:
        """Forget the running per-SCG statistics."""
        self.running_support.zero_()
        self.running_hits.zero_()

    def forward(
        self, logits: Tensor, targets: Tensor, descriptors: Tensor, subgroups: Tensor
    ) -> Tensor:
        """Compute R_CDI and (in training mode) fold the batch into the running sums.

        Args:
            logits: (B,) / (B, 1) binary or (B, num_classes) class logits.
            targets: Class indices, shape (B,).
            descriptors: Probabilities p, shape (B, num_descriptors).
            subgroups: Subgroup indices, shape (B,).

        Returns:
            Scalar in [0, 1].
        """
        _check_inputs(
            logits,
            targets,
            descriptors,
            subgroups,
            self.num_classes,
            self.num_descriptors,
            self.num_subgroups,
        )
        support, hits = scg_recall_sums(
            true_class_probability(logits, targets),
            targets,
            descriptors,
            subgroups,
            self.num_classes,
            self.num_subgroups,
            membership=self.membership,
            threshold=self.threshold,
        )
        batch_support = distributed_sum(support).to(self.running_support.dtype)
        batch_hits = distributed_sum(hits).to(self.running_hits.dtype)
        gain = _gradient_gain(
            self.decay * self.running_support, batch_support.detach(), self.max_gain
        )
        support = self.decay * self.running_support + _scale_gradient(batch_support, gain)
        hits = self.decay * self.running_hits + _scale_gradient(batch_hits, gain)
        if self.training:
            with torch.no_grad():
                self.running_support.copy_(support.detach())
                self.running_hits.copy_(hits.detach())
        return coverage_error_correlation(
            self.coverage, support, hits, min_support=self.min_support
        )

    def extra_repr(self) -> str:
        c, k, s = self.coverage.shape
        return (
            f"num_classes={c}, num_descriptors={k}, num_subgroups={s}, "
            f"membership={self.membership!r}, decay={self.decay}, max_gain={self.max_gain:g}"
        )
