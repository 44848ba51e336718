"""Where a run stands between optimisation steps: epochs done, history, best epoch, early stop."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["TrainingState"]


@dataclass(frozen=True)
class TrainingState:
    """The bookkeeping of a run that ``checkpoints/last.pt`` holds beside the model and
    optimizer states (one top-level key per field, in this order).

    Attributes:
        epoch: epochs completed.
        history: one row per completed epoch (what ``history.csv`` holds).
        best_auc: the best validation AUC so far; None while every epoch's AUC was undefined.
        best_epoch: the (1-based) epoch of ``best.pt``; None before the first epoch ends.
        bad_epochs: epochs since the best one (early stopping counts these).
        stopped_early: the run stopped before ``epochs`` (``patience`` bad epochs).
        progress: inside an epoch, what resuming at the same step needs (see
            :func:`semcov_train.training.preemption.epoch_progress`, plus the epoch's ``lr``); None
            at an epoch boundary.
    """

    epoch: int = 0
    history: list[dict] = field(default_factory=list)
    best_auc: float | None = None
    best_epoch: int | None = None
    bad_epochs: int = 0
    stopped_early: bool = False
    progress: dict | None = None

    def to_checkpoint(self) -> dict[str, Any]:
        """The fields as checkpoint entries (not copied: the checkpoint is written at once)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_checkpoint(cls, checkpoint: dict[str, Any]) -> TrainingState:
        """The state stored in `checkpoint`; a field the checkpoint lacks keeps its default."""
        names = [f.name for f in dataclasses.fields(cls)]
        return cls(**{name: checkpoint[name] for name in names if name in checkpoint})

    def finish_epoch(self, row: dict, val_auc: float, patience: int) -> tuple[TrainingState, bool]:
        """The state after the epoch ``self.epoch + 1`` ended with history `row` and validation
        AUC `val_auc`, and whether that epoch is the new best one (paper: results at the best
        validation-AUC epoch).

        An undefined AUC (one class in the validation split) never improves on a defined one;
        the first epoch is the best until an epoch with a defined AUC comes. Otherwise a bad
        epoch counts towards `patience`, after which the run stops early.
        """
        epoch = self.epoch + 1
        done = dataclasses.replace(self, epoch=epoch, history=[*self.history, row], progress=None)
        improved = math.isfinite(val_auc) and (self.best_auc is None or val_auc > self.best_auc)
        if improved or self.best_epoch is None:
            best_auc = val_auc if math.isfinite(val_auc) else None
            best = dataclasses.replace(done, best_auc=best_auc, best_epoch=epoch, bad_epochs=0)
            return best, True
        bad_epochs = self.bad_epochs + 1
        stopped = bad_epochs >= patience
        return dataclasses.replace(done, bad_epochs=bad_epochs, stopped_early=stopped), False
