"""Typed readers of a run directory's files (each names the file it misses)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .names import (
    CONFIG_FILE,
    HISTORY_FILE,
    PREDICTIONS_FILE,
    RESULTS_FILE,
    SCG_FILE,
)

__all__ = [
    "StoredConfig",
    "read_config",
    "read_history",
    "read_history_rows",
    "read_predictions",
    "read_results",
    "read_scg",
]


def _file(run_dir: str | Path, name: str, what: str) -> Path:
    path = Path(run_dir) / name
    if not path.is_file():
        raise ValueError(f"{str(run_dir)!r} has no {name} ({what})")
    return path


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{str(path)!r} is not valid JSON: {error}") from error


@dataclass(frozen=True)
class StoredConfig:
    """A run's ``config.json``.

    Attributes:
        settings: every :class:`~semcov_train.config.TrainConfig` field as trained.
        resolved: values resolved at the start (backbone, modality, table_row, world size,
            device, AMP, class / descriptor / subgroup names, split sizes, data report).
        versions: Python and package versions.
        git: ``{"commit", "dirty"}`` of the source tree (None outside a clone).
        run_dir: the run directory it was read from.
    """

    settings: dict
    resolved: dict
    versions: dict
    git: dict
    run_dir: Path


def read_config(run_dir: str | Path) -> StoredConfig:
    """The run's ``config.json``.

    Raises:
        ValueError: the file is missing or not JSON.
    """
    payload = _json(_file(run_dir, CONFIG_FILE, "not a started run"))
    return StoredConfig(
        settings=dict(payload.get("config", {})),
        resolved=dict(payload.get("resolved", {})),
        versions=dict(payload.get("versions", {})),
        git=dict(payload.get("git", {})),
        run_dir=Path(run_dir),
    )


def read_results(run_dir: str | Path) -> dict:
    """A finished run's ``results.json`` (undefined metrics are None).

    Raises:
        ValueError: the file is missing (an unfinished run) or not JSON.
    """
    return _json(_file(run_dir, RESULTS_FILE, "the run has not finished"))


def read_history(run_dir: str | Path) -> pd.DataFrame:
    """A run's ``history.csv``: one row per epoch (``epoch``, ``lr``, ``train_*``, ``val_*``,
    timing); empty cells are NaN.

    Raises:
        ValueError: the file is missing (no epoch finished yet).
    """
    return pd.read_csv(_file(run_dir, HISTORY_FILE, "no epoch has finished"))


def read_history_rows(run_dir: str | Path) -> list[dict]:
    """``history.csv`` as one dict per epoch with numbers parsed (ints stay ints, empty cells
    are None): what :class:`~semcov_train.training.trainer.RunResult` holds; [] when there is
    none."""
    path = Path(run_dir) / HISTORY_FILE
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        return [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(handle)]


def _number(text: str) -> Any:
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() and "." not in text and "e" not in text else value


def read_scg(run_dir: str | Path) -> pd.DataFrame:
    """A finished run's ``scg.csv``: one row per SCG (``class_name``, ``descriptor``,
    ``subgroup``, ``band``, ``exclusion`` as text; ``valid``, ``valid_hard``, ``flagged`` as
    bool; the other columns, e.g. ``n_train``, ``coverage``, ``support``, ``tpr``, as numbers).

    Raises:
        ValueError: the run has no ``scg.csv`` (unfinished, or finished before semcov-train
            wrote the per-SCG table: delete it and train again).
    """
    path = Path(run_dir) / SCG_FILE
    if not path.is_file():
        raise ValueError(
            f"{str(run_dir)!r} has no {SCG_FILE}: the run is unfinished or finished before "
            "semcov-train wrote the per-SCG table; delete that run directory and train it again"
        )
    # Names such as "NA" or "None" are subgroup values, not missing ones.
    text = {name: str for name in ("class_name", "descriptor", "subgroup", "band", "exclusion")}
    flags = ("valid", "valid_hard", "flagged")
    frame = pd.read_csv(path, dtype=text, keep_default_na=False)
    for column in frame.columns.difference([*text, *flags]):
        frame[column] = pd.to_numeric(frame[column].replace("", None))
    for column in frame.columns.intersection(flags):
        frame[column] = frame[column].astype(str).str.lower().eq("true")
    return frame


def read_predictions(run_dir: str | Path) -> pd.DataFrame:
    """A finished run's ``predictions.parquet``: one row per test sample (``index``, ``id``,
    ``y_true``, ``y_pred``, ``prob_<class>``, the descriptors, ``subgroup``, ``subgroup_code``,
    ``embedding`` and, for SemCovNet, ``descriptor_embedding``).

    Raises:
        ValueError: the file is missing (the run has not finished).
    """
    return pd.read_parquet(_file(run_dir, PREDICTIONS_FILE, "the run has not finished"))
