"""apps/reproduce_cas.py end to end with the smoke preset on a small synthetic benchmark, and its
accuracies read back from hand-made run files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import reproduce_cas
import scipy.stats
from sklearn.metrics import roc_auc_score

APPS = Path(__file__).resolve().parents[2] / "apps"
PAPER = APPS / "paper_tables" / "cas_table2_accuracy.csv"
SUBSETS = ("low", "middle", "high")
METRICS = (*SUBSETS, "all")
LABELS = {"cutmix": "CutMix", "cas_cutmix": "CutMix+weight"}


def _run(parent: Path, leaf: str) -> Path:
    """The run directory `leaf` (``fold<k>-seed<s>``) under `parent`, below its one settings
    level (``<preset>`` or ``<preset>-<hash>``, see semcov_train.rundir)."""
    (found,) = parent.glob(f"*/{leaf}")
    return found


def _paper_rows(dataset: str, backbone: str) -> pd.DataFrame:
    paper = pd.read_csv(PAPER, dtype=str, comment="#")
    return paper[(paper["dataset"] == dataset) & (paper["backbone"] == backbone)]


def _ours_by_hand(runs: Path, method: str, seeds) -> tuple[dict, dict]:
    """Percent accuracies and AUCs per run: subsets from results.json, the whole test set
    from the predictions (accuracy with pandas, AUC with scikit-learn)."""
    accuracy = {metric: [] for metric in METRICS}
    auc = {metric: [] for metric in METRICS}
    for seed in seeds:
        run_dir = _run(runs / "cas" / method / "synthetic-dermoscopic", f"fold0-seed{seed}")
        subsets = json.loads((run_dir / "results.json").read_text())["cas_subsets"]
        for name in SUBSETS:
            accuracy[name].append(100 * subsets[name]["accuracy"])
            value = subsets[name]["auc"]
            auc[name].append(math.nan if value is None else value)
        predictions = pd.read_parquet(run_dir / "predictions.parquet")
        accuracy["all"].append(100 * (predictions["y_pred"] == predictions["y_true"]).mean())
        auc["all"].append(roc_auc_score(predictions["y_true"], predictions["prob_MEL"]))
    return accuracy, auc


def _spread_by_hand(runs: Path) -> str:
    """The weight spread of the fold-0 training split, from its CAS scores: with one pool
    (no class balancing) max/min of r^1.2 / Σ r^1.2 is (max r / min r)^1.2."""
    from semcov_data.cas import cas_scores
    from semcov_train import TrainConfig
    from semcov_train.inputs.folds import fold_parts
    from semcov_train.inputs.sources import load_table

    (run_dir,) = (runs / "cas" / "cas_cutmix" / "synthetic-dermoscopic").glob("*/fold0-seed0")
    stored = json.loads((run_dir / "config.json").read_text())["config"]
    config = TrainConfig(**stored)
    assert not config.cas_balance_classes and config.cas_power == 1.2
    table = load_table(config)
    train = table.subset(fold_parts(table.labels, table.groups, 0, config.split_seed) == "train")
    scores = cas_scores(train, threshold=config.cas_threshold)
    spread = (scores.max() / scores.min()) ** 1.2
    alone = cas_scores(train, threshold=config.cas_threshold, metadata=None)
    assert spread > (alone.max() / alone.min()) ** 1.2  # the metadata widen the spread
    return (
        f"CAS weights span {spread:.2f}x (max/min, fold-0 training split; 7 descriptors + "
        "site, skin_tone_class, sex, age_approx)"
    )


def _cell(values, digits: int = 2) -> str:
    """Mean ± half-width of the 95 % t-interval of the defined values (scipy's t quantile), as
    the apps print them; ``x (n = 1)`` for one value."""
    defined = pd.Series(list(values) if np.ndim(values) else [values], dtype=float).dropna()
    if defined.empty:
        return "n/a"
    if len(defined) == 1:
        return f"{defined.iloc[0]:.{digits}f} (n = 1)"
    n = len(defined)
    half = scipy.stats.t.ppf(0.975, n - 1) * defined.std(ddof=1) / math.sqrt(n)
    return f"{defined.mean():.{digits}f} ± {half:.{digits}f}"


def _differences(weighted: list[float], uniform: list[float]) -> list[float]:
    return [w - u for w, u in zip(weighted, uniform, strict=True)]


def test_reproduce_cas_smoke_end_to_end(tmp_path, capsys, smoke_args):
    runs, out = tmp_path / "runs", tmp_path / "out"
    argv = [*("--methods", "cutmix", "cas_cutmix", "--seeds", "0", "1"), *smoke_args]
    assert reproduce_cas.main(argv) == 0
    printed = capsys.readouterr().out
    # The terminal gets the table in lines of at most 100 characters; the files keep it whole.
    assert all(len(line) <= 100 for line in printed.splitlines() if line.startswith("|"))
    assert "| CutMix+weight | 2 |" in (out / "cas_table2.md").read_text()

    config = json.loads(
        (
            _run(runs / "cas" / "cutmix" / "synthetic-dermoscopic", "fold0-seed1") / "config.json"
        ).read_text()
    )
    assert config["config"]["method"] == "cutmix"

    paper = _paper_rows("CIFAR-100", "ResNet18")
    table = pd.read_csv(out / "cas_table2.csv", dtype=str, keep_default_na=False)
    assert list(table["method"]) == list(paper["method"])
    expected = ["method", "n"]
    for metric in METRICS:
        expected += [f"{metric} (ours)", f"{metric} (paper)"]
    assert list(table.columns) == [*expected, "note"]
    rows = table.set_index("method")
    for label, record in paper.set_index("method").iterrows():
        for metric in METRICS:
            assert rows.loc[label, f"{metric} (paper)"] == f"{float(record[metric]):.2f}"

    ours = {m: _ours_by_hand(runs, m, (0, 1)) for m in LABELS}
    for method, label in LABELS.items():
        assert rows.loc[label, "n"] == "2"
        for metric in METRICS:
            assert rows.loc[label, f"{metric} (ours)"] == _cell(ours[method][0][metric])
        expected = "paper: CIFAR-100, ResNet18; ours: synthetic dermoscopic, test_efficientnet"
        if method == "cas_cutmix":
            expected += f"; {_spread_by_hand(runs)}"
        assert rows.loc[label, "note"] == expected
    for metric in METRICS:  # Δ: CAS-weighted minus uniform, paired by seed
        deltas = _differences(ours["cas_cutmix"][0][metric], ours["cutmix"][0][metric])
        assert rows.loc["Δ CutMix", f"{metric} (ours)"] == _cell(deltas)

    aucs = pd.read_csv(out / "cas_subsets_auc.csv", dtype=str, keep_default_na=False)
    assert list(aucs["method"]) == list(paper["method"])
    assert list(aucs.columns) == ["method", "n", *(f"{m} auc (ours)" for m in METRICS)]
    aucs = aucs.set_index("method")
    for metric in METRICS:
        column = f"{metric} auc (ours)"
        for method, label in LABELS.items():
            assert aucs.loc[label, column] == _cell(ours[method][1][metric], 4)
        deltas = _differences(ours["cas_cutmix"][1][metric], ours["cutmix"][1][metric])
        assert aucs.loc["Δ CutMix", column] == _cell(deltas, 4)
        assert aucs.loc["FMix", column] == "not run"
    assert rows.loc["FMix", "note"] == "not run: not selected (--methods)"
    assert rows.loc["Δ FMix", "n"] == "0"
    assert rows.loc["Δ FMix", "low (ours)"] == "not run"

    # finished runs are skipped; another paper sub-table beside the same runs
    argv = [*argv, "--paper-dataset", "DTD", "--paper-backbone", "ResNeXt50"]
    assert reproduce_cas.main(argv) == 0
    assert "finished earlier" in capsys.readouterr().err
    table = pd.read_csv(out / "cas_table2.csv", dtype=str, keep_default_na=False)
    rows = table.set_index("method")
    assert rows.loc["CutMix", "all (paper)"] == "99.61"
    assert rows.loc["Δ SaliencyMix", "high (paper)"] == "3.68"
    assert rows.loc["CutMix", "all (ours)"] == _cell(ours["cutmix"][0]["all"])
    assert rows.loc["CutMix", "note"].startswith("paper: DTD, ResNeXt50; ours: synthetic")


def test_paper_table_holds_table_2():
    paper = pd.read_csv(PAPER, comment="#")
    assert paper.groupby(["dataset", "backbone"]).size().eq(9).all()
    assert paper["dataset"].nunique() == 10
    stanford_dogs = paper[(paper["dataset"] == "Stanford Dogs") & (paper["backbone"] == "ResNet18")]
    # the paper's text: +3.65, +4.02, +6.64 on the high subset
    assert list(stanford_dogs[stanford_dogs["method"].str.startswith("Δ")]["high"]) == [
        3.65,
        4.02,
        6.64,
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--methods", "erm"], "--methods"),
        (["--paper-dataset", "MNIST"], "--paper-dataset"),
        (["--paper-backbone", "ResNet50"], "--paper-backbone"),
        (["--folds", "0"], "--folds"),
    ],
)
def test_bad_options_are_usage_errors(argv, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as error:
        reproduce_cas.main([*argv, "--runs", str(tmp_path / "runs")])
    assert error.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_run_accuracies_weights_the_subsets_by_size(tmp_path):
    subsets = {
        "low": {"n": 3, "accuracy": 1.0, "auc": None},
        "middle": {"n": 1, "accuracy": 0.0, "auc": None},
        "high": {"n": 0, "accuracy": None, "auc": None},
    }
    (tmp_path / "results.json").write_text(json.dumps({"cas_subsets": subsets}))
    row = reproduce_cas.run_accuracies(tmp_path)
    assert row["low"] == 100.0 and row["middle"] == 0.0 and math.isnan(row["high"])
    assert row["all"] == 75.0


def test_run_aucs_reads_subsets_and_overall(tmp_path):
    subsets = {
        "low": {"n": 3, "accuracy": 1.0, "auc": 0.75},
        "middle": {"n": 1, "accuracy": 0.0, "auc": None},
        "high": {"n": 2, "accuracy": 0.5, "auc": 0.5},
    }
    (tmp_path / "results.json").write_text(json.dumps({"cas_subsets": subsets, "auc": 0.625}))
    row = reproduce_cas.run_aucs(tmp_path)
    assert row["low"] == 0.75 and math.isnan(row["middle"]) and row["high"] == 0.5
    assert row["all"] == 0.625
