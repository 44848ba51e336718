"""Datasets registry, synthetic benchmark cache, 70:10:20 fold split and the torch datasets."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch

from .._registry import lookup
from ..config import N_FOLDS, TrainConfig
from ..runtime.distributed import DistContext, barrier
from .split_parts import split_tables, test_draw_table
from .synthetic_data import prepare_synthetic

if TYPE_CHECKING:
    from semcov_data import ImageCache, SampleTable, SemCovDataset

__all__ = [
    "DATASETS",
    "DataBundle",
    "DatasetSpec",
    "RunSplit",
    "fold_parts",
    "load_split",
    "load_table",
    "prepare_data",
    "prepare_synthetic",
    "resolve_modality",
    "resolve_subgroup",
    "resolve_target",
]

logger = logging.getLogger("semcov_train")


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
    from semcov_data import load_milk10k

    return load_milk10k(root, modality=modality, target=target, subgroup=subgroup)


def _load_isic(config: TrainConfig, root: Path, modality: str, subgroup: str, target: str):
    from semcov_data import load_isic_dicm17k

    if config.descriptors_csv is None:
        raise ValueError(
            "descriptors_csv: ISIC-DICM-17K has no descriptor scores of its own; pass "
            "--descriptors-csv SCORES.csv (e.g. from `python -m semcov_data monet`)"
        )
    return load_isic_dicm17k(root, descriptors=config.descriptors_csv, subgroup=subgroup)


def _load_celeba(config: TrainConfig, root: Path, modality: str, subgroup: str, target: str):
    from semcov_data import load_celeba

    return load_celeba(
        root,
        target=target,
        subgroup=subgroup,
        n_images=config.celeba_images,
        seed=config.split_seed,
    )


def _load_csv(config: TrainConfig, root: Path | None, modality: str, subgroup: str, target: str):
    from .csv_data import load_csv_table

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


def fold_parts(labels: np.ndarray, groups: np.ndarray, fold: int, seed: int) -> np.ndarray:
    """``"train" | "val" | "test"`` per sample for fold ``k`` of the 70:10:20 rotation.

    The samples are cut into ten stratified, grouped tenths (``grouped_kfold``); fold k tests on
    tenths ``(8 + 2k) % 10`` and ``(9 + 2k) % 10`` and validates on ``(7 + 2k) % 10``. Fold 0 is
    exactly ``grouped_split(labels, groups, seed=seed)``; the 5 folds' test sets are disjoint and
    cover every sample (paper: "group-stratified K-fold", proportions 70:10:20).
    """
    from semcov_data import grouped_kfold

    n_groups = len(pd.unique(pd.Series(groups, dtype=object)))
    if n_groups < 10:
        raise ValueError(
            f"the dataset has {n_groups} leakage groups (lesions/patients); the 70:10:20 split "
            "needs at least 10"
        )
    tenths = grouped_kfold(labels, groups, n_splits=10, seed=seed)
    if not 0 <= fold < N_FOLDS:
        raise ValueError(f"fold must be in 0..{N_FOLDS - 1}, got {fold}")
    test = {(8 + 2 * fold) % 10, (9 + 2 * fold) % 10}
    val = (7 + 2 * fold) % 10
    parts = np.full(len(labels), "train", dtype=object)
    parts[np.isin(tenths, list(test))] = "test"
    parts[tenths == val] = "val"
    return parts


class AxisCounts:
    """``num_classes``, ``num_descriptors`` and ``num_subgroups`` of anything with the axes
    ``classes``, ``descriptor_names`` and ``subgroup_values`` (what ``build_model`` reads)."""

    classes: tuple[str, ...]
    descriptor_names: tuple[str, ...]
    subgroup_values: tuple[str, ...]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def num_descriptors(self) -> int:
        return len(self.descriptor_names)

    @property
    def num_subgroups(self) -> int:
        return len(self.subgroup_values)


@dataclass
class DataBundle(AxisCounts):
    """Everything the trainer needs from the data side.

    Attributes:
        train, val, test: :class:`~semcov_data.SemCovDataset` of each part (train augmented).
        classes, descriptor_names, subgroup_values: the SCG axes.
        coverage_table: training coverage of every SCG (``scg_coverage`` of the train split,
            integer class codes), the input of the fairness metrics.
        coverage: the same as a tensor (classes, descriptors, subgroups) for the CDI regularizer.
        modality, subgroup, target: resolved settings.
        root: the data folder.
        report: the loader's summary (rows kept / excluded).
    """

    train: SemCovDataset
    val: SemCovDataset
    test: SemCovDataset
    classes: tuple[str, ...]
    descriptor_names: tuple[str, ...]
    subgroup_values: tuple[str, ...]
    coverage_table: pd.DataFrame
    coverage: torch.Tensor
    modality: str
    subgroup: str
    target: str
    root: Path
    report: str

    def split_arrays(self, part: str) -> dict[str, np.ndarray]:
        """labels, descriptors, subgroup codes and names of a part, in dataset order."""
        table = getattr(self, part).table
        return {
            "labels": table.labels,
            "descriptors": table.descriptors,
            "subgroups": table.subgroup_codes,
            "subgroup_names": table.frame["subgroup"].to_numpy(dtype=object),
            "ids": np.asarray([str(i) for i in table.sample_ids], dtype=object),
        }


@dataclass(frozen=True)
class RunSplit:
    """The sample tables of a run's parts and the image cache they read.

    Attributes:
        tables: ``{"train", "val", "test"}`` → :class:`~semcov_data.SampleTable` (the test
            draw's on synthetic data with ``synthetic_test_lesions``; descriptors shuffled for
            the shuffled-descriptor control).
        cache: the uint8 image cache at the run's image size, or None (``cache_images=False``).
        table: the dataset's whole table after bad images left (its axes, root and report).
    """

    tables: dict[str, SampleTable]
    cache: ImageCache | None
    table: SampleTable


def load_split(config: TrainConfig, context: DistContext | None = None) -> RunSplit:
    """Load, cache and split (fold ``config.fold``) the dataset of a run: the parts the trainer
    trains, validates and tests on, also when rebuilt later from a run's ``config.json``.

    Raises:
        ValueError: paired samples, no descriptors, a bad image under ``bad_images="raise"``,
            or an empty part.
    """
    from semcov_data import build_image_cache, drop_bad_images

    from .csv_data import split_parts

    table = load_table(config, context)
    if table.image_columns and len(table.image_columns) != 1:
        raise ValueError(
            "modality: paired samples (two images per sample) are not supported by the trainer"
        )
    if len(table.descriptor_names) == 0:
        raise ValueError("the dataset has no descriptors; every method here needs them")
    test_draw = test_draw_table(config, table, context)  # synthetic independent test draw
    drawn = [] if test_draw is None else list(test_draw.image_paths())
    paths = list(dict.fromkeys([*table.image_paths(), *drawn]))
    cache = None
    if config.cache_images:
        folder = config.cache_path / "images"
        main = context is None or context.is_main
        if main:
            cache = build_image_cache(paths, folder, size=config.image_size)
        if context is not None:
            barrier(context)
        if not main:
            cache = build_image_cache(paths, folder, size=config.image_size)
    # Bad images leave before the split, so every part holds only samples that decode.
    table = drop_bad_images(table, cache=cache, on_bad_image=config.bad_images)
    if test_draw is not None:
        test_draw = drop_bad_images(test_draw, cache=cache, on_bad_image=config.bad_images)
    # fold (or the user's, audited: its leaks go into the table's report) split, the test draw,
    # the shuffled-descriptor control
    parts, table = split_parts(table, config)
    tables = split_tables(config, table, context, test=test_draw, parts=parts)
    return RunSplit(tables, cache, table)


def prepare_data(config: TrainConfig, context: DistContext | None = None) -> DataBundle:
    """Load, split (fold ``config.fold``), cache and wrap the dataset of a run."""
    from semcov_data import SemCovDataset, eval_transform
    from semcov_metrics import scg_coverage
    from semcov_metrics.coverage import coverage_tensor

    from .augment import train_loader_transform

    split = load_split(config, context)
    tables, cache, table = split.tables, split.cache, split.table
    size = config.image_size
    augment = train_loader_transform(config)
    datasets = {}
    for part, subset in tables.items():
        datasets[part] = SemCovDataset(
            subset,
            transform=augment if part == "train" else eval_transform(size),
            cache=cache,
            check_images=False,
        )
    train_table = datasets["train"].table
    classes = tuple(table.classes)
    coverage_table = scg_coverage(
        train_table.descriptors,
        train_table.labels,
        train_table.frame["subgroup"].to_numpy(dtype=object),
        descriptor_names=list(table.descriptor_names),
        classes=list(range(len(classes))),
        subgroup_values=list(table.subgroup_values),
    )
    return DataBundle(
        train=datasets["train"],
        val=datasets["val"],
        test=datasets["test"],
        classes=classes,
        descriptor_names=tuple(table.descriptor_names),
        subgroup_values=tuple(table.subgroup_values),
        coverage_table=coverage_table,
        coverage=torch.from_numpy(
            coverage_tensor(
                coverage_table,
                classes=range(len(classes)),
                descriptors=table.descriptor_names,
                subgroups=table.subgroup_values,
            ).astype(np.float32)
        ),
        modality=resolve_modality(config),
        subgroup=resolve_subgroup(config),
        target=resolve_target(config),
        root=Path(table.root),
        report=table.report.summary(),
    )
