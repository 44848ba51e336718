"""``SemanticFairnessReport.to_html``: a thin method over :mod:`semcov_metrics.html_report`,
which (with Jinja2 and matplotlib) is imported only when the method is called."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["to_html"]


def to_html(
    self: Any,
    path: str | Path,
    *,
    card: Any = None,
    sensitivity: pd.DataFrame | None = None,
    title: str | None = None,
    context: Mapping[str, Any] | None = None,
    class_names: Any = None,
) -> Path:
    """Write the report as one self-contained HTML file (needs the ``html`` extra).

    Args:
        path: the HTML file; its folder must exist.
        card: a model card: a :class:`~semcov_metrics.model_card.ModelCard`, a mapping of its
            fields or a YAML path; sections it leaves out are derived from the report.
        sensitivity: descriptor sensitivity (columns ``descriptor, class, subgroup, setting,
            mean_score_change, decision_flip_rate, n``), or None.
        title: the page title.
        context: what was audited, e.g. ``{"model": ..., "train": ..., "test": ...}``.
        class_names: the classes' names (``{class: name}`` or in class order) for a report
            computed on class codes.

    Returns:
        The path written; see :func:`semcov_metrics.html_report.write_html_report`.
    """
    from semcov_metrics.html_report import write_html_report

    return write_html_report(
        self,
        path,
        card=card,
        sensitivity=sensitivity,
        title=title,
        context=context,
        class_names=class_names,
    )
