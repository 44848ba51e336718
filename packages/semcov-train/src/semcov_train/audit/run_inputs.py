"""What an audit reads from a run directory: its settings, its test predictions, its training
descriptors (stored, or rebuilt from ``config.json`` for runs written before they were stored)
and its decision rule; and the test split's images for the descriptor sensitivity."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from semcov_data import SemCovDataset, eval_transform

from ..config import TrainConfig
from ..evaluation.run_model import RunAxes, load_run_config, run_threshold, training_split
from ..evaluation.threshold import DecisionThreshold, decide
from ..inputs.datasets import load_split
from ..rundir import (
    CONFIG_FILE,
    PREDICTIONS_FILE,
    RESULTS_FILE,
    TRAIN_DESCRIPTORS_FILE,
    read_config,
    read_predictions,
    read_train_descriptors,
    train_descriptors_frame,
)

__all__ = [
    "REBUILT_SOURCE",
    "AuditInputs",
    "check_run_dir",
    "read_audit_inputs",
    "rebuild_test_dataset",
]

logger = logging.getLogger("semcov_train")

#: ``training_source`` of a run whose training split was rebuilt from its data.
REBUILT_SOURCE = f"rebuilt from {CONFIG_FILE}"


@dataclass(frozen=True)
class AuditInputs:
    """A finished run, as the audit reads it.

    Attributes:
        run_dir: the run directory.
        config: its settings (``pretrained`` off: weights come from the checkpoint).
        resolved: ``config.json``'s resolved values (backbone, modality, split sizes, ...).
        versions: the package versions it was trained with.
        git: ``{"commit", "dirty"}`` of the source tree that trained it.
        results: ``results.json``.
        axes: class, descriptor and subgroup names.
        threshold: the decision rule the run applied on test.
        test: ``predictions.parquet`` (one row per test sample, dataset order).
        train: one row per training sample: ``id, y_true, subgroup`` and the descriptors.
        training_source: ``train_descriptors.parquet``, or :data:`REBUILT_SOURCE`.
    """

    run_dir: Path
    config: TrainConfig
    resolved: dict
    versions: dict
    git: dict
    results: dict
    axes: RunAxes
    threshold: DecisionThreshold
    test: pd.DataFrame
    train: pd.DataFrame
    training_source: str

    @property
    def test_labels(self) -> np.ndarray:
        """Class codes of the test samples (N,)."""
        return self.test["y_true"].to_numpy(dtype=np.int64)

    @property
    def test_probabilities(self) -> np.ndarray:
        """Stored class probabilities of the test samples (N, T)."""
        columns = [f"prob_{name}" for name in self.axes.classes]
        return self.test[columns].to_numpy(dtype=np.float64)

    @property
    def test_decisions(self) -> np.ndarray:
        """The run's decisions on test (N,): ``y_decision``, or the rule applied to the stored
        probabilities for runs written before it was stored."""
        if "y_decision" in self.test.columns:
            return self.test["y_decision"].to_numpy(dtype=np.int64)
        return decide(self.test_probabilities, self.threshold)

    def descriptors(self, part: str) -> np.ndarray:
        """Descriptor scores (N, K) of ``"train"`` or ``"test"``, in the run's order."""
        frame = self.train if part == "train" else self.test
        return frame[list(self.axes.descriptor_names)].to_numpy(dtype=np.float64)

    def subgroups(self, part: str) -> np.ndarray:
        """Subgroup values (N,) of ``"train"`` or ``"test"``, as text."""
        frame = self.train if part == "train" else self.test
        return frame["subgroup"].astype(str).to_numpy(dtype=object)


def check_run_dir(run_dir: str | Path) -> Path:
    """`run_dir` as a path, once it is a finished, evaluated run directory.

    Raises:
        ValueError: it does not exist, has no ``config.json``, ``predictions.parquet`` or
            ``results.json``.
    """
    run = Path(run_dir).expanduser()
    if not run.is_dir():
        raise ValueError(f"run: {str(run)!r} does not exist or is not a directory")
    if not (run / CONFIG_FILE).is_file():
        raise ValueError(f"run: {str(run)!r} is not a run directory (no {CONFIG_FILE})")
    if not (run / PREDICTIONS_FILE).is_file():
        raise ValueError(
            f"run: {str(run)!r} has no {PREDICTIONS_FILE}: the run has not finished or was "
            "not evaluated"
        )
    if not (run / RESULTS_FILE).is_file():
        raise ValueError(f"run: {str(run)!r} has no {RESULTS_FILE}: the run has not finished")
    return run


def read_audit_inputs(run_dir: str | Path) -> AuditInputs:
    """Read what the audit of `run_dir` needs, checking it before any computation.

    The training descriptors come from ``train_descriptors.parquet``; a run written before
    that file is rebuilt from ``config.json`` (its data must still be where it was), and its
    size is checked against the run's recorded training split.

    Raises:
        ValueError: naming the run directory and the file or column at fault.
    """
    run = check_run_dir(run_dir)
    config, resolved, results = load_run_config(run, require_checkpoint=False)
    stored = read_config(run)
    axes = RunAxes.from_resolved(resolved)
    test = read_predictions(run)
    needed = ["y_true", "subgroup", *axes.descriptor_names]
    needed += [f"prob_{name}" for name in axes.classes]
    _check_columns(test, needed, run / PREDICTIONS_FILE)
    train, source = _training_frame(run, config, axes, resolved)
    return AuditInputs(
        run_dir=run,
        config=config,
        resolved=resolved,
        versions=stored.versions,
        git=stored.git,
        results=results,
        axes=axes,
        threshold=run_threshold(results, len(axes.classes)),
        test=test,
        train=train,
        training_source=source,
    )


def _check_columns(frame: pd.DataFrame, needed: list[str], path: Path) -> None:
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"run: {str(path)!r} lacks the column(s) {missing}")


def _training_frame(
    run: Path, config: TrainConfig, axes: RunAxes, resolved: dict
) -> tuple[pd.DataFrame, str]:
    if (run / TRAIN_DESCRIPTORS_FILE).is_file():
        frame = read_train_descriptors(run)
        _check_columns(frame, ["y_true", "subgroup", *axes.descriptor_names], run)
        return frame, TRAIN_DESCRIPTORS_FILE
    try:
        table = training_split(config)
    except (ValueError, FileNotFoundError, OSError) as error:
        raise ValueError(
            f"run: {str(run)!r} has no {TRAIN_DESCRIPTORS_FILE} and its training split could "
            f"not be rebuilt from {CONFIG_FILE}: {error}"
        ) from error
    expected = resolved.get("n_train")
    if expected is not None and len(table) != int(expected):
        raise ValueError(
            f"run: the training split rebuilt from {CONFIG_FILE} has {len(table)} samples, the "
            f"run trained on {expected}: its data changed since"
        )
    frame = train_descriptors_frame(
        table.sample_ids,
        table.labels,
        table.frame["subgroup"].to_numpy(dtype=object),
        table.descriptors,
        axes.descriptor_names,
    )
    return frame, REBUILT_SOURCE


def rebuild_test_dataset(inputs: AuditInputs, config: TrainConfig):
    """The run's test split as an evaluation :class:`~semcov_data.SemCovDataset` (no
    augmentation), rebuilt from `config` and checked against ``predictions.parquet``.

    Raises:
        ValueError: the rebuilt split's ids differ from the stored predictions' (the data
            changed since the run), or the data cannot be read.
    """
    split = load_split(config)
    table = split.tables["test"]
    rebuilt = [str(i) for i in table.sample_ids]
    stored = inputs.test["id"].astype(str).tolist()
    if rebuilt != stored:
        raise ValueError(
            f"run: the test split rebuilt from {CONFIG_FILE} ({len(rebuilt)} samples) differs "
            f"from {PREDICTIONS_FILE} ({len(stored)}): its data changed since"
        )
    return SemCovDataset(
        table, transform=eval_transform(config.image_size), cache=split.cache, check_images=False
    )
