"""Any image dataset described by one CSV: image path, label, descriptor and subgroup columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from semcov_data._io import data_root, read_table
from semcov_data._validation import DescriptorFill, check_descriptors, check_unique, require_columns
from semcov_data.report import LoadReport
from semcov_data.scg import UNKNOWN, subgroup_labels
from semcov_data.splits import leakage_groups
from semcov_data.table import SampleTable, assemble_table

__all__ = ["load_csv"]


def load_csv(
    csv_path: str | Path,
    *,
    image_column: str = "image",
    label_column: str | None = "label",
    descriptor_columns: Sequence[str],
    subgroup_columns: str | Sequence[str],
    image_root: str | Path | None = None,
    id_column: str | None = None,
    group_columns: Sequence[str] = (),
    classes: Sequence[str] | None = None,
    positive_class: str | None = None,
    bins: Mapping[str, Sequence[float]] | None = None,
    descriptor_fill: DescriptorFill = None,
    missing_images: str = "exclude",
    name: str | None = None,
) -> SampleTable:
    """Load a dataset described by one CSV (one row per image).

    Args:
        csv_path: the CSV.
        image_column: image path relative to ``image_root`` (``..`` and absolute paths are refused).
        label_column: class of each row (any values; compared as text). ``None``: an
            unlabelled table (to predict on): ``label`` is -1 and ``class_name`` empty.
        descriptor_columns: descriptor columns, probabilities in [0, 1] or 0/1.
        subgroup_columns: one subgroup column or several to combine; empty cells → ``unknown``;
            none (``()``): every row is in the one subgroup ``unknown``.
        image_root: folder the image paths are relative to; default the CSV's folder.
        id_column: unique sample id; default ``image_column``.
        group_columns: id columns linking rows that must stay in one split part (patient,
            lesion); rows without any are their own group.
        classes: class names in label order; default the sorted labels present.
        positive_class: one-vs-rest binary task: this label is class 1 (``classes`` is then
            ``("not_<name>", "<name>")``), every other label class 0. It must occur in the
            labels unless ``classes`` is given.
        bins: bin edges for numeric subgroup columns (age).
        descriptor_fill: policy for NaN / out-of-range descriptors (default: error).
        missing_images: ``"exclude"`` (reported), ``"raise"`` or ``"ignore"`` (metadata only).
        name: dataset name; default the CSV's stem.
    """
    csv_path = Path(csv_path)
    root = data_root(image_root if image_root is not None else csv_path.parent, "image_root")
    id_column = id_column or image_column
    frame = read_table(csv_path, id_columns=[c for c in dict.fromkeys([id_column, *group_columns])])
    subgroups = [subgroup_columns] if isinstance(subgroup_columns, str) else list(subgroup_columns)
    require_columns(
        frame,
        list(
            dict.fromkeys(
                [
                    image_column,
                    *([label_column] if label_column is not None else []),
                    id_column,
                    *descriptor_columns,
                    *subgroups,
                    *group_columns,
                ]
            )
        ),
        csv_path.name,
    )
    if not descriptor_columns:
        raise ValueError("descriptor_columns must name at least one column")
    check_unique(frame, id_column, csv_path.name)
    if frame[image_column].isna().any():
        raise ValueError(f"{csv_path.name}: column {image_column!r} has empty image paths")
    classes, codes = _label_codes(
        frame, label_column, id_column, csv_path.name, classes, positive_class
    )
    frame, counts = check_descriptors(
        frame, descriptor_columns, csv_path.name, fill=descriptor_fill, id_column=id_column
    )
    report = LoadReport(f"{name or csv_path.stem} ({csv_path})", len(frame))
    if counts["filled"] or counts["clipped"]:
        report = report.note(f"descriptors: {counts['filled']} filled, {counts['clipped']} clipped")
    frame["label"] = codes
    frame["sample_id"] = frame[id_column].astype(str)
    frame["path"] = frame[image_column].astype(str)
    frame["subgroup"] = (
        subgroup_labels(frame, subgroups, bins=bins).to_numpy() if subgroups else UNKNOWN
    )
    frame["group"] = leakage_groups(frame, list(group_columns), id_column="sample_id")
    return assemble_table(
        name or csv_path.stem,
        frame,
        root=root,
        image_columns=("path",),
        classes=classes,
        descriptor_names=tuple(descriptor_columns),
        subgroup_values=None,
        report=report,
        missing_images=missing_images,
        path_sources={"path": image_column},
    )


def _label_codes(
    frame: pd.DataFrame,
    column: str | None,
    id_column: str,
    source: str,
    classes: Sequence[str] | None,
    positive_class: str | None,
) -> tuple[tuple[str, ...], np.ndarray]:
    """The class axis and the label code of every row (-1 for an unlabelled table)."""
    if column is None:
        if classes is None:
            raise ValueError("classes must be given for a table without a label column")
        return tuple(str(c) for c in classes), np.full(len(frame), -1, dtype=np.int64)
    if frame[column].isna().any():
        bad = frame.loc[frame[column].isna(), id_column].head(5).tolist()
        raise ValueError(f"{source}: column {column!r} has empty labels (rows {bad})")
    text = frame[column].astype(str).str.strip()
    text = text.str.replace(r"^(-?\d+)\.0$", r"\1", regex=True)
    if positive_class is not None:
        positive = str(positive_class)
        if classes is None and positive not in set(text):
            raise ValueError(
                f"positive_class: {positive!r} is not a value of column {column!r} in {source} "
                f"(values: {sorted(set(text))[:20]})"
            )
        text = text.where(text == positive, f"not_{positive}")
        binary = (f"not_{positive}", positive)
        if classes is not None and tuple(str(c) for c in classes) != binary:
            raise ValueError(f"classes must be {binary} with positive_class={positive!r}")
        classes = binary
    classes = tuple(str(c) for c in classes) if classes is not None else tuple(sorted(set(text)))
    unknown = sorted(set(text) - set(classes))
    if unknown:
        raise ValueError(
            f"{source}: column {column!r} has values {unknown[:5]} not in classes {classes}"
        )
    return classes, text.map({c: i for i, c in enumerate(classes)}).to_numpy(np.int64)
