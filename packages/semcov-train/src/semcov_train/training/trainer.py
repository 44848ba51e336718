"""The trainer: one run of one method, from its data to its run directory; resumable, DDP-aware.

The pieces live by concept: :mod:`~semcov_train.training.setup` (loaders, model,
optimisation), :mod:`~semcov_train.training.epoch_loop` (the steps of an epoch),
:mod:`~semcov_train.training.state` (epochs, best epoch, early stopping),
:mod:`~semcov_train.training.run_checkpoints` (``last.pt`` / ``best.pt``) and
:mod:`~semcov_train.training.history` (``history.csv``); this module runs them in order.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..config import TrainConfig
from ..evaluation.alignment import mean_descriptors
from ..evaluation.evaluate import (
    PERFORMANCE_KEYS,
    Predictions,
    evaluate_test,
    json_ready,
    predict,
    predictions_frame,
    validation_metrics,
    validation_threshold,
)
from ..inputs.datasets import DataBundle, prepare_data
from ..inputs.resolve import resolve_config
from ..inputs.sources import check_data_root
from ..methods.registry import Method, check_available, resolve_backbone, resolve_weights
from ..rundir import (
    CONFIG_FILE,
    DONE_FILE,
    PREDICTIONS_FILE,
    RESULTS_FILE,
    SCG_FILE,
    TRAIN_DESCRIPTORS_FILE,
    changed_settings,
    finished_results,
    provenance,
    read_history_rows,
    run_directory,
    train_descriptors_frame,
)
from ..runtime.checkpoint import atomic_write, atomic_write_bytes, atomic_write_json
from ..runtime.device_policy import amp_dtype, use_channels_last
from ..runtime.distributed import (
    DistContext,
    all_gather_objects,
    barrier,
    sampling_summary,
    setup_distributed,
    teardown_distributed,
)
from .epoch_loop import EpochLoop
from .history import HistoryWriter
from .preemption import PreemptionGuard, TrainingPreempted, stop_requested
from .run_checkpoints import RunCheckpoints
from .run_lock import lock_run_directory
from .setup import build_loaders, build_parts
from .state import TrainingState
from .train_step import TrainStep

__all__ = [
    "RunResult",
    "TrainStep",
    "changed_settings",
    "finished_results",
    "run_directory",
    "train",
]

logger = logging.getLogger("semcov_train")


@dataclass(frozen=True)
class RunResult:
    """What :func:`train` returns.

    Attributes:
        run_dir: the run directory.
        results: the content of ``results.json``.
        history: one dict per epoch (the rows of ``history.csv``).
    """

    run_dir: Path
    results: dict
    history: list[dict]


def train(config: TrainConfig, *, resume: bool = False) -> RunResult:
    """Train `config.method` on `config.dataset` and write its run directory.

    Under ``torchrun`` every process calls this; the process group is joined from the
    environment (gloo on CPU, NCCL on CUDA). With ``resume=True`` an interrupted run continues
    from ``checkpoints/last.pt`` and a finished one is returned as it is.

    Raises:
        ValueError: unknown method/dataset (with a did-you-mean), missing data root, a batch
            larger than the training split, a run directory that already holds a run (without
            ``resume``), or a resumed run whose settings differ.
        RunDirectoryLocked: another process is training the same run directory (a ValueError).
        MissingWeightsError: CLIP / MONET weights are not on this machine.
    """
    method = check_available(config)
    check_data_root(config)
    config = resolve_config(config)
    context = setup_distributed(config.device)
    threads = torch.get_num_threads()
    try:
        if config.num_threads > 0:
            torch.set_num_threads(config.num_threads)
        with lock_run_directory(run_directory(config), context), PreemptionGuard() as guard:
            return _train_locked(config, method, context, resume, guard)
    finally:
        torch.set_num_threads(threads)
        teardown_distributed(context)


def _train_locked(
    config: TrainConfig,
    method: Method,
    context: DistContext,
    resume: bool,
    guard: PreemptionGuard,
) -> RunResult:
    run_dir = run_directory(config)
    checkpoints = RunCheckpoints(run_dir, config, context)
    finished = _check_run_dir(config, checkpoints, resume)
    if finished is not None:
        return RunResult(run_dir, finished, read_history_rows(run_dir))
    barrier(context)
    data = prepare_data(config, context)
    trainer = _Trainer(config, method, context, data, checkpoints, guard)
    state = TrainingState()
    if resume and checkpoints.last.is_file():
        state = checkpoints.restore_last(trainer.parts, trainer.loaders.sampler)
        logger.info("resuming %s after epoch %d", run_dir, state.epoch)
    return trainer.run(state)


def _check_run_dir(config: TrainConfig, checkpoints: RunCheckpoints, resume: bool) -> dict | None:
    """The results of a finished run when resuming it; errors for runs not to be overwritten."""
    run_dir = checkpoints.run_dir
    if (run_dir / DONE_FILE).is_file():
        if not resume:
            raise ValueError(
                f"out: {str(run_dir)!r} already holds a finished run; pass --resume to "
                "return it, or choose another --out / --experiment"
            )
        return finished_results(config)
    if checkpoints.last.is_file() and not resume:
        raise ValueError(
            f"out: {str(run_dir)!r} holds an unfinished run; pass --resume to continue "
            "it, or choose another --out / --experiment"
        )
    return None


class _Trainer:
    """One run's data, loaders, model and optimisation, built at once; :meth:`run` trains
    the remaining epochs and evaluates the best one on the test split."""

    def __init__(
        self,
        config: TrainConfig,
        method: Method,
        context: DistContext,
        data: DataBundle,
        checkpoints: RunCheckpoints,
        guard: PreemptionGuard | None,
    ) -> None:
        self.config = config
        self.method = method
        self.context = context
        self.device = context.device
        self.amp = amp_dtype(config, self.device)
        self.channels_last = use_channels_last(config, self.device)
        self.run_dir = checkpoints.run_dir
        self.data = data
        self.checkpoints = checkpoints
        self.guard = guard
        self.loaders = build_loaders(config, data, method, context)
        self.parts = build_parts(
            config,
            data,
            method,
            context,
            amp=self.amp,
            channels_last=self.channels_last,
            steps_per_epoch=self.loaders.steps_per_epoch,
        )
        self.epochs = EpochLoop(
            config,
            context,
            self.loaders,
            self.parts,
            checkpoints,
            channels_last=self.channels_last,
            guard=guard,
        )

    def run(self, state: TrainingState) -> RunResult:
        config = self.config
        if self.context.is_main:
            self.checkpoints.folder.mkdir(parents=True, exist_ok=True)
            atomic_write_json(self.run_dir / CONFIG_FILE, json_ready(self._resolved_config()))
        history = HistoryWriter(self.run_dir, config.tensorboard, self.context.is_main)
        try:
            while state.epoch < config.epochs and not state.stopped_early:
                state = self._one_epoch(state, history)
        finally:
            history.close()
        results = self._test(state)
        return RunResult(self.run_dir, results, state.history)

    def _resolved_config(self) -> dict:
        config, data, method = self.config, self.data, self.method
        mixer = self.parts.mixer
        resolved = {
            "backbone": resolve_backbone(config, method),
            "modality": data.modality,
            "subgroup": data.subgroup,
            "target": data.target,
            "data_root": str(data.root),
            "weights": (
                str(resolve_weights(config, method)) if method.weights_folder is not None else None
            ),
            "world_size": self.context.world_size,
            "per_process_batch_size": self.loaders.per_process_batch,
            "device": str(self.device),
            "amp": str(self.amp).replace("torch.", "") if self.amp is not None else "off",
            "channels_last": self.channels_last,
            "table_row": method.table_row,
            "classes": list(data.classes),
            "descriptors": list(data.descriptor_names),
            "subgroup_values": list(data.subgroup_values),
            "n_train": len(data.train),
            "n_val": len(data.val),
            "n_test": len(data.test),
            "data_report": data.report,
            "sampling": sampling_summary(self.loaders.sampler, method.sampling),
            "mixing": None
            if mixer is None
            else {"mode": mixer.mode, "alpha": mixer.alpha, "prob": config.mix_prob},
        }
        return {
            "config": config.to_dict(),
            "resolved": resolved,
            **provenance(),
            "run_dir": str(self.run_dir),
        }

    def _evaluate(self, part: str, descriptors: np.ndarray | None = None) -> Predictions:
        return predict(
            self.parts.model,
            self.loaders.evaluation[part],
            self.context,
            amp_dtype=self.amp,
            channels_last=self.channels_last,
            progress=self.config.progress,
            desc=part,
            descriptors=descriptors,
        )

    def _one_epoch(self, state: TrainingState, history: HistoryWriter) -> TrainingState:
        epoch = state.epoch
        # The lr of the epoch's first step, also when the epoch resumes in its middle.
        lr = (state.progress or {}).get("lr", self.parts.optimizer.param_groups[0]["lr"])
        row: dict[str, Any] = {"epoch": epoch + 1, "lr": lr}
        row.update(self.epochs.run(state, lr))
        val = validation_metrics(self._evaluate("val"), self.data, self.config)
        row.update({f"val_{k}": v for k, v in val.items()})
        state, best = state.finish_epoch(json_ready(row), val["auc"], self.config.patience)
        if best:
            self.checkpoints.save_best(state.epoch, self.parts, val)
        history.write(state.history)
        self.checkpoints.save_last(state, self.parts, self.loaders.sampler)
        if stop_requested(self.guard, self.context, self.device):
            raise TrainingPreempted(self.run_dir, epoch + 1, 0)
        return state

    def _test(self, state: TrainingState) -> dict:
        config, data = self.config, self.data
        best_epoch = self.checkpoints.load_best(self.parts.model)
        threshold = validation_threshold(self._evaluate("val"), data, config)
        predictions = self._evaluate("test")
        if predictions.descriptor_embedding is not None:
            train_mean = mean_descriptors(data.split_arrays("train")["descriptors"])
            image_only = self._evaluate("test", descriptors=train_mean)
            predictions = dataclasses.replace(predictions, image_embedding=image_only.embedding)
        extra = {
            "method": config.method,
            "table_row": self.method.table_row,
            "dataset": config.dataset,
            "modality": data.modality,
            "subgroup": data.subgroup,
            "fold": config.fold,
            "seed": config.seed,
            "best_epoch": best_epoch,
            "epochs_completed": int(state.epoch),
            "stopped_early": bool(state.stopped_early),
            "val_auc": state.best_auc,
            "n_train": len(data.train),
            "n_val": len(data.val),
        }
        # Rank 0 computes the metrics (the bootstrap is not free) and shares them.
        evaluation = (
            evaluate_test(predictions, data, config, extra=extra, threshold=threshold)
            if self.context.is_main
            else None
        )
        shared = evaluation.results if evaluation is not None else None
        results = all_gather_objects(shared, self.context)[0]
        if evaluation is not None:  # rank 0
            frame = predictions_frame(predictions, data, threshold=threshold)
            atomic_write(self.run_dir / PREDICTIONS_FILE, lambda f: frame.to_parquet(f))
            self._write_train_descriptors()
            scg = evaluation.scg.to_csv(index=False, lineterminator="\n").encode()
            atomic_write_bytes(self.run_dir / SCG_FILE, scg)
            atomic_write_json(self.run_dir / RESULTS_FILE, results)
            summary = {k: results.get(k) for k in (*PERFORMANCE_KEYS, "cdi")}
            atomic_write_json(self.run_dir / DONE_FILE, {"finished": time.time(), **summary})
        barrier(self.context)
        return results

    def _write_train_descriptors(self) -> None:
        """The training split's ids, labels, subgroups and descriptors (the coverage an audit
        recomputes without the dataset)."""
        train = self.data.split_arrays("train")
        frame = train_descriptors_frame(
            train["ids"],
            train["labels"],
            train["subgroup_names"],
            train["descriptors"],
            self.data.descriptor_names,
        )
        atomic_write(self.run_dir / TRAIN_DESCRIPTORS_FILE, lambda f: frame.to_parquet(f))
