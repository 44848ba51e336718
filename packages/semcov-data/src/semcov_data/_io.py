"""Reading metadata files with messages that say which file and layout was expected."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

__all__ = ["data_root", "read_table"]


def data_root(root: str | Path, name: str = "data_root") -> Path:
    """The data root as a resolved directory path; ``ValueError`` naming ``name`` otherwise."""
    if not isinstance(root, str | Path):
        raise TypeError(f"{name} must be a str or Path, got {type(root).__name__}")
    path = Path(root).expanduser()
    if not path.is_dir():
        raise ValueError(f"{name}: {str(path)!r} is not a directory")
    return path.resolve()


def read_table(path: Path, *, id_columns: Sequence[str] = ()) -> pd.DataFrame:
    """Read a CSV, keeping id columns as text (ids such as ``0012`` keep their zeros).

    Raises:
        FileNotFoundError: naming the file when it does not exist.
        ValueError: when the file cannot be parsed as CSV.
    """
    if not path.is_file():
        raise FileNotFoundError(f"metadata file not found: {path}")
    dtype = {c: "string" for c in id_columns}
    try:
        frame = pd.read_csv(path, dtype=dtype, low_memory=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as error:
        raise ValueError(f"{path}: not a readable CSV file ({error})") from error
    for column in id_columns:
        if column in frame.columns:
            # Ids are compared as plain text; a missing id stays missing (None), never "nan".
            frame[column] = (
                frame[column].str.strip().astype(object).where(frame[column].notna(), None)
            )
            frame.loc[frame[column] == "", column] = None
    return frame
