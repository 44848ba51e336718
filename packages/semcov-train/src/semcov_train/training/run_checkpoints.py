"""What ``checkpoints/last.pt`` and ``checkpoints/best.pt`` hold, and resuming from them.

``last.pt`` is everything an exact resume needs (written after every epoch, and at the
current step on SIGTERM); ``best.pt`` is the model and objective of the best validation-AUC
epoch, which the test split is evaluated with. Both are written by the main process only,
atomically (:func:`semcov_train.runtime.checkpoint.save_checkpoint`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..config import TrainConfig
from ..evaluation.evaluate import json_ready
from ..rundir import BEST_CHECKPOINT, CHECKPOINT_DIR, LAST_CHECKPOINT, changed_settings
from ..runtime.checkpoint import get_rng_state, load_checkpoint, save_checkpoint, set_rng_state
from ..runtime.distributed import DistContext, barrier
from .preemption import check_progress
from .setup import TrainingParts
from .state import TrainingState

__all__ = ["CHECKPOINT_FORMAT", "RunCheckpoints"]

#: Version of the checkpoints' layout; a checkpoint of another version is refused on resume.
CHECKPOINT_FORMAT = 1


class RunCheckpoints:
    """The checkpoints of one run directory, seen from one process.

    Args:
        run_dir: the run directory.
        config: the run's settings (stored in ``last.pt``; a resume with others is refused).
        context: this process (only the main one writes; every one reads).
    """

    def __init__(self, run_dir: Path, config: TrainConfig, context: DistContext) -> None:
        self.run_dir = run_dir
        self.folder = run_dir / CHECKPOINT_DIR
        self.last = self.folder / LAST_CHECKPOINT
        self.best = self.folder / BEST_CHECKPOINT
        self.config = config
        self.context = context

    def save_last(self, state: TrainingState, parts: TrainingParts, sampler: Any) -> None:
        """Write ``last.pt`` (main process), then wait for every process."""
        if self.context.is_main:
            save_checkpoint(self.last, self.last_payload(state, parts, sampler))
        barrier(self.context)

    def last_payload(self, state: TrainingState, parts: TrainingParts, sampler: Any) -> dict:
        """The content of ``last.pt``: the format, `state`'s fields, the model, objective,
        optimizer, scheduler and scaler states, the sampler's epoch and seed, the RNG states,
        the settings and the number of processes."""
        return {
            "format": CHECKPOINT_FORMAT,
            **state.to_checkpoint(),
            "model": parts.model.state_dict(),
            "objective": parts.objective.state_dict(),
            "optimizer": parts.optimizer.state_dict(),
            "scheduler": parts.scheduler.state_dict(),
            "scaler": parts.scaler.state_dict(),
            "sampler": {"epoch": state.epoch, "seed": sampler.seed},
            "rng": get_rng_state(),
            "config": self.config.to_dict(),
            "world_size": self.context.world_size,
        }

    def restore_last(self, parts: TrainingParts, sampler: Any) -> TrainingState:
        """Load ``last.pt`` into `parts`, `sampler` and the RNGs; the state it holds.

        Raises:
            ValueError: another checkpoint format, other settings (naming each), or a run
                stopped inside an epoch resumed on another number of processes.
        """
        checkpoint = load_checkpoint(self.last, map_location=self.context.device)
        if checkpoint.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"checkpoint format {checkpoint.get('format')!r} is not supported")
        changed = changed_settings(checkpoint["config"], self.config)
        if changed:
            raise ValueError(
                "the run being resumed was started with other settings ("
                + "; ".join(changed)
                + "); resume with the same options or start a new run"
            )
        parts.model.load_state_dict(checkpoint["model"])
        parts.objective.load_state_dict(checkpoint["objective"])
        parts.optimizer.load_state_dict(checkpoint["optimizer"])
        parts.scheduler.load_state_dict(checkpoint["scheduler"])
        parts.scaler.load_state_dict(checkpoint["scaler"])
        sampler.set_epoch(checkpoint["sampler"]["epoch"])
        set_rng_state(checkpoint["rng"])
        check_progress(
            checkpoint.get("progress"), self.context.world_size, checkpoint["world_size"]
        )
        return TrainingState.from_checkpoint(checkpoint)

    def save_best(self, epoch: int, parts: TrainingParts, val: dict) -> None:
        """Write ``best.pt`` (main process only): the model and objective after `epoch`
        (1-based) and its validation metrics."""
        if not self.context.is_main:
            return
        payload = {
            "format": CHECKPOINT_FORMAT,
            "epoch": epoch,
            "model": parts.model.state_dict(),
            "objective": parts.objective.state_dict(),
            "val": json_ready(val),
        }
        save_checkpoint(self.best, payload)

    def load_best(self, model: torch.nn.Module) -> int:
        """Load ``best.pt``'s weights into `model`; the epoch they are from."""
        best = load_checkpoint(self.best, map_location=self.context.device)
        model.load_state_dict(best["model"])
        return int(best["epoch"])
