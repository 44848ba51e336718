"""ISIC-DICM-17K: two metadata CSVs and an image folder; descriptors joined from a CSV (isic_id)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from semcov_data._io import data_root, read_table
from semcov_data._validation import (
    DescriptorFill,
    check_choice,
    check_descriptors,
    check_unique,
    require_columns,
)
from semcov_data.report import LoadReport
from semcov_data.scg import AGE_BINS, subgroup_labels
from semcov_data.splits import leakage_groups
from semcov_data.table import SampleTable, assemble_table

__all__ = [
    "ISIC_DICM_CLASSES",
    "ISIC_DICM_FILES",
    "ISIC_DICM_SUBGROUPS",
    "load_isic_dicm17k",
    "read_isic_dicm17k_metadata",
]

#: Released split → metadata file.
ISIC_DICM_FILES = {"train": "train-set-metadata.csv", "valid": "valid-set-metadata.csv"}
#: ``class`` 0 / 1. Class 1 is the ``_mel`` file suffix; it also holds BCC and SCC, and class 0
#: holds some BCC: it is the dataset's own label, not a clean diagnosis.
ISIC_DICM_CLASSES = ("non_mel", "mel")
#: Subgroup name → metadata column.
ISIC_DICM_SUBGROUPS = {"site": "anatom_site_general", "sex": "sex", "age": "age_approx"}
_IDS = ("isic_id", "lesion_id", "patient_id", "image")
_GROUP_BY = {"patient": ("patient_id", "lesion_id"), "lesion": ("lesion_id",)}


def read_isic_dicm17k_metadata(root: str | Path, split: str = "all") -> pd.DataFrame:
    """Both released metadata CSVs (or one) with a ``part`` column (``"train"``, ``"valid"``).

    Only the CSVs are read: this is enough for the leakage audit and for splits.
    """
    check_choice(split, "split", ("all", *ISIC_DICM_FILES))
    path = data_root(root)
    parts = list(ISIC_DICM_FILES) if split == "all" else [split]
    frames = []
    for part in parts:
        frame = read_table(path / ISIC_DICM_FILES[part], id_columns=_IDS)
        require_columns(frame, ["image", "isic_id", "class"], ISIC_DICM_FILES[part])
        frames.append(frame.assign(part=part))
    frame = pd.concat(frames, ignore_index=True)
    check_unique(frame, "isic_id", " + ".join(ISIC_DICM_FILES[p] for p in parts))
    return frame


def _read_descriptors(descriptors: str | Path | pd.DataFrame) -> pd.DataFrame:
    if isinstance(descriptors, pd.DataFrame):
        table = descriptors.copy()
    elif isinstance(descriptors, str | Path):
        table = read_table(Path(descriptors), id_columns=("isic_id",))
    else:
        raise TypeError(
            f"descriptors must be a CSV path or a DataFrame, got {type(descriptors).__name__}"
        )
    require_columns(table, ["isic_id"], "descriptors")
    table["isic_id"] = table["isic_id"].astype(str).str.strip()
    check_unique(table, "isic_id", "descriptors")
    return table


def _image_path(root: Path, row: dict, dirs: Sequence[str], look: bool) -> str:
    candidates = [
        f"{d}/{name}" if d != "." else name
        for d in dirs
        for name in (row["image"], f"{row['isic_id']}.jpg")
    ]
    if look:
        for candidate in candidates:
            if (root / candidate).is_file():
                return candidate
    return candidates[0]


def load_isic_dicm17k(
    root: str | Path,
    *,
    split: str = "all",
    descriptors: str | Path | pd.DataFrame | None = None,
    descriptor_columns: Sequence[str] | None = None,
    descriptor_fill: DescriptorFill = None,
    subgroup: str | Sequence[str] = "site",
    group_by: str = "patient",
    image_dirs: Mapping[str, Sequence[str]] | None = None,
    age_bins: Sequence[float] = AGE_BINS,
    missing_images: str = "exclude",
) -> SampleTable:
    """Load ISIC-DICM-17K as a :class:`SampleTable`.

    Args:
        root: folder with ``train-set-metadata.csv``, ``valid-set-metadata.csv`` and the images.
        split: ``"all"`` (default; re-split it yourself, the released split leaks), ``"train"``
            or ``"valid"``. The released part is kept in the ``part`` column.
        descriptors: a CSV (or DataFrame) with ``isic_id`` and descriptor columns, e.g. written
            by :func:`~semcov_data.monet.score_folder`; the dataset has none of its own. Images
            without a row are excluded and reported. ``None``: no descriptors (K = 0).
        descriptor_columns: columns to use; default every ``MONET_*`` column (else every
            numeric column) of ``descriptors``.
        descriptor_fill: policy for NaN / out-of-range descriptors (default: error).
        subgroup: ``"site"`` (``anatom_site_general``), ``"sex"``, ``"age"`` or several.
        group_by: ``"patient"`` (default: images sharing a patient or a lesion id are one group)
            or ``"lesion"``. Images without any id are each their own group.
        image_dirs: released part → folders (relative to ``root``) to look in, in order; default
            ``<part>-set``, ``<part>``, ``images``, ``.``. A file is found by the ``image``
            column name, then by ``<isic_id>.jpg``.
        age_bins: bin edges for ``subgroup="age"``.
        missing_images: ``"exclude"`` (reported), ``"raise"`` or ``"ignore"`` (metadata only).

    Returns:
        The samples, ``sample_id`` = ``isic_id``; classes :data:`ISIC_DICM_CLASSES`.
    """
    check_choice(group_by, "group_by", tuple(_GROUP_BY))
    names = [subgroup] if isinstance(subgroup, str) else list(subgroup)
    for name in names:
        check_choice(name, "subgroup", tuple(ISIC_DICM_SUBGROUPS))
    path = data_root(root)
    frame = read_isic_dicm17k_metadata(path, split)
    require_columns(frame, [ISIC_DICM_SUBGROUPS[n] for n in names], "ISIC-DICM-17K metadata")
    labels = pd.to_numeric(frame["class"], errors="coerce")
    if not labels.isin([0, 1]).all():
        bad = frame.loc[~labels.isin([0, 1]), "isic_id"].head(5).tolist()
        raise ValueError(f"ISIC-DICM-17K metadata: column 'class' must be 0 or 1 (e.g. rows {bad})")
    frame["label"] = labels.astype(np.int64)
    report = LoadReport(f"ISIC-DICM-17K {split} ({path})", len(frame))

    names_k: tuple[str, ...] = ()
    if descriptors is not None:
        table = _read_descriptors(descriptors)
        if descriptor_columns is None:
            monet = [c for c in table.columns if c.startswith("MONET_")]
            numeric = [
                c
                for c in table.columns
                if c != "isic_id" and pd.api.types.is_numeric_dtype(table[c])
            ]
            descriptor_columns = monet or numeric
        names_k = tuple(descriptor_columns)
        if not names_k:
            raise ValueError(
                f"descriptors: no descriptor column found; columns found: {list(table.columns)}"
            )
        require_columns(table, names_k, "descriptors")
        clash = [c for c in names_k if c in frame.columns]
        if clash:
            raise ValueError(f"descriptors: column(s) {clash} already exist in the metadata")
        scored = frame["isic_id"].isin(table["isic_id"])
        report = report.exclude(frame.loc[~scored, "isic_id"], "no descriptor scores")
        frame = frame.loc[scored].merge(table[["isic_id", *names_k]], on="isic_id", how="left")
        frame, counts = check_descriptors(
            frame, names_k, "descriptors", fill=descriptor_fill, id_column="isic_id"
        )
        if counts["filled"] or counts["clipped"]:
            report = report.note(
                f"descriptors: {counts['filled']} filled, {counts['clipped']} clipped"
            )
    else:
        report = report.note("no descriptors: pass descriptors= (a CSV with isic_id and scores)")

    dirs = dict(image_dirs or {})
    look = missing_images != "ignore"
    frame["path"] = [
        _image_path(
            path,
            row,
            dirs.get(row["part"], (f"{row['part']}-set", row["part"], "images", ".")),
            look,
        )
        for row in frame[["image", "isic_id", "part"]].to_dict("records")
    ]
    frame["sample_id"] = frame["isic_id"]
    frame["subgroup"] = subgroup_labels(
        frame, [ISIC_DICM_SUBGROUPS[n] for n in names], bins={"age_approx": age_bins}
    ).to_numpy()
    links = [c for c in _GROUP_BY[group_by] if c in frame.columns]
    frame["group"] = leakage_groups(frame, links, id_column="isic_id")
    return assemble_table(
        "isic-dicm-17k",
        frame,
        root=path,
        image_columns=("path",),
        classes=ISIC_DICM_CLASSES,
        descriptor_names=names_k,
        subgroup_values=None,
        report=report,
        missing_images=missing_images,
        path_sources={"path": "image"},
    )
