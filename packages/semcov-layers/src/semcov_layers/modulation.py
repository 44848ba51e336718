"""Descriptor Attention Modulation (DAM): token FiLM and uncertainty-tempered gate (Eq. 5-6)."""

from __future__ import annotations

import torch
from einops import rearrange
from torch import Tensor, nn

from ._validation import (
    check_descriptors,
    check_feature_map,
    check_positive_int,
    check_probabilities,
    check_same_batch,
    check_tensor,
)

__all__ = [
    "DescriptorAttentionModulation",
    "descriptor_uncertainty",
    "film",
    "uncertainty_gate",
]


def film(features: Tensor, scale: Tensor, shift: Tensor) -> Tensor:
    """Channel-wise FiLM of paper Eq. 5: ``F * (1 + tanh(scale)) + shift``.

    Args:
        features: Normalized features, shape (B, D, H, W).
        scale: Raw scale gamma(t), shape (B, D).
        shift: Shift beta(t), shape (B, D).

    Returns:
        Modulated features F_c, shape (B, D, H, W).
    """
    scale = rearrange(scale, "b d -> b d 1 1")
    shift = rearrange(shift, "b d -> b d 1 1")
    return features * (1.0 + torch.tanh(scale)) + shift


def descriptor_uncertainty(descriptors: Tensor) -> Tensor:
    """Normalized Bernoulli variance ``u = 4 p (1 - p)`` in [0, 1] (paper §3.2).

    Args:
        descriptors: Probabilities p, shape (B, K).

    Returns:
        u, shape (B, K): 0 for a certain descriptor (p = 0 or 1), 1 at p = 0.5.

    Example:
        >>> descriptor_uncertainty(torch.tensor([[0.0, 0.25, 0.5]]))
        tensor([[0.0000, 0.7500, 1.0000]])
    """
    return 4.0 * descriptors * (1.0 - descriptors)


def uncertainty_gate(descriptors: Tensor, scale: Tensor, bias: Tensor) -> Tensor:
    """Gate strength ``alpha = sigmoid(s (1 - mean_k u_k) + b)`` (paper §3.2, before Eq. 6).

    Args:
        descriptors: Probabilities p, shape (B, K).
        scale: Scalar s.
        bias: Scalar b.

    Returns:
        alpha, shape (B,).

    Example:
        >>> uncertainty_gate(torch.tensor([[0.5, 1.0]]), torch.tensor(2.0), torch.tensor(-1.0))
        tensor([0.5000])
    """
    mean_uncertainty = descriptor_uncertainty(descriptors).mean(dim=-1)
    return torch.sigmoid(scale * (1.0 - mean_uncertainty) + bias)


class DescriptorAttentionModulation(nn.Module):
    """DAM: channel FiLM from the descriptor token and an uncertainty-tempered spatial gate.

    ``F_c = BN(F) * (1 + tanh(gamma(t))) + beta(t)`` (Eq. 5), ``G_s = sigmoid(psi(M))``,
    ``alpha = sigmoid(s (1 - u_bar) + b)``, ``F_s = phi(F_c * (0.5 + alpha G_s))`` (Eq. 6), and
    with ``residual=True`` the layer returns ``F + F_s``.

    Decisions where the paper is silent (paper: ...; here: ...):

    * gamma, beta: "MLPs"; here one shared MLP ``D_t -> hidden -> 2D`` (hidden = dim // 8 by
      default) whose output is split into gamma and beta.
    * psi: "a 1x1 convolution"; here K -> D channels, one spatial gate per feature channel.
    * phi: "a convolutional refinement network"; here a depthwise 3x3 conv, norm, activation
      (channel mixing is already done by the FiLM generator and the encoder's projection; a dense
      conv would cost D^2 parameters per layer).
    * s, b: learnable scalars with no stated initialisation; here s = 4, b = -2, so alpha spans
      sigmoid(-2) = 0.12 (all descriptors at p = 0.5) to sigmoid(2) = 0.88 (all certain).
    * residual: not in Eq. 6; here off by default (Eq. 6 exactly, docs/paper-notes.md), since an
      ablation on the synthetic dermoscopic benchmark (semcov-layers README) did not show it to
      be needed; ``residual=True`` returns ``F + F_s``, which keeps a pretrained backbone's
      features intact at initialisation.

    Args:
        dim: Channels D of the feature map.
        num_descriptors: Number of descriptors K (channels of the SDM).
        token_dim: Width of the token t; default ``dim``.
        film_hidden_dim: Hidden width of the FiLM MLP; default ``max(dim // 8, 8)``.
        residual: Return ``F + F_s`` instead of ``F_s``.
        scale_init: Initial s.
        bias_init: Initial b.
        act_layer: Activation class.
        norm_layer: 2-D normalization class (BatchNorm in the paper).
    """

    def __init__(
        self,
        dim: int,
        num_descriptors: int,
        *,
        token_dim: int | None = None,
        film_hidden_dim: int | None = None,
        residual: bool = False,
        scale_init: float = 4.0,
        bias_init: float = -2.0,
        act_layer: type[nn.Module] = nn.GELU,
        norm_layer: type[nn.Module] = nn.BatchNorm2d,
    ) -> None:
        super().__init__()
        check_positive_int(dim, "dim")
        check_positive_int(num_descriptors, "num_descriptors")
        self.dim = dim
        self.num_descriptors = num_descriptors
        self.token_dim = token_dim or dim
        self.residual = residual
        hidden = film_hidden_dim or max(dim // 8, 8)
        self.norm = norm_layer(dim)
        self.film = nn.Sequential(
            nn.Linear(self.token_dim, hidden), act_layer(), nn.Linear(hidden, 2 * dim)
        )
        self.spatial_gate = nn.Conv2d(num_descriptors, dim, 1)
        self.gate_scale = nn.Parameter(torch.tensor(float(scale_init)))
        self.gate_bias = nn.Parameter(torch.tensor(float(bias_init)))
        self.refine = nn.Sequential(
            # No bias: the normalization right after would cancel it.
            nn.Conv2d(dim, dim, 3, padding=1, groups=dim, bias=False),
            norm_layer(dim),
            act_layer(),
        )

    def gate_strength(self, descriptors: Tensor) -> Tensor:
        """alpha for descriptors of shape (B, K); returns shape (B,)."""
        return uncertainty_gate(descriptors, self.gate_scale, self.gate_bias)

    def forward(
        self, features: Tensor, token: Tensor, descriptor_map: Tensor, descriptors: Tensor
    ) -> Tensor:
        """Modulate the feature map.

        Args:
            features: F, shape (B, D, H, W).
            token: Cross-attention token t, shape (B, token_dim).
            descriptor_map: SDM M, shape (B, K, H, W).
            descriptors: Probabilities p, shape (B, K).

        Returns:
            ``F + F_s`` (or ``F_s`` when ``residual=False``), shape (B, D, H, W).
        """
        check_feature_map(features, "features", self.dim)
        token = check_tensor(
            token, "token", ndim=2, shape=f"(B, {self.token_dim})", sizes={1: self.token_dim}
        )
        k = self.num_descriptors
        descriptor_map = check_tensor(
            descriptor_map,
            "descriptor_map",
            ndim=4,
            shape=f"(B, K, H, W) with K = {k} and H, W of `features`",
            sizes={1: k, 2: features.shape[2], 3: features.shape[3]},
        )
        check_descriptors(descriptors, k, features, "features")
        for other, name in ((token, "token"), (descriptor_map, "descriptor_map")):
            check_same_batch(features, "features", other, name)
        check_probabilities(descriptors, "descriptors")

        scale, shift = self.film(token).chunk(2, dim=-1)
        modulated = film(self.norm(features), scale, shift)
        gate = torch.sigmoid(self.spatial_gate(descriptor_map))
        alpha = rearrange(self.gate_strength(descriptors), "b -> b 1 1 1")
        out = self.refine(modulated * (0.5 + alpha * gate))
        return features + out if self.residual else out

    def extra_repr(self) -> str:
        return f"dim={self.dim}, num_descriptors={self.num_descriptors}, residual={self.residual}"
