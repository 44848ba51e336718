"""Checkpoint and resume: a run killed with SIGKILL and resumed ends with exactly the test
metrics of an uninterrupted run (CPU), and the run directory guards against mix-ups."""

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

import semcov_train.training.run_checkpoints as checkpoints_module
import semcov_train.training.trainer as trainer_module
from semcov_train import PRESETS, run_directory, train

TIMING_COLUMNS = ("epoch_seconds", "train_images_per_s")


def _history(run_dir) -> pd.DataFrame:
    return pd.read_csv(run_dir / "history.csv").drop(columns=list(TIMING_COLUMNS))


def _cli(config) -> list[str]:
    return [
        sys.executable,
        "-m",
        "semcov_train",
        "--method",
        config.method,
        "--dataset",
        config.dataset,
        "--preset",
        config.preset,
        "--out",
        config.out,
        "--cache-dir",
        config.cache_dir,
        "--epochs",
        str(config.epochs),
        "--num-workers",
        str(config.num_workers),
        "--num-threads",
        str(config.num_threads),
    ]


def test_sigkilled_run_resumes_to_identical_results(smoke, tmp_path):
    options = {"method": "semcovnet", "epochs": 4, "num_workers": 1}
    reference = train(smoke(**options, out=str(tmp_path / "uninterrupted")))

    config = smoke(**options, out=str(tmp_path / "killed"))
    run_dir = run_directory(config)
    last = run_dir / "checkpoints" / "last.pt"
    process = subprocess.Popen(
        _cli(config),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the kill takes its loader workers too
    )
    try:
        deadline = time.monotonic() + 240
        while not last.is_file():
            if process.poll() is not None:
                pytest.fail(f"the training process ended early: {process.stderr.read()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail("no checkpoint was written in time")
            time.sleep(0.005)
        time.sleep(0.05)  # into the next epoch
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    assert not (run_dir / "DONE").exists()
    killed_after = torch.load(last, weights_only=True)["epoch"]
    assert 1 <= killed_after < config.epochs

    resumed = train(config, resume=True)
    assert resumed.results == reference.results
    assert json.loads((run_dir / "results.json").read_text()) == reference.results
    pd.testing.assert_frame_equal(_history(run_dir), _history(reference.run_dir))
    expected = pd.read_parquet(reference.run_dir / "predictions.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(run_dir / "predictions.parquet"), expected)


class _Killed(BaseException):
    """Stands in for SIGKILL inside the test process."""


@pytest.mark.parametrize("method", ["cas_cutmix", "groupdro", "semantic_scale", "nir"])
def test_interrupted_run_resumes_to_identical_results(method, smoke, tmp_path, monkeypatch):
    options = {"method": method, "epochs": 3}
    reference = train(smoke(**options, out=str(tmp_path / "uninterrupted")))

    config = smoke(**options, out=str(tmp_path / "interrupted"))
    real_save = checkpoints_module.save_checkpoint
    saved = []

    def save_then_die(path, state):
        real_save(path, state)
        saved.append(path.name)
        if saved.count("last.pt") == 2:  # dies right after the second epoch's checkpoint
            raise _Killed

    monkeypatch.setattr(checkpoints_module, "save_checkpoint", save_then_die)
    with pytest.raises(_Killed):
        train(config)
    monkeypatch.setattr(checkpoints_module, "save_checkpoint", real_save)
    resumed = train(config, resume=True)
    assert resumed.results == reference.results
    pd.testing.assert_frame_equal(_history(resumed.run_dir), _history(reference.run_dir))


def test_finished_run_is_returned_on_resume_and_guarded_otherwise(smoke):
    config = smoke(method="erm")
    first = train(config)
    stamp = (first.run_dir / "results.json").stat().st_mtime_ns
    again = train(config, resume=True)
    assert again.results == first.results
    assert (first.run_dir / "results.json").stat().st_mtime_ns == stamp
    with pytest.raises(ValueError, match="already holds a finished run; pass --resume"):
        train(config)
    # another setting is another run (its own directory); a runtime field is the same run
    assert trainer_module.finished_results(config) == first.results
    other = config.replace(lr=3e-3)
    assert run_directory(other) != first.run_dir
    assert trainer_module.finished_results(other) is None
    assert trainer_module.finished_results(config.replace(num_threads=2)) == first.results
    # a finished run whose stored settings differ (its preset was redefined since) is never
    # returned as if it were this one
    stored = json.loads((first.run_dir / "config.json").read_text())
    stored["config"]["lr"] = 2e-3
    (first.run_dir / "config.json").write_text(json.dumps(stored))
    with pytest.raises(ValueError, match=r"other settings \(lr: 0\.002 -> 0\.001\)"):
        train(config, resume=True)


def test_resume_with_other_settings_names_the_field(smoke, monkeypatch):
    config = smoke(method="erm", epochs=2)
    real_save = checkpoints_module.save_checkpoint

    def die(path, state):
        real_save(path, state)
        if path.name == "last.pt":
            raise _Killed

    monkeypatch.setattr(checkpoints_module, "save_checkpoint", die)
    with pytest.raises(_Killed):
        train(config)
    monkeypatch.setattr(checkpoints_module, "save_checkpoint", real_save)
    with pytest.raises(ValueError, match="holds an unfinished run; pass --resume"):
        train(config)
    run_dir = run_directory(config)
    assert run_directory(config.replace(lr=2e-3)) != run_dir  # another run
    # the same run directory after the preset was redefined: the checkpoint's settings differ
    redefined = PRESETS["smoke"].replace(lr=2e-3)
    monkeypatch.setitem(PRESETS, "smoke", redefined)
    changed = smoke(method="erm", epochs=2)
    assert run_directory(changed) == run_dir
    with pytest.raises(ValueError, match=r"lr: 0\.001 -> 0\.002"):
        train(changed, resume=True)
    monkeypatch.undo()
    assert train(config.replace(progress=True), resume=True).results["epochs_completed"] == 2
