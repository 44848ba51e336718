"""SIGTERM as a scheduler's preemption notice: finish the current step, checkpoint, exit.

SLURM, Kubernetes and most batch systems send SIGTERM some seconds before they kill a job.
While :class:`PreemptionGuard` is active the first SIGTERM only sets a flag; the trainer looks
at it after every optimisation step, writes ``checkpoints/last.pt`` at that step and raises
:class:`TrainingPreempted`. The command line then exits with :data:`PREEMPTED_EXIT_CODE`, and
``--resume`` continues from the same step. A second SIGTERM ends the process at once.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

import torch
import torch.distributed as dist

from ..runtime.checkpoint import get_rng_state
from ..runtime.distributed import all_gather_objects

__all__ = ["PREEMPTED_EXIT_CODE", "PreemptionGuard", "TrainingPreempted"]

#: Exit status of ``python -m semcov_train`` after a SIGTERM was handled: ``EX_TEMPFAIL`` (75,
#: "try again later"), distinct from errors (1, 2) and from a kill without checkpoint (143).
PREEMPTED_EXIT_CODE = 75


class TrainingPreempted(RuntimeError):
    """Training stopped on SIGTERM after writing a checkpoint; ``--resume`` continues it.

    Attributes:
        run_dir: the run directory.
        epoch: epochs completed before the interrupted one (0-based index of that epoch).
        step: optimisation steps done in the interrupted epoch (0: at an epoch boundary).
    """

    def __init__(self, run_dir, epoch: int, step: int) -> None:
        self.run_dir, self.epoch, self.step = run_dir, epoch, step
        where = f"epoch {epoch + 1}, step {step}" if step else f"the end of epoch {epoch}"
        super().__init__(
            f"{run_dir}: stopped on SIGTERM at {where}; checkpoint saved, continue with --resume"
        )


class PreemptionGuard:
    """Catches SIGTERM while active (a context manager); :attr:`requested` tells the trainer.

    Only the main thread can install a signal handler: elsewhere (a notebook's worker thread)
    the guard stays inactive and SIGTERM keeps its usual effect.
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous: Callable[[int, FrameType | None], Any] | int | None = None
        self._active = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:  # a second notice: stop now
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        self.requested = True

    def __enter__(self) -> PreemptionGuard:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._handle)
            self._active = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._active:
            signal.signal(signal.SIGTERM, self._previous or signal.SIG_DFL)
            self._active = False


def stop_requested(guard: PreemptionGuard | None, context, device) -> bool:
    """Whether to stop after this step; under DDP every rank agrees (any rank's notice counts),
    so all of them stop at the same step."""
    flag = guard is not None and guard.requested
    if guard is None or not context.distributed:
        return flag

    value = torch.tensor(float(flag), device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def epoch_progress(step: int, sums: dict, seen: int, elapsed: float, mix_generator, context):
    """What a checkpoint in the middle of an epoch must hold beyond the epoch-boundary state:
    the steps done, the running loss sums, and every rank's RNG states (python, numpy, torch,
    CUDA and the batch-mixing generator) as they are after the last step."""
    local = {"rng": get_rng_state(), "mix": mix_generator.get_state()}
    ranks = all_gather_objects(local, context)
    return {
        "step": int(step),
        "sums": {k: v.detach().cpu() for k, v in sums.items()},
        "seen": int(seen),
        "elapsed": float(elapsed),
        "rng": [r["rng"] for r in ranks],
        "mix": [r["mix"] for r in ranks],
    }


def check_progress(progress: dict | None, world_size: int, stored_world_size: int) -> None:
    """A run stopped inside an epoch resumes only on as many processes as it ran on (each
    rank's position in the shuffled epoch and its RNG states belong to that layout)."""
    if progress and progress["step"] and world_size != stored_world_size:
        raise ValueError(
            f"the run was stopped inside an epoch on {stored_world_size} process(es); resume "
            f"it on {stored_world_size}, not {world_size}"
        )
