"""The CPU stand-ins for the paper's backbones, registered as timm models.

The ``quick`` preset trains every model from scratch at 32 px on a 2-core CPU, three seeds a
cell, within ten minutes for Table 1. The paper's EfficientNet-B0 and ViT-B/16 do not learn in
that budget (measured: EfficientNet-B0 from scratch stays at chance; a ViT-Ti/16 at 32 px sees
2 × 2 patches and stays at chance too), so ``model_scale="small"`` builds these two instead:

- ``semcov_resnet10t_narrow``: timm's ResNet-10-T with half its channels (32, 64, 128, 256)
  and output stride 8, so a 32-px image leaves a 4 × 4 feature map (the paper's EfficientNet-B0
  leaves 7 × 7 at 224 px): SemCovNet's Semantic Descriptor Map still has positions to weigh.
  1.3 M parameters, about 1.4 ms a training image on one CPU thread.
- ``semcov_vit_micro``: a ViT of 4 blocks, width 128, 4 heads, 8-px patches (16 tokens at
  32 px). 0.8 M parameters, about 1.3 ms a training image on one CPU thread.

Both are plain timm models (``timm.create_model(name, num_classes=…, img_size=…)``,
``forward_features``, ``forward_head``), built through timm's public ``create_model`` with
architecture arguments, and have no pretrained weights. Importing this module registers them;
:mod:`semcov_train.methods.registry` imports it. Paper: EfficientNet-B0 / ViT-B/16 with ImageNet
weights; here, on the CPU presets: these stand-ins from scratch (measured in the semcov-train
README, "Presets").
"""

from __future__ import annotations

from typing import Any

import timm
from timm.models import register_model
from torch import nn

__all__ = ["SMALL_CNN", "SMALL_VIT", "STANDIN_ARCHITECTURES"]

#: The CNN stand-in for EfficientNet-B0 at ``model_scale="small"``.
SMALL_CNN = "semcov_resnet10t_narrow"
#: The ViT stand-in for ViT-B/16 at ``model_scale="small"``.
SMALL_VIT = "semcov_vit_micro"
#: Each stand-in: the timm architecture it is made of and the arguments that shape it.
STANDIN_ARCHITECTURES: dict[str, tuple[str, dict[str, Any]]] = {
    SMALL_CNN: ("resnet10t", {"channels": (32, 64, 128, 256), "output_stride": 8}),
    SMALL_VIT: (
        "vit_tiny_patch16_224",
        {"patch_size": 8, "depth": 4, "embed_dim": 128, "num_heads": 4, "img_size": 32},
    ),
}


def _build(name: str, pretrained: bool, kwargs: dict[str, Any]) -> nn.Module:
    if pretrained:
        raise ValueError(f"pretrained: the stand-in backbone {name!r} has no pretrained weights")
    architecture, shape = STANDIN_ARCHITECTURES[name]
    return timm.create_model(architecture, pretrained=False, **{**shape, **kwargs})


@register_model
def semcov_resnet10t_narrow(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """ResNet-10-T, channels (32, 64, 128, 256), output stride 8 (see the module docstring)."""
    return _build(SMALL_CNN, pretrained, kwargs)


@register_model
def semcov_vit_micro(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """ViT, 4 blocks of width 128 with 4 heads, 8-px patches (see the module docstring)."""
    return _build(SMALL_VIT, pretrained, kwargs)
