"""semcov_train.reporting on hand-made run directories, against scipy's t-intervals."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from semcov_train import make_config, run_directory
from semcov_train.reporting import (
    IDENTITY_COLUMNS,
    paired_differences,
    read_runs,
    summarize,
    t_interval,
)


def write_run(root, method, modality, fold, seed, *, done=True, experiment="exp", **results):
    """A run directory as the trainer leaves it (config.json, results.json, DONE); its path."""
    config = make_config("smoke", method=method, modality=modality, fold=fold, seed=seed)
    config = config.replace(out=str(root), experiment=experiment)
    run_dir = run_directory(config)
    run_dir.mkdir(parents=True)
    stored = {
        "config": config.to_dict(),
        "resolved": {"modality": modality, "table_row": method.upper(), "backbone": "resnet10t"},
    }
    (run_dir / "config.json").write_text(json.dumps(stored))
    if done:
        payload = {"method": method, "dataset": "synthetic", "modality": modality, **results}
        (run_dir / "results.json").write_text(json.dumps(payload))
        (run_dir / "DONE").write_text("{}")
    return run_dir


AUC = {  # (method, fold, seed) -> test AUC
    ("erm", 0, 0): 0.71,
    ("erm", 1, 0): 0.78,
    ("erm", 2, 0): 0.74,
    ("erm", 0, 1): 0.69,
    ("semcovnet", 0, 0): 0.80,
    ("semcovnet", 1, 0): 0.83,
    ("semcovnet", 2, 0): 0.79,
    ("semcovnet", 3, 0): 0.90,  # no ERM partner
}


@pytest.fixture
def runs_root(tmp_path):
    root = tmp_path / "runs"
    for (method, fold, seed), auc in AUC.items():
        cdi = None if (method, fold) == ("erm", 2) else round(1.0 - auc, 3)
        write_run(
            root,
            method,
            "dermoscopic",
            fold,
            seed,
            auc=auc,
            cdi=cdi,
            intervals={"auc": [auc - 0.1, auc + 0.1]},
            cas_subsets={"low": {"n": 10, "accuracy": 0.5}},
            conventions={"ece": "top_label, 15 bins"},
        )
    write_run(root, "erm", "clinical", 0, 0, auc=0.6, cdi=0.2)
    unfinished = write_run(root, "semcovnet", "clinical", 0, 0, done=False)
    return root, unfinished


def test_read_runs_one_typed_row_per_finished_run(runs_root):
    root, unfinished = runs_root
    runs = read_runs(root)
    assert len(runs) == len(AUC) + 1
    assert runs.attrs["unfinished"] == [str(unfinished)]
    assert list(runs.columns[: len(IDENTITY_COLUMNS)]) == list(IDENTITY_COLUMNS)
    assert str(runs["fold"].dtype) == "Int64" and pd.api.types.is_string_dtype(runs["method"])
    assert set(runs["preset"]) == {"smoke"} and set(runs["experiment"]) == {"exp"}
    # fold and seed override the smoke preset's defaults only by identity: no hash
    assert set(runs["settings"]) == {"smoke"}
    assert runs["auc"].dtype == np.float64
    # nested results flattened with dotted names; null (undefined) is NaN
    assert runs["intervals.auc.1"].dropna().between(0.7, 1.1).all()
    assert runs["cas_subsets.low.accuracy"].eq(0.5).sum() == len(AUC)
    assert runs["conventions.ece"].dropna().eq("top_label, 15 bins").all()
    erm2 = runs[(runs["method"] == "erm") & (runs["fold"] == 2)]
    assert math.isnan(erm2["cdi"].item())
    assert read_runs(root, experiment="other").empty
    listed = read_runs([unfinished, root / "never"])
    assert listed.empty and listed.attrs["unfinished"] == [str(unfinished)]
    assert listed.attrs["not_started"] == [str(root / "never")]
    first = runs["run_dir"].iloc[0]
    assert read_runs([first])["run_dir"].tolist() == [first]
    with pytest.raises(ValueError, match="is not a directory"):
        read_runs(root / "missing")


@pytest.mark.parametrize("values", [[0.8, 0.9, 0.7], [0.5, 0.52], [0.1, 0.4, 0.35, 0.2, 0.9]])
def test_t_interval_matches_scipy(values):
    interval = t_interval(values)
    low, high = stats.t.interval(
        0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values)
    )
    assert interval.mean == pytest.approx(np.mean(values))
    assert interval.low == pytest.approx(low) and interval.high == pytest.approx(high)
    assert interval.n == len(values)
    assert t_interval(values, 0.9).half_width < interval.half_width


def test_t_interval_small_and_undefined():
    single = t_interval([0.7, math.nan])
    assert single.mean == 0.7 and single.n == 1 and math.isnan(single.half_width)
    empty = t_interval([math.nan])
    assert empty.n == 0 and math.isnan(empty.mean)
    assert t_interval([0.5, 0.5, 0.5]).half_width == 0.0
    with pytest.raises(ValueError, match="confidence"):
        t_interval([1.0, 2.0], 1.0)


def test_summarize_intervals_against_scipy(runs_root):
    root, _ = runs_root
    summary = summarize(read_runs(root), ["auc", "cdi"], keys=["method", "modality"])
    summary = summary.set_index(["method", "modality"])
    erm = summary.loc[("erm", "dermoscopic")]
    aucs = [AUC[k] for k in AUC if k[0] == "erm"]
    low, high = stats.t.interval(0.95, len(aucs) - 1, loc=np.mean(aucs), scale=stats.sem(aucs))
    assert erm["n"] == 4 and erm["auc_n"] == 4
    assert erm["auc"] == pytest.approx(np.mean(aucs))
    assert erm["auc_h"] == pytest.approx((high - low) / 2)
    assert erm["auc_std"] == pytest.approx(np.std(aucs, ddof=1))
    # one ERM run has an undefined CDI: the cell rests on three values
    cdis = [round(1.0 - AUC[k], 3) for k in AUC if k[0] == "erm" and k[1] != 2]
    assert erm["cdi_n"] == 3 and erm["cdi"] == pytest.approx(np.mean(cdis))
    _, high = stats.t.interval(0.95, 2, loc=np.mean(cdis), scale=stats.sem(cdis))
    assert erm["cdi_h"] == pytest.approx(high - np.mean(cdis))
    single = summary.loc[("erm", "clinical")]
    assert single["n"] == 1 and math.isnan(single["auc_h"])
    assert summary.loc[("semcovnet", "dermoscopic"), "backbone"] == "resnet10t"


def test_summarize_refuses_to_average_two_settings(tmp_path):
    write_run(tmp_path, "erm", "dermoscopic", 0, 0, auc=0.7)
    config = make_config("quick", method="erm", modality="dermoscopic", out=str(tmp_path))
    run_dir = run_directory(config.replace(experiment="exp"))
    run_dir.mkdir(parents=True)
    (run_dir / "config.json").write_text(json.dumps({"config": config.to_dict()}))
    (run_dir / "results.json").write_text(json.dumps({"auc": 0.9}))
    (run_dir / "DONE").write_text("{}")
    runs = read_runs(tmp_path)
    assert sorted(runs["settings"]) == ["quick", "smoke"]
    with pytest.raises(ValueError, match=r"different settings \(quick, smoke\)"):
        summarize(runs, ["auc"], keys=["method"])
    assert len(summarize(runs, ["auc"])) == 2  # the default keys hold the settings


def test_summarize_bad_input(runs_root):
    runs = read_runs(runs_root[0])
    with pytest.raises(ValueError, match="'nope'"):
        summarize(runs, ["nope"])
    with pytest.raises(ValueError, match="not a numeric column"):
        summarize(runs, ["conventions.ece"])
    with pytest.raises(TypeError, match="DataFrame"):
        summarize([1, 2], ["auc"])
    assert summarize(runs.iloc[:0], ["auc"]).empty


def test_paired_differences_against_ttest_rel_with_unmatched_runs(runs_root):
    root, _ = runs_root
    runs = read_runs(root)
    paired = paired_differences(runs, "semcovnet", "erm", ["auc", "cdi"])
    derm = paired.set_index("modality").loc["dermoscopic"]
    matched = [(0, 0), (1, 0), (2, 0)]
    ours = np.array([AUC[("semcovnet", *k)] for k in matched])
    theirs = np.array([AUC[("erm", *k)] for k in matched])
    test = stats.ttest_rel(ours, theirs)
    low, high = test.confidence_interval(0.95)
    assert derm["n"] == 3
    assert derm["auc"] == pytest.approx(np.mean(ours - theirs))
    assert derm["auc"] - derm["auc_h"] == pytest.approx(low)
    assert derm["auc"] + derm["auc_h"] == pytest.approx(high)
    # the pairing removes the shared fold effect: tighter than the unpaired difference
    assert derm["auc_h"] < t_interval(ours).half_width + t_interval(theirs).half_width
    # unmatched runs are counted and named, in both directions
    assert derm["n_unmatched"] == 2
    assert derm["unmatched"] == "semcovnet only: fold3-seed0; erm only: fold0-seed1"
    # ERM's undefined CDI at fold 2 leaves two CDI pairs
    assert derm["cdi_n"] == 2
    assert derm["cdi"] == pytest.approx(np.mean((1 - ours[:2]) - (1 - theirs[:2])))
    # a group with runs of one method only: a row with no pairs, its runs named
    clinical = paired.set_index("modality").loc["clinical"]
    assert clinical["n"] == 0 and math.isnan(clinical["auc"])
    assert clinical["unmatched"] == "erm only: fold0-seed0"


def test_paired_differences_bad_input(runs_root):
    runs = read_runs(runs_root[0])
    with pytest.raises(ValueError, match="both 'erm'"):
        paired_differences(runs, "erm", "erm", ["auc"])
    doubled = pd.concat([runs, runs.iloc[[0]]], ignore_index=True)
    with pytest.raises(ValueError, match="more than one run per"):
        paired_differences(doubled, "semcovnet", "erm", ["auc"])
    with pytest.raises(ValueError, match="'arm'"):
        paired_differences(runs, "semcovnet", "erm", ["auc"], by="arm")
