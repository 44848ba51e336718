"""Checks shared by every loader: columns, ids, descriptor values and paths inside the data root."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "DescriptorFill",
    "check_choice",
    "check_descriptors",
    "check_unique",
    "require_columns",
    "resolve_inside",
]

#: ``None`` (invalid values are an error), a number in [0, 1] or ``"median"``.
DescriptorFill = float | str | None

_SHOW = 5


def check_choice(value: Any, name: str, choices: Iterable[Any]) -> None:
    """Raise ``ValueError`` naming ``name`` when ``value`` is not one of ``choices``."""
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


def require_columns(frame: pd.DataFrame, columns: Iterable[str], source: str) -> None:
    """Raise ``ValueError`` naming each missing column and listing the columns found."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{source}: missing column(s) {missing}; columns found: {list(frame.columns)}"
        )


def check_unique(frame: pd.DataFrame, column: str, source: str) -> None:
    """Raise ``ValueError`` when ``column`` holds a value twice (or an empty value)."""
    values = frame[column]
    if values.isna().any():
        raise ValueError(f"{source}: column {column!r} has {int(values.isna().sum())} empty id(s)")
    duplicated = values[values.duplicated(keep=False)]
    if len(duplicated):
        examples = sorted(set(duplicated.astype(str)))[:_SHOW]
        raise ValueError(
            f"{source}: duplicate id(s) in column {column!r}: {examples} "
            f"({duplicated.nunique()} id(s) repeated)"
        )


def check_descriptors(
    frame: pd.DataFrame,
    columns: Sequence[str],
    source: str,
    *,
    fill: DescriptorFill = None,
    id_column: str | None = None,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Validate descriptor columns as probabilities in [0, 1].

    Args:
        frame: the table; it is not modified.
        columns: descriptor column names.
        source: name of the table for messages.
        fill: ``None`` raises on NaN or out-of-range values; a number replaces NaN with it,
            ``"median"`` with the column median; with a fill, values outside [0, 1] are clipped.
        id_column: column whose values the error message quotes as examples.

    Returns:
        ``(frame, counts)``: a copy with float64 descriptor columns and how many values were
        filled (``"filled"``) and clipped (``"clipped"``).
    """
    require_columns(frame, columns, source)
    if isinstance(fill, str):
        check_choice(fill, "descriptor_fill", ("median",))
    elif fill is not None and not (isinstance(fill, int | float) and 0.0 <= float(fill) <= 1.0):
        raise ValueError(
            f"descriptor_fill must be None, 'median' or a number in [0, 1], got {fill!r}"
        )
    out = frame.copy()
    counts = {"filled": 0, "clipped": 0}
    for column in columns:
        values = pd.to_numeric(out[column], errors="coerce").astype(np.float64)
        not_numeric = values.isna() & out[column].notna()
        if not_numeric.any():
            bad = out.loc[not_numeric, column].astype(str).head(_SHOW).tolist()
            raise ValueError(f"{source}: descriptor column {column!r} has non-numeric values {bad}")
        nan = values.isna()
        outside = ~nan & ((values < 0.0) | (values > 1.0))
        if fill is None and (nan.any() or outside.any()):
            where = nan | outside
            ids = out.loc[where, id_column] if id_column else out.index[where]
            raise ValueError(
                f"{source}: descriptor column {column!r} must hold probabilities in [0, 1]: "
                f"{int(nan.sum())} NaN and {int(outside.sum())} outside [0, 1] "
                f"(e.g. rows {list(map(str, ids[:_SHOW]))}); pass descriptor_fill "
                "('median' or a number) to fill NaN and clip out-of-range values"
            )
        if nan.any():
            value = float(values.median()) if fill == "median" else float(fill)  # type: ignore[arg-type]
            if math.isnan(value):
                raise ValueError(
                    f"{source}: descriptor column {column!r} has no value to fill from"
                )
            values = values.fillna(value)
            counts["filled"] += int(nan.sum())
        counts["clipped"] += int(outside.sum())
        out[column] = values.clip(0.0, 1.0)
    return out, counts


def resolve_inside(root: Path, relative: str, column: str) -> Path:
    """Join a path read from a table to ``root``, refusing anything that escapes it.

    Args:
        root: the data root, already resolved (``Path.resolve()``) by the caller.
        relative: the path as written in the table.
        column: the column it came from, for the message.

    Raises:
        ValueError: for an absolute path, a ``..`` component, or a link that leads outside.
    """
    text = str(relative)
    if not text or text.strip() != text:
        raise ValueError(f"column {column!r}: empty or padded image path {text!r}")
    posix, windows = PurePosixPath(text), PureWindowsPath(text)
    if posix.is_absolute() or windows.is_absolute() or windows.drive:
        raise ValueError(f"column {column!r}: absolute image path {text!r} is not allowed")
    if ".." in posix.parts or ".." in windows.parts:
        raise ValueError(f"column {column!r}: image path {text!r} leaves the data root ('..')")
    path = root / posix
    # A symbolic link inside the root could still point elsewhere: check the real location.
    if not Path(os.path.realpath(path)).is_relative_to(root):
        raise ValueError(f"column {column!r}: image path {text!r} links outside the data root")
    return path
