"""Run directories read into one typed frame: a row per finished run, its identity and metrics."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..evaluation.evaluate import FAIRNESS_KEYS, PERFORMANCE_KEYS
from ..rundir import (
    CONFIG_FILE,
    RESULTS_FILE,
    find_run_dirs,
    is_finished,
    read_config,
    read_results,
)

__all__ = ["DEFAULT_METRICS", "IDENTITY_COLUMNS", "INFO_COLUMNS", "read_runs"]

#: What names a run: the levels of its directory (``settings`` is the ``<preset>[-<hash>]``
#: level, see :mod:`semcov_train.rundir`) and the preset it was built from.
IDENTITY_COLUMNS = (
    "experiment",
    "method",
    "dataset",
    "modality",
    "preset",
    "settings",
    "fold",
    "seed",
)
#: What else a row says about its run: the paper's row label, the backbone trained (a preset
#: may train a stand-in for the paper's model) and where the run lives.
INFO_COLUMNS = ("table_row", "backbone", "run_dir")
#: The headline test metrics summarised when none are named: Table 1's, Table 3's, S@95 on the
#: tail SCGs and the descriptor-grounding pair.
DEFAULT_METRICS = (*PERFORMANCE_KEYS, *FAIRNESS_KEYS, "s95_tail", "align_cos", "recall_at_1")
#: results.json keys that repeat the identity (read from config.json instead).
_REPEATED = ("method", "table_row", "dataset", "modality", "fold", "seed")


def _flatten(value: Any, prefix: str, into: dict[str, Any]) -> None:
    """Nested dicts and lists as dotted names: ``intervals.auc.0``, ``cas_subsets.low.n``."""
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else str(key), into)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _flatten(item, f"{prefix}.{index}", into)
    else:
        into[prefix] = value


def _run_row(run_dir: Path) -> dict[str, Any]:
    stored = read_config(run_dir)
    settings, resolved = stored.settings, stored.resolved
    results = read_results(run_dir)
    if not isinstance(results, dict):
        raise ValueError(f"{str(run_dir / RESULTS_FILE)!r} does not hold a JSON object")
    row: dict[str, Any] = {
        "experiment": settings.get("experiment", "default"),
        "method": settings.get("method", results.get("method")),
        "dataset": settings.get("dataset", results.get("dataset")),
        "modality": resolved.get("modality", results.get("modality")),
        "preset": settings.get("preset"),
        "settings": run_dir.parent.name,
        "fold": settings.get("fold", results.get("fold")),
        "seed": settings.get("seed", results.get("seed")),
        "table_row": resolved.get("table_row", results.get("table_row")),
        "backbone": resolved.get("backbone"),
        "run_dir": str(run_dir),
    }
    metrics: dict[str, Any] = {}
    _flatten({k: v for k, v in results.items() if k not in _REPEATED}, "", metrics)
    clash = sorted(set(metrics) & set(row))
    if clash:
        raise ValueError(f"{str(run_dir / RESULTS_FILE)!r}: keys {clash} clash with the identity")
    row.update(metrics)
    return row


def _is_number(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, str))


def _typed(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Identity as text (pandas' default string dtype, so a missing value compares unequal
    rather than as NA) and nullable ints; a result column of numbers (and nulls) as float64,
    any other result column as pandas infers it."""
    columns = [*IDENTITY_COLUMNS, *INFO_COLUMNS]
    for row in rows:
        columns += [k for k in row if k not in columns]
    frame = pd.DataFrame(rows, columns=columns)
    for name in ("fold", "seed"):
        frame[name] = pd.array(
            [
                None if v is None or (isinstance(v, float) and math.isnan(v)) else int(v)
                for v in frame[name]
            ],
            dtype="Int64",
        )
    for name in columns[len(IDENTITY_COLUMNS) + len(INFO_COLUMNS) :]:
        values = [row.get(name) for row in rows]
        if all(_is_number(v) for v in values):
            frame[name] = pd.array(
                [math.nan if v is None else float(v) for v in values], dtype="float64"
            )
    return frame


def read_runs(
    source: str | Path | Iterable[str | Path],
    *,
    experiment: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per finished run: identity, info and every result of its ``results.json``.

    Columns: :data:`IDENTITY_COLUMNS` (``fold`` and ``seed`` as ``Int64``, the others as text),
    :data:`INFO_COLUMNS`, then the results flattened with dotted names (``intervals.auc.0``,
    ``cas_subsets.low.accuracy``), float64 where every value is a number, a bool or null (null,
    an undefined metric, is NaN; a bool is 0 / 1), text otherwise (``conventions.*``).

    A run is finished when its ``DONE`` marker exists. Started but unfinished runs are not
    rows: their directories are listed in ``frame.attrs["unfinished"]``, and run directories
    given in `source` that were never started (no ``config.json``) in
    ``frame.attrs["not_started"]``, so nothing is dropped silently.

    Args:
        source: a folder searched recursively for run directories, or the run directories
            themselves (e.g. ``run_directory(config)`` of each run of a grid, so runs of other
            settings are not mixed in).
        experiment: keep only this experiment (or these).

    Raises:
        ValueError: `source` is not a directory, or a run's files are unreadable.
    """
    not_started: list[str] = []
    if isinstance(source, str | Path):
        run_dirs = find_run_dirs(source)
    else:
        run_dirs = []
        for path in map(Path, source):
            if (path / CONFIG_FILE).is_file():
                run_dirs.append(path)
            else:
                not_started.append(str(path))
    wanted = None
    if experiment is not None:
        wanted = {experiment} if isinstance(experiment, str) else set(experiment)
    rows, unfinished = [], []
    for run_dir in run_dirs:
        if is_finished(run_dir):
            row = _run_row(run_dir)
            if wanted is None or row["experiment"] in wanted:
                rows.append(row)
        elif wanted is None or read_config(run_dir).settings.get("experiment") in wanted:
            unfinished.append(str(run_dir))
    frame = _typed(rows)
    frame.attrs["unfinished"] = unfinished
    frame.attrs["not_started"] = not_started
    return frame
