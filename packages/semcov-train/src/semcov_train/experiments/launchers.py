"""Launchers: how the pending runs of a plan are trained.

A launcher takes TrainConfigs and returns one :class:`Outcome` each. ``inprocess`` trains them
one after the other in this process; ``local`` in N worker processes on this machine (one
thread each); ``torchrun`` one run after the other, each on several GPUs through
``torch.distributed.run``; ``submitit`` as jobs of a SLURM cluster (or submitit's local and
debug executors); ``dry-run`` prints the command of each run and trains nothing. Every launcher
trains with ``resume=True``: an interrupted run continues from its last checkpoint.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch

from semcov_train import PRESETS, TrainConfig, run_directory, train
from semcov_train.inputs.split_parts import prepare_synthetic_parts
from semcov_train.rundir import RESULTS_FILE, read_results
from semcov_train.training.run_lock import RunDirectoryLocked

#: ``Outcome.error`` of a run another live process is training (a shard or worker elsewhere):
#: reported, not a failure.
LOCKED = "locked"

__all__ = [
    "LAUNCHERS",
    "LOCKED",
    "MAX_AUTO_WORKERS",
    "DryRun",
    "InProcess",
    "Launcher",
    "LocalWorkers",
    "Outcome",
    "Submitit",
    "Torchrun",
    "auto_launcher",
    "command_arguments",
    "cpu_workers",
    "make_launcher",
    "train_one",
]


@dataclass(frozen=True)
class Outcome:
    """What became of one launched run.

    Attributes:
        run_dir: its run directory.
        results: ``results.json`` of the finished run; empty when it failed or was not run.
        seconds: wall time of the run (0 when not run).
        error: the failure as one line, else None.
    """

    run_dir: Path
    results: Mapping[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None


#: Called as each run ends: ``(index of its config, its outcome)``.
Progress = Callable[[int, Outcome], None]


class Launcher(Protocol):
    """Anything with ``launch(configs, progress=None) -> list[Outcome]`` (one outcome per
    config, in order); a launcher that sees its runs end calls ``progress(index, outcome)`` for
    each as it ends, so a long grid reports as it goes."""

    def launch(
        self, configs: Sequence[TrainConfig], progress: Progress | None = None
    ) -> list[Outcome]: ...


def train_one(config: TrainConfig) -> Outcome:
    """Train (or resume) one run in this process; a failure becomes ``Outcome.error``.

    Module-level, so worker processes and submitit jobs can unpickle it.
    """
    start = time.perf_counter()
    try:
        result = train(config, resume=True)
    except RunDirectoryLocked as error:
        return Outcome(run_directory(config), {}, 0.0, f"{LOCKED}: {_line(error)}")
    except Exception as error:  # reported per run; the other runs go on
        return Outcome(run_directory(config), {}, time.perf_counter() - start, _line(error))
    return Outcome(result.run_dir, dict(result.results), time.perf_counter() - start)


def _line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}"


@dataclass(frozen=True)
class InProcess:
    """Train the runs one after the other in this process (under ``torchrun``: on every
    process, as one DDP run each). An error stops the grid and propagates, except a run that
    another process is training (``run_lock.RunDirectoryLocked``), which is reported and skipped."""

    def launch(
        self, configs: Sequence[TrainConfig], progress: Progress | None = None
    ) -> list[Outcome]:
        outcomes = []
        for index, config in enumerate(configs):
            start = time.perf_counter()
            try:
                result = train(config, resume=True)
            except RunDirectoryLocked as error:  # another process trains it: go on
                outcome = Outcome(run_directory(config), error=f"{LOCKED}: {_line(error)}")
            else:
                outcome = Outcome(result.run_dir, result.results, time.perf_counter() - start)
            outcomes.append(outcome)
            if progress is not None:
                progress(index, outcome)
        return outcomes


def _render_synthetic(configs: Sequence[TrainConfig]) -> None:
    """Render the synthetic benchmarks (pools and test draws) the runs need, here, before the
    workers start: they would otherwise render the same one side by side. A benchmark already
    rendered is only checked."""
    for config in configs:
        if config.dataset == "synthetic" and config.data_root is None:
            prepare_synthetic_parts(config)


def _single_thread() -> None:
    torch.set_num_threads(1)


@dataclass(frozen=True)
class LocalWorkers:
    """Train the runs in `workers` processes on this machine, each single-threaded.

    Small CPU models train faster as N one-thread runs side by side than one after the other
    with N threads each (``benchmarks/bench_launchers.py`` measures it). The processes are
    spawned (no fork of a process that may hold CUDA or thread pools); a failing run is
    reported in its outcome and the others go on.

    Raises:
        ValueError: `workers` < 1.
    """

    workers: int = 2

    def __post_init__(self) -> None:
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1:
            raise ValueError(f"workers must be an integer >= 1, got {self.workers!r}")

    def launch(
        self, configs: Sequence[TrainConfig], progress: Progress | None = None
    ) -> list[Outcome]:
        if not configs:
            return []
        # One thread each; no progress bars (several would interleave on one terminal: the
        # grid reports each run as it ends instead).
        configs = [dataclasses.replace(c, num_threads=1, progress=False) for c in configs]
        _render_synthetic(configs)
        with ProcessPoolExecutor(
            max_workers=min(self.workers, len(configs)),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_single_thread,
        ) as pool:
            futures = {pool.submit(train_one, config): i for i, config in enumerate(configs)}
            outcomes: dict[int, Outcome] = {}
            for future in as_completed(futures):
                index = futures[future]
                outcomes[index] = future.result()
                if progress is not None:
                    progress(index, outcomes[index])
        return [outcomes[i] for i in range(len(configs))]


def _cli_value(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def command_arguments(config: TrainConfig) -> list[str]:
    """The ``semcov-train`` arguments that rebuild `config`: method, dataset, preset and every
    field that differs from the preset, plus ``--resume``."""
    preset = PRESETS[config.preset].to_dict()
    arguments = ["--method", config.method, "--dataset", config.dataset]
    arguments += ["--preset", config.preset]
    for name, value in config.to_dict().items():
        if name in ("method", "dataset", "preset") or preset.get(name) == value:
            continue
        arguments += [f"--{name.replace('_', '-')}", _cli_value(value)]
    return [*arguments, "--resume"]


@dataclass(frozen=True)
class Torchrun:
    """Train each run on `nproc_per_node` processes (one per GPU) through
    ``python -m torch.distributed.run``, one run after the other.

    One node: ``--standalone``. Several (`nnodes` > 1): start the same grid on every node with
    its `node_rank` and the shared `rdzv_endpoint` (``host:port``).

    Raises:
        ValueError: `nproc_per_node` or `nnodes` < 1, or several nodes without an endpoint.
    """

    nproc_per_node: int = 1
    nnodes: int = 1
    node_rank: int = 0
    rdzv_endpoint: str | None = None
    python: str = sys.executable

    def __post_init__(self) -> None:
        if self.nproc_per_node < 1 or self.nnodes < 1:
            raise ValueError("nproc_per_node and nnodes must be >= 1")
        if self.nnodes > 1 and not self.rdzv_endpoint:
            raise ValueError("rdzv_endpoint (host:port) is needed with nnodes > 1")

    def command(self, config: TrainConfig) -> list[str]:
        """The command line that trains `config`."""
        command = [self.python, "-m", "torch.distributed.run"]
        command += ["--nproc-per-node", str(self.nproc_per_node)]
        if self.nnodes == 1:
            command.append("--standalone")
        else:
            command += ["--nnodes", str(self.nnodes), "--node-rank", str(self.node_rank)]
            command += ["--rdzv-backend", "c10d", "--rdzv-endpoint", str(self.rdzv_endpoint)]
        return [*command, "-m", "semcov_train", *command_arguments(config)]

    def launch(
        self, configs: Sequence[TrainConfig], progress: Progress | None = None
    ) -> list[Outcome]:
        outcomes = []
        for config in configs:
            start = time.perf_counter()
            process = subprocess.run(self.command(config), check=False)
            seconds = time.perf_counter() - start
            run_dir = run_directory(config)
            if process.returncode != 0:
                error = f"torchrun exited with status {process.returncode}"
                outcomes.append(Outcome(run_dir, {}, seconds, error))
                continue
            outcomes.append(Outcome(run_dir, _read_results(run_dir), seconds))
        return outcomes


def _read_results(run_dir: Path) -> dict:
    return read_results(run_dir) if (run_dir / RESULTS_FILE).is_file() else {}


@dataclass(frozen=True)
class Submitit:
    """Submit each run as a job through submitit (``pip install semcov-train[cluster]``).

    Args:
        folder: where submitit keeps job scripts and logs (``%j`` is the job id).
        cluster: ``slurm``, ``local`` (subprocesses on this machine), ``debug`` (in this
            process) or None (SLURM when ``sbatch`` is present, else local).
        parameters: executor parameters (``timeout_min``, ``slurm_partition``,
            ``gpus_per_node``, ``cpus_per_task``, ...), passed to ``update_parameters``.
        wait: wait for the jobs and return their outcomes (False: return at once with
            ``error="submitted: <job id>"``; the ``DONE`` markers say later which finished).
    """

    folder: str | Path = "runs/submitit/%j"
    cluster: str | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    wait: bool = True

    def launch(
        self, configs: Sequence[TrainConfig], progress: Progress | None = None
    ) -> list[Outcome]:
        try:
            import submitit
        except ModuleNotFoundError:
            raise ValueError(
                "the submitit launcher needs submitit: pip install 'semcov-train[cluster]'"
            ) from None
        if not configs:
            return []
        executor = submitit.AutoExecutor(folder=str(self.folder), cluster=self.cluster)
        executor.update_parameters(**dict(self.parameters))
        jobs = [executor.submit(train_one, config) for config in configs]
        if not self.wait:
            return [
                Outcome(run_directory(c), error=f"submitted: {j.job_id}")
                for c, j in zip(configs, jobs, strict=True)
            ]
        outcomes = []
        for config, job in zip(configs, jobs, strict=True):
            try:
                outcomes.append(job.result())
            except Exception as error:  # the job itself failed (node lost, time limit)
                outcomes.append(Outcome(run_directory(config), error=_line(error)))
        return outcomes


@dataclass(frozen=True)
class DryRun:
    """Print the ``semcov-train`` command of each run and train nothing."""

    stream: Any = None

    def launch(
        self, configs: Sequence[TrainConfig], progress: Progress | None = None
    ) -> list[Outcome]:
        stream = self.stream or sys.stdout
        for config in configs:
            arguments = ["semcov-train", *command_arguments(config)]
            print(" ".join(shlex.quote(a) for a in arguments), file=stream)
        return [Outcome(run_directory(c), error="dry run: not trained") for c in configs]


#: ``--launcher`` name -> the launcher class.
LAUNCHERS: dict[str, Callable[..., Launcher]] = {
    "inprocess": InProcess,
    "local": LocalWorkers,
    "torchrun": Torchrun,
    "submitit": Submitit,
    "dry-run": DryRun,
}


def make_launcher(name: str, **options: Any) -> Launcher:
    """The launcher registered as `name`, built with `options`.

    Raises:
        ValueError: an unknown name (the known ones listed).
    """
    if name not in LAUNCHERS:
        raise ValueError(f"launcher must be one of {', '.join(LAUNCHERS)}, got {name!r}")
    return LAUNCHERS[name](**options)


#: Local worker processes at most, when their number is not given.
MAX_AUTO_WORKERS = 8


def cpu_workers() -> int:
    """The CPU cores this process may use (its affinity where the system has one), at most
    :data:`MAX_AUTO_WORKERS`: the default number of single-thread local workers."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # no affinity on this system
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_AUTO_WORKERS))


def auto_launcher(preset: str, device: str, workers: int) -> tuple[str, dict[str, Any]]:
    """The launcher ``auto`` stands for: ``(name, options)`` for :func:`make_launcher`.

    On a GPU (``device`` ``cuda…``, or ``auto`` with CUDA present) and for the ``smoke`` preset
    (runs of seconds, shorter than a worker's start-up): ``inprocess``. Otherwise, with two or
    more `workers`: ``local`` with `workers` single-thread processes, since small models train
    faster as several one-thread runs than as one run on several threads (measured in the
    semcov-train README, "Running a grid"); with one worker, ``inprocess``.
    """
    gpu = device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())
    if gpu or preset == "smoke" or workers < 2:
        return "inprocess", {}
    return "local", {"workers": workers}
