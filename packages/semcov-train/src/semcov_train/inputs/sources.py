"""The datasets registry: each ``--dataset`` with its modalities, subgroups and targets, and the
loader that reads its :class:`~semcov_data.SampleTable`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from semcov_data import load_celeba, load_isic_dicm17k, load_milk10k

from .._registry import lookup
from ..config import TrainConfig
from ..runtime.distributed import DistContext
from .csv_data import load_csv_table
from .synthetic_data import prepare_synthetic

__all__ = [
    "DATASETS",
    "DatasetSpec",
    "check_data_root",
    "load_table",
    "resolve_modality",
    "resolve_subgroup",
    "resolve_target",
]


@dataclass(frozen=True)
class DatasetSpec:
    """One entry of :data:`DATASETS`.

    Attributes:
        name: registry name (``--dataset``).
        modalities: accepted ``--modality`` values, the default first.
        subgroups: accepted ``--subgroup`` values, the default first.
        targets: accepted ``--target`` values, the default first.
        needs_root: a ``--data-root`` must be given.
        load: ``(config, root, modality, subgroup, target) -> SampleTable``.
        description: one line for the README and ``--help``.
    """

    name: str
    modalities: tuple[str, ...]
    subgroups: tuple[str, ...]
    targets: tuple[str, ...]
    needs_root: bool
    load: Callable[..., object]
    description: str


def _load_milk10k(config: TrainConfig, root: Path, modality: str, subgroup: str, target: str):
    return load_milk10k(root, modality=modality, target=target, subgroup=subgroup)


def _load_isic(config: TrainConfig, root: Path, modality: str, subgroup: str, target: str):
    if config.descriptors_csv is None:
        raise ValueError(
            "descriptors_csv: ISIC-DICM-17K has no descriptor scores of its own; pass "
            "--descriptors-csv SCORES.csv (e.g. from `python -m semcov_data monet`)"
        )
    return load_isic_dicm17k(root, descriptors=config.descriptors_csv, subgroup=subgroup)


def _load_celeba(config: TrainConfig, root: Path, modality: str, subgroup: str, target: str):
    return load_celeba(
        root,
        target=target,
        subgroup=subgroup,
        n_images=config.celeba_images,
        seed=config.split_seed,
    )


def _load_csv(config: TrainConfig, root: Path | None, modality: str, subgroup: str, target: str):
    if root is not None and not root.is_dir():
        raise ValueError(f"data_root: {str(root)!r} is not a directory (dataset 'csv')")
    return load_csv_table(config, root)


_MILK_SUBGROUPS = ("site", "skin_tone", "sex", "age")

#: Datasets by ``--dataset`` name.
DATASETS: dict[str, DatasetSpec] = {
    "synthetic": DatasetSpec(
        "synthetic",
        ("dermoscopic", "clinical"),
        _MILK_SUBGROUPS,
        ("mel", "diagnosis"),
        False,
        _load_milk10k,
        "procedural MILK10k-layout benchmark with planted coverage imbalance (generated once)",
    ),
    "milk10k": DatasetSpec(
        "milk10k",
        ("dermoscopic", "clinical"),
        _MILK_SUBGROUPS,
        ("mel", "diagnosis"),
        True,
        _load_milk10k,
        "MILK10k (challenge or ISIC DOI layout), MEL vs rest, 7 MONET descriptors, 8 sites",
    ),
    "isic_dicm17k": DatasetSpec(
        "isic_dicm17k",
        ("dermoscopic",),
        ("site", "sex", "age"),
        ("mel",),
        True,
        _load_isic,
        "ISIC-DICM-17K, re-split by patient; descriptor scores from --descriptors-csv",
    ),
    "celeba": DatasetSpec(
        "celeba",
        ("photo",),
        ("Male",),
        ("Smiling",),
        True,
        _load_celeba,
        "CelebA curated 1:5 subset, Smiling, 7 binary attribute descriptors, Male subgroup",
    ),
    "csv": DatasetSpec(
        "csv",
        ("image",),
        ("columns",),
        ("label",),
        False,
        _load_csv,
        "your own images and one CSV (--csv-path, --label-column, --descriptor-columns, ...)",
    ),
}


def _resolve(value: str, options: tuple[str, ...], field: str, dataset: str) -> str:
    if value == "auto":
        return options[0]
    if value not in options:
        raise ValueError(
            f"{field}={value!r} is not available for dataset {dataset!r}; choose one of: "
            f"{', '.join(options)}"
        )
    return value


def resolve_modality(config: TrainConfig) -> str:
    """The modality the run uses (``auto``: the dataset's first)."""
    spec = lookup(DATASETS, config.dataset, "dataset")
    return _resolve(config.modality, spec.modalities, "modality", spec.name)


def resolve_subgroup(config: TrainConfig) -> str:
    spec = lookup(DATASETS, config.dataset, "dataset")
    return _resolve(config.subgroup, spec.subgroups, "subgroup", spec.name)


def resolve_target(config: TrainConfig) -> str:
    spec = lookup(DATASETS, config.dataset, "dataset")
    return _resolve(config.target, spec.targets, "target", spec.name)


def check_data_root(config: TrainConfig) -> None:
    """Raise ValueError naming ``data_root`` when the dataset needs one that is missing."""
    spec = lookup(DATASETS, config.dataset, "dataset")
    if config.data_root is None:
        if spec.needs_root:
            raise ValueError(
                f"data_root: dataset {spec.name!r} needs --data-root PATH (its folder); only "
                "'synthetic' is generated without one"
            )
        return
    root = Path(config.data_root).expanduser()
    if spec.needs_root and not root.is_dir():
        raise ValueError(f"data_root: {str(root)!r} is not a directory (dataset {spec.name!r})")


def load_table(config: TrainConfig, context: DistContext | None = None):
    """The dataset's :class:`~semcov_data.SampleTable` for the run's modality, subgroup, target."""
    spec = lookup(DATASETS, config.dataset, "dataset")
    check_data_root(config)
    modality, subgroup, target = (
        resolve_modality(config),
        resolve_subgroup(config),
        resolve_target(config),
    )
    if spec.name == "synthetic":
        root = prepare_synthetic(config, context)
    elif config.data_root is None:
        root = None
    else:
        root = Path(config.data_root).expanduser()
    return spec.load(config, root, modality, subgroup, target)
