"""The networks the methods train: timm classifiers, SemCovNet, CLIP-style encoder + linear head.

Every model is called as ``model(images, descriptors)`` and returns an object with ``logits``
(B, T) and ``embedding`` (B, D); SemCovNet adds ``descriptor_logits`` and
``descriptor_embedding`` (the DVA pair).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from semcov_data.transforms import IMAGENET_MEAN, IMAGENET_STD

if TYPE_CHECKING:
    from transformers import CLIPModel, CLIPVisionConfig

__all__ = [
    "CLIP_MEAN",
    "CLIP_STD",
    "ClassifierOutput",
    "EncoderClassifier",
    "MissingWeightsError",
    "TimmClassifier",
    "load_clip_encoder",
]

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


class MissingWeightsError(FileNotFoundError):
    """Pretrained weights a method needs are not on this machine (nothing is downloaded)."""


@dataclass
class ClassifierOutput:
    """Output of the plain classifiers.

    Attributes:
        logits: (B, T).
        embedding: the pooled pre-logit features z, (B, D).
    """

    logits: Tensor
    embedding: Tensor


class TimmModel(Protocol):
    """The part of a timm model's interface (beyond ``nn.Module``) that the methods use."""

    num_features: int

    def forward_features(self, x: Tensor) -> Tensor: ...

    def forward_head(self, x: Tensor, pre_logits: bool = False) -> Tensor: ...

    def get_classifier(self) -> nn.Module: ...


def timm_api(model: nn.Module) -> TimmModel:
    """``model`` (made by ``timm.create_model``) typed with timm's model interface."""
    return cast(TimmModel, model)


def timm_kwargs(backbone: str, image_size: int) -> dict:
    """Extra ``timm.create_model`` arguments: ViT-style models are built for the run's image
    size (their position embeddings are resized when pretrained weights are loaded)."""
    lowered = backbone.lower()
    if any(key in lowered for key in ("vit", "deit", "eva", "beit")):
        return {"img_size": image_size}
    return {}


class TimmClassifier(nn.Module):
    """Any timm model with its own classifier head; the pre-logit features are the embedding.

    Args:
        backbone: timm model name.
        num_classes: T.
        pretrained: load timm's pretrained weights.
        drop_rate: dropout before the classifier (timm's ``drop_rate``).
        image_size: input side (ViT-style models are built for it).
    """

    def __init__(
        self,
        backbone: str,
        num_classes: int,
        *,
        pretrained: bool = False,
        drop_rate: float = 0.0,
        image_size: int = 224,
    ) -> None:
        super().__init__()
        import timm

        self.model = timm.create_model(
            backbone,
            pretrained=pretrained,
            num_classes=num_classes,
            drop_rate=drop_rate,
            **timm_kwargs(backbone, image_size),
        )

    def forward(self, images: Tensor, descriptors: Tensor | None = None) -> ClassifierOutput:
        model = timm_api(self.model)
        features = model.forward_features(images)
        embedding = model.forward_head(features, pre_logits=True)
        return ClassifierOutput(model.get_classifier()(embedding), embedding)


def load_clip_encoder(path: str | Path, method: str, download_hint: str) -> nn.Module:
    """The vision tower and projection of a local transformers CLIP model (``CLIPModel`` layout,
    as OpenAI CLIP and MONET are published). Never downloads.

    Raises:
        MissingWeightsError: `path` is not a folder with a ``config.json`` (one-line message
            that names the folder and how to fill it).
        ImportError: transformers is missing.
    """
    folder = Path(path).expanduser()
    if not (folder / "config.json").is_file():
        raise MissingWeightsError(
            f"{method}: pretrained weights not found in {str(folder)!r}; put a transformers "
            f"CLIP model there ({download_hint}) or pass --weights PATH"
        )
    try:
        from transformers import CLIPModel
        from transformers.utils import logging as hf_logging
    except ImportError as error:
        raise ImportError(
            f"{method} needs transformers: pip install 'semcov-train[clip]'"
        ) from error
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        clip = CLIPModel.from_pretrained(folder, local_files_only=True)
    finally:
        hf_logging.set_verbosity(verbosity)
        hf_logging.enable_progress_bar()
    return _ClipVision(clip)


class _ClipVision(nn.Module):
    def __init__(self, clip: CLIPModel) -> None:
        super().__init__()
        self.vision_model = clip.vision_model
        self.visual_projection = clip.visual_projection
        # transformers annotates these config fields as optional (they may be unset before the
        # config is built); a loaded CLIP model holds a CLIPVisionConfig and an int.
        vision_config = cast("CLIPVisionConfig", clip.config.vision_config)
        self.image_size = int(cast(int, vision_config.image_size))
        self.embed_dim = int(cast(int, clip.config.projection_dim))

    def forward(self, pixel_values: Tensor) -> Tensor:
        pooled = self.vision_model(pixel_values=pixel_values).pooler_output
        return self.visual_projection(pooled)


class EncoderClassifier(nn.Module):
    """A CLIP-style image encoder and a linear head (the CLIP and MONET rows of the tables).

    Inputs arrive ImageNet-normalised (the data pipeline is shared by every method); they are
    re-normalised with CLIP's statistics and resized to the encoder's input size.

    Args:
        encoder: module mapping CLIP-normalised pixels (B, 3, S, S) to embeddings (B, D), with
            ``image_size`` and ``embed_dim`` attributes.
        num_classes: T.
        drop_rate: dropout before the head.
        freeze_encoder: train the head only (a linear probe).
    """

    scale: Tensor
    shift: Tensor

    def __init__(
        self,
        encoder: nn.Module,
        num_classes: int,
        *,
        drop_rate: float = 0.0,
        freeze_encoder: bool = False,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        if freeze_encoder:
            for parameter in self.encoder.parameters():
                parameter.requires_grad_(False)
        self.head_drop = nn.Dropout(drop_rate)
        # The encoder's contract (see Args) adds these int attributes to nn.Module.
        self.classifier = nn.Linear(int(cast(int, encoder.embed_dim)), num_classes)
        scale = torch.tensor(IMAGENET_STD) / torch.tensor(CLIP_STD)
        shift = (torch.tensor(IMAGENET_MEAN) - torch.tensor(CLIP_MEAN)) / torch.tensor(CLIP_STD)
        self.register_buffer("scale", scale.view(1, 3, 1, 1), persistent=False)
        self.register_buffer("shift", shift.view(1, 3, 1, 1), persistent=False)

    def forward(self, images: Tensor, descriptors: Tensor | None = None) -> ClassifierOutput:
        pixels = images * self.scale.to(images.dtype) + self.shift.to(images.dtype)
        size = int(cast(int, self.encoder.image_size))
        if pixels.shape[-2:] != (size, size):
            pixels = F.interpolate(pixels, size=(size, size), mode="bilinear", align_corners=False)
        embedding = self.encoder(pixels)
        return ClassifierOutput(self.classifier(self.head_drop(embedding)), embedding)
