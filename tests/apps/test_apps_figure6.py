"""apps/figure6.py end to end with the smoke preset: encoder depths 1 and 2, feedback on and off,
clinical images (three runs: depth 1 is trained once, feedback off)."""

from __future__ import annotations

import json
from pathlib import Path

import figure6
import numpy as np
import pandas as pd
import pytest
from PIL import Image


def _run(parent: Path, leaf: str) -> Path:
    """The run directory `leaf` (``fold<k>-seed<s>``) under `parent`, below its one settings
    level (``<preset>`` or ``<preset>-<hash>``, see semcov_train.rundir)."""
    (found,) = parent.glob(f"*/{leaf}")
    return found


def check_png(path) -> None:
    """A real PNG of a sensible size with more than a handful of colours (not blank)."""
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size[0] >= 500 and image.size[1] >= 300
        pixels = np.asarray(image.convert("RGB"))
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 20


def test_figure6_smoke_end_to_end(tmp_path, capsys, smoke_args):
    runs, out = tmp_path / "runs", tmp_path / "out"
    argv = ["--depths", "2", "1", "--modalities", "clinical", *smoke_args]
    assert figure6.main(argv) == 0
    printed = capsys.readouterr().out
    # The terminal gets the table in lines of at most 100 characters; the files keep it whole.
    assert all(len(line) <= 100 for line in printed.splitlines() if line.startswith("|"))
    assert sorted(p.name for p in out.iterdir()) == [
        "figure6.csv",
        "figure6.md",
        "figure6.png",
        "figure6.tex",
    ]
    check_png(out / "figure6.png")
    assert sorted(p.name for p in runs.iterdir()) == [
        "figure6-depth1-feedback_off",
        "figure6-depth2-feedback_off",
        "figure6-depth2-feedback_on",
    ]

    table = pd.read_csv(out / "figure6.csv", dtype=str, keep_default_na=False)
    assert list(table.columns) == [
        "modality",
        "depth",
        "feedback",
        "n",
        "sens_at_95spec (ours)",
        "macro_f1 (ours)",
        "note",
    ]
    assert list(zip(table["depth"], table["feedback"], strict=True)) == [
        ("1", "on"),
        ("1", "off"),
        ("2", "on"),
        ("2", "off"),
    ]
    assert set(table["modality"]) == {"clinical"}
    assert table["note"].str.contains("plot only").all()
    rows = table.set_index(["depth", "feedback"])
    for depth, feedback, trained in (
        ("1", "on", "depth1-feedback_off"),
        ("1", "off", "depth1-feedback_off"),
        ("2", "on", "depth2-feedback_on"),
        ("2", "off", "depth2-feedback_off"),
    ):
        run_dir = _run(
            runs / f"figure6-{trained}" / "semcovnet" / "synthetic-clinical", "fold0-seed0"
        )
        stored = json.loads((run_dir / "config.json").read_text())
        config = stored["config"]
        assert config["semcov_depth"] == int(depth)
        assert config["semcov_feedback"] is (trained.endswith("_on"))
        results = json.loads((run_dir / "results.json").read_text())
        row = rows.loc[(depth, feedback)]
        assert row["n"] == "1"
        assert row["note"].startswith(f"ours: {stored['resolved']['backbone']}; ")
        assert row["sens_at_95spec (ours)"] == f"{results['sens_at_95spec']:.4f} (n = 1)"
        assert row["macro_f1 (ours)"] == f"{results['macro_f1']:.4f} (n = 1)"
    assert "no next layer" in rows.loc[("1", "on"), "note"]
    assert "no next layer" not in rows.loc[("2", "on"), "note"]
    assert "| clinical | 2 | on | 1 |" in (out / "figure6.md").read_text()


def test_figure6_default_depths_are_a_short_subset():
    assert figure6.DEFAULT_DEPTHS == (1, 3, 6)
    assert list(figure6.figure6_switches([1, 3])) == [
        "depth1-feedback_off",
        "depth3-feedback_on",
        "depth3-feedback_off",
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--depths", "0", "3"], "--depths"),
        (["--depths", "7"], "--depths"),
        (["--depths", "two"], "--depths"),
        (["--modalities", "clinical", "macroscopic"], "--modalities"),
    ],
)
def test_figure6_bad_options_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as error:
        figure6.main(argv)
    assert error.value.code == 2
    assert message in capsys.readouterr().err
