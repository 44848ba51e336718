"""The figures of the HTML fairness report, as matplotlib figures sized for a printed page:
coverage–error scatter, coverage heatmap per class, reliability per coverage band, ROC per
subgroup, descriptor sensitivity. Vector only (no ``imshow``), few paths. Needs the ``html``
extra (matplotlib)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from semcov_metrics._optional import require

__all__ = [
    "MAX_CURVE_POINTS",
    "coverage_error_figure",
    "coverage_heatmap_figure",
    "reliability_figure",
    "roc_figure",
    "sensitivity_figure",
]

#: A curve with more points than this is drawn on this many points of its x axis (an ROC of
#: 10,000 test images would otherwise be thousands of path segments per subgroup).
MAX_CURVE_POINTS = 200
#: Colours of the heatmap scale: below matplotlib's 50, where a colorbar becomes a raster image.
_COLOURS = 32
_WIDTH = 6.3  # inches: the text width of an A4 or Letter page with 15 mm margins


def _figure(width: float, height: float) -> Any:
    figure_module = require("matplotlib.figure", "the report's figures")
    return figure_module.Figure(figsize=(width, height), layout="constrained")


def coverage_error_figure(table: pd.DataFrame, slope: Any = None) -> Any:
    """Training coverage against test error of the valid SCGs, point area ∝ test support, one
    colour per class, with a line of slope ``slope`` (the report's support-aware slope) through
    the support-weighted mean; without it, the support-weighted least-squares line.

    Args:
        table: a report's table (``class, coverage, error, support, valid``).
        slope: the slope to draw, or None / NaN for the weighted least-squares fit.

    Example:
        >>> table = pd.DataFrame({"class": [0, 0, 1], "coverage": [0.1, 0.5, 0.3],
        ...     "error": [0.4, 0.1, 0.2], "support": [5.0, 20.0, 8.0], "valid": True})
        >>> axes = coverage_error_figure(table).axes[0]
        >>> len(axes.collections), axes.get_legend_handles_labels()[1]
        (2, ['class 0', 'class 1', 'weighted least squares'])
    """
    figure = _figure(_WIDTH * 0.75, 3.4)
    ax = figure.add_subplot()
    valid = table[table["valid"].astype(bool)]
    largest = max(float(valid["support"].max()) if len(valid) else 1.0, 1e-9)
    for class_value, rows in valid.groupby("class", sort=False):
        ax.scatter(
            rows["coverage"],
            rows["error"],
            s=8.0 + 120.0 * rows["support"] / largest,
            alpha=0.6,
            linewidths=0.4,
            edgecolors="white",
            label=f"class {class_value}",
        )
    weights = valid["support"].to_numpy(dtype=float)
    x, y = valid["coverage"].to_numpy(dtype=float), valid["error"].to_numpy(dtype=float)
    if len(valid) >= 2 and np.ptp(x) > 0 and weights.sum() > 0:
        x_mean, y_mean = np.average(x, weights=weights), np.average(y, weights=weights)
        drawn = slope is not None and np.isfinite(float(slope))
        if not drawn:
            slope = np.sum(weights * (x - x_mean) * (y - y_mean)) / np.sum(
                weights * (x - x_mean) ** 2
            )
        xs = np.array([x.min(), x.max()])
        label = "report's slope" if drawn else "weighted least squares"
        ax.plot(xs, y_mean + float(slope) * (xs - x_mean), color="black", lw=1.2, label=label)
    ax.set_ylim(-0.03, 1.03)  # error is a share: a steep line leaves the axes, not the range
    ax.set_xlabel("training coverage of the SCG")
    ax.set_ylabel("test error (1 − TPR)")
    ax.set_title(f"{len(valid)} SCGs; point area ∝ test support")
    ax.legend(loc="best", frameon=False)
    return figure


def coverage_heatmap_figure(table: pd.DataFrame, class_value: Any) -> Any:
    """Training coverage of one class, descriptors (rows) × subgroups (columns); "–" marks a
    cell without training samples and a red frame a flagged SCG.

    Example:
        >>> table = pd.DataFrame({"class": "MEL", "subgroup": ["arm", "leg"] * 2,
        ...     "descriptor": ["MONET_hair"] * 2 + ["MONET_pen"] * 2, "coverage": [0.2, 0, 0.5, 0],
        ...     "n_train": [10, 0, 10, 0]})
        >>> axes = coverage_heatmap_figure(table, "MEL").axes[0]
        >>> axes.get_title(), [t.get_text() for t in axes.texts]
        ('Training coverage, class MEL (descriptors MONET_…)', ['0.20', '–', '0.50', '–'])
    """
    rows = table[table["class"] == class_value]
    descriptors = list(dict.fromkeys(rows["descriptor"]))
    subgroups = list(dict.fromkeys(rows["subgroup"]))
    grid = rows.pivot(index="descriptor", columns="subgroup", values="coverage")
    grid = grid.loc[descriptors, subgroups].to_numpy(dtype=float)
    counts = rows.pivot(index="descriptor", columns="subgroup", values="n_train")
    counts = counts.loc[descriptors, subgroups].to_numpy()
    flags = np.zeros_like(grid, dtype=bool)
    if "flagged" in rows.columns:
        flagged = rows.pivot(index="descriptor", columns="subgroup", values="flagged")
        flags = flagged.loc[descriptors, subgroups].eq(True).to_numpy()
    labels, prefix = _without_common_prefix([str(d) for d in descriptors])
    longest = max(len(label) for label in labels)
    width = min(_WIDTH, 1.5 + 0.7 * len(subgroups) + 0.065 * longest)
    figure = _figure(width, 1.1 + 0.3 * len(descriptors))
    ax = figure.add_subplot()
    top = max(float(np.nanmax(grid)) if grid.size else 0.0, 1e-9)
    mesh = ax.pcolormesh(grid, cmap=_light_blues(), vmin=0.0, vmax=top, edgecolors="white", lw=0.5)
    for i, j in np.ndindex(grid.shape):
        text = "–" if counts[i, j] == 0 else f"{grid[i, j]:.2f}"
        ax.text(j + 0.5, i + 0.5, text, ha="center", va="center", fontsize=7)
    for i, j in zip(*np.nonzero(flags), strict=True):
        ax.add_patch(_frame(j, i))
    ax.set_xticks(np.arange(len(subgroups)) + 0.5, [str(s) for s in subgroups], rotation=40)
    ax.set_yticks(np.arange(len(descriptors)) + 0.5, labels)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    ax.invert_yaxis()
    named = f" (descriptors {prefix}…)" if prefix else ""
    ax.set_title(f"Training coverage, class {class_value}{named}")
    figure.colorbar(mesh, ax=ax, label="coverage", shrink=0.9)
    return figure


def _without_common_prefix(names: list[str]) -> tuple[list[str], str]:
    """Names without a first word that they all share before an underscore ("MONET_hair" → "hair").

    Example:
        >>> _without_common_prefix(["MONET_hair", "MONET_pen_ink"])
        (['hair', 'pen_ink'], 'MONET_')
        >>> _without_common_prefix(["hair", "hat"])
        (['hair', 'hat'], '')
    """
    head = names[0].split("_", 1)[0] + "_"
    shared = len(names) > 1 and all(n.startswith(head) and len(n) > len(head) for n in names)
    prefix = head if shared else ""
    return [name[len(prefix) :] for name in names], prefix


def _light_blues() -> Any:
    """The lighter two thirds of "Blues": black text stays readable and print stays light."""
    matplotlib = require("matplotlib", "the report's figures")
    blues = matplotlib.colormaps["Blues"]
    return matplotlib.colors.LinearSegmentedColormap.from_list(
        "light_blues", blues(np.linspace(0.0, 0.7, _COLOURS)), N=_COLOURS
    )


def _frame(x: float, y: float) -> Any:
    patches = require("matplotlib.patches", "the report's figures")
    return patches.Rectangle((x, y), 1, 1, fill=False, edgecolor="#c0392b", linewidth=1.6)


def _thin(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At most :data:`MAX_CURVE_POINTS` points of a curve whose x is non-decreasing."""
    if len(x) <= MAX_CURVE_POINTS:
        return x, y
    grid = np.linspace(float(x[0]), float(x[-1]), MAX_CURVE_POINTS)
    return grid, np.interp(grid, x, y)


def reliability_figure(reliability: Mapping[str, Mapping[str, Any]], bands: tuple[str, ...]) -> Any:
    """One reliability panel per coverage band: accuracy against confidence per bin, marker
    area ∝ the bin's weight, the diagonal of perfect calibration.

    Example:
        >>> curve = {"confidence": [0.2, 0.8], "accuracy": [0.1, 0.9], "weight": [0.5, 0.5]}
        >>> figure = reliability_figure({"Head": curve, "Tail": curve}, ("Tail", "Middle", "Head"))
        >>> [axes.get_title() for axes in figure.axes]
        ['Tail', 'Head']
    """
    present = [b for b in bands if b in reliability] + [b for b in reliability if b not in bands]
    figure = _figure(_WIDTH, 2.4)
    axes = figure.subplots(1, len(present), sharey=True, squeeze=False)[0]
    for ax, band in zip(axes, present, strict=True):
        curve = reliability[band]
        confidence = np.asarray(curve["confidence"], dtype=float)
        accuracy = np.asarray(curve["accuracy"], dtype=float)
        weight = np.asarray(curve.get("weight", np.ones_like(confidence)), dtype=float)
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
        ax.plot(confidence, accuracy, color="#1f77b4", lw=1.0)
        area = 6.0 + 80.0 * weight / max(float(weight.max()) if weight.size else 1.0, 1e-12)
        ax.scatter(confidence, accuracy, s=area, color="#1f77b4", zorder=3)
        ax.set(xlim=(0, 1), ylim=(0, 1), title=band, xlabel="confidence")
    axes[0].set_ylabel("observed frequency")
    return figure


def roc_figure(roc: Mapping[Any, Mapping[str, Any]]) -> Any:
    """ROC curves by subgroup with each subgroup's AUC in the legend; a curve of more than
    :data:`MAX_CURVE_POINTS` points is drawn on that many.

    Example:
        >>> fpr = np.linspace(0, 1, 1001)
        >>> axes = roc_figure({"arm": {"fpr": fpr, "tpr": np.sqrt(fpr), "auc": 0.667}}).axes[0]
        >>> axes.get_legend_handles_labels()[1], len(axes.lines[1].get_xdata())
        (['arm (AUC 0.67)'], 200)
    """
    figure = _figure(_WIDTH * 0.7, 3.6)
    ax = figure.add_subplot()
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
    for subgroup, curve in roc.items():
        fpr, tpr = _thin(np.asarray(curve["fpr"], float), np.asarray(curve["tpr"], float))
        auc = curve.get("auc")
        name = f"{subgroup} (AUC {float(auc):.2f})" if auc is not None else str(subgroup)
        ax.plot(fpr, tpr, lw=1.2, label=name)
    ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="false positive rate", ylabel="true positive rate")
    ax.set_aspect("equal")
    ax.legend(loc="lower right", frameon=False)
    return figure


def sensitivity_figure(summary: pd.DataFrame) -> Any:
    """Mean score change and decision-flip rate per descriptor when it is set to 0 and to 1.

    Args:
        summary: one row per (descriptor, setting) with ``mean_score_change`` and
            ``decision_flip_rate`` (:func:`semcov_metrics.html_report.sensitivity_summary`
            pooled over classes).

    Example:
        >>> summary = pd.DataFrame({"descriptor": ["hair", "hair", "pen"],
        ...     "setting": ["0", "1", "1"], "mean_score_change": [-0.1, 0.2, 0.05],
        ...     "decision_flip_rate": [0.1, 0.3, 0.0]})
        >>> figure = sensitivity_figure(summary)
        >>> [axes.get_xlabel() for axes in figure.axes]
        ['mean change of the score', 'share of decisions that flip']
    """
    descriptors = list(dict.fromkeys(summary["descriptor"]))
    settings = sorted(summary["setting"].unique())
    figure = _figure(_WIDTH, 0.9 + 0.28 * len(descriptors))
    axes = figure.subplots(1, 2, sharey=True)
    height = 0.8 / max(len(settings), 1)
    positions = np.arange(len(descriptors))
    for k, setting in enumerate(settings):
        rows = summary[summary["setting"] == setting].set_index("descriptor").reindex(descriptors)
        offset = positions - 0.4 + height * (k + 0.5)
        for ax, column in zip(axes, ("mean_score_change", "decision_flip_rate"), strict=True):
            ax.barh(offset, rows[column].to_numpy(float), height, label=f"set to {setting}")
    axes[0].axvline(0.0, color="black", lw=0.6)
    axes[0].set_yticks(positions, descriptors)
    axes[0].invert_yaxis()
    axes[0].set_xlabel("mean change of the score")
    axes[1].set_xlabel("share of decisions that flip")
    handles, labels = axes[1].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside upper center", ncols=len(labels), frameon=False)
    return figure
