"""The run directory's file names and the settings that name a run or never do."""

from __future__ import annotations

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
#: One row per training sample: id, label, subgroup, descriptors (the coverage of the audit).
TRAIN_DESCRIPTORS_FILE = "train_descriptors.parquet"
#: Folder ``python -m semcov_train audit`` writes into by default.
AUDIT_DIR = "audit"
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
