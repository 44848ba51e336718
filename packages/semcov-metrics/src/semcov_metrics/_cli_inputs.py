"""Reading the command line's CSV files into the arrays of the fairness report, refusing bad
input with one message that names the file, the column and the first offending rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__: list[str] = []

#: The subgroup given to rows whose subgroup cell is empty (the MILK10k convention for ``site``).
UNKNOWN_SUBGROUP = "unknown"


class InputError(ValueError):
    """Bad command-line input: the message is printed as the one line on stderr."""


@dataclass(frozen=True)
class Split:
    """One CSV as arrays: descriptors (N, K), labels (N,), subgroups (N,) and the raw frame."""

    path: Path
    frame: pd.DataFrame
    descriptors: np.ndarray
    labels: np.ndarray
    subgroups: np.ndarray
    n_unknown_subgroup: int


def column_list(text: str, option: str, *, allow_repeats: bool = False) -> list[str]:
    """``a,b,c`` -> ``["a", "b", "c"]``; empty names and (unless allowed) repeats are refused."""
    names = [name.strip() for name in text.split(",")]
    if not names or any(not name for name in names):
        raise InputError(f"{option}: expected comma-separated column names, got {text!r}")
    if not allow_repeats and len(set(names)) != len(names):
        raise InputError(f"{option}: a column is named twice in {text!r}")
    return names


def read_csv(path: Path, option: str) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(f"{option}: no such file: {path}")
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise InputError(f"{option}: {path} is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputError(f"{option}: {path} is not a readable CSV ({first})") from None
    if frame.empty:
        raise InputError(f"{option}: {path} has no rows")
    return frame


def require(frame: pd.DataFrame, path: Path, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        shown = ", ".join(map(str, list(frame.columns)[:12]))
        raise InputError(f"{path}: {what} column {missing[0]!r} not found (columns: {shown})")


def _rows(mask: np.ndarray) -> str:
    """The first offending rows as CSV line numbers (header = line 1)."""
    rows = np.flatnonzero(mask)[:5] + 2
    more = " ..." if mask.sum() > 5 else ""
    return ", ".join(map(str, rows)) + more


def categorical(frame: pd.DataFrame, path: Path, column: str, what: str) -> np.ndarray:
    """A label-like column: integers when every value is a whole number, else strings; empty
    cells are refused."""
    values = frame[column]
    empty = values.isna().to_numpy() | (values.astype(str).str.strip() == "").to_numpy()
    if empty.any():
        raise InputError(
            f"{path}: {what} column {column!r} has {int(empty.sum())} empty value(s) "
            f"(lines {_rows(empty)})"
        )
    return _codes(values)


def _codes(values: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(values):
        return values.astype(np.int64).to_numpy()
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.to_numpy(dtype=np.float64)
        if np.all(numbers == np.round(numbers)):
            return numbers.astype(np.int64)
        return values.astype(str).to_numpy(dtype=object)
    return values.astype(str).str.strip().to_numpy(dtype=object)


def probabilities(frame: pd.DataFrame, path: Path, columns: Sequence[str], what: str) -> np.ndarray:
    """Numeric columns in [0, 1], shape (N, len(columns)); the first bad column is named."""
    out = np.empty((len(frame), len(columns)), dtype=np.float64)
    for k, column in enumerate(columns):
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)
        bad = np.isnan(values)
        if bad.any():
            raise InputError(
                f"{path}: {what} column {column!r} has {int(bad.sum())} empty or non-numeric "
                f"value(s) (lines {_rows(bad)})"
            )
        outside = (values < 0) | (values > 1)
        if outside.any():
            raise InputError(
                f"{path}: {what} column {column!r} has values outside [0, 1] "
                f"(lines {_rows(outside)}; e.g. {values[outside][0]:g})"
            )
        out[:, k] = values
    return out


def read_split(
    path: Path, option: str, descriptors: Sequence[str], label: str, subgroup: str
) -> Split:
    """One CSV's descriptors, labels and subgroups (as text; empty cells become ``unknown``)."""
    frame = read_csv(path, option)
    require(frame, path, descriptors, "descriptor")
    require(frame, path, [label], "label")
    require(frame, path, [subgroup], "subgroup")
    matrix = probabilities(frame, path, descriptors, "descriptor")
    labels = categorical(frame, path, label, "label")
    subgroups, n_unknown = subgroup_text(frame, subgroup)
    return Split(path, frame, matrix, labels, subgroups, n_unknown)


def subgroup_text(frame: pd.DataFrame, column: str) -> tuple[np.ndarray, int]:
    """A subgroup column as text, empty cells ``unknown``; and the number of empty cells."""
    raw = frame[column]
    empty = raw.isna().to_numpy() | (raw.astype(str).str.strip() == "").to_numpy()
    subgroups = np.full(len(frame), UNKNOWN_SUBGROUP, dtype=object)
    if not empty.all():
        # Text always, so that train and test agree even when only one of them has empty cells.
        subgroups[~empty] = [str(v) for v in _codes(raw[~empty]).tolist()]
    return subgroups, int(empty.sum())


def concept_values(
    frame: pd.DataFrame, path: Path, columns: Sequence[str], *, empty_ok: np.ndarray
) -> np.ndarray:
    """Concept columns in [0, 1] where filled, NaN where empty, shape (N, len(columns)).

    ``empty_ok`` (N, len(columns)) says where an empty cell is allowed (a missing label); an
    empty cell elsewhere, a non-numeric cell or a value outside [0, 1] is refused."""
    out = np.empty((len(frame), len(columns)), dtype=np.float64)
    for k, column in enumerate(columns):
        raw = frame[column]
        blank = raw.isna().to_numpy() | (raw.astype(str).str.strip() == "").to_numpy()
        values = pd.to_numeric(raw.where(~blank), errors="coerce").to_numpy(dtype=np.float64)
        text = np.isnan(values) & ~blank
        if text.any():
            raise InputError(
                f"{path}: descriptor column {column!r} has {int(text.sum())} non-numeric "
                f"value(s) (lines {_rows(text)})"
            )
        refused = blank & ~empty_ok[:, k]
        if refused.any():
            raise InputError(
                f"{path}: descriptor column {column!r} has {int(refused.sum())} empty value(s) "
                f"(lines {_rows(refused)}); mark missing labels with --empty-is-missing or "
                "--mask-columns"
            )
        outside = (values < 0) | (values > 1)
        if outside.any():
            raise InputError(
                f"{path}: descriptor column {column!r} has values outside [0, 1] "
                f"(lines {_rows(outside)}; e.g. {values[outside][0]:g})"
            )
        out[:, k] = values
    return out


def class_axis(given: str | None, *observed: np.ndarray) -> list[Any]:
    """The classes: ``--classes`` (cast to the labels' kind) or the sorted observed labels."""
    if given is None:
        values = np.concatenate([np.asarray(v, dtype=object) for v in observed])
        try:
            return sorted(set(values.tolist()))
        except TypeError:
            raise InputError(
                "labels mix numbers and text; write them one way or pass --classes"
            ) from None
    names = column_list(given, "--classes")
    if all(np.issubdtype(np.asarray(v).dtype, np.integer) for v in observed):
        try:
            return [int(name) for name in names]
        except ValueError:
            raise InputError(f"--classes: the labels are integers, got {given!r}") from None
    return names
