"""Power of the coverage–error tests: it rises with the planted slope and the test size, the
false-positive rate stays near α, the minimum detectable slope is where power reaches the
target, and ``python -m semcov_metrics power`` answers in words and JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from semcov_metrics import UndefinedMetricWarning, cdi_power
from semcov_metrics.cli import main


def _train(rng, n=3000, k=4, sites=6):
    site = rng.integers(0, sites, n)
    p = (rng.random((n, k)) < 0.1 + 0.12 * site[:, None]).astype(float)
    return p, rng.integers(0, 2, n), site


def test_power_grows_with_slope_and_test_size_and_the_mds_sits_on_the_curve():
    rng = np.random.default_rng(0)
    p, y, s = _train(rng)
    small = cdi_power(
        train_descriptors=p,
        train_labels=y,
        train_subgroups=s,
        n_test=300,
        n_simulations=30,
        n_permutations=99,
        seed=1,
    )
    large = cdi_power(
        train_descriptors=p,
        train_labels=y,
        train_subgroups=s,
        n_test=3000,
        n_simulations=30,
        n_permutations=99,
        seed=1,
    )
    for result in (small, large):
        curve = result.curve.set_index("slope")
        # Common random numbers: power does not fall as the planted slope grows (to MC noise).
        assert np.all(np.diff(curve["power_cdi"].to_numpy()[::-1]) >= -0.1)
        # 30 audits at α = 0.05: more than 6 rejections has probability below 1 %.
        assert result.false_positive_cdi <= 0.2 and result.false_positive_slope <= 0.2
        assert curve.loc[-0.5, "power_cdi"] == result.power_cdi
    assert large.power_cdi >= small.power_cdi
    assert abs(large.min_detectable_slope_cdi) < abs(small.min_detectable_slope_cdi)
    # The minimum detectable slope interpolates between the grid points around the target.
    curve = large.curve[large.curve["slope"] < 0].sort_values("slope", ascending=False)
    below = curve[curve["power_cdi"] < 0.8]["slope"].max()
    above = curve[curve["power_cdi"] >= 0.8]["slope"].max()
    assert above <= large.min_detectable_slope_cdi <= below
    assert large.to_dict()["underpowered"] == (large.power_cdi < 0.8)


def test_a_fixed_test_design_is_used_as_given():
    rng = np.random.default_rng(2)
    p, y, s = _train(rng)
    result = cdi_power(
        train_descriptors=p,
        train_labels=y,
        train_subgroups=s,
        test_descriptors=p[:500],
        test_labels=y[:500],
        test_subgroups=s[:500],
        n_simulations=20,
        n_permutations=99,
        base_error={0: 0.1, 1: 0.3},
    )
    assert result.n_test == 500


def test_impossible_designs_are_refused_or_undefined():
    rng = np.random.default_rng(3)
    p, y, s = _train(rng)
    common = dict(train_descriptors=p, train_labels=y, train_subgroups=s)
    with pytest.raises(ValueError, match="n_permutations must be >= 99"):
        cdi_power(**common, n_test=100, n_permutations=50)
    with pytest.raises(ValueError, match="either n_test"):
        cdi_power(**common)
    with pytest.raises(ValueError, match="class_proportions must be >= 0 and sum to 1"):
        cdi_power(**common, n_test=100, class_proportions={0: 0.5, 1: 0.7})
    with pytest.raises(ValueError, match="n_test must be an integer >= 10"):
        cdi_power(**common, n_test=3)
    with pytest.raises(ValueError, match=r"alpha=0.001 is below the smallest p-value"):
        cdi_power(**common, n_test=100, alpha=0.001)
    # Coverage that never varies: no slope is detectable.
    flat = np.full_like(p, 0.5)
    with pytest.warns(UndefinedMetricWarning, match="minimum detectable slope is undefined"):
        result = cdi_power(
            train_descriptors=flat,
            train_labels=y,
            train_subgroups=s,
            n_test=200,
            n_simulations=20,
            n_permutations=99,
        )
    assert np.isnan(result.min_detectable_slope_cdi) and result.underpowered


@pytest.fixture
def train_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(4)
    p, y, s = _train(rng)
    frame = pd.DataFrame(p, columns=["hair", "pen", "vessels", "veil"])
    frame["dx"] = np.where(y == 1, "MEL", "NV")
    frame["site"] = np.array(["arm", "leg", "trunk", "head", "foot", "back"])[s]
    path = tmp_path / "train.csv"
    frame.to_csv(path, index=False)
    return path


def _argv(train: Path, *extra: str) -> list[str]:
    return [
        "power",
        "--train",
        str(train),
        "--descriptor-columns",
        "hair,pen,vessels,veil",
        "--label-column",
        "dx",
        "--subgroup-column",
        "site",
        "--n-simulations",
        "20",
        "--n-permutations",
        "99",
        *extra,
    ]


def test_power_command_answers_in_words_and_json(train_csv, tmp_path, capsys):
    out = tmp_path / "out"
    argv = _argv(train_csv, "--n-test", "1000", "--class-proportions", "MEL=0.2,NV=0.8")
    assert main([*argv, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "1000 test images: the CDI test rejects" in printed
    payload = json.loads((out / "power.json").read_text())
    assert (
        payload["n_test"] == 1000 and payload["settings"]["class_proportions"] == "MEL=0.2,NV=0.8"
    )
    assert {"min_detectable_slope", "power_at_reference", "underpowered"} <= set(payload)
    assert len(pd.read_csv(out / "power.csv")) == len(payload["curve"])


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (("--n-test", "1000", "--n-permutations", "20"), "n_permutations must be >= 99"),
        (("--n-test", "1000", "--class-proportions", "MEL=0.5,XX=0.5"), "--class-proportions"),
        (("--n-test", "5"), "n_test must be an integer >= 10"),
        ((), "one of the arguments --n-test --test is required"),
    ],
)
def test_power_command_bad_input_exits_2_with_one_line(train_csv, extra, expected):
    result = subprocess.run(
        [sys.executable, "-m", "semcov_metrics", *_argv(train_csv, *extra)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr


def test_report_carries_the_training_sets_class_coverage_and_descriptor_tests():
    from semcov_metrics import (
        class_descriptor_coverage,
        class_permutation_test,
        semantic_fairness_report,
    )

    rng = np.random.default_rng(6)
    p, y, s = _train(rng)
    report = semantic_fairness_report(
        train_descriptors=p,
        train_labels=y,
        train_subgroups=s,
        test_descriptors=p[:600],
        test_labels=y[:600],
        test_predictions=y[:600],
        test_subgroups=s[:600],
        n_permutations=199,
        seed=3,
    )
    expected = class_permutation_test(p, y, n_permutations=199, seed=3)
    pd.testing.assert_frame_equal(report.descriptor_tests, expected)
    pd.testing.assert_frame_equal(report.class_coverage, class_descriptor_coverage(p, y))
    payload = report.to_dict()
    assert [row["descriptor"] for row in payload["descriptor_tests"]] == ["d0", "d1", "d2", "d3"]
    assert len(payload["class_coverage"]) == 2 * 4
