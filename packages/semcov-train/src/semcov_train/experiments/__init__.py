"""Grids of training runs as data, and the launchers that train them.

Declare a :class:`Grid` (experiment × methods × modalities × folds × seeds, with switches),
turn it into a :class:`Plan` under a preset and shared settings (which runs are new,
unfinished or finished; a run directory trained with other settings is refused before anything
trains), then :func:`run_plan` with a launcher: in this process, N local worker processes,
``torchrun`` or a SLURM cluster through submitit. ``shard_of=(k, N)`` gives one machine its
share of the grid; the ``DONE`` markers coordinate the machines::

    from semcov_train.experiments import Grid, LocalWorkers, plan, run_plan

    grid = Grid("demo", methods=["erm", "semcovnet"], modalities=["dermoscopic"])
    run_plan(plan(grid, "smoke", {"dataset": "synthetic", "out": "runs"}), LocalWorkers(2))
"""

from __future__ import annotations

from .grid import GRID_FIELDS, Grid, Run, lr_experiment, parse_shard, shard
from .launchers import (
    LAUNCHERS,
    LOCKED,
    MAX_AUTO_WORKERS,
    DryRun,
    InProcess,
    Launcher,
    LocalWorkers,
    Outcome,
    Submitit,
    Torchrun,
    auto_launcher,
    command_arguments,
    cpu_workers,
    make_launcher,
    train_one,
)
from .plan import Job, Plan, RunState, plan, run_state
from .running import LrChoice, is_main_process, report, run_plan, select_learning_rates

__all__ = [
    "GRID_FIELDS",
    "LAUNCHERS",
    "LOCKED",
    "MAX_AUTO_WORKERS",
    "DryRun",
    "Grid",
    "InProcess",
    "Job",
    "Launcher",
    "LocalWorkers",
    "LrChoice",
    "Outcome",
    "Plan",
    "Run",
    "RunState",
    "Submitit",
    "Torchrun",
    "auto_launcher",
    "command_arguments",
    "cpu_workers",
    "is_main_process",
    "lr_experiment",
    "make_launcher",
    "parse_shard",
    "plan",
    "report",
    "run_plan",
    "run_state",
    "select_learning_rates",
    "shard",
    "train_one",
]
