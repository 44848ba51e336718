"""``python -m semcov_metrics coverage``: the same numbers as the Python API on CSVs the test
writes, its output files, masks and empty cells, bad input refused with exit 2 and one line,
and (when present beside the checkout) the real MILK10k and ISIC-DICM-17K metadata."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from semcov_metrics import (
    class_descriptor_coverage,
    class_permutation_test,
    coverage_bootstrap_intervals,
)
from semcov_metrics.cli import main

DESCRIPTORS = ["hair", "pen", "vessels"]
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture
def train_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame(rng.random((n, 3)) ** [1, 2, 3], columns=DESCRIPTORS)
    frame["dx"] = rng.choice(["MEL", "NV"], n, p=[0.25, 0.75])
    frame.loc[frame["dx"] == "MEL", "pen"] *= 0.5
    frame["site"] = rng.choice(["arm", "leg", None], n, p=[0.45, 0.45, 0.1])
    frame["pen_seen"] = (rng.random(n) < 0.85).astype(int)
    frame.loc[frame["pen_seen"] == 0, "pen"] = np.nan
    frame["always"] = 1
    path = tmp_path / "train.csv"
    frame.to_csv(path, index=False)
    return path


def _argv(path: Path, out: Path, *extra: str) -> list[str]:
    return [
        "coverage",
        *("--train", str(path), "--descriptor-columns", ",".join(DESCRIPTORS)),
        *("--label-column", "dx", "--out", str(out)),
        *("--n-permutations", "199", "--n-boot", "100", "--n-repeats", "5"),
        *extra,
    ]


def test_outputs_match_the_api(train_csv, tmp_path):
    out = tmp_path / "out"
    argv = _argv(train_csv, out, "--subgroup-column", "site", "--empty-is-missing")
    assert main(argv) == 0
    payload = json.loads((out / "coverage.json").read_text())
    table = pd.read_csv(out / "coverage.csv")
    frame = pd.read_csv(train_csv)
    expected = class_descriptor_coverage(frame[DESCRIPTORS], frame["dx"])
    np.testing.assert_allclose(table["coverage"], expected["coverage"])
    np.testing.assert_allclose(table["coverage_minus_global"], expected["coverage_minus_global"])
    test = class_permutation_test(frame[DESCRIPTORS], frame["dx"], n_permutations=199)
    np.testing.assert_allclose(table["p_value"], np.repeat(test["p_value"], 1).tolist() * 2)
    boot = coverage_bootstrap_intervals(frame[DESCRIPTORS], frame["dx"], n_boot=100)
    np.testing.assert_allclose(table["boot_low"], boot["boot_low"])
    assert set(table["band"]) <= {"Tail", "Middle", "Head"}
    assert table["balanced_mean"].notna().all()
    assert payload["n_missing"] == {"hair": 0, "pen": int(frame["pen"].isna().sum()), "vessels": 0}
    assert payload["n_unknown_subgroup"] == int(frame["site"].isna().sum())
    assert payload["subsampling"]["summary"]["n_repeats"] == 5
    scg = pd.read_csv(out / "scg_coverage.csv")
    assert set(scg["subgroup"]) == {"arm", "leg", "unknown"} and len(scg) == 2 * 3 * 3
    assert "Tail cells" in (out / "coverage.md").read_text()


def test_mask_columns_equal_empty_cells(train_csv, tmp_path):
    masks = "always,pen_seen,always"
    assert main(_argv(train_csv, tmp_path / "mask", "--mask-columns", masks)) == 0
    assert main(_argv(train_csv, tmp_path / "empty", "--empty-is-missing")) == 0
    by_mask = pd.read_csv(tmp_path / "mask" / "coverage.csv")
    by_empty = pd.read_csv(tmp_path / "empty" / "coverage.csv")
    pd.testing.assert_frame_equal(by_mask, by_empty)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--label-column", "diagnosis"), "label column 'diagnosis' not found"),
        (("--n-permutations", "50"), "--n-permutations must be at least 99"),
        ((), "empty value"),
        (("--empty-is-missing", "--mask-columns", "always"), "--mask-columns: 1 columns"),
        (("--empty-is-missing", "--subgroup-column", "region"), "subgroup column 'region'"),
    ],
)
def test_bad_input_exits_2_with_one_line(train_csv, tmp_path, capsys, extra, message):
    assert main(_argv(train_csv, tmp_path / "out", *extra)) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and message in error and "Traceback" not in error


def test_a_missing_file_exits_2_with_one_line(tmp_path, capsys):
    assert main(_argv(tmp_path / "absent.csv", tmp_path / "out")) == 2
    error = capsys.readouterr().err
    assert error.strip().endswith(f"no such file: {tmp_path / 'absent.csv'}")
    assert error.count("\n") == 1


def test_the_module_runs_without_importing_torch(train_csv, tmp_path):
    argv = _argv(train_csv, tmp_path / "out", "--empty-is-missing")
    code = (
        "import sys\n"
        "from semcov_metrics.cli import main\n"
        f"assert main({argv!r}) == 0\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "coverage.json").is_file()


@pytest.mark.skipif(
    not (SHARED / "milk10k" / "MILK10k_Training_Metadata.csv").exists(),
    reason="real MILK10k metadata not present beside the checkout",
)
def test_real_milk10k_dermoscopic_metadata(tmp_path):
    metadata = pd.read_csv(SHARED / "milk10k" / "MILK10k_Training_Metadata.csv")
    truth = pd.read_csv(SHARED / "milk10k" / "MILK10k_Training_GroundTruth.csv")
    images = metadata[metadata["image_type"] == "dermoscopic"]
    frame = images.merge(truth[["lesion_id", "MEL"]], on="lesion_id", validate="1:1")
    frame["dx"] = np.where(frame["MEL"] == 1.0, "MEL", "rest")
    monet = [c for c in frame.columns if c.startswith("MONET_")]
    path = tmp_path / "milk.csv"
    frame[[*monet, "dx", "site"]].to_csv(path, index=False)
    out = tmp_path / "out"
    argv = [
        "coverage",
        *("--train", str(path), "--descriptor-columns", ",".join(monet)),
        *("--label-column", "dx", "--subgroup-column", "site", "--out", str(out)),
        *("--n-permutations", "199", "--n-boot", "50", "--n-repeats", "3"),
    ]
    assert main(argv) == 0
    table = pd.read_csv(out / "coverage.csv")
    assert len(table) == 2 * 7
    means = frame.groupby("dx")[monet].mean()
    for row in table.itertuples(index=False):
        assert row.coverage == pytest.approx(means.loc[row[0], row.descriptor])
    # 450 melanomas of 5,240 lesions: the balanced subsamples hold 450 per class.
    assert json.loads((out / "coverage.json").read_text())["subsampling"]["summary"][
        "n_per_class"
    ] == int((frame["dx"] == "MEL").sum())


@pytest.mark.skipif(
    not (SHARED / "isic-dicm-17k" / "train-set-metadata.csv").exists(),
    reason="real ISIC-DICM-17K metadata not present beside the checkout",
)
def test_real_isic_dicm17k_metadata_with_missing_concept_labels(tmp_path):
    # ``melanocytic`` is an annotated 0/1 concept left empty for many images.
    frame = pd.read_csv(SHARED / "isic-dicm-17k" / "train-set-metadata.csv")
    path = tmp_path / "isic.csv"
    frame[["melanocytic", "class"]].to_csv(path, index=False)
    out = tmp_path / "out"
    argv = [
        "coverage",
        *("--train", str(path), "--descriptor-columns", "melanocytic", "--label-column", "class"),
        *("--empty-is-missing", "--out", str(out)),
        *("--n-permutations", "99", "--n-boot", "50", "--n-repeats", "3"),
    ]
    assert main(argv) == 0
    table = pd.read_csv(out / "coverage.csv")
    labelled = frame.dropna(subset=["melanocytic"])
    for row in table.itertuples(index=False):
        in_class = labelled[labelled["class"] == row[0]]
        assert row.n_labelled == len(in_class)
        assert row.coverage == pytest.approx(in_class["melanocytic"].mean())
    payload = json.loads((out / "coverage.json").read_text())
    assert payload["n_missing"]["melanocytic"] == int(frame["melanocytic"].isna().sum()) > 0
