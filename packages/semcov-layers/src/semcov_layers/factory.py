"""``create_semcovnet``: a SemCovNet on a timm backbone (needs the optional ``timm`` extra)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from torch import Tensor, nn

from .semcovnet import SemCovNet

__all__ = ["TimmFeatureExtractor", "create_semcovnet"]


class TimmFeatureExtractor(nn.Module):
    """Expose a timm model's ``forward_features`` (unpooled map or tokens) as ``forward``.

    timm applies some normalization only after pooling, in ``forward_head``: ``head.norm`` of
    ConvNeXt-style ``NormMlpClassifierHead`` heads and ``fc_norm`` of ViT-style models. Those layers
    never run here, so they are replaced by ``nn.Identity`` and every parameter left is trained.

    Args:
        model: A timm model, typically created with ``num_classes=0``.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        head = getattr(model, "head", None)
        if isinstance(head, nn.Module) and isinstance(getattr(head, "norm", None), nn.Module):
            head.norm = nn.Identity()
        if isinstance(getattr(model, "fc_norm", None), nn.Module):
            model.fc_norm = nn.Identity()
        self.model = model

    def forward(self, images: Tensor) -> Tensor:
        """Return ``model.forward_features(images)``: (B, C, H, W) for CNNs, (B, N, C) for ViTs."""
        # timm models define forward_features; nn.Module's type knows only submodules/tensors.
        forward_features = cast("Callable[[Tensor], Tensor]", self.model.forward_features)
        return forward_features(images)


def create_semcovnet(
    backbone_name: str,
    *,
    num_classes: int,
    num_descriptors: int,
    pretrained: bool = True,
    backbone_kwargs: dict[str, Any] | None = None,
    **model_kwargs: Any,
) -> SemCovNet:
    """Build a :class:`SemCovNet` on a timm backbone.

    The backbone is ``timm.create_model(backbone_name, pretrained=..., num_classes=0,
    **backbone_kwargs)``; its ``forward_features`` feeds the encoder, ``num_features`` gives the
    channel count and ``num_prefix_tokens`` (class/register tokens of ViTs) is read from the model
    unless given in ``model_kwargs``.

    Args:
        backbone_name: Any timm model name, e.g. ``"efficientnet_b0"``, ``"vit_tiny_patch16_224"``.
        num_classes: Number of classes T.
        num_descriptors: Number of descriptors K.
        pretrained: Load timm's pretrained weights (needs network access or a local cache).
        backbone_kwargs: Extra keyword arguments for ``timm.create_model`` (e.g. ``img_size``).
        **model_kwargs: Passed to :class:`SemCovNet` (``options=SemanticEncoderOptions(...)``,
            ``drop_rate``, ...) and on to :class:`SemanticEncoder` (options by name).

    Returns:
        The model.

    Raises:
        ImportError: timm is not installed.
        TypeError: `backbone_name` is not a string.
    """
    if not isinstance(backbone_name, str):
        raise TypeError(
            f"`backbone_name` must be a timm model name (str), got {type(backbone_name).__name__}"
        )
    try:
        import timm
    except ImportError as error:
        raise ImportError(
            "create_semcovnet needs timm; install it with `pip install semcov-layers[timm]`, "
            "or build SemCovNet(backbone, feature_dim, ...) around your own backbone"
        ) from error
    model = timm.create_model(
        backbone_name, pretrained=pretrained, num_classes=0, **(backbone_kwargs or {})
    )
    model_kwargs.setdefault("num_prefix_tokens", int(getattr(model, "num_prefix_tokens", 0) or 0))
    return SemCovNet(
        TimmFeatureExtractor(model),
        int(cast(int, model.num_features)),
        num_classes,
        num_descriptors,
        **model_kwargs,
    )
