"""Semantic Descriptor Map (SDM, paper Eq. 1-3) and the descriptor embedding psi_d it builds on."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import Tensor, nn

from ._validation import (
    check_choice,
    check_descriptors,
    check_feature_map,
    check_floating,
    check_positive_int,
    check_probabilities,
    check_same_batch,
    check_tensor,
)

__all__ = [
    "FUSION_MODES",
    "MAP_NORMS",
    "DescriptorEmbedding",
    "SemanticDescriptorMap",
    "fuse_descriptor_maps",
    "normalize_descriptor_maps",
]

FUSION_MODES = ("descriptor", "feature", "add", "mul", "gated")
MAP_NORMS = ("softmax", "none")


def _missing_map(name: str, mode: str) -> str:
    return f"`{name}` of shape (B, K, H, W) is required in mode {mode!r}"


def fuse_descriptor_maps(
    feature_map: Tensor | None,
    descriptor_map: Tensor | None,
    gate: Tensor | None = None,
    mode: str = "gated",
) -> Tensor:
    """Fuse the feature-driven and descriptor-driven maps (paper Eq. 3 and Table 4).

    ``gated`` is Eq. 3, ``M = g * M_f + (1 - g) * M_d``; the other modes are the ablation rows
    of Table 4: ``descriptor`` (M_d only), ``feature`` (M_f only), ``add`` (M_f + M_d) and
    ``mul`` (M_f * M_d).

    Args:
        feature_map: M_f, shape (B, K, H, W); unused in ``descriptor`` mode.
        descriptor_map: M_d, shape (B, K, H, W); unused in ``feature`` mode.
        gate: g(p) in [0, 1], shape (B, K) (one weight per descriptor channel); ``gated`` only.
        mode: One of ``descriptor | feature | add | mul | gated``.

    Returns:
        The fused map, shape (B, K, H, W).
    """
    check_choice(mode, "mode", FUSION_MODES)
    if mode == "descriptor":
        if descriptor_map is None:
            raise ValueError(_missing_map("descriptor_map", mode))
        return descriptor_map
    if feature_map is None:
        raise ValueError(_missing_map("feature_map", mode))
    if mode == "feature":
        return feature_map
    if descriptor_map is None:
        raise ValueError(_missing_map("descriptor_map", mode))
    if mode == "add":
        return feature_map + descriptor_map
    if mode == "mul":
        return feature_map * descriptor_map
    if gate is None:
        raise ValueError("`gate` of shape (B, K) is required in mode 'gated'")
    g = rearrange(gate, "b k -> b k 1 1")
    return g * feature_map + (1.0 - g) * descriptor_map


def normalize_descriptor_maps(maps: Tensor, norm: str = "softmax") -> Tensor:
    """Normalize descriptor maps ("the resulting maps are normalized", paper §3.2).

    paper: the normalization is not specified; here: ``softmax`` is a per-channel spatial softmax
    rescaled by H·W, so every descriptor channel becomes a spatial distribution with mean 1 (a flat
    map is all ones). The per-channel confidence gates of Eq. 1-2 then act as inverse temperatures:
    a confident descriptor keeps its spatial contrast, an absent one flattens towards uniform.
    Instance normalization was rejected because it would cancel those gates exactly.
    ``none`` leaves the maps as they are.

    Args:
        maps: Shape (B, K, H, W).
        norm: ``softmax`` or ``none``.

    Returns:
        Normalized maps, shape (B, K, H, W).
    """
    check_choice(norm, "norm", MAP_NORMS)
    if norm == "none":
        return maps
    height, width = maps.shape[-2:]
    flat = rearrange(maps, "b k h w -> b k (h w)")
    flat = flat.softmax(dim=-1) * (height * width)
    return rearrange(flat, "b k (h w) -> b k h w", h=height, w=width)


class DescriptorEmbedding(nn.Module):
    """psi_d: MLP that embeds descriptor probabilities into a D-dimensional descriptor token.

    paper: "psi_d is an MLP projection"; here: Linear(K, hidden) -> act -> Linear(hidden, D) with
    ``hidden = dim // 4`` by default (the token only carries K numbers, so a narrow hidden layer
    loses nothing and keeps the encoder cheap).

    Args:
        dim: Output token width D.
        num_descriptors: Number of descriptors K.
        hidden_dim: Hidden width; default ``max(dim // 4, num_descriptors)``.
        act_layer: Activation class.
    """

    def __init__(
        self,
        dim: int,
        num_descriptors: int,
        *,
        hidden_dim: int | None = None,
        act_layer: type[nn.Module] = nn.GELU,
    ) -> None:
        super().__init__()
        check_positive_int(dim, "dim")
        check_positive_int(num_descriptors, "num_descriptors")
        hidden_dim = hidden_dim or max(dim // 4, num_descriptors)
        self.dim = dim
        self.num_descriptors = num_descriptors
        self.fc1 = nn.Linear(num_descriptors, hidden_dim)
        self.act = act_layer()
        self.fc2 = nn.Linear(hidden_dim, dim)

    def forward(self, descriptors: Tensor) -> Tensor:
        """Embed descriptors.

        Args:
            descriptors: Probabilities p, shape (B, K).

        Returns:
            Descriptor token t_d, shape (B, D).
        """
        descriptors = check_tensor(
            descriptors,
            "descriptors",
            ndim=2,
            shape=f"(B, K) with K = {self.num_descriptors}",
            sizes={1: self.num_descriptors},
        )
        check_floating(descriptors, "descriptors")
        return self.fc2(self.act(self.fc1(descriptors)))


class SemanticDescriptorMap(nn.Module):
    """Semantic Descriptor Map: K descriptor-specific spatial maps from p and F (paper Eq. 1-3).

    * Descriptor branch (Eq. 1): ``M_d = phi_d(psi_d(p)) * sigmoid(W_d p)``. The descriptor token
      ``psi_d(p)`` (given as ``token``) is expanded by a linear layer into a K x h0 x w0 prior map,
      resized bilinearly to the feature grid and refined by ``phi_d`` (a 3x3 conv over the K
      channels). paper: the expansion size is not given; here: ``prior_size`` = 4 (h0 = w0 = 4).
    * Feature branch (Eq. 2): ``M_f = phi_f(F) * sigmoid(W_s p)``, ``phi_f`` = 1x1 conv D -> K,
      activation, 3x3 conv K -> K.
    * Fusion (Eq. 3): ``mode`` selects one of the five rows of paper Table 4, default ``gated``
      with ``g(p) = sigmoid(MLP(p))``, one gate per descriptor channel.
    * The fused map is normalized with :func:`normalize_descriptor_maps` (default ``softmax``).
      A spatial softmax cancels per-channel constants, so the last conv of each branch has a bias
      only where it survives (``norm="none"`` or ``mode="mul"``).

    Only the branches a mode needs are built, so every parameter is used in every mode.

    Args:
        dim: Channels D of the feature map F.
        num_descriptors: Number of descriptors K.
        mode: ``descriptor | feature | add | mul | gated``.
        token_dim: Width of the descriptor token; default ``dim``.
        prior_size: Side of the descriptor prior map before resizing.
        norm: ``softmax`` or ``none``.
        gate_hidden_dim: Hidden width of the fusion-gate MLP; default ``2 * K``.
        act_layer: Activation class.
    """

    def __init__(
        self,
        dim: int,
        num_descriptors: int,
        *,
        mode: str = "gated",
        token_dim: int | None = None,
        prior_size: int = 4,
        norm: str = "softmax",
        gate_hidden_dim: int | None = None,
        act_layer: type[nn.Module] = nn.GELU,
    ) -> None:
        super().__init__()
        check_positive_int(dim, "dim")
        check_positive_int(num_descriptors, "num_descriptors")
        check_positive_int(prior_size, "prior_size")
        check_choice(mode, "mode", FUSION_MODES)
        check_choice(norm, "norm", MAP_NORMS)
        k = num_descriptors
        self.dim = dim
        self.num_descriptors = k
        self.mode = mode
        self.norm = norm
        self.prior_size = prior_size
        self.token_dim = token_dim or dim
        self.uses_descriptor_branch = mode != "feature"
        self.uses_feature_branch = mode != "descriptor"
        # A spatial softmax cancels any per-channel constant, so the last conv of a branch only
        # gets a bias where it survives (no normalization, or the product of the two maps).
        last_bias = norm == "none" or mode == "mul"
        if self.uses_descriptor_branch:
            self.to_prior = nn.Linear(self.token_dim, k * prior_size * prior_size)
            self.refine_descriptor = nn.Conv2d(k, k, 3, padding=1, bias=last_bias)
            self.descriptor_gate = nn.Linear(k, k)
        if self.uses_feature_branch:
            self.refine_feature = nn.Sequential(
                nn.Conv2d(dim, k, 1),
                act_layer(),
                nn.Conv2d(k, k, 3, padding=1, bias=last_bias),
            )
            self.feature_gate = nn.Linear(k, k)
        if mode == "gated":
            hidden = gate_hidden_dim or 2 * k
            self.fusion_gate = nn.Sequential(
                nn.Linear(k, hidden), act_layer(), nn.Linear(hidden, k)
            )

    def _check_inputs(self, features: Tensor, descriptors: Tensor, token: Tensor | None) -> None:
        check_feature_map(features, "features", self.dim)
        check_descriptors(descriptors, self.num_descriptors, features, "features")
        if self.uses_descriptor_branch:
            expected = f"(B, {self.token_dim})"
            if token is None:
                raise ValueError(f"`token` of shape {expected} is required in mode {self.mode!r}")
            token = check_tensor(token, "token", ndim=2, shape=expected, sizes={1: self.token_dim})
            check_same_batch(features, "features", token, "token")

    def branches(
        self, features: Tensor, descriptors: Tensor, token: Tensor | None = None
    ) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
        """Un-normalized branch outputs, for inspection and tests.

        Args:
            features: F, shape (B, D, H, W).
            descriptors: p, shape (B, K).
            token: psi_d(p), shape (B, token_dim); not needed in ``feature`` mode.

        Returns:
            ``(M_f, M_d, g)``: shapes (B, K, H, W), (B, K, H, W), (B, K); ``None`` where the mode
            does not use a branch.
        """
        self._check_inputs(features, descriptors, token)
        check_probabilities(descriptors, "descriptors")
        height, width = features.shape[-2:]
        feature_map = descriptor_map = gate = None
        if self.uses_feature_branch:
            scale = rearrange(torch.sigmoid(self.feature_gate(descriptors)), "b k -> b k 1 1")
            feature_map = self.refine_feature(features) * scale
        if self.uses_descriptor_branch:
            prior = rearrange(
                self.to_prior(token),
                "b (k h w) -> b k h w",
                k=self.num_descriptors,
                h=self.prior_size,
                w=self.prior_size,
            )
            prior = F.interpolate(prior, size=(height, width), mode="bilinear", align_corners=False)
            scale = rearrange(torch.sigmoid(self.descriptor_gate(descriptors)), "b k -> b k 1 1")
            descriptor_map = self.refine_descriptor(prior) * scale
        if self.mode == "gated":
            gate = torch.sigmoid(self.fusion_gate(descriptors))
        return feature_map, descriptor_map, gate

    def forward(self, features: Tensor, descriptors: Tensor, token: Tensor | None = None) -> Tensor:
        """Compute the normalized semantic descriptor map M.

        Args:
            features: F, shape (B, D, H, W).
            descriptors: p in [0, 1], shape (B, K).
            token: psi_d(p), shape (B, token_dim); not needed in ``feature`` mode.

        Returns:
            M, shape (B, K, H, W).
        """
        feature_map, descriptor_map, gate = self.branches(features, descriptors, token)
        fused = fuse_descriptor_maps(feature_map, descriptor_map, gate, self.mode)
        return normalize_descriptor_maps(fused, self.norm)

    def extra_repr(self) -> str:
        return (
            f"dim={self.dim}, num_descriptors={self.num_descriptors}, mode={self.mode!r}, "
            f"norm={self.norm!r}, prior_size={self.prior_size}"
        )
