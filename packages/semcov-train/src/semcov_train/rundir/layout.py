"""Run identity and the directory it names; finished runs and their discovery."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ..config import PRESETS, TrainConfig
from ..inputs.resolve import resolve_config
from ..inputs.sources import resolve_modality
from .names import (
    CHECKPOINT_DIR,
    CONFIG_FILE,
    DONE_FILE,
    IDENTITY_FIELDS,
    RUNTIME_FIELDS,
)
from .readers import read_config, read_results

__all__ = [
    "changed_settings",
    "find_run_dirs",
    "finished_results",
    "is_finished",
    "run_directory",
    "settings_name",
    "settings_overrides",
]

_HASH_DIGITS = 8


def settings_overrides(config: TrainConfig) -> dict[str, Any]:
    """The settings of `config` that differ from its preset's (identity and runtime fields
    aside), sorted by name: what makes a run differ from ``make_config(config.preset)``. A
    preset name that :data:`~semcov_train.config.PRESETS` does not know (a ``TrainConfig``
    built by hand) is compared with the dataclass defaults instead. Both sides are compared
    with their ``auto`` settings resolved for the run's dataset and modality
    (:func:`~semcov_train.inputs.resolve.resolve_config`), so ``semcov_order="auto"`` and the order
    it resolves to name the same directory."""
    known = PRESETS.get(config.preset)
    preset = known if known is not None else TrainConfig(preset=config.preset)
    preset = preset.replace(dataset=config.dataset, modality=config.modality)
    base = resolve_config(preset).to_dict()
    current = resolve_config(config).to_dict()
    return {
        name: current[name]
        for name in sorted(current)
        if name not in (*IDENTITY_FIELDS, *RUNTIME_FIELDS) and current[name] != base[name]
    }


def _path_part(value: str, field: str) -> str:
    if not value or value in (".", "..") or any(c in value for c in "/\\"):
        raise ValueError(
            f"{field}: {value!r} names a level of the run directory: no '/', '\\', '.' or '..'"
        )
    return value


def settings_name(config: TrainConfig) -> str:
    """The ``<settings>`` level of the run directory: ``quick``, or ``quick-1a2b3c4d`` when some
    setting differs from the preset (8 hex digits of the SHA-256 of :func:`settings_overrides`
    as canonical JSON)."""
    overrides = settings_overrides(config)
    _path_part(config.preset, "preset")
    if not overrides:
        return config.preset
    text = json.dumps(overrides, sort_keys=True, separators=(",", ":"), default=str)
    return f"{config.preset}-{hashlib.sha256(text.encode()).hexdigest()[:_HASH_DIGITS]}"


def run_directory(config: TrainConfig) -> Path:
    """``<out>/<experiment>/<method>/<dataset>-<modality>/<settings>/fold<k>-seed<s>``, with
    ``modality="auto"`` resolved for the dataset and ``<settings>`` from :func:`settings_name`.

    Raises:
        ValueError: an unknown dataset or modality, or an experiment or preset name that is not
            one path level (``/``, ``\\``, ``.``, ``..``).
    """
    return (
        Path(config.out).expanduser()
        / _path_part(config.experiment, "experiment")
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
    fields the directory's path already matches (:data:`IDENTITY_FIELDS`) aside; ``auto``
    settings match both their own value and the value they resolve to."""
    given = config.to_dict()
    current = resolve_config(config).to_dict()
    return [
        f"{k}: {stored.get(k)!r} -> {current[k]!r}"
        for k in current
        if k not in RUNTIME_FIELDS
        and k not in IDENTITY_FIELDS
        and stored.get(k) not in (current[k], given[k])
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
