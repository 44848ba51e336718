"""The training split's descriptor file: what training coverage is computed from, kept with the
run so that an audit needs neither the dataset nor its image cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .names import TRAIN_DESCRIPTORS_FILE

__all__ = ["TRAIN_COLUMNS", "read_train_descriptors", "train_descriptors_frame"]

#: The columns before the descriptors (one per descriptor name follows, in the run's order).
TRAIN_COLUMNS = ("id", "y_true", "subgroup")


def train_descriptors_frame(
    ids: np.ndarray,
    labels: np.ndarray,
    subgroups: np.ndarray,
    descriptors: np.ndarray,
    descriptor_names: list[str] | tuple[str, ...],
) -> pd.DataFrame:
    """One row per training sample: ``id`` (text), ``y_true`` (class code), ``subgroup``
    (text) and the K descriptor scores under their names.

    Args:
        ids: sample ids (N,).
        labels: class codes (N,).
        subgroups: subgroup values (N,).
        descriptors: descriptor scores (N, K), in [0, 1].
        descriptor_names: the K names.

    Raises:
        ValueError: the lengths differ, or `descriptors` is not (N, K).

    Example:
        >>> frame = train_descriptors_frame(
        ...     np.array(["a", "b"]), np.array([0, 1]), np.array(["trunk", "face"]),
        ...     np.array([[0.2, 0.9], [0.7, 0.1]]), ["hair", "vessels"])
        >>> list(frame.columns), frame["vessels"].tolist()
        (['id', 'y_true', 'subgroup', 'hair', 'vessels'], [0.9, 0.1])
    """
    matrix = np.asarray(descriptors, dtype=np.float64)
    n = len(ids)
    if matrix.shape != (n, len(descriptor_names)) or len(labels) != n or len(subgroups) != n:
        raise ValueError(
            f"train descriptors: ids ({n}), labels ({len(labels)}), subgroups "
            f"({len(subgroups)}) and descriptors {matrix.shape} must describe the same "
            f"{n} samples and {len(descriptor_names)} descriptors"
        )
    frame = pd.DataFrame(
        {
            "id": [str(i) for i in ids],
            "y_true": np.asarray(labels, dtype=np.int64),
            "subgroup": [str(s) for s in subgroups],
        }
    )
    for k, name in enumerate(descriptor_names):
        frame[name] = matrix[:, k]
    return frame


def read_train_descriptors(run_dir: str | Path) -> pd.DataFrame:
    """A run's ``train_descriptors.parquet`` (see :func:`train_descriptors_frame`).

    Raises:
        ValueError: the file is missing (a run trained before it was written, or unfinished).
    """
    path = Path(run_dir) / TRAIN_DESCRIPTORS_FILE
    if not path.is_file():
        raise ValueError(
            f"{str(run_dir)!r} has no {TRAIN_DESCRIPTORS_FILE} (unfinished, or trained before "
            "semcov-train wrote it)"
        )
    return pd.read_parquet(path)
