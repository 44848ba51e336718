"""SemCovNet: any backbone, the Semantic Encoder and the class/descriptor/alignment heads."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from einops import rearrange
from torch import Tensor, nn

from ._validation import (
    check_descriptors,
    check_floating,
    check_positive_int,
    check_probabilities,
    check_tensor,
)
from .encoder import SemanticEncoder
from .encoder_options import SemanticEncoderOptions

__all__ = ["SemCovNet", "SemCovNetOutput"]


@dataclass
class SemCovNetOutput:
    """What :class:`SemCovNet` returns.

    Attributes:
        logits: Class logits y_hat, shape (B, T).
        descriptor_logits: Descriptor logits p_hat, shape (B, K) (target of Eq. 11).
        embedding: Pooled visual embedding z, shape (B, D) (v = normalize(z) in Eq. 7).
        descriptor_embedding: Linear(p) before normalization, shape (B, D) (d in Eq. 7).
        features: Last encoder feature map F_s, shape (B, D, H, W).
        token: Last descriptor token the encoder computed, shape (B, D).
        maps: Semantic descriptor map of every encoder layer, each (B, K, H, W).
        descriptors: Descriptor probabilities each encoder layer's SDM used (feedback-refined),
            each (B, K).
    """

    logits: Tensor
    descriptor_logits: Tensor
    embedding: Tensor
    descriptor_embedding: Tensor
    features: Tensor
    token: Tensor
    maps: tuple[Tensor, ...]
    descriptors: tuple[Tensor, ...]


class SemCovNet(nn.Module):
    """Wrap a backbone with the Semantic Encoder and the SemCovNet heads.

    The backbone may return a feature map ``(B, C, H, W)`` (channels-last ``(B, H, W, C)`` is
    recognised too), tokens ``(B, N, C)`` (the first ``num_prefix_tokens`` class/register tokens are
    dropped and the rest laid out on ``token_grid``, square by default), or a list/tuple of such
    outputs (the last one is used, as with ``features_only`` models).

    Heads (paper §3.3): ``z = AdaptiveAvgPool(F_s)``, ``y_hat = Linear(z)``, ``p_hat = Linear(z)``;
    DVA (Eq. 7) gets ``descriptor_embedding = Linear(p)``, normalized inside the loss.
    paper: the heads read z directly; here an optional dropout (``drop_rate``, default 0) precedes
    the class and descriptor heads.

    Args:
        backbone: Any module mapping images to one of the outputs above.
        feature_dim: Channels C of the backbone output.
        num_classes: Number of classes T.
        num_descriptors: Number of descriptors K.
        options: :class:`SemanticEncoderOptions` of the encoder (width D, depth, order, ...).
        num_prefix_tokens: Leading non-patch tokens in a token output (ViT class token: 1).
        token_grid: ``(H, W)`` of the patch tokens; default the square root of their count.
        drop_rate: Dropout before the class and descriptor heads.
        **encoder_kwargs: Passed to :class:`SemanticEncoder`: options by name on top of
            ``options`` (``dim``, ``depth``, ``order``, ``feedback``, ...) and its layer classes
            (``act_layer``, ``norm_layer``, ``token_norm_layer``).
    """

    def __init__(
        self,
        backbone: nn.Module,
        feature_dim: int,
        num_classes: int,
        num_descriptors: int,
        *,
        options: SemanticEncoderOptions | None = None,
        num_prefix_tokens: int = 0,
        token_grid: tuple[int, int] | None = None,
        drop_rate: float = 0.0,
        **encoder_kwargs: Any,
    ) -> None:
        super().__init__()
        if not isinstance(backbone, nn.Module):
            raise TypeError(f"`backbone` must be a torch.nn.Module, got {type(backbone).__name__}")
        check_positive_int(feature_dim, "feature_dim")
        check_positive_int(num_classes, "num_classes")
        check_positive_int(num_descriptors, "num_descriptors")
        check_positive_int(num_prefix_tokens, "num_prefix_tokens", minimum=0)
        if token_grid is not None and (
            len(token_grid) != 2 or any(not isinstance(s, int) or s < 1 for s in token_grid)
        ):
            raise ValueError(
                f"`token_grid` must be a pair of positive ints (H, W), got {token_grid!r}"
            )
        self.backbone = backbone
        self.feature_dim = feature_dim
        self.num_classes = num_classes
        self.num_descriptors = num_descriptors
        self.num_prefix_tokens = num_prefix_tokens
        self.token_grid = tuple(token_grid) if token_grid is not None else None
        # The heads read the pooled features only, so the last layer's token-only work is skipped.
        encoder_kwargs.setdefault("final_token", False)
        self.encoder = SemanticEncoder(
            feature_dim, num_descriptors, options=options, **encoder_kwargs
        )
        dim = self.encoder.dim
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head_drop = nn.Dropout(drop_rate)
        self.classifier = nn.Linear(dim, num_classes)
        self.descriptor_head = nn.Linear(dim, num_descriptors)
        self.descriptor_proj = nn.Linear(num_descriptors, dim)

    def _to_feature_map(self, out: object) -> Tensor:
        if isinstance(out, (list, tuple)) and out:
            out = out[-1]
        if not isinstance(out, Tensor):
            raise TypeError(
                "the backbone must return a tensor (B, C, H, W) or (B, N, C), or a list of them; "
                f"got {type(out).__name__}"
            )
        c = self.feature_dim
        if out.dim() == 4:
            if out.shape[1] == c:
                return out
            if out.shape[-1] == c:
                return rearrange(out, "b h w c -> b c h w")
        elif out.dim() == 3 and out.shape[-1] == c:
            patches = out[:, self.num_prefix_tokens :]
            count = patches.shape[1]
            if self.token_grid is not None:
                height, width = self.token_grid
            else:
                height = width = math.isqrt(count)
            if height * width != count:
                raise ValueError(
                    f"the backbone returned {count} patch tokens after dropping "
                    f"num_prefix_tokens={self.num_prefix_tokens}, which do not fill "
                    f"token_grid={self.token_grid or (height, width)}; pass `token_grid=(H, W)` or "
                    "the right `num_prefix_tokens`"
                )
            return rearrange(patches, "b (h w) c -> b c h w", h=height, w=width)
        raise ValueError(
            f"the backbone output must have shape (B, {c}, H, W), (B, H, W, {c}) or (B, N, {c}) "
            f"for feature_dim={c}, got shape {tuple(out.shape)}"
        )

    def forward_features(self, images: Tensor) -> Tensor:
        """Backbone feature map.

        Args:
            images: Shape (B, 3, H, W) (any channel count the backbone accepts).

        Returns:
            F, shape (B, feature_dim, H_f, W_f).
        """
        images = check_tensor(images, "images", ndim=4, shape="(B, C, H, W)")
        check_floating(images, "images")
        return self._to_feature_map(self.backbone(images))

    def forward(self, images: Tensor, descriptors: Tensor) -> SemCovNetOutput:
        """Classify images under descriptor guidance.

        Args:
            images: Shape (B, C, H, W).
            descriptors: Descriptor probabilities p in [0, 1], shape (B, K).

        Returns:
            :class:`SemCovNetOutput`.
        """
        images = check_tensor(images, "images", ndim=4, shape="(B, C, H, W)")
        check_descriptors(descriptors, self.num_descriptors, images, "images")
        check_probabilities(descriptors, "descriptors")

        encoded = self.encoder(self.forward_features(images), descriptors)
        embedding = rearrange(self.pool(encoded.features), "b d 1 1 -> b d")
        head_input = self.head_drop(embedding)
        return SemCovNetOutput(
            logits=self.classifier(head_input),
            descriptor_logits=self.descriptor_head(head_input),
            embedding=embedding,
            descriptor_embedding=self.descriptor_proj(descriptors),
            features=encoded.features,
            token=encoded.token,
            maps=encoded.maps,
            descriptors=encoded.descriptors,
        )

    def extra_repr(self) -> str:
        return (
            f"feature_dim={self.feature_dim}, num_classes={self.num_classes}, "
            f"num_descriptors={self.num_descriptors}, num_prefix_tokens={self.num_prefix_tokens}"
        )
