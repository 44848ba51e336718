"""The torch Dataset over a :class:`SampleTable`: image, descriptors, label, subgroup and id."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypedDict

import numpy as np
import torch
from torch.utils.data import Dataset

from semcov_data._validation import check_choice
from semcov_data.cache import ImageCache
from semcov_data.image_check import BAD_IMAGE_POLICIES, drop_bad_images
from semcov_data.images import read_image
from semcov_data.report import LoadReport
from semcov_data.table import SampleTable

__all__ = ["BAD_IMAGE_POLICIES", "Sample", "SemCovDataset"]


class Sample(TypedDict):
    """One item of :class:`SemCovDataset` (the DataLoader's default collate batches it).

    Keys:
        image: the transformed image, (3, H, W); paired modality: (2, 3, H, W), dermoscopic first.
            Without a transform: uint8 as decoded (or as cached).
        descriptors: float32 descriptor vector, (K,).
        label: int64 class index into ``dataset.classes``.
        subgroup: int64 subgroup index into ``dataset.subgroup_values``.
        id: sample id (str): ``isic_id``, ``lesion_id`` (paired) or the image file name.
        index: position of the sample in the dataset (int64).
    """

    image: torch.Tensor
    descriptors: torch.Tensor
    label: torch.Tensor
    subgroup: torch.Tensor
    id: str
    index: torch.Tensor


class SemCovDataset(Dataset):
    """Samples of a :class:`SampleTable` as a map-style torch ``Dataset`` of :class:`Sample`.

    Images are read from an :class:`~semcov_data.cache.ImageCache` when one is given (no JPEG
    is decoded during training), else decoded from the files. Bad images are found here,
    before any DataLoader worker starts: with a cache, from the files the cache failed to
    decode; without one, by a quick reduced-scale decode of every file (``check_images``).

    Args:
        table: the samples (from a loader such as :func:`~semcov_data.load_milk10k`).
        transform: callable on a uint8 (3, H, W) tensor, e.g. :func:`~semcov_data.train_transform`.
        cache: image cache holding every image of the table.
        check_images: check that every image decodes (without a cache); default True.
        on_bad_image: ``"exclude"`` (left out and listed in ``dataset.report``) or ``"raise"``.
        num_workers: threads for the image check; default ``os.cpu_count()``.

    Attributes:
        table: the samples kept. report: the table's report plus the images left out here.
    """

    def __init__(
        self,
        table: SampleTable,
        *,
        transform: Callable[[torch.Tensor], Any] | None = None,
        cache: ImageCache | None = None,
        check_images: bool = True,
        on_bad_image: str = "exclude",
        num_workers: int | None = None,
    ) -> None:
        if not isinstance(table, SampleTable):
            raise TypeError(f"table must be a SampleTable, got {type(table).__name__}")
        check_choice(on_bad_image, "on_bad_image", BAD_IMAGE_POLICIES)
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be callable, got {type(transform).__name__}")
        if cache is not None and not isinstance(cache, ImageCache):
            raise TypeError(f"cache must be an ImageCache, got {type(cache).__name__}")
        self.transform = transform
        self.cache = cache
        if cache is not None or check_images:
            table = drop_bad_images(
                table, cache=cache, on_bad_image=on_bad_image, num_workers=num_workers
            )
        files = [
            [os.path.abspath(table.root / rel) for rel in table.frame[c]]
            for c in table.image_columns
        ]
        self.table = table
        self.report: LoadReport = table.report
        self._files = files
        self._descriptors = torch.tensor(table.descriptors)
        self._labels = torch.tensor(table.labels)
        self._subgroups = torch.tensor(table.subgroup_codes)
        self._ids = [str(i) for i in table.sample_ids]
        self._rows = [[cache.row(f) for f in col] for col in files] if cache is not None else None

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def classes(self) -> tuple[str, ...]:
        """Class names; ``label`` indexes them."""
        return self.table.classes

    @property
    def descriptor_names(self) -> tuple[str, ...]:
        """Descriptor names, in the order of ``descriptors``."""
        return self.table.descriptor_names

    @property
    def subgroup_values(self) -> tuple[str, ...]:
        """Subgroup names; ``subgroup`` indexes them."""
        return self.table.subgroup_values

    def _image(self, column: int, index: int) -> torch.Tensor:
        if self._rows is not None:
            array = self.cache.array[self._rows[column][index]]  # type: ignore[union-attr]
            # One copy out of the memory map; HWC → CHW is a view.
            image = torch.from_numpy(np.array(array, copy=True)).permute(2, 0, 1)
        else:
            image = read_image(self._files[column][index])
        return self.transform(image) if self.transform is not None else image

    def __getitem__(self, index: int) -> Sample:
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} samples")
        index = index % len(self)
        images = [self._image(c, index) for c in range(len(self._files))]
        return Sample(
            image=images[0] if len(images) == 1 else torch.stack(images),
            descriptors=self._descriptors[index],
            label=self._labels[index],
            subgroup=self._subgroups[index],
            id=self._ids[index],
            index=torch.tensor(index),
        )
