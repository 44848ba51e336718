"""SIGTERM (a scheduler's preemption): the step in progress ends, a checkpoint is written, and
``--resume`` continues inside the epoch to exactly the results of an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import torch

from semcov_train import run_directory, train
from semcov_train.training.preemption import PREEMPTED_EXIT_CODE, TrainingPreempted

TIMING_COLUMNS = ("epoch_seconds", "train_images_per_s")


def _history(run_dir) -> pd.DataFrame:
    return pd.read_csv(run_dir / "history.csv").drop(columns=list(TIMING_COLUMNS))


def _weights(run_dir, name="last.pt") -> dict:
    return torch.load(run_dir / "checkpoints" / name, weights_only=True)["model"]


def _assert_same_run(run_dir, reference) -> None:
    assert json.loads((run_dir / "results.json").read_text()) == reference.results
    pd.testing.assert_frame_equal(_history(run_dir), _history(reference.run_dir))
    for name in ("last.pt", "best.pt"):
        ours, theirs = _weights(run_dir, name), _weights(reference.run_dir, name)
        assert ours.keys() == theirs.keys()
        for key in ours:
            assert torch.equal(ours[key], theirs[key]), f"{name}: {key} differs"
    pd.testing.assert_frame_equal(
        pd.read_parquet(run_dir / "predictions.parquet"),
        pd.read_parquet(reference.run_dir / "predictions.parquet"),
    )


def _sigterm_after_steps(monkeypatch, steps: int) -> list[int]:
    """Send this process a real SIGTERM right after optimisation step ``steps``."""
    real_step = torch.optim.lr_scheduler.LambdaLR.step
    done = []

    def step(self, *args, **kwargs):
        real_step(self, *args, **kwargs)
        done.append(1)
        # LambdaLR steps once when it is built; the optimisation steps follow
        if len(done) == steps + 1:
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(torch.optim.lr_scheduler.LambdaLR, "step", step)
    return done


@pytest.mark.parametrize(
    ("method", "stop_after", "workers"),
    [("semcovnet", 6, 0), ("cas_cutmix", 2, 1)],
    ids=["semcovnet-epoch2-step2", "cas_cutmix-epoch1-step2-worker"],
)
def test_sigterm_inside_an_epoch_resumes_to_identical_results(
    method, stop_after, workers, smoke, tmp_path, monkeypatch
):
    # dropout: the model draws from the RNG, so the RNG state at the stop must come back
    options = {"method": method, "epochs": 2, "num_workers": workers, "drop_rate": 0.2}
    reference = train(smoke(**options, out=str(tmp_path / "uninterrupted")))
    resolved = json.loads((reference.run_dir / "config.json").read_text())["resolved"]
    steps_per_epoch = resolved["n_train"] // smoke().batch_size  # drop_last
    assert stop_after % steps_per_epoch, "the stop must fall inside an epoch"

    config = smoke(**options, out=str(tmp_path / "preempted"))
    with monkeypatch.context() as patch:
        _sigterm_after_steps(patch, stop_after)
        with pytest.raises(TrainingPreempted) as stopped:
            train(config)
    run_dir = run_directory(config)
    checkpoint = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)
    assert checkpoint["progress"] is not None, "the checkpoint was not written inside the epoch"
    assert checkpoint["progress"]["step"] == stopped.value.step == stop_after % steps_per_epoch
    assert checkpoint["epoch"] == stopped.value.epoch == stop_after // steps_per_epoch
    assert not (run_dir / "DONE").exists()
    # the handler is gone after train(): SIGTERM has its usual meaning again
    assert signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None)

    resumed = train(config, resume=True)
    assert resumed.results == reference.results
    _assert_same_run(run_dir, reference)


def _cli(config) -> list[str]:
    line = [sys.executable, "-m", "semcov_train", "--method", config.method]
    line += ["--dataset", config.dataset, "--preset", config.preset, "--out", config.out]
    line += ["--cache-dir", config.cache_dir, "--epochs", str(config.epochs)]
    return [*line, "--num-threads", "1", "--drop-rate", str(config.drop_rate)]


def test_sigterm_on_the_command_line_exits_75_and_resumes(smoke, tmp_path):
    options = {"method": "erm", "epochs": 4, "drop_rate": 0.2}
    reference = train(smoke(**options, out=str(tmp_path / "uninterrupted")))
    config = smoke(**options, out=str(tmp_path / "preempted"))
    run_dir = run_directory(config)
    last = run_dir / "checkpoints" / "last.pt"
    process = subprocess.Popen(_cli(config), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 300
        while not last.is_file():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"no checkpoint in time: {process.stderr.read()[-2000:]!r}")
            time.sleep(0.005)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
    lines = stderr.decode().strip().splitlines()
    assert process.returncode == PREEMPTED_EXIT_CODE, lines[-5:]
    assert "stopped on SIGTERM" in lines[-1] and "--resume" in lines[-1]
    assert not any("Traceback" in line for line in lines)
    # one step and a checkpoint, not the rest of the run: the checkpoint is of an epoch before
    # the last, and no run ended
    assert torch.load(last, weights_only=True)["epoch"] < config.epochs
    assert not (run_dir / "DONE").exists()
    resumed = subprocess.run([*_cli(config), "--resume"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    _assert_same_run(run_dir, reference)
