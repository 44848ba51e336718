"""CelebA in the torchvision folder layout, with the paper's curated 5,000-image 1:5 subset."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from semcov_data._io import data_root
from semcov_data._validation import check_choice, check_unique, require_columns
from semcov_data.report import LoadReport
from semcov_data.splits import leakage_groups
from semcov_data.table import SampleTable, assemble_table

__all__ = ["CELEBA_DESCRIPTORS", "CELEBA_PARTITIONS", "load_celeba"]

#: Paper: the 7 descriptor attributes (hard 0/1).
CELEBA_DESCRIPTORS = (
    "Heavy_Makeup", "Bangs", "Eyeglasses", "Mustache", "Black_Hair", "Pale_Skin", "High_Cheekbones",
)  # fmt: skip
#: ``list_eval_partition.txt`` codes.
CELEBA_PARTITIONS = {"train": 0, "valid": 1, "test": 2}


def _folder(root: Path) -> Path:
    # torchvision.datasets.CelebA(root) keeps its files in root/celeba; accept that folder too.
    for folder in (root, root / "celeba"):
        if (folder / "list_attr_celeba.txt").is_file():
            return folder
    raise ValueError(
        f"data_root {str(root)!r}: list_attr_celeba.txt not found (expected the torchvision "
        "layout: img_align_celeba/, list_attr_celeba.txt, list_eval_partition.txt)"
    )


def _read_listing(path: Path, skip: int) -> pd.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"CelebA file not found: {path}")
    try:
        return pd.read_csv(path, sep=r"\s+", skiprows=skip, header=None, dtype=str, engine="python")
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise ValueError(f"{path}: cannot be parsed ({error})") from error


def _read_attributes(folder: Path) -> pd.DataFrame:
    path = folder / "list_attr_celeba.txt"
    with open(path, encoding="utf-8") as handle:
        handle.readline()
        names = handle.readline().split()
    raw = _read_listing(path, 2)
    if raw.shape[1] != len(names) + 1:
        raise ValueError(
            f"{path}: rows have {raw.shape[1]} fields, header names {len(names)} attributes"
        )
    raw.columns = ["image", *names]
    values = raw[names].apply(pd.to_numeric, errors="coerce")
    bad = ~values.isin([-1, 1]).all(axis=1)
    if bad.any():
        raise ValueError(
            f"{path}: attribute values must be -1 or 1 "
            f"(e.g. {raw.loc[bad, 'image'].head(3).tolist()})"
        )
    frame = pd.concat([raw[["image"]], (values > 0).astype(np.int64)], axis=1)
    check_unique(frame, "image", path.name)
    return frame


def load_celeba(
    root: str | Path,
    *,
    target: str = "Smiling",
    descriptors: Sequence[str] = CELEBA_DESCRIPTORS,
    subgroup: str = "Male",
    partition: str = "all",
    curated: bool = True,
    n_images: int = 5000,
    ratio: tuple[int, int] = (1, 5),
    seed: int = 0,
    missing_images: str = "exclude",
) -> SampleTable:
    """Load CelebA (torchvision layout) as a :class:`SampleTable`.

    Args:
        root: folder with ``img_align_celeba/``, ``list_attr_celeba.txt``,
            ``list_eval_partition.txt`` (optionally ``identity_CelebA.txt``), or its parent.
        target: attribute to classify; classes ``("not_<target>", "<target>")``.
        descriptors: attributes used as hard 0/1 descriptors.
        subgroup: attribute defining the subgroup, values ``"<name>"`` / ``"not_<name>"``.
        partition: ``"all"`` (default) or one official partition (``train``, ``valid``, ``test``).
        curated: draw the paper's subset: ``n_images`` images, positive:negative = ``ratio``.
            Paper: "5,000 images at 1:5"; here: 833 positives and 4,167 negatives drawn without
            replacement with ``seed``, then in file order.
        n_images: size of the curated subset.
        ratio: (positives, negatives) proportion of the curated subset.
        seed: seed of the curated draw (same seed, same subset).
        missing_images: ``"exclude"`` (reported), ``"raise"`` or ``"ignore"`` (metadata only).

    Returns:
        The samples; ``sample_id`` is the file name, ``group`` the identity when
        ``identity_CelebA.txt`` is present (else each image alone).
    """
    check_choice(partition, "partition", ("all", *CELEBA_PARTITIONS))
    path = data_root(root)
    folder = _folder(path)
    frame = _read_attributes(folder)
    require_columns(frame, [target, *descriptors, subgroup], "list_attr_celeba.txt")
    if target in descriptors or target == subgroup:
        raise ValueError(f"target {target!r} must not also be a descriptor or the subgroup")
    parts = _read_listing(folder / "list_eval_partition.txt", 0)
    parts = parts.iloc[:, :2].set_axis(["image", "partition"], axis=1)
    frame = frame.merge(parts, on="image", how="left")
    if frame["partition"].isna().any():
        raise ValueError(
            "list_eval_partition.txt: no partition for "
            f"{int(frame['partition'].isna().sum())} image(s), "
            f"e.g. {frame.loc[frame['partition'].isna(), 'image'].head(3).tolist()}"
        )
    frame["partition"] = frame["partition"].astype(int)
    if partition != "all":
        frame = frame.loc[frame["partition"] == CELEBA_PARTITIONS[partition]]
    report = LoadReport(f"CelebA {partition} ({path})", len(frame))
    if curated:
        frame, report = _curate(frame, target, n_images, ratio, seed, report)
    identity = folder / "identity_CelebA.txt"
    if identity.is_file():
        ids = _read_listing(identity, 0).iloc[:, :2].set_axis(["image", "identity"], axis=1)
        frame = frame.merge(ids, on="image", how="left")
    else:
        frame["identity"] = None
        report = report.note("identity_CelebA.txt not found: each image is its own group")
    frame["sample_id"] = frame["image"]
    frame["path"] = "img_align_celeba/" + frame["image"]
    if folder != path:
        frame["path"] = f"{folder.name}/" + frame["path"]
    frame["label"] = frame[target].astype(np.int64)
    frame["subgroup"] = np.where(frame[subgroup] == 1, subgroup, f"not_{subgroup}")
    frame["group"] = leakage_groups(frame, ["identity"], id_column="image")
    frame[list(descriptors)] = frame[list(descriptors)].astype(np.float64)
    return assemble_table(
        "celeba",
        frame,
        root=path,
        image_columns=("path",),
        classes=(f"not_{target}", target),
        descriptor_names=tuple(descriptors),
        subgroup_values=(f"not_{subgroup}", subgroup),
        report=report,
        missing_images=missing_images,
    )


def _curate(
    frame: pd.DataFrame,
    target: str,
    n_images: int,
    ratio: tuple[int, int],
    seed: int,
    report: LoadReport,
) -> tuple[pd.DataFrame, LoadReport]:
    if len(ratio) != 2 or min(ratio) <= 0:
        raise ValueError(
            f"ratio must be two positive numbers (positives, negatives), got {ratio!r}"
        )
    if not isinstance(n_images, int) or n_images < 2:
        raise ValueError(f"n_images must be an integer >= 2, got {n_images!r}")
    n_pos = round(n_images * ratio[0] / (ratio[0] + ratio[1]))
    n_neg = n_images - n_pos
    positives = np.flatnonzero(frame[target].to_numpy() == 1)
    negatives = np.flatnonzero(frame[target].to_numpy() == 0)
    if len(positives) < n_pos or len(negatives) < n_neg:
        raise ValueError(
            f"curated subset needs {n_pos} images with {target} and {n_neg} without; "
            f"found {len(positives)} and {len(negatives)}"
        )
    rng = np.random.default_rng(seed)
    chosen = np.sort(
        np.concatenate(
            [
                rng.choice(positives, n_pos, replace=False),
                rng.choice(negatives, n_neg, replace=False),
            ]
        )
    )
    report = report.note(
        f"curated subset: {n_pos} with {target} + {n_neg} without, seed {seed}, "
        f"from {len(frame)} images (the others are not in the subset by design)"
    )
    return frame.iloc[chosen].reset_index(drop=True), LoadReport(
        report.source, n_images, report.excluded, report.notes
    )
