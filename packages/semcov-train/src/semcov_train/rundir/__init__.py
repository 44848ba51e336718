"""The run directory: its layout, file names, identity, provenance and typed readers.

One trained model is one directory::

    <out>/<experiment>/<method>/<dataset>-<modality>/<settings>/fold<k>-seed<s>/
      config.json  history.csv  results.json  scg.csv  predictions.parquet
      train_descriptors.parquet  DONE  .lock
      checkpoints/last.pt  checkpoints/best.pt  tensorboard/  audit/

``<settings>`` is the run's preset name (``quick``) when the run uses the preset as it is, and
``<preset>-<hash>`` (``quick-1a2b3c4d``) when some setting differs from the preset: the hash is
the first 8 hex digits of the SHA-256 of those settings (name -> value, canonical JSON). So the
same command always finds its own runs again, and two commands that train differently (another
preset, ``--epochs 3``, an ablation switch) never share a directory. Fields that only say where
files live or how a run is shown (:data:`RUNTIME_FIELDS`) are never part of the identity.

paper: says nothing about how runs are stored; here: a run's directory holds its preset and a
hash of the settings that differ from it, so runs of different settings never share one.

A preset's own values are not hashed: when a preset is redefined, its runs keep their
directories and :func:`finished_results` refuses a finished run whose stored settings differ
from the current ones, naming each setting.

The trainer writes these files through :mod:`semcov_train.runtime.checkpoint`'s atomic writes;
:mod:`semcov_train.reporting` and the figure apps read them only through the readers here.

Public names: the file-name constants (:data:`CONFIG_FILE`, :data:`HISTORY_FILE`,
:data:`RESULTS_FILE`, :data:`SCG_FILE`, :data:`PREDICTIONS_FILE`, :data:`DONE_FILE`,
:data:`CHECKPOINT_DIR`, :data:`LAST_CHECKPOINT`, :data:`BEST_CHECKPOINT`,
:data:`TENSORBOARD_DIR`, :data:`LOCK_FILE`, :data:`TRAIN_DESCRIPTORS_FILE`, :data:`AUDIT_DIR`),
:data:`IDENTITY_FIELDS`, :data:`RUNTIME_FIELDS`,
:func:`settings_overrides`, :func:`settings_name`, :func:`run_directory`, :func:`is_finished`,
:func:`changed_settings`, :func:`finished_results`, :func:`find_run_dirs`, :func:`provenance`,
:class:`StoredConfig`, :func:`read_config`, :func:`read_results`, :func:`read_history`,
:func:`read_history_rows`, :func:`read_scg`, :func:`read_predictions`,
:func:`read_train_descriptors`, :func:`train_descriptors_frame`.
"""

from __future__ import annotations

from .layout import (
    changed_settings,
    find_run_dirs,
    finished_results,
    is_finished,
    run_directory,
    settings_name,
    settings_overrides,
)
from .names import (
    AUDIT_DIR,
    BEST_CHECKPOINT,
    CHECKPOINT_DIR,
    CONFIG_FILE,
    DONE_FILE,
    HISTORY_FILE,
    IDENTITY_FIELDS,
    LAST_CHECKPOINT,
    LOCK_FILE,
    PREDICTIONS_FILE,
    RESULTS_FILE,
    RUNTIME_FIELDS,
    SCG_FILE,
    TENSORBOARD_DIR,
    TRAIN_DESCRIPTORS_FILE,
)
from .provenance import provenance
from .readers import (
    StoredConfig,
    read_config,
    read_history,
    read_history_rows,
    read_predictions,
    read_results,
    read_scg,
)
from .train_descriptors import read_train_descriptors, train_descriptors_frame

__all__ = [
    "AUDIT_DIR",
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
    "TRAIN_DESCRIPTORS_FILE",
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
    "read_train_descriptors",
    "run_directory",
    "settings_name",
    "settings_overrides",
    "train_descriptors_frame",
]
