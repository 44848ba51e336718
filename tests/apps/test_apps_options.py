"""The options every app shares (semcov_train.experiments.command_line): defaults of the paper
preset, ``--set`` pass-through, ``--shard``, and a learning-rate grid chosen on validation AUC."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import reproduce_table4

from semcov_train.experiments.command_line import app_parser, app_settings, parse_app_args


def _args(argv):
    parser = app_parser("test", "results/test", ["erm", "semcovnet"])
    return parse_app_args(parser, argv, real_dataset="milk10k", choices={})


def test_paper_preset_defaults_to_five_folds_and_three_learning_rates():
    paper = _args(["--preset", "paper"])
    assert paper.folds == 5 and paper.lrs == [1e-4, 2e-4, 3e-4]
    quick = _args([])
    assert quick.folds == 1 and quick.lrs == [] and quick.device == "auto"
    assert _args(["--preset", "paper", "--folds", "2", "--lrs", "5e-4"]).folds == 2
    assert app_settings(quick)["device"] == "auto"


def test_set_passes_typed_fields_through_to_every_run():
    args = _args(
        [
            "--dataset",
            "csv",
            "--set",
            "subgroup=sex",
            "--set",
            "use_cdi=false",
            "--set",
            "lr=0.005",
            "--set",
            "weights=none",
            "--set",
            "semcov-depth=3",
        ]
    )
    settings = app_settings(args)
    assert settings["dataset"] == "csv" and settings["subgroup"] == "sex"
    assert settings["use_cdi"] is False and settings["lr"] == 0.005
    assert settings["weights"] is None and settings["semcov_depth"] == 3


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--set", "lrr=0.1"], "unknown config field 'lrr'"),
        (["--set", "lr"], "expected field=value"),
        (["--set", "use_cdi=maybe"], "use_cdi: expected true or false"),
        (["--set", "fold=2"], "--set fold: set by the app's grid"),
        (["--shard", "3/3"], "shard must be k/N with 0 <= k < N"),
        (["--lrs", "0"], "--lrs must be distinct numbers > 0"),
        (["--launcher", "mpi"], "invalid choice: 'mpi'"),
    ],
)
def test_bad_shared_options_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as error:
        _args(argv)
    assert error.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_learning_rate_grid_reports_the_lr_with_the_best_validation_auc(
    tmp_path, capsys, smoke_args
):
    runs, out = tmp_path / "runs", tmp_path / "out"
    argv = ["--variants", "hybrid_gated", "--lrs", "0.001", "0.004", *smoke_args]
    assert reproduce_table4.main(argv) == 0
    err = capsys.readouterr().err
    val = {}
    for lr in ("0.001", "0.004"):
        parent = runs / f"table4-hybrid_gated-lr{lr}" / "semcovnet" / "synthetic-clinical"
        (run_dir,) = parent.glob("*/fold0-seed0")
        results = json.loads((run_dir / "results.json").read_text())
        val[float(lr)] = (results["val_auc"], results["auc"])
    best = max(sorted(val), key=lambda lr: val[lr][0])  # ties: the smaller lr
    assert f"lr selection: table4-hybrid_gated semcovnet clinical: {best:g}" in err
    selection = pd.read_csv(out / "lr_selection-table4-hybrid_gated.csv")
    assert selection.loc[0, "lr"] == best
    assert selection.loc[0, "val_auc"] == pytest.approx(val[best][0])
    table = pd.read_csv(out / "table4.csv", dtype=str, keep_default_na=False).set_index(
        "sdm_variant"
    )
    # the table's cell is the test AUC of the chosen lr's run, one run behind it
    assert table.loc["hybrid_gated", "n"] == "1"
    assert table.loc["hybrid_gated", "auc (ours)"] == f"{val[best][1]:.4f} (n = 1)"
