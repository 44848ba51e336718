"""apps/figure3.py end to end with the smoke preset: SemCovNet with and without R_CDI, two
epochs and two seeds, so the curve and the cells are means ± std over runs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import figure3
import numpy as np
import pandas as pd
import pytest
import scipy.stats
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
        assert image.size[0] >= 800 and image.size[1] >= 300
        pixels = np.asarray(image.convert("RGB"))
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 20


def _cell(values, digits: int = 4) -> str:
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


def test_figure3_smoke_end_to_end(tmp_path, capsys, smoke_args):
    runs, out = tmp_path / "runs", tmp_path / "out"
    argv = ["--epochs", "2", "--seeds", "0", "1", *smoke_args]
    assert figure3.main(argv) == 0
    printed = capsys.readouterr().out
    # The terminal gets the table in lines of at most 100 characters; the files keep it whole.
    assert all(len(line) <= 100 for line in printed.splitlines() if line.startswith("|"))
    assert sorted(p.name for p in out.iterdir()) == [
        "figure3.csv",
        "figure3.md",
        "figure3.png",
        "figure3.tex",
    ]
    check_png(out / "figure3.png")

    table = pd.read_csv(out / "figure3.csv", dtype=str, keep_default_na=False)
    assert list(table.columns) == [
        "variant",
        "use_cdi",
        "n",
        "epochs",
        "val cdi, first epoch",
        "val cdi, last epoch",
        "test cdi",
        "note",
    ]
    assert list(table["variant"]) == ["with_cdi", "without_cdi"]
    rows = table.set_index("variant")
    for variant, use_cdi in (("with_cdi", True), ("without_cdi", False)):
        run_dirs = [
            _run(
                runs / f"figure3-{variant}" / "semcovnet" / "synthetic-dermoscopic",
                f"fold0-seed{s}",
            )
            for s in (0, 1)
        ]
        configs = [json.loads((d / "config.json").read_text())["config"] for d in run_dirs]
        assert [c["use_cdi"] for c in configs] == [use_cdi, use_cdi]
        assert [c["epochs"] for c in configs] == [2, 2]
        histories = [pd.read_csv(d / "history.csv") for d in run_dirs]
        results = [json.loads((d / "results.json").read_text()) for d in run_dirs]
        row = rows.loc[variant]
        assert row["n"] == "2" and row["epochs"] == "2"
        assert row["use_cdi"] == str(use_cdi)
        assert row["val cdi, first epoch"] == _cell([h["val_cdi"].iloc[0] for h in histories])
        assert row["val cdi, last epoch"] == _cell([h["val_cdi"].iloc[1] for h in histories])
        assert row["test cdi"] == _cell([r["cdi"] for r in results])
        backbone = json.loads((run_dirs[0] / "config.json").read_text())["resolved"]["backbone"]
        assert row["note"].startswith(f"ours: {backbone}; paper (Fig. 3, no numbers)")

        # The plotted curve: per-epoch mean and sample std over the two seeds.
        curve = figure3._epoch_cdi(figure3.figure3_runs(figure3.command_line(argv), variant))
        stacked = np.stack([h["val_cdi"].to_numpy() for h in histories])
        np.testing.assert_allclose(curve["mean"], stacked.mean(axis=0))
        np.testing.assert_allclose(curve["std"], stacked.std(axis=0, ddof=1))
        assert list(curve["n"]) == [2, 2]
    assert "decays toward zero" in rows.loc["with_cdi", "note"]
    assert "| with_cdi | True | 2 | 2 |" in (out / "figure3.md").read_text()

    # A run directory whose stored settings differ from the command's is refused, named.
    (stored_path,) = (runs / "figure3-with_cdi").rglob("fold0-seed1/config.json")
    stored = json.loads(stored_path.read_text())
    stored["config"]["epochs"] = 5
    stored_path.write_text(json.dumps(stored))
    assert figure3.main(["--epochs", "2", "--seeds", "0", "1", *smoke_args]) == 2
    assert "trained with other settings (epochs: 5 -> 2)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--epochs", "0"], "--epochs"),
        (["--variants", "with_cdi", "cdi_only"], "--variants"),
        (["--seeds"], "--seeds"),
    ],
)
def test_figure3_bad_options_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as error:
        figure3.main(argv)
    assert error.value.code == 2
    assert message in capsys.readouterr().err
