"""The common form every loader returns: one row per sample with label, descriptors, subgroup."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from semcov_data._validation import check_choice, resolve_inside
from semcov_data.report import LoadReport
from semcov_data.scg import SCGIndex

__all__ = ["MISSING_IMAGE_POLICIES", "SampleTable", "assemble_table"]

#: ``"exclude"`` (report and leave out), ``"raise"`` (error), ``"ignore"`` (metadata only, no look).
MISSING_IMAGE_POLICIES = ("exclude", "raise", "ignore")
_SHOW = 10


@dataclass(frozen=True)
class SampleTable:
    """Samples of one dataset in a common form.

    ``frame`` has one row per sample and the columns ``sample_id`` (unique str), ``label``
    (int code into ``classes``), ``class_name``, ``subgroup`` (str, one of ``subgroup_values``),
    ``group`` (leakage group: samples sharing a lesion or patient share it), the image path
    column(s) named in ``image_columns`` (relative to ``root``, POSIX separators), one column per
    descriptor in ``descriptor_names``, and the dataset's own metadata columns.

    Attributes:
        name: dataset name.
        frame: the samples.
        root: the data root image paths are relative to.
        image_columns: one column (single image) or two (paired: dermoscopic, clinical).
        classes: class names; ``label`` indexes them.
        descriptor_names: descriptor columns, in order.
        subgroup_values: the subgroup axis of the SCG grid.
        report: rows read and rows left out with reasons.
    """

    name: str
    frame: pd.DataFrame
    root: Path
    image_columns: tuple[str, ...]
    classes: tuple[str, ...]
    descriptor_names: tuple[str, ...]
    subgroup_values: tuple[str, ...]
    report: LoadReport

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def sample_ids(self) -> np.ndarray:
        """Sample ids, shape (N,)."""
        return self.frame["sample_id"].to_numpy(dtype=object)

    @property
    def labels(self) -> np.ndarray:
        """Integer labels, shape (N,)."""
        return self.frame["label"].to_numpy(np.int64)

    @property
    def descriptors(self) -> np.ndarray:
        """Descriptor matrix, shape (N, K), float32."""
        return self.frame[list(self.descriptor_names)].to_numpy(np.float32)

    @property
    def subgroup_codes(self) -> np.ndarray:
        """Index of each sample's subgroup in ``subgroup_values``, shape (N,)."""
        codes = pd.Categorical(self.frame["subgroup"], categories=list(self.subgroup_values)).codes
        return codes.astype(np.int64)

    @property
    def groups(self) -> np.ndarray:
        """Leakage group of each sample, shape (N,)."""
        return self.frame["group"].to_numpy(dtype=object)

    def image_paths(self) -> list[Path]:
        """Every image file of the table (absolute, unique, in order of appearance)."""
        seen: dict[str, None] = {}
        for column in self.image_columns:
            for rel in self.frame[column]:
                seen.setdefault(rel, None)
        return [self.root / rel for rel in seen]

    def scg_index(self, *, threshold: float | None = None) -> SCGIndex:
        """The SCG index of the table (class names × descriptors × ``subgroup_values``)."""
        matrix = self.frame[list(self.descriptor_names)].to_numpy(np.float64)
        if threshold is not None:
            matrix = (matrix >= threshold).astype(np.float64)
        return SCGIndex(
            self.frame["class_name"].to_numpy(dtype=object),
            matrix,
            self.frame["subgroup"].to_numpy(dtype=object),
            self.classes,
            self.descriptor_names,
            self.subgroup_values,
        )

    def subset(self, rows: np.ndarray | Sequence[int]) -> SampleTable:
        """The table restricted to a boolean mask or positions (the axes stay the same)."""
        rows = np.asarray(rows)
        frame = self.frame.iloc[np.flatnonzero(rows) if rows.dtype == bool else rows]
        return replace(self, frame=frame.reset_index(drop=True))


def assemble_table(
    name: str,
    frame: pd.DataFrame,
    *,
    root: Path,
    image_columns: Sequence[str],
    classes: Sequence[str],
    descriptor_names: Sequence[str],
    subgroup_values: Sequence[str] | None,
    report: LoadReport,
    missing_images: str,
    path_sources: Mapping[str, str] | None = None,
) -> SampleTable:
    """Check image paths (inside the root, present) and build the :class:`SampleTable`.

    Rows whose image is missing are excluded and reported (``missing_images="exclude"``), make
    a ``ValueError`` listing them (``"raise"``), or are not looked for (``"ignore"``).
    ``path_sources`` maps an image column to the table column(s) it was made from, so that a
    refused path is reported under the name the user knows.
    """
    check_choice(missing_images, "missing_images", MISSING_IMAGE_POLICIES)
    frame = frame.reset_index(drop=True)
    # The grid's subgroup axis comes from every row read, so it does not shrink with missing files.
    values = (
        tuple(subgroup_values)
        if subgroup_values is not None
        else tuple(sorted(frame["subgroup"].unique()))
    )
    missing = np.zeros(len(frame), dtype=bool)
    details = [""] * len(frame)
    for column in image_columns:
        source = (path_sources or {}).get(column, column)
        for i, rel in enumerate(frame[column].tolist()):
            try:
                path = resolve_inside(root, rel, source)
            except ValueError as error:
                # Row numbers count data rows from 1 (the header is not a row).
                sample = frame["sample_id"].iloc[i] if "sample_id" in frame else None
                raise ValueError(f"{name}: row {i + 1} (id {sample!r}): {error}") from error
            if missing_images != "ignore" and not os.path.isfile(path):
                missing[i] = True
                details[i] = str(rel)
    if missing.any():
        listed = [d for d, m in zip(details, missing, strict=True) if m]
        if missing_images == "raise":
            raise ValueError(
                f"{name}: {len(listed)} image file(s) not found under {root}: {listed[:_SHOW]}"
            )
        if missing.all():
            raise ValueError(
                f"{name}: none of the {len(listed)} image file(s) was found under {root} "
                f"(e.g. {listed[:3]}); check the data root and its layout"
            )
        report = report.exclude(frame.loc[missing, "sample_id"], "missing image", listed)
        frame = frame.loc[~missing].reset_index(drop=True)
    frame["class_name"] = [classes[i] if i >= 0 else "" for i in frame["label"]]
    table = SampleTable(
        name,
        frame,
        root,
        tuple(image_columns),
        tuple(classes),
        tuple(descriptor_names),
        values,
        report,
    )
    report.log()
    return table
