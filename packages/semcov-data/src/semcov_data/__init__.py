"""semcov-data: datasets, Semantic Coverage Groups, leakage-free splits and fast image loading
for coverage-aware training (MILK10k, ISIC-DICM-17K, CelebA, any CSV)."""

from __future__ import annotations

from typing import Any

from semcov_data.cache import ImageCache, build_image_cache
from semcov_data.celeba import CELEBA_DESCRIPTORS, load_celeba
from semcov_data.csv_dataset import load_csv
from semcov_data.dataset import Sample, SemCovDataset
from semcov_data.images import ImageDecodeError
from semcov_data.isic_dicm import ISIC_DICM_CLASSES, load_isic_dicm17k, read_isic_dicm17k_metadata
from semcov_data.milk10k import (
    MILK10K_DESCRIPTORS,
    MILK10K_DIAGNOSES,
    MILK10K_SITES,
    detect_milk10k_layout,
    load_milk10k,
)
from semcov_data.report import LoadReport
from semcov_data.samplers import (
    class_balanced_sampler,
    class_balanced_weights,
    scg_balanced_sampler,
    scg_balanced_weights,
)
from semcov_data.scg import AGE_BINS, UNKNOWN, SCGIndex, build_scg_index, subgroup_labels
from semcov_data.splits import (
    LeakageReport,
    audit_leakage,
    grouped_kfold,
    grouped_split,
    leakage_groups,
)
from semcov_data.table import SampleTable
from semcov_data.transforms import AugmentConfig, eval_transform, train_transform

__version__ = "0.1.0"

__all__ = [
    "AGE_BINS",
    "CELEBA_DESCRIPTORS",
    "ISIC_DICM_CLASSES",
    "MILK10K_DESCRIPTORS",
    "MILK10K_DIAGNOSES",
    "MILK10K_SITES",
    "UNKNOWN",
    "AugmentConfig",
    "ImageCache",
    "ImageDecodeError",
    "LeakageReport",
    "LoadReport",
    "MonetConfig",
    "MonetScorer",
    "SCGIndex",
    "Sample",
    "SampleTable",
    "SemCovDataset",
    "__version__",
    "audit_leakage",
    "build_image_cache",
    "build_scg_index",
    "class_balanced_sampler",
    "class_balanced_weights",
    "detect_milk10k_layout",
    "eval_transform",
    "grouped_kfold",
    "grouped_split",
    "leakage_groups",
    "load_celeba",
    "load_csv",
    "load_isic_dicm17k",
    "load_milk10k",
    "read_isic_dicm17k_metadata",
    "scg_balanced_sampler",
    "scg_balanced_weights",
    "score_folder",
    "subgroup_labels",
    "train_transform",
]


def __getattr__(name: str) -> Any:
    # The MONET scorer needs the optional transformers; it loads only when asked for.
    if name in ("MonetConfig", "MonetScorer", "score_folder"):
        from semcov_data import monet

        return getattr(monet, name)
    raise AttributeError(f"module 'semcov_data' has no attribute {name!r}")
