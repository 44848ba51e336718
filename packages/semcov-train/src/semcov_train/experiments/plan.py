"""Which runs of a grid are new, unfinished or finished, checked before anything trains: a
finished or started run directory trained with other settings is refused, naming them."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from semcov_train import (
    MissingWeightsError,
    TrainConfig,
    changed_settings,
    check_available,
    finished_results,
    run_directory,
)
from semcov_train.rundir import CHECKPOINT_DIR, CONFIG_FILE, LAST_CHECKPOINT, read_config

from .grid import Grid, Run, shard

__all__ = ["Job", "Plan", "RunState", "plan", "run_state"]


class RunState(str, enum.Enum):
    """Where a run stands: not started, started and interrupted, or finished (``DONE``)."""

    NEW = "new"
    UNFINISHED = "unfinished"
    FINISHED = "finished"


def run_state(config: TrainConfig) -> RunState:
    """The state of the run `config` names, after checking its stored settings.

    Raises:
        ValueError: the run directory holds a finished or started run trained with other
            settings; the message names each setting (``lr: 0.001 -> 0.002``).
    """
    if finished_results(config) is not None:  # raises for other settings
        return RunState.FINISHED
    run_dir = run_directory(config)
    if (run_dir / CONFIG_FILE).is_file():
        changed = changed_settings(read_config(run_dir).settings, config)
        if changed:
            raise ValueError(
                f"{str(run_dir)!r} holds an unfinished run started with other settings ("
                + "; ".join(changed)
                + "); use another --out / --runs or --experiment, or delete that directory"
            )
    if (run_dir / CHECKPOINT_DIR / LAST_CHECKPOINT).is_file():
        return RunState.UNFINISHED
    return RunState.NEW


@dataclass(frozen=True)
class Job:
    """One run of a plan: its grid entry, config, directory and state.

    Attributes:
        index: 1-based position in the whole grid (the same on every shard).
        total: number of runs in the whole grid.
        run: the grid entry.
        config: its TrainConfig.
        run_dir: its run directory.
        state: new, unfinished or finished; None when the method cannot run here.
        not_run: why the method cannot run here (missing weights or modules), else None.
    """

    index: int
    total: int
    run: Run
    config: TrainConfig
    run_dir: Path
    state: RunState | None
    not_run: str | None = None

    @property
    def label(self) -> str:
        """``[3/8] table1 erm clinical fold0 seed0``: the progress label of the run."""
        return f"[{self.index}/{self.total}] {self.run.label}"

    @property
    def pending(self) -> bool:
        """Whether the run still has to be trained (new or unfinished)."""
        return self.state in (RunState.NEW, RunState.UNFINISHED)


@dataclass(frozen=True)
class Plan:
    """The runs of one or more grids under one preset and shared settings.

    Attributes:
        preset: the preset of every run.
        settings: the shared TrainConfig fields (dataset, out, device, ...).
        grids: the grids, in order.
        jobs: the runs of this machine's shard (every run without a shard), in grid order.
        shard: ``(k, N)`` when the plan is the k-th of N shards, else None.
    """

    preset: str
    settings: Mapping[str, Any]
    grids: tuple[Grid, ...]
    jobs: tuple[Job, ...]
    shard: tuple[int, int] | None = None
    unavailable: Mapping[str, str] = field(default_factory=dict)

    @property
    def pending(self) -> tuple[Job, ...]:
        """The jobs still to train (new or unfinished, method available)."""
        return tuple(job for job in self.jobs if job.pending)

    @property
    def finished(self) -> tuple[Job, ...]:
        """The jobs with a ``DONE`` marker and the same settings."""
        return tuple(job for job in self.jobs if job.state is RunState.FINISHED)


def plan(
    grids: Grid | Iterable[Grid],
    preset: str,
    settings: Mapping[str, Any] | None = None,
    *,
    shard_of: tuple[int, int] | None = None,
) -> Plan:
    """Expand `grids` into TrainConfigs and find each run's state, before any training.

    A method whose weights or modules are missing is not run (``Job.not_run`` says why, and
    ``Plan.unavailable`` maps the method to that reason); every other run directory is checked
    against its settings, so a grid that would reuse a run trained otherwise fails at once.

    Args:
        grids: one grid or several (their runs concatenated in order).
        preset: ``smoke``, ``quick`` or ``paper``.
        settings: TrainConfig fields of every run (dataset, out, device, data_root, ...).
        shard_of: ``(k, N)``: keep the k-th of N shards of the whole grid (:func:`shard`).

    Raises:
        ValueError: a bad preset/field/value, a repeated run identity, or a run directory that
            holds a run trained with other settings (each setting named).
    """
    grids = (grids,) if isinstance(grids, Grid) else tuple(grids)
    settings = dict(settings or {})
    runs = [run for grid in grids for run in grid.runs()]
    total = len(runs)
    entries = list(enumerate(runs, start=1))
    if shard_of is not None:
        entries = shard(entries, *shard_of)
    jobs: list[Job] = []
    unavailable: dict[str, str] = {}  # method -> why it cannot run here
    seen: dict[Path, str] = {}  # run directory -> label of the run that claimed it
    for index, run in entries:
        config = run.config(preset, settings)
        run_dir = run_directory(config)
        if run_dir in seen:
            raise ValueError(f"{run.label} and {seen[run_dir]} share the run directory {run_dir}")
        seen[run_dir] = run.label
        if run.method in unavailable:
            jobs.append(Job(index, total, run, config, run_dir, None, unavailable[run.method]))
            continue
        try:
            check_available(config)
        except MissingWeightsError as error:
            unavailable[run.method] = str(error)
            jobs.append(Job(index, total, run, config, run_dir, None, str(error)))
            continue
        jobs.append(Job(index, total, run, config, run_dir, run_state(config)))
    return Plan(preset, settings, grids, tuple(jobs), shard_of, unavailable)
