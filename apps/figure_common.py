"""What the figure apps share: matplotlib without a display, reading a run directory's files,
and saving a PNG next to the figure's table."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "MODEL_COLORS",
    "backbones",
    "check_scg_tables",
    "pyplot",
    "read_history",
    "read_results",
    "read_scg",
    "save_figure",
]

#: One colour per model or variant across the figures (colour-blind safe Okabe-Ito pairs).
MODEL_COLORS = ("#D55E00", "#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")


def backbones(runs: pd.DataFrame) -> str:
    """The backbones behind `runs` (``collect``'s ``backbone`` column), comma-separated: a
    preset may train a stand-in for the paper's model, and a figure should say which."""
    if "backbone" not in runs.columns:
        return ""
    return ", ".join(sorted({str(name) for name in runs["backbone"].dropna()}))


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (files only; no display is needed or opened)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure: Any, out: Path, stem: str) -> Path:
    """Write ``<out>/<stem>.png`` (150 dpi) and close the figure; its path."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{stem}.png"
    figure.savefig(path, dpi=150, bbox_inches="tight")
    pyplot().close(figure)
    print(f"wrote {path}", file=sys.stderr)
    return path


def read_results(run_dir: str | Path) -> dict:
    """A finished run's ``results.json``."""
    return json.loads((Path(run_dir) / "results.json").read_text())


def read_history(run_dir: str | Path) -> pd.DataFrame:
    """A run's ``history.csv``: one row per epoch (empty cells are NaN)."""
    return pd.read_csv(Path(run_dir) / "history.csv")


def read_scg(run_dir: str | Path) -> pd.DataFrame:
    """A finished run's ``scg.csv``: one row per SCG of its test fairness report.

    Raises:
        ValueError: the run has no ``scg.csv`` (it finished before semcov-train wrote one).
    """
    path = Path(run_dir) / "scg.csv"
    if not path.is_file():
        raise ValueError(
            f"{str(run_dir)!r} has no scg.csv: the run finished before semcov-train wrote the "
            "per-SCG table; delete that run directory and run the command again to retrain it"
        )
    return pd.read_csv(path)


def check_scg_tables(run_dirs: Iterable[str | Path]) -> None:
    """Raise the :func:`read_scg` error for the first run without ``scg.csv`` (before plotting)."""
    for run_dir in run_dirs:
        if not (Path(run_dir) / "scg.csv").is_file():
            read_scg(run_dir)
