"""Late fusion: a timm backbone whose pooled features meet the descriptor scores at the head.

The control row "ENet-B0 + descriptors (late fusion)": the same backbone and a head of the same
kind as the ERM baseline (one linear layer), its input the pooled features with the K descriptor
scores p appended. It has access to p without SemCovNet's modules, so a SemCovNet gain that this
row matches comes from seeing p, not from how the modules use it. Paper: no such row; here:
added so that a gain on the synthetic benchmark, whose p are the very variables that plant the
errors, can be attributed.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .models import ClassifierOutput, timm_api, timm_kwargs

__all__ = ["LateFusionClassifier"]


class LateFusionClassifier(nn.Module):
    """A timm backbone, its pooled features concatenated with the descriptors, a linear head.

    Args:
        backbone: timm model name.
        num_classes: T.
        num_descriptors: K, the width of the descriptor vector p.
        pretrained: load timm's pretrained weights.
        drop_rate: dropout on the pooled features before the head (timm's ``drop_rate``).
        image_size: input side (ViT-style models are built for it).

    Shapes:
        ``forward(images (B, 3, S, S), descriptors (B, K))`` → ``logits`` (B, T) and
        ``embedding`` (B, F + K), the head's input (pooled features, then p).
    """

    def __init__(
        self,
        backbone: str,
        num_classes: int,
        num_descriptors: int,
        *,
        pretrained: bool = False,
        drop_rate: float = 0.0,
        image_size: int = 224,
    ) -> None:
        super().__init__()
        import timm

        if not isinstance(num_descriptors, int) or num_descriptors < 1:
            raise ValueError(f"num_descriptors must be a positive int, got {num_descriptors!r}")
        self.model = timm.create_model(
            backbone,
            pretrained=pretrained,
            num_classes=0,
            drop_rate=drop_rate,
            **timm_kwargs(backbone, image_size),
        )
        self.num_descriptors = num_descriptors
        self.num_features = int(timm_api(self.model).num_features)
        self.head = nn.Linear(self.num_features + num_descriptors, num_classes)

    def forward(self, images: Tensor, descriptors: Tensor | None = None) -> ClassifierOutput:
        if descriptors is None:
            raise ValueError("descriptors: late fusion needs the descriptor scores (B, K)")
        if descriptors.ndim != 2 or descriptors.shape[1] != self.num_descriptors:
            raise ValueError(
                f"descriptors must have shape (B, {self.num_descriptors}), "
                f"got {tuple(descriptors.shape)}"
            )
        model = timm_api(self.model)
        features = model.forward_head(model.forward_features(images), pre_logits=True)
        embedding = torch.cat([features, descriptors.to(features.dtype)], dim=1)
        return ClassifierOutput(self.head(embedding), embedding)
