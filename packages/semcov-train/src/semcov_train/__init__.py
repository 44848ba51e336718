"""semcov-train: one trainer for SemCovNet and the baselines of its paper: configs and presets,
run directories, checkpoint/resume and torchrun DDP."""

from __future__ import annotations

from semcov_train.config import PRESETS, TrainConfig, make_config
from semcov_train.inputs.datasets import DataBundle, prepare_data
from semcov_train.inputs.sources import DATASETS, DatasetSpec
from semcov_train.inputs.synthetic_data import prepare_synthetic
from semcov_train.methods.models import MissingWeightsError
from semcov_train.methods.registry import METHODS, Method, check_available
from semcov_train.rundir import changed_settings, finished_results, run_directory
from semcov_train.training.train_step import TrainStep
from semcov_train.training.trainer import RunResult, train

__version__ = "0.2.0"

__all__ = [
    "DATASETS",
    "METHODS",
    "PRESETS",
    "DataBundle",
    "DatasetSpec",
    "Method",
    "MissingWeightsError",
    "RunResult",
    "TrainConfig",
    "TrainStep",
    "__version__",
    "changed_settings",
    "check_available",
    "finished_results",
    "make_config",
    "prepare_data",
    "prepare_synthetic",
    "run_directory",
    "train",
]
