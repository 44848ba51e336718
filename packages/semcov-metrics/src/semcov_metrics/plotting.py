"""Figures of the fairness report: coverage–error scatter (paper Fig. 1), coverage heatmap (Fig. 5).

Needs the optional ``plot`` extra (``pip install semcov-metrics[plot]``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from semcov_metrics.report import SemanticFairnessReport

__all__ = ["plot_coverage_error", "plot_coverage_heatmap", "plot_coverage_long_tail"]


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install 'semcov-metrics[plot]'") from None
    return plt


def plot_coverage_error(report: SemanticFairnessReport, ax: Axes | None = None) -> Axes:
    """Scatter of training coverage against test error (1 − TPR) over the valid SCGs, one colour
    per class, with the least-squares line and the CDI in the title."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    valid = report.table[report.table["valid"]]
    for class_value, rows in valid.groupby("class", sort=False):
        ax.scatter(rows["coverage"], rows["error"], s=18, alpha=0.75, label=f"class {class_value}")
    if len(valid) >= 2 and valid["coverage"].nunique() > 1:
        slope, intercept = np.polyfit(valid["coverage"], valid["error"], 1)
        xs = np.linspace(valid["coverage"].min(), valid["coverage"].max(), 50)
        ax.plot(xs, slope * xs + intercept, color="black", linewidth=1.2, label="least squares")
    ax.set_xlabel("training coverage $c_g$")
    ax.set_ylabel("test error $e_g = 1 - TPR_g$")
    ax.set_title(f"CDI = {report.cdi:.3f} over {report.n_valid} SCGs")
    ax.legend(fontsize=8)
    return ax


def plot_coverage_heatmap(
    table: pd.DataFrame, class_value: Any = None, ax: Axes | None = None, *, annotate: bool = True
) -> Axes:
    """Heatmap of coverage, descriptors (rows) × subgroups (columns), for one class.

    Args:
        table: a coverage table (:func:`scg_coverage` or a report's ``table``).
        class_value: the class to draw; default the least frequent class in training
            (the minority class, as in the paper's figure).
        ax: axes to draw on.
        annotate: write the value in each cell; cells without training samples show "–".
    """
    plt = _pyplot()
    if class_value is None:
        sizes = (
            table.drop_duplicates(["class", "subgroup"])
            .groupby("class", sort=False)["n_train"]
            .sum()
        )
        class_value = sizes.idxmin()
    rows = table[table["class"] == class_value]
    if rows.empty:
        raise ValueError(f"class_value {class_value!r} is not in the table")
    descriptors = list(dict.fromkeys(rows["descriptor"]))
    subgroups = list(dict.fromkeys(rows["subgroup"]))
    grid = rows.pivot(index="descriptor", columns="subgroup", values="coverage").loc[
        descriptors, subgroups
    ]
    counts = rows.pivot(index="descriptor", columns="subgroup", values="n_train").loc[
        descriptors, subgroups
    ]
    if ax is None:
        _, ax = plt.subplots(figsize=(1.0 + 0.9 * len(subgroups), 1.0 + 0.5 * len(descriptors)))
    image = ax.imshow(
        grid.to_numpy(dtype=float),
        cmap="viridis",
        vmin=0.0,
        vmax=max(float(grid.max().max()), 1e-9),
        aspect="auto",
    )
    ax.set_xticks(range(len(subgroups)), [str(s) for s in subgroups], rotation=45, ha="right")
    ax.set_yticks(range(len(descriptors)), [str(d) for d in descriptors])
    if annotate:
        for i in range(len(descriptors)):
            for j in range(len(subgroups)):
                empty = counts.iat[i, j] == 0
                text = "–" if empty else f"{grid.iat[i, j]:.2f}"
                ax.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if grid.iat[i, j] < 0.5 * grid.max().max() else "black",
                )
    ax.set_title(f"SCG coverage, class {class_value}")
    ax.figure.colorbar(image, ax=ax, label="coverage")
    return ax


def plot_coverage_long_tail(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Coverage of every SCG sorted from highest to lowest: the long tail of paper Fig. 1/5."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    values = np.sort(table["coverage"].to_numpy(dtype=float))[::-1]
    ax.bar(np.arange(len(values)), values, width=1.0)
    ax.set_xlabel("SCG rank")
    ax.set_ylabel("training coverage")
    ax.set_title(f"{len(values)} SCGs, {int((values == 0).sum())} without coverage")
    return ax
