"""semcov_train.experiments: grids expand as declared, finished runs are skipped, unfinished
ones resume, runs trained with other settings are refused by name, shards partition a grid."""

from __future__ import annotations

import itertools
import json

import pytest

from semcov_train import make_config, run_directory
from semcov_train.experiments import (
    Grid,
    InProcess,
    RunState,
    lr_experiment,
    parse_shard,
    plan,
    run_plan,
    select_learning_rates,
    shard,
)


def _settings(smoke):
    config = smoke()
    return {
        "dataset": "synthetic",
        "out": config.out,
        "cache_dir": config.cache_dir,
        "num_threads": 1,
    }


def test_grid_expands_to_the_cartesian_product_in_order():
    grid = Grid(
        "abl",
        methods=["erm", "semcovnet"],
        modalities=("dermoscopic", "clinical"),
        folds=range(3),
        seeds=[0, 7],
        switches={"use_cdi": False},
        method_switches={
            "semcovnet": {"dermoscopic": {"semcov_order": "mixture", "use_cdi": True}}
        },
    )
    runs = grid.runs()
    expected = list(
        itertools.product(["erm", "semcovnet"], ["dermoscopic", "clinical"], range(3), [0, 7])
    )
    assert [(r.method, r.modality, r.fold, r.seed) for r in runs] == expected
    assert len(grid) == 24 and {r.experiment for r in runs} == {"abl"}
    by_key = {(r.method, r.modality): dict(r.switches) for r in runs}
    # the grid's own switches win over the per-method ones
    assert by_key[("semcovnet", "dermoscopic")] == {"semcov_order": "mixture", "use_cdi": False}
    assert by_key[("semcovnet", "clinical")] == {"use_cdi": False}
    assert by_key[("erm", "dermoscopic")] == {"use_cdi": False}
    config = runs[-1].config("smoke", {"dataset": "synthetic"})
    assert (config.method, config.modality, config.fold, config.seed) == (
        "semcovnet",
        "clinical",
        2,
        7,
    )
    assert config.use_cdi is False and config.preset == "smoke"
    # frozen, hashable data: the same declaration is the same grid
    same = Grid(
        "abl",
        ("erm", "semcovnet"),
        ["dermoscopic", "clinical"],
        (0, 1, 2),
        (0, 7),
        {"use_cdi": False},
        {"semcovnet": {"dermoscopic": {"use_cdi": True, "semcov_order": "mixture"}}},
    )
    assert same == grid and hash(same) == hash(grid)


def test_grid_over_learning_rates_gives_each_candidate_its_experiment():
    grid = Grid("t1", ["erm"], ["clinical"], folds=[0, 1], lrs=[1e-4, 2e-4, 3e-4])
    runs = grid.runs()
    assert len(runs) == 6
    assert [r.experiment for r in runs[::2]] == ["t1-lr0.0001", "t1-lr0.0002", "t1-lr0.0003"]
    assert {r.group for r in runs} == {"t1"}
    assert [dict(r.switches)["lr"] for r in runs[::2]] == [1e-4, 2e-4, 3e-4]
    one = Grid("t1", ["erm"], lrs=[5e-4]).runs()
    assert one[0].experiment == "t1" and dict(one[0].switches) == {"lr": 5e-4}
    assert lr_experiment("x", 2.5e-4) == "x-lr0.00025"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"methods": []}, "methods must not be empty"),
        ({"folds": [0, 0]}, "folds repeats"),
        ({"folds": [-1]}, "folds must be integers >= 0"),
        ({"switches": {"lr_typo": 1}}, "'lr_typo' is not a TrainConfig field"),
        ({"switches": {"fold": 1}}, "'fold' names the run"),
        ({"lrs": [0.0]}, "lrs must be positive"),
        ({"method_switches": {"erm": {"clinical": {"nope": 1}}}}, "method_switches['erm']"),
    ],
)
def test_grid_rejects_bad_declarations(kwargs, message):
    values = {"experiment": "x", "methods": ["erm"], **kwargs}
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Grid(**values)
    with pytest.raises(TypeError, match="methods must be a sequence"):
        Grid("x", "erm")


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7])
def test_shards_partition_the_grid(n):
    runs = Grid("x", ["erm", "asl"], ["dermoscopic", "clinical"], folds=range(5)).runs()
    parts = [shard(runs, k, n) for k in range(n)]
    flat = [r for part in parts for r in part]
    assert sorted(flat, key=runs.index) == list(runs)  # every run exactly once
    assert len(flat) == len(set(flat)) == 20
    assert max(map(len, parts)) - min(map(len, parts)) <= 1


def test_parse_shard():
    assert parse_shard("2/4") == (2, 4)
    for bad in ("4/4", "-1/2", "1", "a/b", "0/0"):
        with pytest.raises(ValueError, match="shard must be k/N"):
            parse_shard(bad)


def test_plan_skips_finished_resumes_unfinished_and_refuses_other_settings(smoke, capsys):
    settings = _settings(smoke)
    grid = Grid("exp", ["erm"], ["dermoscopic", "clinical"])
    first = plan(grid, "smoke", settings)
    assert [job.state for job in first.jobs] == [RunState.NEW, RunState.NEW]
    assert run_plan(first, InProcess()) == {}
    assert all((job.run_dir / "DONE").is_file() for job in first.jobs)
    assert "[2/2] exp erm clinical fold0 seed0: training" in capsys.readouterr().err

    again = plan(grid, "smoke", settings)
    assert [job.state for job in again.jobs] == [RunState.FINISHED, RunState.FINISHED]
    assert again.pending == ()
    run_plan(again)
    assert capsys.readouterr().err.count("finished earlier") == 2

    # an interrupted run (checkpoint, no DONE) resumes and ends like the original
    interrupted = first.jobs[1].run_dir
    original = json.loads((interrupted / "results.json").read_text())
    (interrupted / "DONE").unlink()
    (interrupted / "results.json").unlink()
    third = plan(grid, "smoke", settings)
    assert [job.state for job in third.jobs] == [RunState.FINISHED, RunState.UNFINISHED]
    run_plan(third)
    assert "exp erm clinical fold0 seed0: resuming" in capsys.readouterr().err
    resumed = json.loads((interrupted / "results.json").read_text())
    assert resumed["auc"] == original["auc"]

    # other settings give other run directories (the settings level of the path) ...
    other = Grid("exp", ["erm"], ["dermoscopic", "clinical"], switches={"lr": 5e-3})
    assert [job.state for job in plan(other, "smoke", settings).jobs] == [RunState.NEW] * 2
    assert {job.run_dir.parent for job in plan(other, "smoke", settings).jobs}.isdisjoint(
        {job.run_dir.parent for job in first.jobs}
    )
    # ... and a run directory whose stored settings differ is refused before anything trains
    finished = first.jobs[0].run_dir / "config.json"
    stored = json.loads(finished.read_text())
    stored["config"]["lr"] = 5e-3
    finished.write_text(json.dumps(stored))
    with pytest.raises(ValueError, match=r"trained with other settings \(lr: 0.005 -> 0.001\)"):
        plan(grid, "smoke", settings)
    (interrupted / "DONE").unlink()
    started = interrupted / "config.json"
    stored = json.loads(started.read_text())
    stored["config"]["epochs"] = 7
    started.write_text(json.dumps(stored))
    with pytest.raises(ValueError, match=r"unfinished run started with other settings \(epochs"):
        plan(Grid("exp", ["erm"], ["clinical"]), "smoke", settings)


def test_plan_reports_methods_that_cannot_run_and_trains_the_rest(smoke, tmp_path):
    settings = {**_settings(smoke), "weights": str(tmp_path / "no-weights")}
    result = plan(Grid("w", ["clip"], ["dermoscopic"]), "smoke", settings)
    assert result.jobs[0].state is None and "weights not found" in result.jobs[0].not_run
    assert set(result.unavailable) == {"clip"} and result.pending == ()


def test_plan_of_a_shard_keeps_the_grid_numbering(smoke):
    grid = Grid("s", ["erm", "asl"], ["dermoscopic", "clinical"], folds=[0, 1])
    whole = plan(grid, "smoke", _settings(smoke))
    parts = [plan(grid, "smoke", _settings(smoke), shard_of=(k, 3)) for k in range(3)]
    labels = sorted((job.label for part in parts for job in part.jobs), key=str)
    assert labels == sorted((job.label for job in whole.jobs), key=str)
    assert [job.index for job in parts[1].jobs] == [2, 5, 8]


def test_select_learning_rates_by_mean_validation_auc(smoke):
    settings = _settings(smoke)
    grid = Grid("lrsel", ["erm"], ["clinical"], folds=[0, 1], lrs=[1e-4, 2e-4, 3e-4])
    done = plan(grid, "smoke", settings)
    # write finished runs by hand: the val AUCs decide, the test AUCs must not
    val = {1e-4: (0.61, 0.63), 2e-4: (0.70, 0.66), 3e-4: (0.69, 0.65)}
    for job in done.jobs:
        job.run_dir.mkdir(parents=True)
        stored = {"config": job.config.to_dict()}
        (job.run_dir / "config.json").write_text(json.dumps(stored))
        auc = val[job.config.lr][job.config.fold]
        results = {"val_auc": auc, "auc": 1.0 - auc}
        (job.run_dir / "results.json").write_text(json.dumps(results))
        (job.run_dir / "DONE").write_text("{}")
    (choice,) = select_learning_rates(plan(grid, "smoke", settings))
    assert (choice.experiment, choice.method, choice.modality) == ("lrsel", "erm", "clinical")
    assert choice.lr == 2e-4 and choice.val_auc == pytest.approx(0.68)
    assert [c[0] for c in choice.candidates] == [1e-4, 2e-4, 3e-4]
    assert [c[2] for c in choice.candidates] == [2, 2, 2]
    expected = {
        str(
            run_directory(
                make_config(
                    "smoke",
                    **settings,
                    method="erm",
                    experiment="lrsel-lr0.0002",
                    modality="clinical",
                    lr=2e-4,
                    fold=f,
                )
            )
        )
        for f in (0, 1)
    }
    assert set(choice.run_dirs) == expected
