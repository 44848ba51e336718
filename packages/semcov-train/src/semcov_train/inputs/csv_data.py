"""``--dataset csv``: any image dataset described by one CSV, with the user's own split or ours."""

from __future__ import annotations

import itertools
import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from semcov_data import AGE_BINS, audit_leakage, load_csv

from ..config import TrainConfig
from .folds import fold_parts

__all__ = ["SPLIT_NAMES", "csv_columns", "load_csv_table", "split_parts", "user_split"]

logger = logging.getLogger("semcov_train")

#: Values accepted in a ``--split-column`` and the part each one names.
SPLIT_NAMES = {
    "train": "train",
    "training": "train",
    "val": "val",
    "valid": "val",
    "validation": "val",
    "dev": "val",
    "test": "test",
    "testing": "test",
}


def csv_columns(text: str) -> list[str]:
    """``"a, b,c"`` → ``["a", "b", "c"]`` (empty items dropped)."""
    return [item.strip() for item in text.split(",") if item.strip()]


def _bins(text: str) -> tuple[float, ...] | None:
    if not text.strip():
        return None
    try:
        edges = tuple(float(item) for item in csv_columns(text))
    except ValueError as error:
        raise ValueError(
            f"subgroup_bins: expected increasing numbers such as 0,30,45,60,75,inf, got {text!r}"
        ) from error
    if len(edges) < 2 or any(b <= a for a, b in itertools.pairwise(edges)):
        raise ValueError(f"subgroup_bins: expected at least two increasing edges, got {text!r}")
    return edges


def _numeric_bins(csv_path: Path, columns: list[str], edges) -> dict[str, tuple[float, ...]]:
    """Bin edges of every subgroup column whose filled cells are all numbers (age)."""
    header = pd.read_csv(csv_path, usecols=lambda c: c in columns, low_memory=False)
    bins = {}
    for column in columns:
        if column not in header.columns:
            continue  # load_csv names the missing column
        values = header[column].dropna()
        if len(values) and pd.to_numeric(values, errors="coerce").notna().all():
            bins[column] = tuple(edges) if edges is not None else tuple(AGE_BINS)
    return bins


def _require(config: TrainConfig) -> Path:
    if config.csv_path is None:
        raise ValueError("csv_path: dataset 'csv' needs --csv-path FILE.csv")
    path = Path(config.csv_path).expanduser()
    if not path.is_file():
        raise ValueError(f"csv_path: {str(path)!r} is not a file")
    if not csv_columns(config.descriptor_columns):
        raise ValueError(
            "descriptor_columns: dataset 'csv' needs --descriptor-columns a,b,c (the per-image "
            "attribute scores in [0, 1] that define the SCGs)"
        )
    if not csv_columns(config.subgroup_columns):
        raise ValueError(
            "subgroup_columns: dataset 'csv' needs --subgroup-columns NAME[,NAME] (e.g. the "
            "body site; numeric columns such as age are binned)"
        )
    return path


def load_csv_table(
    config: TrainConfig,
    root: Path | None = None,
    *,
    csv_path: str | Path | None = None,
    classes: tuple[str, ...] | None = None,
    labelled: bool = True,
    subgroups: bool = True,
):
    """The :class:`~semcov_data.SampleTable` of ``config.csv_path`` (or ``csv_path``).

    Image paths are relative to ``root`` (``--data-root``) when given, else to the CSV's folder.
    With ``config.positive_class`` the task is one-vs-rest (``not_<name>`` vs ``<name>``),
    otherwise every label is a class. ``classes`` fixes the class axis (prediction on new data:
    the run's classes); ``labelled=False`` reads a table without labels, ``subgroups=False``
    one without the subgroup columns.

    Raises:
        ValueError: naming the option, column, row or file at fault.
    """
    if csv_path is None:
        path = _require(config)
    else:
        path = Path(csv_path).expanduser()
        if not path.is_file():
            raise ValueError(f"csv_path: {str(path)!r} is not a file")
    subgroup_columns = csv_columns(config.subgroup_columns) if subgroups else []
    split = [config.split_column] if config.split_column and labelled else []
    table = load_csv(
        path,
        image_column=config.image_column,
        label_column=config.label_column if labelled else None,
        descriptor_columns=csv_columns(config.descriptor_columns),
        subgroup_columns=subgroup_columns,
        image_root=root,
        id_column=config.id_column,
        group_columns=csv_columns(config.group_columns),
        classes=classes,
        positive_class=config.positive_class,
        bins=_numeric_bins(path, subgroup_columns, _bins(config.subgroup_bins)),
        name=path.stem,
    )
    if split:
        if split[0] not in table.frame.columns:
            raise ValueError(
                f"{path.name}: missing column(s) {split} (split_column); columns found: "
                f"{[c for c in pd.read_csv(path, nrows=0).columns]}"
            )
        _split_values(table, split[0])  # before any image is decoded
    return table


def _split_values(table, column: str) -> pd.Series:
    """``train`` / ``val`` / ``test`` per row of ``column``; ValueError naming bad rows."""
    values = table.frame[column]
    parts = values.astype(str).str.strip().str.lower().map(SPLIT_NAMES)
    bad = parts.isna() | values.isna()
    if bad.any():
        rows = table.frame.loc[bad, "sample_id"].head(5).tolist()
        found = sorted(set(values[bad].astype(str)))[:5]
        raise ValueError(
            f"split_column: column {column!r} must hold train / val / test, got {found} "
            f"(rows {rows})"
        )
    return parts


def user_split(table, config: TrainConfig) -> tuple[np.ndarray, object]:
    """``(parts, table)``: the part of every sample from ``config.split_column``, audited for
    lesion / patient leakage.

    Ids of ``config.group_columns`` found in two parts are reported (a warning and a note in
    the load report, which goes into ``config.json``); the split is kept as the user gave it.

    Raises:
        ValueError: an empty or unknown split value (the rows named), or an empty part.
    """
    column = str(config.split_column)
    parts = _split_values(table, column)
    groups = csv_columns(config.group_columns)
    if groups:
        audit = audit_leakage(
            table.frame.assign(_part=parts.to_numpy()), part_column="_part", id_columns=groups
        )
        if not audit.is_clean:
            counts = ", ".join(f"{len(v)} {k}" for k, v in audit.to_dict().items() if v)
            examples = {k: v[:5] for k, v in audit.to_dict().items() if v}
            message = f"split column {column!r} leaks: ids in two parts: {counts} {examples}"
            logger.warning("%s", message)
            table = replace(table, report=table.report.note(message))
    return parts.to_numpy(dtype=object), table


def split_parts(table, config: TrainConfig):
    """``(parts, table)``: the user's split (``--split-column``) or fold k of the 70:10:20
    rotation; the table carries the leakage audit in its report."""
    if config.dataset == "csv" and config.split_column:
        return user_split(table, config)
    return fold_parts(table.labels, table.groups, config.fold, config.split_seed), table
