"""The learning-rate schedule (paper §4.1: warm-up at lr/10, then cosine) and the training
state: its epoch bookkeeping and its round trip through ``last.pt``."""

from __future__ import annotations

import math
from dataclasses import replace
from itertools import pairwise

import pytest
import torch
from torch import nn

from semcov_train import make_config
from semcov_train.runtime.checkpoint import load_checkpoint
from semcov_train.runtime.distributed import DistContext, uniform_sampler
from semcov_train.training.run_checkpoints import CHECKPOINT_FORMAT, RunCheckpoints
from semcov_train.training.schedule import cosine_schedule, lr_factor
from semcov_train.training.setup import TrainingParts
from semcov_train.training.state import TrainingState
from semcov_train.training.train_step import TrainStep

PAPER = {"warmup_factor": 0.1, "min_lr_ratio": 0.0}


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (0, 0.1),  # the warm-up is flat at lr/10, not a ramp
        (3, 0.1),
        (4, 1.0),  # the first step after it starts the cosine at lr
        (6, 0.5 * (1 + math.cos(math.pi / 4))),  # a quarter of the cycle: 0.853553...
        (8, 0.5),  # half of it
        (12, 0.0),  # the end of the run
        (20, 0.0),  # held there (a resumed run with more steps never climbs back)
    ],
)
def test_lr_factor_warms_up_then_follows_one_cosine(step, expected):
    factor = lr_factor(step, warmup_steps=4, total_steps=12, **PAPER)
    assert factor == pytest.approx(expected, abs=1e-12)


def test_lr_factor_floor_and_edge_cases():
    floor = {"warmup_factor": 0.1, "min_lr_ratio": 0.2}
    assert lr_factor(8, warmup_steps=4, total_steps=12, **floor) == pytest.approx(0.6)
    assert lr_factor(12, warmup_steps=4, total_steps=12, **floor) == pytest.approx(0.2)
    # no warm-up: the cycle starts at lr on the first step
    assert lr_factor(0, warmup_steps=0, total_steps=10, **PAPER) == 1.0
    # a run that is all warm-up (epochs == warmup_epochs) does not divide by zero
    assert lr_factor(4, warmup_steps=4, total_steps=4, **PAPER) == 1.0
    assert lr_factor(5, warmup_steps=4, total_steps=4, **PAPER) == pytest.approx(0.0)


def test_cosine_schedule_sets_the_optimizer_lr_per_step():
    config = make_config("smoke", epochs=3, warmup_epochs=1, lr=1e-3, **PAPER)
    optimizer = torch.optim.SGD(nn.Linear(2, 1).parameters(), lr=config.lr)
    scheduler = cosine_schedule(optimizer, config, steps_per_epoch=4)
    seen = []
    for _ in range(12):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert seen[:4] == pytest.approx([1e-4] * 4)  # one epoch at lr/10
    assert seen[4] == pytest.approx(1e-3)
    assert seen[8] == pytest.approx(0.5e-3)
    assert seen[11] == pytest.approx(1e-3 * 0.5 * (1 + math.cos(math.pi * 7 / 8)))
    assert all(a > b for a, b in pairwise(seen[4:]))
    # a plain function as the lambda: last.pt's scheduler state has no lambda attributes
    assert scheduler.state_dict()["lr_lambdas"] == [None]


def test_finish_epoch_tracks_the_best_epoch_and_stops_after_patience():
    state = TrainingState()
    state, best = state.finish_epoch({"epoch": 1}, float("nan"), patience=2)
    # an undefined AUC keeps the first epoch as the best until a defined one comes
    assert best and (state.epoch, state.best_epoch, state.best_auc) == (1, 1, None)
    state, best = state.finish_epoch({"epoch": 2}, 0.7, patience=2)
    assert best and (state.best_epoch, state.best_auc, state.bad_epochs) == (2, 0.7, 0)
    state, best = state.finish_epoch({"epoch": 3}, float("nan"), patience=2)
    assert not best and state.bad_epochs == 1 and not state.stopped_early
    state, best = state.finish_epoch({"epoch": 4}, 0.7, patience=2)  # equal is not better
    assert not best and state.bad_epochs == 2 and state.stopped_early
    assert state.history == [{"epoch": e} for e in (1, 2, 3, 4)]
    assert state.best_epoch == 2 and state.progress is None


def _parts(config) -> tuple[TrainingParts, object]:
    context = DistContext()
    model, objective = nn.Linear(3, 2), nn.Linear(1, 1, bias=False)
    step = TrainStep(model, objective, context, None)
    optimizer = torch.optim.Adam(step.parameters(), lr=config.lr)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    scheduler = cosine_schedule(optimizer, config, steps_per_epoch=5)
    parts = TrainingParts(model, objective, step, step, optimizer, scheduler, scaler, None, None)
    return parts, uniform_sampler(10, context, seed=7)


def test_training_state_round_trips_through_last_checkpoint(tmp_path):
    config = make_config("smoke", epochs=4)
    torch.manual_seed(0)
    parts, sampler = _parts(config)
    for _ in range(7):  # some optimisation, so that every state is non-trivial
        parts.optimizer.zero_grad()
        parts.model(torch.randn(4, 3)).sum().backward()
        parts.optimizer.step()
        parts.scheduler.step()
    progress = {"step": 2, "sums": {"loss": torch.tensor(1.5)}, "seen": 8, "lr": 1e-3}
    state = TrainingState(
        epoch=1,
        history=[{"epoch": 1, "lr": 1e-4, "val_auc": 0.625}],
        best_auc=0.625,
        best_epoch=1,
        bad_epochs=0,
        stopped_early=False,
        progress=progress,
    )
    checkpoints = RunCheckpoints(tmp_path / "run", config, DistContext())
    checkpoints.save_last(state, parts, sampler)

    stored = load_checkpoint(checkpoints.last)
    # the layout of last.pt: the format, then the state's fields as top-level keys
    assert list(stored)[:8] == ["format", *TrainingState().to_checkpoint()]
    assert stored["format"] == CHECKPOINT_FORMAT
    assert stored["sampler"] == {"epoch": 1, "seed": 7}

    torch.manual_seed(1)
    fresh, fresh_sampler = _parts(config)
    restored = checkpoints.restore_last(fresh, fresh_sampler)
    assert restored.progress is not None
    assert torch.equal(restored.progress["sums"]["loss"], progress["sums"]["loss"])
    assert restored.progress["step"] == 2 and restored.progress["lr"] == 1e-3
    assert replace(restored, progress=None) == replace(state, progress=None)
    for name, value in parts.model.state_dict().items():
        assert torch.equal(fresh.model.state_dict()[name], value)
    assert fresh.scheduler.last_epoch == parts.scheduler.last_epoch == 7
    assert fresh.optimizer.param_groups[0]["lr"] == parts.optimizer.param_groups[0]["lr"]
    assert fresh_sampler.epoch == 1


def test_training_state_from_an_older_checkpoint_keeps_defaults():
    restored = TrainingState.from_checkpoint({"format": 1, "epoch": 3, "model": {}})
    assert restored == TrainingState(epoch=3)


def test_restore_refuses_other_settings(tmp_path):
    config = make_config("smoke", epochs=4)
    parts, sampler = _parts(config)
    RunCheckpoints(tmp_path, config, DistContext()).save_last(TrainingState(), parts, sampler)
    other = RunCheckpoints(tmp_path, config.replace(lr=5e-3), DistContext())
    with pytest.raises(ValueError, match=r"other settings \(lr: "):
        other.restore_last(*_parts(config))
