"""apps/figure1.py end to end with the smoke preset: Table 1's runs of ENet-B0 and SemCovNet,
the figure and the CDI table beside Table 3."""

from __future__ import annotations

import json
from pathlib import Path

import figure1
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from scipy.stats import pearsonr

APPS = Path(__file__).resolve().parents[2] / "apps"
PAPER = APPS / "paper_tables" / "table3_fairness.csv"


def _run(parent: Path, leaf: str) -> Path:
    """The run directory `leaf` (``fold<k>-seed<s>``) under `parent`, below its one settings
    level (``<preset>`` or ``<preset>-<hash>``, see semcov_train.rundir)."""
    (found,) = parent.glob(f"*/{leaf}")
    return found


def check_png(path: Path, min_width: int = 800, min_height: int = 300) -> None:
    """A real PNG of a sensible size with more than a handful of colours (not blank)."""
    with Image.open(path) as image:
        assert image.format == "PNG"
        width, height = image.size
        assert width >= min_width and height >= min_height
        pixels = np.asarray(image.convert("RGB"))
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 20


def test_figure1_smoke_end_to_end(tmp_path, capsys, smoke_args):
    runs, out = tmp_path / "runs", tmp_path / "out"
    assert figure1.main(smoke_args) == 0
    first = capsys.readouterr()
    # The terminal gets the table in lines of at most 100 characters; the files keep it whole.
    assert all(len(line) <= 100 for line in first.out.splitlines() if line.startswith("|"))
    assert sorted(p.name for p in out.iterdir()) == [
        "figure1.csv",
        "figure1.md",
        "figure1.png",
        "figure1.tex",
    ]
    check_png(out / "figure1.png")

    run_dirs = {
        m: _run(runs / "table1" / m / "synthetic-dermoscopic", "fold0-seed0")
        for m in ("erm", "semcovnet")
    }
    config = json.loads((run_dirs["semcovnet"] / "config.json").read_text())["config"]
    assert config["semcov_order"] == "mixture_dam_attn"  # Table 1's SemCovNet on dermoscopic

    paper = pd.read_csv(PAPER, comment="#")
    paper = paper[paper["dataset"] == "milk10k-dermoscopic"].set_index("model")
    table = pd.read_csv(out / "figure1.csv", dtype=str, keep_default_na=False)
    assert list(table.columns) == ["model", "dataset", "n", "cdi (ours)", "cdi (paper)", "note"]
    assert list(table["model"]) == ["ENet-B0", "SemCovNet"]
    rows = table.set_index("model")
    for method, label in (("erm", "ENet-B0"), ("semcovnet", "SemCovNet")):
        results = json.loads((run_dirs[method] / "results.json").read_text())
        scg = pd.read_csv(run_dirs[method] / "scg.csv")
        valid = scg[scg["valid"]]
        if len(valid) < 3:  # undefined (fewer than 3 SCGs with one expected test member)
            assert results["cdi"] is None and rows.loc[label, "cdi (ours)"] == "n/a"
        else:
            cdi = abs(pearsonr(valid["coverage"], valid["error"]).statistic)
            assert cdi == pytest.approx(results["cdi"], abs=1e-9)
            assert rows.loc[label, "cdi (ours)"] == f"{cdi:.4f} (n = 1)"
        assert rows.loc[label, "cdi (paper)"] == f"{paper.loc[label, 'cdi']:.4f}"
        assert rows.loc[label, "n"] == "1"
        assert rows.loc[label, "note"] == "ours: test_efficientnet"
    assert rows.loc["SemCovNet", "cdi (paper)"] == "0.0616"
    assert "| ENet-B0 | milk10k-dermoscopic | 1 |" in (out / "figure1.md").read_text()

    # A second call reads the finished runs; a run without scg.csv is a clear error.
    assert figure1.main(smoke_args) == 0
    assert capsys.readouterr().err.count("finished earlier") == 2
    (run_dirs["erm"] / "scg.csv").unlink()
    assert figure1.main(smoke_args) == 2
    error = capsys.readouterr().err
    assert "figure1: error:" in error and "no scg.csv" in error


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--modality", "dermatoscopic"], "--modality"),
        (["--methods", "erm", "vit"], "--methods"),
        (["--folds", "0"], "--folds"),
    ],
)
def test_figure1_bad_options_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as error:
        figure1.main(argv)
    assert error.value.code == 2
    assert message in capsys.readouterr().err
