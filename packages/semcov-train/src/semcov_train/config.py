"""The training configuration: one frozen dataclass, three presets and field validation."""

from __future__ import annotations

import dataclasses
import math
import os
import typing
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from semcov_data.image_check import BAD_IMAGE_POLICIES
from semcov_data.synthetic_cues import EFFECT_MODES
from semcov_layers.encoder_options import ENCODER_OPTION_CHOICES, SemanticEncoderOptions
from semcov_layers.losses.cdi import MEMBERSHIPS as CDI_MEMBERSHIPS
from semcov_metrics import MEMBERSHIPS

from ._registry import did_you_mean, lookup
from .evaluation.threshold import check_decision_rule
from .methods import encoder_config
from .methods.encoder_config import SEMCOV_ORDERS, SEMCOV_PREFIX

__all__ = [
    "AMP_MODES",
    "AUGMENT_RECIPES",
    "GROUPDRO_GROUPS",
    "MODEL_SCALES",
    "PRESETS",
    "SEMCOV_FIELDS",
    "SEMCOV_PREFIX",
    "SWITCHES",
    "TrainConfig",
    "default_cache_dir",
    "make_config",
]

AMP_MODES = ("auto", "bf16", "fp16", "off")
SWITCHES = ("auto", "on", "off")
GROUPDRO_GROUPS = ("subgroup", "class_subgroup", "scg")
#: Training augmentation recipes (:mod:`semcov_train.inputs.augment`).
AUGMENT_RECIPES = ("light", "flips", "siim2020")
# Defaults of the semcov_* fields: the encoder's own.
_ENCODER = SemanticEncoderOptions()
#: Which backbone each method gets when ``backbone="auto"``: the paper's (EfficientNet-B0,
#: ViT-B/16), a small stand-in where the paper's is too slow for a CPU (ViT-Ti/16 for ViT-B/16;
#: EfficientNet-B0 stays), or timm's test models (seconds).
MODEL_SCALES = ("paper", "small", "tiny")
#: 70:10:20 split rotated over tenths: fold k tests on tenths 2k, 2k+1 (offset 8), so 5 folds.
N_FOLDS = 5


def default_cache_dir() -> Path:
    """``$SEMCOV_CACHE`` or ``~/.cache/semcov``: generated data, image caches, model weights."""
    return Path(os.environ.get("SEMCOV_CACHE") or Path.home() / ".cache" / "semcov").expanduser()


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of one training run. Build it with :func:`make_config` (a preset plus
    overrides); every field is also a command-line option (``--batch-size 16``).

    Run identity: ``experiment``, ``method``, ``dataset``, ``modality``, ``preset`` (with a
    hash of the settings that differ from it), ``fold`` and ``seed`` name the run directory
    ``<out>/<experiment>/<method>/<dataset>-<modality>/<settings>/fold<k>-seed<s>``
    (:mod:`semcov_train.rundir`).

    ``decision_threshold`` (``argmax``, ``balanced``, ``youden`` or a probability in (0, 1))
    is the rule that turns positive-class scores into the decisions behind per-SCG TPR, TPR_w,
    TPR_std and CDI; it is chosen on the validation split and applied to test unchanged
    (:mod:`semcov_train.evaluation.threshold`). ``semcov_order="auto"`` is ``mixture_dam_attn`` on
    dermoscopic images and ``attn_dam`` otherwise (paper Table 5;
    :func:`semcov_train.inputs.resolve.resolve_semcov_order`). ``augment_recipe``: ``light``
    (per-sample torchvision v2 in the loader workers), ``flips`` (its transpose and flips
    alone: the ``quick`` CPU preset, where colour jitter, affine warps and blur cost more than
    the small model's step) or ``siim2020`` (the full SIIM-ISIC 2020
    recipe with kornia, on the batch on the run's device; the ``paper`` preset), see
    :mod:`semcov_train.inputs.augment`.

    ``batch_size`` is the global batch: under DDP each of the N processes loads
    ``batch_size / N`` samples per step, so a run on N processes takes the same optimisation
    steps as one on a single process.

    The SemCovNet encoder options stay flat fields ``semcov_<option>`` (command line,
    config.json and run identity) whose defaults, choices and ranges come from
    :class:`semcov_layers.SemanticEncoderOptions`; why, and how:
    :mod:`semcov_train.methods.encoder_config`.
    """

    # --- what to run
    method: str = "erm"
    dataset: str = "synthetic"
    preset: str = "quick"
    data_root: str | None = None
    out: str = "runs"
    experiment: str = "default"
    modality: str = "auto"
    subgroup: str = "auto"
    target: str = "auto"
    fold: int = 0
    seed: int = 0
    split_seed: int = 0
    cache_dir: str | None = None
    # --- data
    image_size: int = 64
    augment: bool = True
    augment_recipe: str = "light"
    cache_images: bool = True
    num_workers: int = 0
    synthetic_lesions: int = 800
    synthetic_image_size: int = 64
    synthetic_positive_fraction: float = 0.2
    synthetic_imbalance: float = 1.0
    synthetic_seed: int = 0
    synthetic_descriptor_effects: str = "fixed"
    synthetic_test_lesions: int = 0
    descriptors_csv: str | None = None
    celeba_images: int = 5000
    # --- your own data (--dataset csv); lists are comma-separated column names
    csv_path: str | None = None
    image_column: str = "image"
    label_column: str = "label"
    descriptor_columns: str = ""
    subgroup_columns: str = ""
    subgroup_bins: str = ""
    group_columns: str = ""
    id_column: str | None = None
    positive_class: str | None = None
    split_column: str | None = None
    bad_images: str = "exclude"
    # --- model
    backbone: str = "auto"
    model_scale: str = "paper"
    pretrained: bool = False
    weights: str | None = None
    freeze_backbone: bool = False
    drop_rate: float = 0.0
    # --- optimisation (paper §4.1: Adam, cosine, one warm-up epoch at lr/10, patience 10)
    epochs: int = 8
    batch_size: int = 32
    eval_batch_size: int = 0
    lr: float = 3e-4
    weight_decay: float = 0.0
    warmup_epochs: int = 1
    warmup_factor: float = 0.1
    min_lr_ratio: float = 0.0
    patience: int = 10
    grad_clip: float = 0.0
    # --- baselines
    cb_beta: float = 0.9999
    asl_gamma_neg: float = 4.0
    asl_gamma_pos: float = 1.0
    asl_clip: float = 0.05
    groupdro_groups: str = "subgroup"
    groupdro_step_size: float = 0.01
    groupdro_adjustment: float = 0.0
    nir_lambda: float = 0.1
    semantic_scale_alpha: float = 1.0
    semantic_scale_bank: int = 256
    mix_alpha: float = 0.2
    mix_prob: float = 1.0
    cas_power: float = 1.2
    cas_threshold: float = 0.5
    cas_balance_classes: bool = False
    # --- SemCovNet (every ablation switch of the paper): semcov_layers.SemanticEncoderOptions
    semcov_dim: int = _ENCODER.dim
    semcov_depth: int = _ENCODER.depth
    semcov_order: str = "auto"
    semcov_sdm_mode: str = _ENCODER.sdm_mode
    semcov_feedback: bool = _ENCODER.feedback
    semcov_feedback_mode: str = _ENCODER.feedback_mode
    semcov_map_norm: str = _ENCODER.map_norm
    semcov_dam_residual: bool = _ENCODER.dam_residual
    semcov_uncertainty_source: str = _ENCODER.uncertainty_source
    use_dva: bool = True
    use_cdi: bool = True
    lambda_desc: float = 0.05
    lambda_dva: float = 0.1
    lambda_cdi: float = 0.1
    dva_temperature: float = 0.07
    dva_symmetric: bool = False
    cdi_decay: float = 0.95
    cdi_membership: str = "soft"
    # --- evaluation
    n_boot: int = 200
    membership: str = "soft"
    tail_fraction: float = 0.3
    decision_threshold: str = "balanced"
    # --- engineering
    device: str = "auto"
    amp: str = "auto"
    channels_last: str = "auto"
    sync_bn: bool = True
    num_threads: int = 0
    progress: bool = True
    tensorboard: str = "auto"

    def __post_init__(self) -> None:
        hints = _field_types()
        for f in fields(self):
            _check_type(f.name, getattr(self, f.name), hints[f.name])
        positive_ints = (
            "image_size",
            "synthetic_lesions",
            "synthetic_image_size",
            "epochs",
            "batch_size",
            "semantic_scale_bank",
            "celeba_images",
        )
        for name in positive_ints:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in (
            "num_workers",
            "eval_batch_size",
            "warmup_epochs",
            "n_boot",
            "seed",
            "split_seed",
            "synthetic_seed",
            "synthetic_test_lesions",
            "num_threads",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.image_size < 16:
            raise ValueError(f"image_size must be >= 16 pixels, got {self.image_size}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr}")
        if self.patience < 1:
            raise ValueError(f"patience must be >= 1 epoch, got {self.patience}")
        if not 0 <= self.fold < N_FOLDS:
            raise ValueError(
                f"fold must be in 0..{N_FOLDS - 1} (5 rotations of 70:10:20), got {self.fold}"
            )
        unit = {
            "warmup_factor": (0.0, 1.0, False),
            "min_lr_ratio": (0.0, 1.0, True),
            "drop_rate": (0.0, 1.0, False),
            "cb_beta": (0.0, 1.0, False),
            "asl_clip": (0.0, 1.0, False),
            "mix_prob": (0.0, 1.0, True),
            "cas_threshold": (0.0, 1.0, True),
            "cdi_decay": (0.0, 1.0, True),
            "tail_fraction": (0.0, 1.0, True),
            "synthetic_positive_fraction": (0.0, 1.0, False),
        }
        for name, (low, high, closed) in unit.items():
            value = getattr(self, name)
            inside = low <= value <= high if closed else low <= value < high
            if name in ("warmup_factor", "tail_fraction", "synthetic_positive_fraction"):
                inside = inside and value > 0
            if not inside:
                bracket = "]" if closed else ")"
                raise ValueError(f"{name} must be in [{low}, {high}{bracket}, got {value}")
        non_negative = (
            "weight_decay",
            "grad_clip",
            "asl_gamma_neg",
            "asl_gamma_pos",
            "groupdro_step_size",
            "groupdro_adjustment",
            "nir_lambda",
            "semantic_scale_alpha",
            "lambda_desc",
            "lambda_dva",
            "lambda_cdi",
            "synthetic_imbalance",
        )
        for name in non_negative:
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("mix_alpha", "cas_power", "dva_temperature"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        choices = {
            "amp": AMP_MODES,
            "channels_last": SWITCHES,
            "tensorboard": SWITCHES,
            "groupdro_groups": GROUPDRO_GROUPS,
            "membership": MEMBERSHIPS,
            "cdi_membership": CDI_MEMBERSHIPS,
            **{SEMCOV_PREFIX + name: values for name, values in ENCODER_OPTION_CHOICES.items()},
            "semcov_order": SEMCOV_ORDERS,
            "model_scale": MODEL_SCALES,
            "bad_images": BAD_IMAGE_POLICIES,
            "augment_recipe": AUGMENT_RECIPES,
            "synthetic_descriptor_effects": EFFECT_MODES,
        }
        for name, options in choices.items():
            value = getattr(self, name)
            if value not in options:
                raise ValueError(
                    f"{name} must be one of {', '.join(options)}, got {value!r}"
                    f"{did_you_mean(value, options)}"
                )
        # Ranges and types of the encoder options, as the encoder checks them.
        auto = self.semcov_order == "auto"
        self.encoder_options(order=SemanticEncoderOptions().order if auto else None)

        check_decision_rule(self.decision_threshold)
        if self.semcov_feedback and self.semcov_depth < 2:
            raise ValueError(
                "semcov_feedback needs semcov_depth >= 2 (the last layer has no successor); "
                "pass --semcov-feedback false for a one-layer encoder"
            )
        if not self.device or not self.experiment or not self.out:
            raise ValueError("device, experiment and out must not be empty")

    # ------------------------------------------------------------------ derived values
    def encoder_options(self, order: str | None = None) -> SemanticEncoderOptions:
        """The encoder options (:func:`semcov_train.methods.encoder_config.encoder_options`)."""
        return encoder_config.encoder_options(self, order)

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some fields changed (validated again)."""
        check_field_names(changes)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (JSON-ready)."""
        return dataclasses.asdict(self)

    @property
    def cache_path(self) -> Path:
        """Folder for generated data, image caches and model weights."""
        return Path(self.cache_dir).expanduser() if self.cache_dir else default_cache_dir()


#: TrainConfig field -> encoder option, derived from the options' fields (checked at import).
SEMCOV_FIELDS: dict[str, str] = encoder_config.semcov_fields(TrainConfig)

_TYPES: dict[str, Any] | None = None


def _field_types() -> dict[str, Any]:
    global _TYPES
    if _TYPES is None:
        _TYPES = typing.get_type_hints(TrainConfig)
    return _TYPES


def _check_type(name: str, value: Any, kind: Any) -> None:
    optional = kind == (str | None)
    if value is None:
        if optional:
            return
        raise TypeError(f"{name} must not be None")
    expected = str if optional else kind
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return
    if expected is int and isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if not isinstance(value, expected):
        raise TypeError(f"{name} must be {expected.__name__}, got {type(value).__name__} {value!r}")


def check_field_names(names: Any) -> None:
    """Raise ValueError for a name that is not a TrainConfig field (with a did-you-mean)."""
    known = [f.name for f in fields(TrainConfig)]
    for name in names:
        if name not in known:
            raise ValueError(f"unknown config field {name!r}{did_you_mean(name, known)}")


def _preset(name: str, **values: Any) -> TrainConfig:
    return TrainConfig(preset=name, **values)


#: Named configurations. ``smoke``: seconds (CI; tiny timm test backbones at 32 px, 48 lesions,
#: one epoch). ``quick``: Table 1 with three seeds a cell in ten minutes on a 2-core CPU (32 px,
#: a pool of 2,000 lesions, every run scored on the same independent draw of 3,000, 6 epochs
#: of batch 64 at lr 3e-3, flips only, from scratch with the ``small`` stand-ins of
#: :mod:`semcov_train.methods.standins`; SemCovNet's width D = 128 for the stand-in's 256 channels,
#: the paper's 256 on ``paper``).
#: ``paper``: §4.1 (224 px, 50 epochs, batch 32, Adam, cosine with one warm-up epoch at lr/10,
#: early stopping with patience 10 on val AUC, EfficientNet-B0 with ImageNet weights).
PRESETS: dict[str, TrainConfig] = {
    "smoke": _preset(
        "smoke",
        image_size=32,
        num_workers=0,
        synthetic_lesions=48,
        synthetic_image_size=32,
        synthetic_positive_fraction=1 / 3,
        model_scale="tiny",
        pretrained=False,
        epochs=1,
        batch_size=8,
        lr=1e-3,
        semcov_dim=32,
        semcov_depth=2,
        semantic_scale_bank=32,
        n_boot=10,
        progress=False,
    ),
    "quick": _preset(
        "quick",
        model_scale="small",
        image_size=32,
        synthetic_image_size=32,
        synthetic_lesions=2000,
        synthetic_test_lesions=3000,
        augment_recipe="flips",
        epochs=6,
        batch_size=64,
        lr=3e-3,
        semcov_dim=128,
        n_boot=100,
    ),
    "paper": _preset(
        "paper",
        image_size=224,
        num_workers=4,
        synthetic_lesions=10_000,
        synthetic_positive_fraction=1 / 11,
        pretrained=True,
        augment_recipe="siim2020",
        epochs=50,
        batch_size=32,
        lr=1e-4,
        n_boot=1000,
    ),
}


def make_config(preset: str = "quick", **overrides: Any) -> TrainConfig:
    """The preset with some fields overridden, e.g. ``make_config("smoke", method="semcovnet")``.

    Raises:
        ValueError: unknown preset (with a did-you-mean) or field, or a field out of range.
        TypeError: a field of the wrong type.
    """
    base = lookup(PRESETS, preset, "preset")
    check_field_names(overrides)
    if "preset" in overrides and overrides["preset"] != preset:
        raise ValueError(f"preset: got {preset!r} and preset={overrides['preset']!r}")
    return dataclasses.replace(base, **overrides)
