"""The run directory: its layout, file names, identity, provenance and typed readers.

One trained model is one directory::

    <out>/<experiment>/<method>/<dataset>-<modality>/<settings>/fold<k>-seed<s>/
      config.json  history.csv  results.json  scg.csv  predictions.parquet  DONE
      checkpoints/last.pt  checkpoints/best.pt  tensorboard/

``<settings>`` is the run's preset name (``quick``) when the run uses the preset as it is, and
``<preset>-<hash>`` (``quick-1a2b3c4d``) when some setting differs from the preset: the hash is
the first 8 hex digits of the SHA-256 of those settings (name -> value, canonical JSON). So the
same command always finds its own runs again, and two commands that train differently (another
preset, ``--epochs 3``, an ablation switch) never share a directory. Fields that only say where
files live or how a run is shown (:data:`RUNTIME_FIELDS`) are never part of the identity.

A preset's own values are not hashed: when a preset is redefined, its runs keep their
directories and :func:`finished_results` refuses a finished run whose stored settings differ
from the current ones, naming each setting.

The trainer writes these files through :mod:`semcov_train.checkpoint`'s atomic writes;
:mod:`semcov_train.reporting` and the figure apps read them only through the readers here.

Public names: the file-name constants (:data:`CONFIG_FILE`, :data:`HISTORY_FILE`,
:data:`RESULTS_FILE`, :data:`SCG_FILE`, :data:`PREDICTIONS_FILE`, :data:`DONE_FILE`,
:data:`CHECKPOINT_DIR`, :data:`LAST_CHECKPOINT`, :data:`BEST_CHECKPOINT`,
:data:`TENSORBOARD_DIR`, :data:`LOCK_FILE`), :data:`IDENTITY_FIELDS`, :data:`RUNTIME_FIELDS`,
:func:`settings_overrides`, :func:`settings_name`, :func:`run_directory`, :func:`is_finished`,
:func:`changed_settings`, :func:`finished_results`, :func:`find_run_dirs`, :func:`run_lock`,
:class:`RunLockedError`, :func:`provenance`,
:class:`StoredConfig`, :func:`read_config`, :func:`read_results`, :func:`read_history`,
:func:`read_history_rows`, :func:`read_scg`, :func:`read_predictions`.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import platform
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from .config import PRESETS, TrainConfig
from .data import resolve_modality

__all__ = [
    "BEST_CHECKPOINT",
    "CHECKPOINT_DIR",
    "CONFIG_FILE",
    "DONE_FILE",
    "HISTORY_FILE",
    "IDENTITY_FIELDS",
    "LAST_CHECKPOINT",
    "LOCK_FILE",
    "PREDICTIONS_FILE",
    "RESULTS_FILE",
    "RUNTIME_FIELDS",
    "SCG_FILE",
    "TENSORBOARD_DIR",
    "RunLockedError",
    "StoredConfig",
    "changed_settings",
    "find_run_dirs",
    "finished_results",
    "is_finished",
    "provenance",
    "read_config",
    "read_history",
    "read_history_rows",
    "read_predictions",
    "read_results",
    "read_scg",
    "run_directory",
    "run_lock",
    "settings_name",
    "settings_overrides",
]

#: Every setting, resolved values, package versions and git commit (written when training starts).
CONFIG_FILE = "config.json"
#: One row per epoch (rewritten atomically after every epoch).
HISTORY_FILE = "history.csv"
#: Test metrics of the best validation-AUC checkpoint (strict JSON; undefined values are null).
RESULTS_FILE = "results.json"
#: Per-SCG table of the test fairness report (coverage, support, TPR, error), for the figures.
SCG_FILE = "scg.csv"
#: One row per test sample: id, label, prediction, probabilities, descriptors, embeddings.
PREDICTIONS_FILE = "predictions.parquet"
#: Written last: the run is complete (a small JSON with the finish time and headline metrics).
DONE_FILE = "DONE"
#: Folder of the checkpoints, inside the run directory.
CHECKPOINT_DIR = "checkpoints"
#: Everything needed to resume (inside :data:`CHECKPOINT_DIR`).
LAST_CHECKPOINT = "last.pt"
#: Weights of the best validation-AUC epoch (inside :data:`CHECKPOINT_DIR`).
BEST_CHECKPOINT = "best.pt"
#: TensorBoard event files, when tensorboard is installed.
TENSORBOARD_DIR = "tensorboard"
#: Locked (``flock``) by the process training the run; holds its process id.
LOCK_FILE = ".lock"

#: Fields that name the run directory's levels (``modality`` after ``auto`` is resolved).
IDENTITY_FIELDS = ("experiment", "method", "dataset", "modality", "preset", "fold", "seed")
#: Fields that may differ between a run and its resumption (where files live, how it is shown):
#: never part of a run's identity.
RUNTIME_FIELDS = frozenset(
    {
        "progress",
        "num_workers",
        "tensorboard",
        "cache_dir",
        "data_root",
        "device",
        "num_threads",
        "out",
    }
)
_HASH_DIGITS = 8


def settings_overrides(config: TrainConfig) -> dict[str, Any]:
    """The settings of `config` that differ from its preset's (identity and runtime fields
    aside), sorted by name: what makes a run differ from ``make_config(config.preset)``.

    Raises:
        ValueError: `config.preset` is not a known preset.
    """
    if config.preset not in PRESETS:
        raise ValueError(
            f"preset: {config.preset!r} is not one of {', '.join(PRESETS)}; a run's directory "
            "is named after its preset"
        )
    base = PRESETS[config.preset].to_dict()
    current = config.to_dict()
    return {
        name: current[name]
        for name in sorted(current)
        if name not in (*IDENTITY_FIELDS, *RUNTIME_FIELDS) and current[name] != base[name]
    }


def settings_name(config: TrainConfig) -> str:
    """The ``<settings>`` level of the run directory: ``quick``, or ``quick-1a2b3c4d`` when some
    setting differs from the preset (8 hex digits of the SHA-256 of :func:`settings_overrides`
    as canonical JSON)."""
    overrides = settings_overrides(config)
    if not overrides:
        return config.preset
    text = json.dumps(overrides, sort_keys=True, separators=(",", ":"), default=str)
    return f"{config.preset}-{hashlib.sha256(text.encode()).hexdigest()[:_HASH_DIGITS]}"


def run_directory(config: TrainConfig) -> Path:
    """``<out>/<experiment>/<method>/<dataset>-<modality>/<settings>/fold<k>-seed<s>``, with
    ``modality="auto"`` resolved for the dataset and ``<settings>`` from :func:`settings_name`."""
    return (
        Path(config.out).expanduser()
        / config.experiment
        / config.method
        / f"{config.dataset}-{resolve_modality(config)}"
        / settings_name(config)
        / f"fold{config.fold}-seed{config.seed}"
    )


def is_finished(run_dir: str | Path) -> bool:
    """Whether `run_dir` holds a complete run (its ``DONE`` marker exists)."""
    return (Path(run_dir) / DONE_FILE).is_file()


def changed_settings(stored: dict, config: TrainConfig) -> list[str]:
    """``"field: stored -> current"`` for every setting of `config` that differs from the
    `stored` settings of a run (``config.json``'s ``config``); :data:`RUNTIME_FIELDS` and the
    fields the directory's path already matches (:data:`IDENTITY_FIELDS`) aside."""
    current = config.to_dict()
    return [
        f"{k}: {stored.get(k)!r} -> {current[k]!r}"
        for k in current
        if k not in RUNTIME_FIELDS and k not in IDENTITY_FIELDS and stored.get(k) != current[k]
    ]


def finished_results(config: TrainConfig) -> dict | None:
    """``results.json`` of the finished run `config` names, or None when it is not finished.

    The path holds the preset and a hash of the settings that differ from it, so a differing
    finished run is found only when the preset itself was redefined since it was trained.

    Raises:
        ValueError: the finished run was trained with other settings (each one named).
    """
    run_dir = run_directory(config)
    if not is_finished(run_dir):
        return None
    changed = changed_settings(read_config(run_dir).settings, config)
    if changed:
        raise ValueError(
            f"{str(run_dir)!r} holds a finished run trained with other settings ("
            + "; ".join(changed)
            + "); the preset changed since: use another --runs / --experiment, or delete that "
            "directory"
        )
    return read_results(run_dir)


def find_run_dirs(root: str | Path) -> list[Path]:
    """Every run directory under `root` (a folder holding ``config.json``: started runs,
    finished or not), sorted; `root` itself counts when it is one.

    Raises:
        ValueError: `root` is not a directory.
    """
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"runs: {str(root)!r} is not a directory")
    return sorted(
        path.parent for path in root.rglob(CONFIG_FILE) if path.parent.name != CHECKPOINT_DIR
    )


class RunLockedError(ValueError):
    """Another live process is training this run directory (see :func:`run_lock`)."""


@contextlib.contextmanager
def run_lock(run_dir: str | Path, *, enabled: bool = True) -> Iterator[Path]:
    """Hold an exclusive lock on `run_dir` (creating it) while the block runs.

    The lock is an ``flock`` on ``<run_dir>/.lock``, released when the block ends or the
    process dies (``kill -9`` included), so a crashed run never leaves a stale lock. Two
    launchers that pick the same run (N local workers, ``--shard`` on N machines sharing a
    folder) cannot both train it: the second gets :class:`RunLockedError` and can skip the run.
    On platforms without ``fcntl`` (Windows) the block runs unlocked. `enabled=False` (the
    non-zero ranks of a DDP run, whose rank 0 holds the lock) makes it a no-op.

    Raises:
        RunLockedError: another process holds the lock (its process id is named).
    """
    run_dir = Path(run_dir)
    try:
        import fcntl
    except ImportError:  # Windows: no flock
        fcntl = None
    if not enabled or fcntl is None:
        yield run_dir
        return
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / LOCK_FILE
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise RunLockedError(
                f"{str(run_dir)!r} is being trained by another process (pid {holder}); wait "
                "for it or stop it"
            ) from None
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
            yield run_dir
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# ---------------------------------------------------------------------- provenance
def _git_commit() -> dict:
    try:
        root = Path(__file__).resolve().parent
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        )
        if commit.returncode != 0:
            return {"commit": None, "dirty": None}
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        )
        return {"commit": commit.stdout.strip(), "dirty": bool(status.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def _versions() -> dict:
    names = ("semcov-train", "semcov-layers", "semcov-data", "semcov-metrics", "torch", "timm")
    names += ("torchvision", "numpy", "pandas", "scikit-learn", "pyarrow")
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def provenance() -> dict:
    """``{"versions": {...}, "git": {"commit", "dirty"}}`` of this process: Python and package
    versions (None when not installed), and the git commit of the source tree (None outside a
    clone), as written into ``config.json``."""
    return {"versions": _versions(), "git": _git_commit()}


# ---------------------------------------------------------------------- readers
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
    are None): what :class:`~semcov_train.trainer.RunResult` holds; [] when there is none."""
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
    """A finished run's ``scg.csv``: one row per SCG (``class``, ``class_name``,
    ``descriptor``, ``subgroup`` as text; ``n_train``, ``coverage``, ``support``, ``tpr``,
    ``error`` as numbers; ``valid`` as bool).

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
    text = {"class_name": str, "descriptor": str, "subgroup": str}
    frame = pd.read_csv(path, dtype=text, keep_default_na=False)
    for column in frame.columns.difference([*text, "valid"]):
        frame[column] = pd.to_numeric(frame[column].replace("", None))
    if "valid" in frame.columns:
        frame["valid"] = frame["valid"].astype(str).str.lower().eq("true")
    return frame


def read_predictions(run_dir: str | Path) -> pd.DataFrame:
    """A finished run's ``predictions.parquet``: one row per test sample (``index``, ``id``,
    ``y_true``, ``y_pred``, ``prob_<class>``, the descriptors, ``subgroup``, ``subgroup_code``,
    ``embedding`` and, for SemCovNet, ``descriptor_embedding``).

    Raises:
        ValueError: the file is missing (the run has not finished).
    """
    return pd.read_parquet(_file(run_dir, PREDICTIONS_FILE, "the run has not finished"))
