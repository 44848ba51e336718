"""Run a plan: report what is skipped, train what is pending through a launcher, say how each
run ended; and pick each model's learning rate on validation AUC when a grid tunes it."""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

from semcov_train.rundir import read_results

from .launchers import LOCKED, InProcess, Launcher, Outcome
from .plan import Job, Plan, RunState

__all__ = ["LrChoice", "is_main_process", "report", "run_plan", "select_learning_rates"]


def is_main_process() -> bool:
    """Rank 0 under ``torchrun`` (every process trains; only rank 0 reports)."""
    return int(os.environ.get("RANK", "0")) == 0


def report(message: str) -> None:
    """A progress line on stderr (rank 0 only)."""
    if is_main_process():
        print(message, file=sys.stderr)


def _auc(outcome: Outcome) -> str:
    value = outcome.results.get("auc")
    return f"{value:.4f}" if isinstance(value, float) and not math.isnan(value) else "n/a"


def run_plan(
    plan: Plan, launcher: Launcher | None = None, log: Callable[[str], None] = report
) -> dict[str, str]:
    """Train the pending runs of `plan` with `launcher` (default :class:`InProcess`); finished
    runs are skipped, unfinished ones resume. Returns method -> why it was not run.

    Raises:
        ValueError: some runs failed (how many, and the first failure).
    """
    launcher = launcher or InProcess()
    for job in plan.jobs:
        if job.not_run is not None:
            if job.not_run not in {j.not_run for j in plan.jobs[: plan.jobs.index(job)]}:
                log(f"{job.label}: not run: {job.not_run}")
        elif job.state is RunState.FINISHED:
            log(f"{job.label}: finished earlier ({job.run_dir})")
    pending: list[Job] = list(plan.pending)
    for job in pending:
        log(f"{job.label}: {'resuming' if job.state is RunState.UNFINISHED else 'training'}")
    reported: list[int] = []

    def ended(index: int, outcome: Outcome) -> None:
        reported.append(index)
        job = pending[index]
        if outcome.error is None:
            text = f"test AUC {_auc(outcome)} ({outcome.seconds:.0f} s)"
        else:
            text = outcome.error
        log(f"[{len(reported)}/{len(pending)} ended] {job.label}: {text}")

    outcomes = launcher.launch([job.config for job in pending], progress=ended)
    failed = []
    for index, (job, outcome) in enumerate(zip(pending, outcomes, strict=True)):
        if index not in reported:  # a launcher that does not see its runs end
            ended(index, outcome)
        if outcome.error is not None and not outcome.error.startswith(
            ("dry run", "submitted", LOCKED)
        ):
            failed.append((job, outcome.error))
    if failed:
        job, error = failed[0]
        raise ValueError(
            f"{len(failed)} of {len(pending)} runs failed; first: {job.label}: {error}"
        )
    return dict(plan.unavailable)


@dataclass(frozen=True)
class LrChoice:
    """The learning rate chosen for one (experiment, method, modality) of a tuning grid.

    Attributes:
        experiment: the grid's experiment (without the ``-lr`` suffix).
        method, modality: the model.
        lr: the chosen learning rate (None: no candidate has a finished run).
        val_auc: the chosen candidate's mean validation AUC over its finished runs.
        candidates: lr -> (mean validation AUC, finished runs) of every candidate.
        run_dirs: the finished run directories of the chosen lr.
    """

    experiment: str
    method: str
    modality: str
    lr: float | None
    val_auc: float
    candidates: tuple[tuple[float, float, int], ...]
    run_dirs: tuple[str, ...]


def select_learning_rates(plan: Plan) -> list[LrChoice]:
    """Per model of every lr-tuning grid of `plan`: the learning rate with the highest mean
    validation AUC (``results.json``'s ``val_auc``, the best epoch's) over its finished folds
    and seeds; ties go to the smaller lr.

    paper: "learning rate tuned in [1e-4, 3e-4]", the selection rule not stated; here: per
    model and modality, the candidate with the best mean validation AUC over all its runs, the
    same lr for every fold (test splits are never looked at).
    """
    groups: dict[tuple[str, str, str], dict[float, list[tuple[float, str]]]] = {}
    for grid in plan.grids:
        if not grid.tunes_lr:
            continue
        for job in plan.jobs:
            if job.run.group != grid.experiment or job.state is not RunState.FINISHED:
                continue
            if not any(job.run.experiment == f"{grid.experiment}-lr{lr:g}" for lr in grid.lrs):
                continue
            key = (grid.experiment, job.run.method, job.run.modality)
            value = read_results(job.run_dir).get("val_auc")
            val_auc = float(value) if isinstance(value, (int, float)) else math.nan
            by_lr = groups.setdefault(key, {float(lr): [] for lr in grid.lrs})
            by_lr[float(job.config.lr)].append((val_auc, str(job.run_dir)))
    choices = []
    for (experiment, method, modality), by_lr in groups.items():
        candidates = []
        for lr, runs in sorted(by_lr.items()):
            values = [v for v, _ in runs if not math.isnan(v)]
            mean = sum(values) / len(values) if values else math.nan
            candidates.append((lr, mean, len(runs)))
        scored = [c for c in candidates if not math.isnan(c[1])]
        best = max(scored, key=lambda c: (c[1], -c[0])) if scored else None
        choices.append(
            LrChoice(
                experiment,
                method,
                modality,
                None if best is None else best[0],
                math.nan if best is None else best[1],
                tuple(candidates),
                tuple(d for _, d in by_lr[best[0]]) if best is not None else (),
            )
        )
    return choices
