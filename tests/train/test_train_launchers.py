"""The launchers of semcov_train.experiments: two local worker processes train two smoke runs,
submitit's local executor trains one, the torchrun command rebuilds the run's config."""

from __future__ import annotations

import io
import json
import sys

import pytest

from semcov_train.cli import config_from_args
from semcov_train.experiments import (
    DryRun,
    Grid,
    LocalWorkers,
    Submitit,
    Torchrun,
    command_arguments,
    make_launcher,
    plan,
    run_plan,
)


def _settings(smoke):
    config = smoke()
    return {"dataset": "synthetic", "out": config.out, "cache_dir": config.cache_dir}


def test_local_workers_train_two_smoke_runs(smoke, capsys):
    grid = Grid("workers", ["erm", "semcovnet"], ["dermoscopic"])
    jobs = plan(grid, "smoke", _settings(smoke))
    outcomes = LocalWorkers(2).launch([job.config for job in jobs.jobs])
    assert [o.error for o in outcomes] == [None, None]
    for job, outcome in zip(jobs.jobs, outcomes, strict=True):
        assert outcome.run_dir == job.run_dir and (job.run_dir / "DONE").is_file()
        stored = json.loads((job.run_dir / "results.json").read_text())
        assert stored["method"] == job.run.method and stored["auc"] == outcome.results["auc"]
        config = json.loads((job.run_dir / "config.json").read_text())["config"]
        assert config["num_threads"] == 1  # each worker trains single-threaded
    again = plan(grid, "smoke", _settings(smoke))
    assert again.pending == ()
    assert LocalWorkers(2).launch([]) == []


def test_local_worker_failure_is_reported_per_run(smoke, tmp_path):
    settings = {**_settings(smoke), "dataset": "milk10k", "data_root": str(tmp_path / "none")}
    jobs = plan(Grid("bad", ["erm"], ["dermoscopic"]), "smoke", settings)
    (outcome,) = LocalWorkers(1).launch([job.config for job in jobs.jobs])
    assert outcome.error is not None and "ValueError" in outcome.error
    with pytest.raises(ValueError, match="1 of 1 runs failed; first: \\[1/1\\] bad erm"):
        run_plan(jobs, LocalWorkers(1), log=lambda _: None)
    with pytest.raises(ValueError, match="workers must be an integer >= 1"):
        LocalWorkers(0)


def test_submitit_local_executor_trains_one_smoke_run(smoke, tmp_path):
    pytest.importorskip("submitit")
    jobs = plan(Grid("slurm", ["erm"], ["clinical"]), "smoke", _settings(smoke))
    launcher = Submitit(
        tmp_path / "submitit" / "%j", cluster="local", parameters={"timeout_min": 10}
    )
    (outcome,) = launcher.launch([jobs.jobs[0].config])
    assert outcome.error is None, outcome.error
    run_dir = jobs.jobs[0].run_dir
    assert (run_dir / "DONE").is_file()
    assert json.loads((run_dir / "results.json").read_text())["auc"] == outcome.results["auc"]
    assert any((tmp_path / "submitit").rglob("*_log.out"))  # submitit's own job files


def test_torchrun_command_rebuilds_the_config(smoke):
    grid = Grid(
        "ddp",
        ["semcovnet"],
        ["dermoscopic"],
        folds=[3],
        seeds=[11],
        switches={"use_cdi": False, "lr": 2e-4, "descriptors_csv": None},
    )
    (job,) = plan(grid, "smoke", {**_settings(smoke), "device": "cuda"}).jobs
    command = Torchrun(nproc_per_node=4).command(job.config)
    assert command[:6] == [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node",
        "4",
        "--standalone",
    ]
    assert command[6:8] == ["-m", "semcov_train"] and command[-1] == "--resume"
    rebuilt, resume = config_from_args(command[8:])
    assert rebuilt == job.config and resume is True
    nodes = Torchrun(nproc_per_node=8, nnodes=2, node_rank=1, rdzv_endpoint="head:29500")
    multi = nodes.command(job.config)
    assert "--standalone" not in multi
    i = multi.index("--nnodes")
    assert multi[i : i + 8] == [
        "--nnodes",
        "2",
        "--node-rank",
        "1",
        "--rdzv-backend",
        "c10d",
        "--rdzv-endpoint",
        "head:29500",
    ]
    with pytest.raises(ValueError, match="rdzv_endpoint"):
        Torchrun(nnodes=2)


def test_dry_run_prints_commands_and_trains_nothing(smoke):
    stream = io.StringIO()
    jobs = plan(Grid("dry", ["erm", "asl"], ["clinical"]), "smoke", _settings(smoke))
    outcomes = make_launcher("dry-run", stream=stream).launch([j.config for j in jobs.jobs])
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("semcov-train --method erm")
    assert all(o.error == "dry run: not trained" for o in outcomes)
    assert not any(job.run_dir.exists() for job in jobs.jobs)
    assert command_arguments(jobs.jobs[1].config)[:2] == ["--method", "asl"]
    with pytest.raises(ValueError, match="launcher must be one of inprocess, local"):
        make_launcher("mpi")
    assert isinstance(DryRun(), DryRun)


def test_experiments_command_line_dry_run_and_bad_options(smoke, capsys):
    from semcov_train.experiments.__main__ import main

    config = smoke()
    argv = [
        "--experiment",
        "cli",
        "--methods",
        "erm",
        "asl",
        "--preset",
        "smoke",
        "--runs",
        config.out,
        "--cache-dir",
        config.cache_dir,
        "--launcher",
        "dry-run",
        "--folds",
        "2",
        "--shard",
        "1/2",
    ]
    assert main(argv) == 0
    captured = capsys.readouterr()
    commands = [line for line in captured.out.splitlines() if line.startswith("semcov-train")]
    # shard 1 of 2 of the 4-run grid: the 2nd and 4th runs (erm fold 1, asl fold 1)
    assert len(commands) == 2
    assert all("--fold 1" in c for c in commands)
    assert "--method erm" in commands[0] and "--method asl" in commands[1]
    assert "[2/4] cli erm auto fold1 seed0: dry run: not trained" in captured.err
    with pytest.raises(SystemExit) as error:
        main(["--experiment", "cli", "--methods", "nope"])
    assert error.value.code == 2
    assert "--methods: ['nope'] are not among" in capsys.readouterr().err
