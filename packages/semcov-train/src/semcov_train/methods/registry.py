"""The methods registry: every table row of the paper (and its seed papers) as one entry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from semcov_layers import (
    AsymmetricLoss,
    ClassBalancedLoss,
    GroupDROLoss,
    NIRRegularizer,
    SemanticScaleBalancedLoss,
    create_semcovnet,
)

from .._registry import lookup
from ..config import TrainConfig
from ..inputs.resolve import resolve_semcov_order
from .late_fusion import LateFusionClassifier
from .models import (
    EncoderClassifier,
    MissingWeightsError,
    TimmClassifier,
    load_clip_encoder,
    timm_api,
    timm_kwargs,
)
from .objectives import (
    CrossEntropyObjective,
    GroupDROObjective,
    LossObjective,
    NIRObjective,
    SemanticScaleObjective,
    SemCovObjective,
    count_groups,
    group_index,
)
from .standins import SMALL_CNN, SMALL_VIT

__all__ = [
    "METHODS",
    "Method",
    "check_available",
    "resolve_backbone",
    "resolve_weights",
]


@dataclass(frozen=True)
class Method:
    """One entry of :data:`METHODS`.

    Attributes:
        name: registry name (``--method``).
        table_row: the row of the paper's tables this reproduces.
        description: one line.
        build_model: ``(config, data, method) -> nn.Module``.
        build_objective: ``(config, data, model) -> nn.Module`` (see
            :mod:`semcov_train.methods.objectives`).
        backbone: timm backbone at ``model_scale="paper"`` (the ``paper`` preset): the
            paper's model.
        small_backbone: timm backbone at ``model_scale="small"`` (the ``quick`` preset), a
            stand-in that trains from scratch within CPU minutes.
        tiny_backbone: timm backbone at ``model_scale="tiny"`` (the ``smoke`` preset).
        sampling: ``uniform`` or ``cas`` (compositional-attribute-scarcity weighted draws).
        mixing: batch mixing (``cutmix``, ``fmix``, ``saliencymix``) or None.
        weights_folder: for encoders loaded from a local folder: its default name under
            ``<cache>/models``; None for timm models.
        download_hint: how to fill that folder.
        shuffle_descriptors: permute the descriptor vectors within each (class, subgroup) cell
            of every split part at load time (:mod:`semcov_train.inputs.shuffle`), training and
            test.
        takes_descriptors: the model reads the descriptor scores p of each image (every model
            is called as ``model(images, p)``; the others ignore p), so its output can be
            probed by setting p (``python -m semcov_train audit``'s descriptor sensitivity).
    """

    name: str
    table_row: str
    description: str
    build_model: Callable[..., nn.Module]
    build_objective: Callable[..., nn.Module]
    backbone: str = "efficientnet_b0"
    small_backbone: str = SMALL_CNN
    tiny_backbone: str = "test_efficientnet"
    sampling: str = "uniform"
    mixing: str | None = None
    weights_folder: str | None = None
    download_hint: str = ""
    shuffle_descriptors: bool = False
    takes_descriptors: bool = False


def _freeze(module: nn.Module) -> None:
    for parameter in module.parameters():
        parameter.requires_grad_(False)


def _timm(config: TrainConfig, data, method: Method) -> nn.Module:
    model = TimmClassifier(
        resolve_backbone(config, method),
        data.num_classes,
        pretrained=config.pretrained,
        drop_rate=config.drop_rate,
        image_size=config.image_size,
    )
    if config.freeze_backbone:
        _freeze(model.model)
        for parameter in timm_api(model.model).get_classifier().parameters():
            parameter.requires_grad_(True)
    return model


def _semcovnet(config: TrainConfig, data, method: Method) -> nn.Module:
    backbone = resolve_backbone(config, method)
    model = create_semcovnet(
        backbone,
        num_classes=data.num_classes,
        num_descriptors=data.num_descriptors,
        pretrained=config.pretrained,
        backbone_kwargs=timm_kwargs(backbone, config.image_size),
        options=config.encoder_options(order=resolve_semcov_order(config)),
        drop_rate=config.drop_rate,
    )
    if config.freeze_backbone:
        _freeze(model.backbone)
    return model


def _late_fusion(config: TrainConfig, data, method: Method) -> nn.Module:
    model = LateFusionClassifier(
        resolve_backbone(config, method),
        data.num_classes,
        data.num_descriptors,
        pretrained=config.pretrained,
        drop_rate=config.drop_rate,
        image_size=config.image_size,
    )
    if config.freeze_backbone:
        _freeze(model.model)
    return model


def _encoder(config: TrainConfig, data, method: Method) -> nn.Module:
    encoder = load_clip_encoder(resolve_weights(config, method), method.name, method.download_hint)
    return EncoderClassifier(
        encoder,
        data.num_classes,
        drop_rate=config.drop_rate,
        freeze_encoder=config.freeze_backbone,
    )


def _ce(config: TrainConfig, data, model: nn.Module) -> nn.Module:
    return CrossEntropyObjective()


def _train_counts(data) -> torch.Tensor:
    labels = torch.from_numpy(np.array(data.train.table.labels, dtype=np.int64))
    counts = torch.bincount(labels, minlength=data.num_classes)
    if (counts == 0).any():
        raise ValueError("the training split lacks a class; class-balanced weights are undefined")
    return counts


def _cbl(config: TrainConfig, data, model: nn.Module) -> nn.Module:
    return LossObjective(ClassBalancedLoss(_train_counts(data), beta=config.cb_beta), "cbl")


def _asl(config: TrainConfig, data, model: nn.Module) -> nn.Module:
    loss = AsymmetricLoss(
        gamma_neg=config.asl_gamma_neg, gamma_pos=config.asl_gamma_pos, clip=config.asl_clip
    )
    return LossObjective(loss, "asl")


def _groupdro(config: TrainConfig, data, model: nn.Module) -> nn.Module:
    kind = config.groupdro_groups
    arrays = data.split_arrays("train")
    groups = group_index(
        kind,
        torch.from_numpy(np.array(arrays["labels"], dtype=np.int64)),
        torch.from_numpy(np.array(arrays["descriptors"], dtype=np.float32)),
        torch.from_numpy(np.array(arrays["subgroups"], dtype=np.int64)),
        data.num_descriptors,
        data.num_subgroups,
    )
    n_groups = count_groups(kind, data.num_classes, data.num_descriptors, data.num_subgroups)
    # An empty group's count only enters the C/sqrt(n) adjustment; 1 keeps it finite.
    counts = torch.bincount(groups, minlength=n_groups).clamp_min(1)
    loss = GroupDROLoss(
        n_groups,
        step_size=config.groupdro_step_size,
        adjustment=config.groupdro_adjustment,
        group_counts=counts,
    )
    return GroupDROObjective(loss, kind, data.num_descriptors, data.num_subgroups)


def _nir(config: TrainConfig, data, model: nn.Module) -> nn.Module:
    return NIRObjective(NIRRegularizer(), config.nir_lambda)


def _semantic_scale(config: TrainConfig, data, model: nn.Module) -> nn.Module:
    loss = SemanticScaleBalancedLoss(
        data.num_classes,
        embedding_width(model, config.image_size, data.num_descriptors),
        bank_size=config.semantic_scale_bank,
        alpha=config.semantic_scale_alpha,
    )
    return SemanticScaleObjective(loss)


def _semcov(config: TrainConfig, data, model: nn.Module) -> nn.Module:
    return SemCovObjective(
        data.coverage if config.use_cdi else None,
        use_dva=config.use_dva,
        lambda_desc=config.lambda_desc,
        lambda_dva=config.lambda_dva,
        lambda_cdi=config.lambda_cdi,
        temperature=config.dva_temperature,
        symmetric_dva=config.dva_symmetric,
        cdi_decay=config.cdi_decay,
        cdi_membership=config.cdi_membership,
    )


def _timm_method(
    name: str, row: str, description: str, objective: Callable[..., nn.Module], **fields
) -> Method:
    """A timm classifier trained with `objective`; `fields`: the other :class:`Method` fields."""
    return Method(name, row, description, _timm, objective, **fields)


def _encoder_method(name: str, row: str, description: str, folder: str, hint: str) -> Method:
    """A CLIP-style image encoder from a local folder + linear head, cross-entropy."""
    return Method(name, row, description, _encoder, _ce, weights_folder=folder, download_hint=hint)


#: Batch mixing -> its name in the Compositional Attribute Imbalance paper's Table 2.
_MIXING_LABELS = {"cutmix": "CutMix", "fmix": "FMix", "saliencymix": "SaliencyMix"}


def _mixing_method(mode: str, *, cas: bool) -> Method:
    """EfficientNet-B0 with `mode` mixing within the batch, its batches drawn CAS-weighted
    (``cas_cutmix`` ..., the paper's "+weight" rows) or uniformly (``cutmix`` ..., its rows
    without weighting): the two methods of a pair differ in the sampler only."""
    pretty = _MIXING_LABELS[mode]
    if cas:
        return _timm_method(
            f"cas_{mode}",
            f"CAS + {pretty} (Compositional Attribute Imbalance, Table 2 '+weight' rows)",
            f"EfficientNet-B0, CAS-weighted sampling (r^b, b = 1.2) and {pretty} within the batch",
            _ce,
            sampling="cas",
            mixing=mode,
        )
    return _timm_method(
        mode,
        f"{pretty} (Compositional Attribute Imbalance, Table 2 rows without weighting)",
        f"EfficientNet-B0, uniform sampling and {pretty} within the batch",
        _ce,
        mixing=mode,
    )


def _registry(*methods: Method) -> dict[str, Method]:
    """Methods by name, in the order given (a name given twice is an error)."""
    registry: dict[str, Method] = {}
    for method in methods:
        if method.name in registry:
            raise ValueError(f"method {method.name!r} is registered twice")
        registry[method.name] = method
    return registry


#: Methods by ``--method`` name.
METHODS: dict[str, Method] = _registry(
    _timm_method(
        "erm", "ENet-B0", "EfficientNet-B0, cross-entropy (empirical risk minimisation)", _ce
    ),
    _timm_method(
        "vit",
        "ViT",
        "Vision Transformer (ViT-B/16), cross-entropy",
        _ce,
        backbone="vit_base_patch16_224",
        small_backbone=SMALL_VIT,
        tiny_backbone="test_vit",
    ),
    _timm_method("cbl", "ENet-B0+CBL", "EfficientNet-B0, class-balanced loss", _cbl),
    _timm_method("asl", "ENet-B0+ASL", "EfficientNet-B0, asymmetric loss", _asl),
    _timm_method(
        "groupdro",
        "GroupDRO",
        "EfficientNet-B0, online Group DRO over subgroups / class×subgroup / SCGs",
        _groupdro,
    ),
    _encoder_method(
        "clip",
        "CLIP",
        "CLIP ViT-L/14 image encoder + linear head",
        "clip-vit-large-patch14",
        "huggingface-cli download openai/clip-vit-large-patch14 --local-dir FOLDER",
    ),
    _encoder_method(
        "monet",
        "MONET",
        "MONET (dermatology CLIP ViT-L/14) image encoder + linear head",
        "monet",
        "huggingface-cli download chanwkim/monet --local-dir FOLDER",
    ),
    Method(
        "semcovnet",
        "SemCovNet (ours)",
        "EfficientNet-B0 + Semantic Encoder (SDM, cross-attention, DAM), CE + desc + DVA + CDI",
        _semcovnet,
        _semcov,
        takes_descriptors=True,
    ),
    Method(
        "erm_late_fusion",
        "ENet-B0 + descriptors (late fusion)",
        "EfficientNet-B0, descriptor scores concatenated to the pooled features, linear head, CE",
        _late_fusion,
        _ce,
        takes_descriptors=True,
    ),
    Method(
        "semcovnet_shuffled",
        "SemCovNet (shuffled descriptors)",
        "SemCovNet with p permuted within each (class, site) cell, training and test",
        _semcovnet,
        _semcov,
        shuffle_descriptors=True,
        takes_descriptors=True,
    ),
    *(_mixing_method(mode, cas=True) for mode in _MIXING_LABELS),
    *(_mixing_method(mode, cas=False) for mode in _MIXING_LABELS),
    _timm_method(
        "semantic_scale",
        "Semantic-scale-balanced loss (Ma et al. 2023)",
        "EfficientNet-B0, dynamic semantic-scale-balanced cross-entropy",
        _semantic_scale,
    ),
    _timm_method(
        "nir",
        "NIR (Neuron Incidence Redistribution)",
        "EfficientNet-B0, cross-entropy + NIR regularizer on the penultimate features",
        _nir,
    ),
)


def embedding_width(model: nn.Module, image_size: int, num_descriptors: int) -> int:
    """Width D of ``model(...).embedding``, read off one forward pass in eval mode."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    with torch.no_grad():
        probe = model(
            torch.zeros(1, 3, image_size, image_size, device=device),
            torch.full((1, num_descriptors), 0.5, device=device),
        )
    model.train(was_training)
    return int(probe.embedding.shape[1])


def resolve_backbone(config: TrainConfig, method: Method) -> str:
    """``config.backbone``, or the method's default at ``config.model_scale``."""
    if config.backbone != "auto":
        return config.backbone
    if method.weights_folder is not None:
        return method.weights_folder
    return {
        "paper": method.backbone,
        "small": method.small_backbone,
        "tiny": method.tiny_backbone,
    }[config.model_scale]


def resolve_weights(config: TrainConfig, method: Method) -> Path:
    """Folder of an encoder method's weights: ``--weights`` or ``<cache>/models/<name>``."""
    if config.weights is not None:
        return Path(config.weights).expanduser()
    return config.cache_path / "models" / str(method.weights_folder)


def check_available(config: TrainConfig) -> Method:
    """The config's method, after checking what it needs is here (before any work).

    Raises:
        ValueError: unknown method (with a did-you-mean).
        MissingWeightsError: an encoder method without its local weights (one line).
    """
    method = lookup(METHODS, config.method, "method")
    if method.weights_folder is not None:
        folder = resolve_weights(config, method)
        if not (folder / "config.json").is_file():
            hint = method.download_hint.replace("FOLDER", str(folder))
            raise MissingWeightsError(
                f"{method.name}: pretrained weights not found in {str(folder)!r}; put a "
                f"transformers CLIP model there ({hint}) or pass --weights PATH"
            )
    return method
