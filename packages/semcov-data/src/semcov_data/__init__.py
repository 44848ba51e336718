"""semcov-data: datasets, Semantic Coverage Groups, leakage-free splits and fast image loading
for coverage-aware training (MILK10k, ISIC-DICM-17K, CelebA, any CSV)."""

from __future__ import annotations

import importlib
from typing import Any

# Public name → module. Names load on first use, so `import semcov_data` (and the audit
# command) does not pay for torch and torchvision until a dataset, cache or transform is used;
# the MONET scorer needs the optional transformers only when it is touched.
_EXPORTS = {
    "ImageCache": "semcov_data.cache",
    "build_image_cache": "semcov_data.cache",
    "CELEBA_DESCRIPTORS": "semcov_data.celeba",
    "load_celeba": "semcov_data.celeba",
    "load_csv": "semcov_data.csv_dataset",
    "Sample": "semcov_data.dataset",
    "SemCovDataset": "semcov_data.dataset",
    "BadImageError": "semcov_data.image_check",
    "drop_bad_images": "semcov_data.image_check",
    "find_bad_images": "semcov_data.image_check",
    "ImageDecodeError": "semcov_data.images",
    "to_rgb": "semcov_data.images",
    "ISIC_DICM_CLASSES": "semcov_data.isic_dicm",
    "load_isic_dicm17k": "semcov_data.isic_dicm",
    "read_isic_dicm17k_metadata": "semcov_data.isic_dicm",
    "MILK10K_DESCRIPTORS": "semcov_data.milk10k",
    "MILK10K_DIAGNOSES": "semcov_data.milk10k",
    "MILK10K_SITES": "semcov_data.milk10k",
    "detect_milk10k_layout": "semcov_data.milk10k",
    "load_milk10k": "semcov_data.milk10k",
    "MonetConfig": "semcov_data.monet",
    "MonetScorer": "semcov_data.monet",
    "score_folder": "semcov_data.monet",
    "LoadReport": "semcov_data.report",
    "class_balanced_sample_weights": "semcov_data.samplers",
    "class_balanced_sampler": "semcov_data.samplers",
    "scg_balanced_sampler": "semcov_data.samplers",
    "scg_balanced_weights": "semcov_data.samplers",
    "AGE_BINS": "semcov_data.scg",
    "UNKNOWN": "semcov_data.scg",
    "SCGIndex": "semcov_data.scg",
    "build_scg_index": "semcov_data.scg",
    "subgroup_labels": "semcov_data.scg",
    "LeakageReport": "semcov_data.splits",
    "audit_leakage": "semcov_data.splits",
    "grouped_kfold": "semcov_data.splits",
    "grouped_split": "semcov_data.splits",
    "leakage_groups": "semcov_data.splits",
    "SampleTable": "semcov_data.table",
    "CAS_SOURCES": "semcov_data.cas",
    "cas_attributes": "semcov_data.cas",
    "cas_evaluation_subsets": "semcov_data.cas",
    "cas_sampler": "semcov_data.cas",
    "cas_scores": "semcov_data.cas",
    "cas_weights": "semcov_data.cas",
    "MIX_MODES": "semcov_data.mixing",
    "BatchMixer": "semcov_data.mixing",
    "CASMixSource": "semcov_data.mixing",
    "cutmix_mask": "semcov_data.mix_masks",
    "fmix_mask": "semcov_data.mix_masks",
    "saliencymix_mask": "semcov_data.mix_masks",
    "sample_mix_lambda": "semcov_data.mix_masks",
    "spectral_residual_saliency": "semcov_data.saliency",
    "SyntheticConfig": "semcov_data.synthetic",
    "write_synthetic": "semcov_data.synthetic",
    "descriptor_prevalence": "semcov_data.synthetic",
    "oracle_auc": "semcov_data.synthetic_oracle",
    "read_scenes": "semcov_data.synthetic_oracle",
    "AugmentConfig": "semcov_data.transforms",
    "eval_transform": "semcov_data.transforms",
    "train_transform": "semcov_data.transforms",
    "normalize_batch": "semcov_data.transforms",
}


__version__ = "0.2.0"

# Every public name is listed once, in ``_EXPORTS``.
__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'semcov_data' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
