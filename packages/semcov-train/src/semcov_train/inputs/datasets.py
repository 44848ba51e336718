"""What a run trains and scores on: its split's sample tables (:func:`load_split`) and the torch
datasets with the training coverage (:func:`prepare_data`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch

from semcov_data import SemCovDataset, build_image_cache, drop_bad_images, eval_transform
from semcov_metrics import scg_coverage
from semcov_metrics.coverage import coverage_tensor

from ..config import TrainConfig
from ..runtime.distributed import DistContext, barrier
from .augment import train_loader_transform
from .csv_data import split_parts
from .sources import load_table, resolve_modality, resolve_subgroup, resolve_target
from .split_parts import split_tables, test_draw_table

if TYPE_CHECKING:
    from semcov_data import ImageCache, SampleTable

__all__ = ["AxisCounts", "DataBundle", "RunSplit", "load_split", "prepare_data"]

logger = logging.getLogger("semcov_train")


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
