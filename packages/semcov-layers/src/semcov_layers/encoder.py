"""Semantic Encoder: stacked SDM, cross-attention and DAM layers with descriptor feedback (§3.2)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from einops import rearrange
from torch import Tensor, nn

from ._validation import (
    check_choice,
    check_descriptors,
    check_feature_map,
    check_positive_int,
    check_probabilities,
)
from .cross_attention import DescriptorCrossAttention
from .descriptor_map import DescriptorEmbedding, SemanticDescriptorMap
from .encoder_options import (
    ENCODER_ORDERS,
    FEEDBACK_MODES,
    LAYER_ORDERS,
    UNCERTAINTY_SOURCES,
    SemanticEncoderOptions,
)
from .modulation import DescriptorAttentionModulation

# The choice tuples are defined in encoder_options and importable from here as in 0.1.
__all__ = [
    "ENCODER_ORDERS",
    "FEEDBACK_MODES",
    "LAYER_ORDERS",
    "UNCERTAINTY_SOURCES",
    "SemanticEncoder",
    "SemanticEncoderLayer",
    "SemanticEncoderOutput",
    "layer_orders",
]

_PROB_EPS = 1e-4


def layer_orders(order: str, depth: int) -> tuple[str, ...]:
    """Per-layer order for an encoder-level ``order`` (paper Table 5).

    ``mixture_attn_dam`` runs attn -> DAM in the early layers and DAM -> attn in the late ones,
    ``mixture_dam_attn`` the reverse. paper: "early" and "late" are not defined; here the early
    layers are the first ``ceil(depth / 2)`` (depth 3: two early, one late).

    Args:
        order: One of ``attn_dam | dam_attn | mixture_attn_dam | mixture_dam_attn | mixture``.
        depth: Number of layers.

    Returns:
        One of ``attn_dam | dam_attn | mixture`` per layer.
    """
    check_choice(order, "order", ENCODER_ORDERS)
    check_positive_int(depth, "depth")
    if order in LAYER_ORDERS:
        return (order,) * depth
    early = math.ceil(depth / 2)
    first, second = (
        ("attn_dam", "dam_attn") if order == "mixture_attn_dam" else ("dam_attn", "attn_dam")
    )
    return (first,) * early + (second,) * (depth - early)


@dataclass
class SemanticEncoderOutput:
    """What :class:`SemanticEncoder` returns.

    Attributes:
        features: Modulated feature map F_s of the last layer, shape (B, D, H, W).
        token: Final descriptor token t, shape (B, D).
        maps: Semantic descriptor map M of every layer, each (B, K, H, W).
        descriptors: Descriptor probabilities each layer's SDM and descriptor token used, each
            (B, K); the first is the input, later ones are feedback-refined (all equal to the
            input without feedback). DAM's uncertainty reads the input in every layer unless the
            encoder has ``uncertainty_source="refined"``.
    """

    features: Tensor
    token: Tensor
    maps: tuple[Tensor, ...]
    descriptors: tuple[Tensor, ...]


class SemanticEncoderLayer(nn.Module):
    """One encoder layer: SDM, descriptor cross-attention and DAM in a given order.

    * ``attn_dam``: the token attends to the unmodulated features, then DAM modulates them.
    * ``dam_attn``: DAM modulates with the incoming token, then the token attends to the result.
    * ``mixture``: both orders run with the same modules and are fused by learned per-channel
      gates (``sigmoid`` of a parameter, initialised at 0.5). paper: "fuses both orderings within
      each layer via learned gating"; here the gates are input-independent parameters, one for the
      features and one for the token.

    The defaults keep the layer cheap next to a CNN backbone: attention width ``dim // 4`` and an
    FFN of ``mlp_ratio = 0.5`` on the single token.

    ``update_token=False`` drops the work whose only product is the outgoing token (the trailing
    attention of ``dam_attn``, the second token branch of ``mixture``); the encoder uses it for its
    last layer when nothing reads the final token, so no parameter is left without a gradient.

    Args:
        dim: Channels D of the (projected) feature map and width of the token.
        num_descriptors: Number of descriptors K.
        order: ``attn_dam | dam_attn | mixture``.
        options: The encoder's :class:`SemanticEncoderOptions`; the layer reads ``sdm_mode``,
            ``map_norm``, ``prior_size``, ``num_heads``, ``attn_dim``, ``mlp_ratio``,
            ``film_hidden_dim``, ``dam_residual``, ``attn_drop`` and ``proj_drop`` (its width
            is ``dim`` and its order ``order``, whatever ``options`` says).
        act_layer: Activation class.
        norm_layer: 2-D normalization class.
        token_norm_layer: Token normalization class.
        update_token: Compute the outgoing token even where only the caller reads it.
        **option_values: Options set by name, applied on top of ``options``.
    """

    def __init__(
        self,
        dim: int,
        num_descriptors: int,
        *,
        order: str = "attn_dam",
        options: SemanticEncoderOptions | None = None,
        act_layer: type[nn.Module] = nn.GELU,
        norm_layer: type[nn.Module] = nn.BatchNorm2d,
        token_norm_layer: type[nn.Module] = nn.LayerNorm,
        update_token: bool = True,
        **option_values: Any,
    ) -> None:
        super().__init__()
        check_positive_int(dim, "dim")
        check_positive_int(num_descriptors, "num_descriptors")
        check_choice(order, "order", LAYER_ORDERS)
        options = (options or SemanticEncoderOptions()).replace(**option_values)
        self.dim = dim
        self.num_descriptors = num_descriptors
        self.order = order
        self.update_token = update_token
        uses_attention = update_token or order != "dam_attn"
        self.sdm = SemanticDescriptorMap(
            dim,
            num_descriptors,
            mode=options.sdm_mode,
            norm=options.map_norm,
            prior_size=options.prior_size,
            act_layer=act_layer,
        )
        self.attn = (
            DescriptorCrossAttention(
                dim,
                options.num_heads,
                attn_dim=options.attn_dim or max(dim // 4, options.num_heads),
                mlp_ratio=options.mlp_ratio,
                attn_drop=options.attn_drop,
                proj_drop=options.proj_drop,
                act_layer=act_layer,
                norm_layer=token_norm_layer,
            )
            if uses_attention
            else None
        )
        self.dam = DescriptorAttentionModulation(
            dim,
            num_descriptors,
            film_hidden_dim=options.film_hidden_dim,
            residual=options.dam_residual,
            act_layer=act_layer,
            norm_layer=norm_layer,
        )
        if order == "mixture":
            self.feature_mix = nn.Parameter(torch.zeros(dim))
            if update_token:
                self.token_mix = nn.Parameter(torch.zeros(dim))

    def _attend(self, token: Tensor, features: Tensor) -> Tensor:
        if self.attn is None:
            raise RuntimeError("this encoder order has no cross-attention layer")
        return self.attn(token, rearrange(features, "b d h w -> b (h w) d"))

    def forward(
        self,
        features: Tensor,
        token: Tensor,
        descriptors: Tensor,
        descriptor_token: Tensor,
        uncertainty_descriptors: Tensor | None = None,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Run one layer.

        Args:
            features: F, shape (B, D, H, W).
            token: Incoming cross-attention token, shape (B, D).
            descriptors: Descriptor probabilities of this layer's SDM, shape (B, K).
            descriptor_token: psi_d(descriptors), shape (B, D), for the SDM descriptor branch.
            uncertainty_descriptors: Probabilities whose uncertainty ``u = 4p(1 - p)`` tempers
                DAM's gate, shape (B, K); default ``descriptors``.

        Returns:
            ``(features, token, descriptor_map)`` with shapes (B, D, H, W), (B, D), (B, K, H, W).
        """
        descriptor_map = self.sdm(features, descriptors, descriptor_token)
        if uncertainty_descriptors is not None:
            descriptors = uncertainty_descriptors
        if self.order == "attn_dam":
            token = self._attend(token, features)
            features = self.dam(features, token, descriptor_map, descriptors)
        elif self.order == "dam_attn":
            features = self.dam(features, token, descriptor_map, descriptors)
            if self.update_token:
                token = self._attend(token, features)
        else:
            token_a = self._attend(token, features)
            features_a = self.dam(features, token_a, descriptor_map, descriptors)
            features_b = self.dam(features, token, descriptor_map, descriptors)
            mix_f = rearrange(torch.sigmoid(self.feature_mix), "d -> 1 d 1 1")
            features = mix_f * features_a + (1.0 - mix_f) * features_b
            if self.update_token:
                token_b = self._attend(token, features_b)
                mix_t = torch.sigmoid(self.token_mix)
                token = mix_t * token_a + (1.0 - mix_t) * token_b
            else:
                token = token_a
        return features, token, descriptor_map

    def extra_repr(self) -> str:
        return (
            f"dim={self.dim}, num_descriptors={self.num_descriptors}, order={self.order!r}, "
            f"update_token={self.update_token}"
        )


class SemanticEncoder(nn.Module):
    """The paper's Semantic Encoder on a D-channel projection of a backbone feature map.

    ``F -> 1x1 conv + norm (C_f -> D)``, descriptor token ``t = psi_d(p)``, then ``depth`` layers of
    SDM / cross-attention / DAM. With ``feedback`` the token after layer l refines the descriptors
    used by layer l + 1 (SDM and descriptor token), which closes the paper's loop (Fig. 2, Fig. 6).

    Decisions where the paper is silent (paper: ...; here: ...):

    * feedback: "the updated token is further projected to produce a descriptor representation that
      regenerates SDM" / docs/paper-notes.md: ``sigmoid(Linear(t))``; here
      ``feedback_mode="residual"`` (default) adds the projection in logit space,
      ``p' = sigmoid(logit(p) + Linear(t))``, so the refined descriptors start near the input ones
      instead of near 0.5;
      ``feedback_mode="replace"`` is the literal ``sigmoid(Linear(t))``. The refined descriptors
      rebuild the next layer's descriptor token ``psi_d(p')`` (the SDM's descriptor branch) while
      the attention token itself is carried from layer to layer. The last layer has no successor, so
      feedback needs ``depth >= 2`` to act.
    * DAM uncertainty: the paper's ``u = 4p(1 - p)`` is that of the descriptor scores themselves
      ("uncertain descriptors are adaptively suppressed"); here (docs/paper-notes.md) every
      layer's DAM takes u from the input p (``uncertainty_source="input"``, default), so no
      gradient reaches p' through u and the gate cannot become a learned one. ``"refined"`` uses
      the layer's p' (semcov-layers 0.1 behaviour).
    * psi_d is shared by all layers (one "descriptor projection", as the feedback text implies).
    * the projection: docs/paper-notes.md fixes a 1x1 conv C_f -> D; here followed by
      ``norm_layer``.

    Args:
        in_channels: Channels C_f of the backbone feature map.
        num_descriptors: Number of descriptors K.
        options: :class:`SemanticEncoderOptions` (width D = 256, depth 3, order, feedback,
            uncertainty source, SDM, attention and DAM settings); default all defaults.
        act_layer: Activation class.
        norm_layer: 2-D normalization class.
        token_norm_layer: Token normalization class.
        final_token: Compute the last layer's token update even where only the returned ``token``
            depends on it. :class:`SemCovNet` sets False: its heads read the pooled features only.
        **option_values: Options set by name (``dim=32, depth=2, order="mixture"``, any field of
            :class:`SemanticEncoderOptions`), applied on top of ``options``.

    Example:
        >>> encoder = SemanticEncoder(64, 7, dim=32)
        >>> out = encoder(torch.randn(2, 64, 7, 7), torch.rand(2, 7))
        >>> tuple(out.features.shape), tuple(out.token.shape), len(out.maps)
        ((2, 32, 7, 7), (2, 32), 3)
    """

    def __init__(
        self,
        in_channels: int,
        num_descriptors: int,
        *,
        options: SemanticEncoderOptions | None = None,
        act_layer: type[nn.Module] = nn.GELU,
        norm_layer: type[nn.Module] = nn.BatchNorm2d,
        token_norm_layer: type[nn.Module] = nn.LayerNorm,
        final_token: bool = True,
        **option_values: Any,
    ) -> None:
        super().__init__()
        check_positive_int(in_channels, "in_channels")
        check_positive_int(num_descriptors, "num_descriptors")
        options = (options or SemanticEncoderOptions()).replace(**option_values)
        dim, depth = options.dim, options.depth
        self.options = options
        self.in_channels = in_channels
        self.num_descriptors = num_descriptors
        self.dim = dim
        self.depth = depth
        self.order = options.order
        self.feedback = options.feedback
        self.feedback_mode = options.feedback_mode
        self.uncertainty_source = options.uncertainty_source

        self.proj = nn.Sequential(nn.Conv2d(in_channels, dim, 1, bias=False), norm_layer(dim))
        self.descriptor_embed = DescriptorEmbedding(
            dim, num_descriptors, hidden_dim=options.embed_hidden_dim, act_layer=act_layer
        )
        self.layers = nn.ModuleList(
            SemanticEncoderLayer(
                dim,
                num_descriptors,
                order=layer_order,
                options=options,
                act_layer=act_layer,
                norm_layer=norm_layer,
                token_norm_layer=token_norm_layer,
                update_token=final_token or index < depth - 1,
            )
            for index, layer_order in enumerate(layer_orders(options.order, depth))
        )
        # One head per layer that has a successor: the last token has no layer left to refine.
        self.feedback_heads = nn.ModuleList(
            nn.Linear(dim, num_descriptors) for _ in range(depth - 1 if options.feedback else 0)
        )

    def refine_descriptors(self, descriptors: Tensor, token: Tensor, index: int) -> Tensor:
        """Feedback: descriptors for layer ``index + 1`` from the token after layer ``index``.

        Args:
            descriptors: Probabilities used by layer ``index``, shape (B, K).
            token: Token after layer ``index``, shape (B, D).
            index: Layer index, ``0 <= index < depth - 1``.

        Returns:
            Refined probabilities, shape (B, K).
        """
        delta = self.feedback_heads[index](token)
        if self.feedback_mode == "replace":
            return torch.sigmoid(delta)
        return torch.sigmoid(torch.logit(descriptors.clamp(_PROB_EPS, 1.0 - _PROB_EPS)) + delta)

    def forward(self, features: Tensor, descriptors: Tensor) -> SemanticEncoderOutput:
        """Encode a backbone feature map under descriptor guidance.

        Args:
            features: Backbone map F, shape (B, C_f, H, W).
            descriptors: Descriptor probabilities p in [0, 1], shape (B, K).

        Returns:
            :class:`SemanticEncoderOutput` with features (B, D, H, W), token (B, D), ``depth`` maps
            (B, K, H, W) and ``depth`` descriptor tensors (B, K).
        """
        check_feature_map(features, "features", self.in_channels, label="C")
        check_descriptors(descriptors, self.num_descriptors, features, "features")
        check_probabilities(descriptors, "descriptors")

        x = self.proj(features)
        current = descriptors
        descriptor_token = self.descriptor_embed(current)
        token = descriptor_token
        maps: list[Tensor] = []
        used: list[Tensor] = []
        for index, layer in enumerate(self.layers):
            if index > 0 and self.feedback:
                current = self.refine_descriptors(current, token, index - 1)
                descriptor_token = self.descriptor_embed(current)
            used.append(current)
            uncertain = descriptors if self.uncertainty_source == "input" else current
            x, token, descriptor_map = layer(x, token, current, descriptor_token, uncertain)
            maps.append(descriptor_map)
        return SemanticEncoderOutput(
            features=x, token=token, maps=tuple(maps), descriptors=tuple(used)
        )

    def extra_repr(self) -> str:
        return (
            f"in_channels={self.in_channels}, num_descriptors={self.num_descriptors}, "
            f"dim={self.dim}, depth={self.depth}, order={self.order!r}, feedback={self.feedback}, "
            f"uncertainty_source={self.uncertainty_source!r}"
        )
