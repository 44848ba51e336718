"""What figures of run directories share: matplotlib without a display, one colour per model,
the backbones behind a set of runs, and saving a PNG beside a table."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

__all__ = ["MODEL_COLORS", "backbones", "pyplot", "save_figure"]

#: One colour per model or variant across the figures (colour-blind safe Okabe-Ito pairs).
MODEL_COLORS = ("#D55E00", "#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")


def backbones(runs: Any) -> str:
    """The backbones behind `runs` (a frame with a ``backbone`` column), comma-separated: a
    preset may train a stand-in for the paper's model, and a figure should say which."""
    if "backbone" not in runs.columns:
        return ""
    return ", ".join(sorted({str(name) for name in runs["backbone"].dropna()}))


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (files only; no display is needed or opened).

    Raises:
        ModuleNotFoundError: matplotlib is not installed (``pip install matplotlib``).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure: Any, out: str | Path, stem: str) -> Path:
    """Write ``<out>/<stem>.png`` (150 dpi), close the figure and say so on stderr; its path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{stem}.png"
    figure.savefig(path, dpi=150, bbox_inches="tight")
    pyplot().close(figure)
    print(f"wrote {path}", file=sys.stderr)
    return path
