"""The semantic fairness report as one self-contained HTML file: Jinja2 templates (autoescaped),
inline SVG figures, a print stylesheet, no script and no request outside the file. Needs the
``html`` extra (``pip install "semcov-metrics[html]"``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from semcov_metrics import report_figures
from semcov_metrics._optional import require
from semcov_metrics._report_classes import with_class_names
from semcov_metrics._report_prose import (
    CONTEXT_LABELS,
    LARGEST_SLOPE,
    cdi_interval,
    context_details,
    summary_sentences,
)
from semcov_metrics._report_view import (
    BANDS,
    MISSING,
    NOT_COMPUTED,
    descriptor_test_rows,
    excluded_rows,
    field,
    fmt,
    fmt_interval,
    fmt_p,
    intersection_rows,
    percent,
    scg_rows,
    slope_details,
    strata_rows,
)
from semcov_metrics._sensitivity_view import (
    SENSITIVITY_COLUMNS,
    sensitivity_section,
    sensitivity_summary,
)
from semcov_metrics._svg import SVG_STYLE, figure_svg
from semcov_metrics._version import __version__
from semcov_metrics.model_card import CardSection, resolve_card

__all__ = [
    "SENSITIVITY_COLUMNS",
    "card_defaults",
    "check_html_path",
    "render_html",
    "require_html_extra",
    "sensitivity_summary",
    "write_html_report",
]

_PURPOSE = "the HTML report"
_DETECTABLE = "Minimum detectable slope (CDI test)"


def require_html_extra() -> None:
    """Raise an ImportError naming the ``html`` extra unless Jinja2 and matplotlib import."""
    for module in ("jinja2", "markupsafe", "matplotlib"):
        require(module, _PURPOSE)


def check_html_path(path: str | Path) -> Path:
    """``path`` as a Path after checking that an HTML file can be written there (before any
    work): its folder exists, it is not a folder, and it can be opened for writing.

    Raises:
        FileNotFoundError: the folder does not exist.
        IsADirectoryError: ``path`` is a folder.
        PermissionError / OSError: the file cannot be written.

    Example:
        >>> check_html_path("no_such_folder/report.html")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        FileNotFoundError: HTML report no_such_folder/report.html: the folder ... does not exist
    """
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"HTML report {path}: the folder {folder} does not exist")
    if path.is_dir():
        raise IsADirectoryError(f"HTML report {path} is a folder; give a file name")
    existed = path.exists()
    try:
        with path.open("ab"):
            pass
    except OSError as error:
        raise type(error)(f"HTML report {path} cannot be written: {error.strerror}") from None
    if not existed:
        path.unlink()
    return path


def card_defaults(report: Any, context: Mapping[str, Any] | None) -> dict[str, tuple[str, ...]]:
    """What the model card says where its owner said nothing: derived from the report and its
    ``context`` (model, train, test)."""
    context = dict(context or {})
    table = report.table
    n_train = int(table.drop_duplicates(["class", "subgroup"])["n_train"].sum())
    data = [f"{CONTEXT_LABELS[k]}: {context[k]}." for k in ("train", "test") if k in context]
    data.append(f"{n_train:,} training samples fall in the SCG grid's class × subgroup cells.")
    excluded = int((~table["valid"].astype(bool)).sum())
    limitations = [
        f"{excluded} of {len(table)} SCGs have too little test support "
        f"(< {fmt(field(report, 'min_support'), 2)}) and are left out of every statistic.",
        "Coverage describes the training split only; a group rare there may be common in use.",
    ]
    power = field(report, "power")
    if isinstance(power, Mapping) and power.get("underpowered"):
        limitations.append(
            "The audit is underpowered: a coverage–error slope smaller than "
            f"{fmt(power.get('min_detectable_slope'))} would likely go unseen."
        )
    return {
        "intended_use": (
            "Not stated by the model's owner. This audit measures whether the model's errors "
            "follow how well semantic groups are covered in its training data; it is not a "
            "clinical validation.",
        ),
        "data": tuple(data),
        "evaluation": (
            f"CDI {fmt(report.cdi)} over {report.n_valid} of {len(table)} SCGs; worst-group TPR "
            f"{fmt(report.tpr_worst)}, spread of TPR {fmt(report.tpr_std)}.",
        ),
        "limitations": tuple(limitations),
        "caveats": (
            "Descriptor scores are model estimates, not annotations: group membership inherits "
            "their errors, and the intervals treat the scores as exact.",
        ),
    }


def _key_numbers(report: Any) -> list[dict[str, str]]:
    intervals = getattr(report, "intervals", {})
    slope = slope_details(report)
    power = field(report, "power")
    power = power if isinstance(power, Mapping) else {}
    rows = [
        ("CDI", report.cdi, cdi_interval(report), field(report, "cdi_p_value")),
        ("CDI, hard membership", field(report, "cdi_hard"), intervals.get("cdi_hard"), None),
        ("CDI null, mean", field(report, "cdi_null"), None, None),
        ("CDI null, 95\u00a0% quantile", field(report, "cdi_null_q95"), None, None),
        ("Coverage–error slope", slope["slope"], slope["interval"], slope["p_value"]),
        (_DETECTABLE, power.get("min_detectable_slope", MISSING), None, None),
        ("Worst-group TPR (TPR_w)", report.tpr_worst, intervals.get("tpr_worst"), None),
        ("Spread of TPR (TPR_std)", report.tpr_std, intervals.get("tpr_std"), None),
        ("S@95 in the coverage tail", field(report, "s95_tail"), None, None),
    ]
    # a simulated power that reached its target at no slope of the grid says so
    undetectable = bool(power) and fmt(power.get("min_detectable_slope")) == "undefined"
    return [
        {
            "name": name,
            "value": (
                f"none up to {LARGEST_SLOPE:g}"
                if name == _DETECTABLE and undetectable
                else fmt(value)
            ),
            "interval": fmt_interval(interval),
            "p_value": "" if p_value is None else fmt_p(p_value),
        }
        for name, value, interval, p_value in rows
    ]


def _classes(report: Any) -> list[Any]:
    classes = field(report, "classes")
    if classes is MISSING or classes is None:
        return list(dict.fromkeys(report.table["class"]))
    return list(classes)


def _breakable(value: Any) -> Any:
    """``value`` escaped, with a line-break opportunity after each underscore, so that a long
    descriptor name ("MONET_gel_water_drop_fluid") wraps inside its table cell."""
    markup = require("markupsafe", _PURPOSE)
    return markup.escape(str(value)).replace("_", markup.Markup("_<wbr>"))


class _Figures:
    """Renders figures to SVG with page-unique ids (``fig1``, ``fig2``, ...)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, figure: Any, label: str) -> Any:
        markup = require("markupsafe", _PURPOSE)
        self.count += 1
        return markup.Markup(figure_svg(figure, f"fig{self.count}", label))


def _sections(report: Any, sensitivity: Any, svg: _Figures) -> dict[str, Any]:
    table = report.table
    slope = slope_details(report)["slope"]
    sections: dict[str, Any] = {
        "scatter": svg(
            report_figures.coverage_error_figure(table, None if slope is MISSING else slope),
            "Training coverage against test error per SCG",
        )
    }
    strata = field(report, "strata")
    sections["strata"] = strata_rows(strata)
    sections["strata_missing"] = strata is MISSING or (
        isinstance(strata, pd.DataFrame) and strata.empty
    )
    reliability = field(report, "reliability")
    sections["reliability"] = (
        svg(report_figures.reliability_figure(reliability, BANDS), "Reliability per band")
        if isinstance(reliability, Mapping) and reliability
        else None
    )
    sections["reliability_note"] = NOT_COMPUTED if reliability is MISSING else "none for this task"
    roc = field(report, "roc")
    sections["roc"] = (
        svg(report_figures.roc_figure(roc), "ROC curves by subgroup")
        if isinstance(roc, Mapping) and roc
        else None
    )
    sections["roc_note"] = NOT_COMPUTED if roc is MISSING else "none for this task"
    classes = []
    per_class = getattr(report, "cdi_per_class", {})
    for class_value in _classes(report):
        rows = table[table["class"] == class_value]
        classes.append(
            {
                "name": str(class_value),
                "cdi": fmt(per_class.get(class_value, MISSING)),
                "heatmap": svg(
                    report_figures.coverage_heatmap_figure(table, class_value),
                    f"Training coverage of class {class_value}",
                ),
                "rows": scg_rows(rows),
                "excluded": excluded_rows(rows),
            }
        )
    sections["classes"] = classes
    columns = {"band": "band", "interval": "tpr_low", "q_value": "q_value", "flag": "flagged"}
    sections["has"] = {key: name in table.columns for key, name in columns.items()}
    labels = {"band": "band", "interval": "TPR interval", "q_value": "q-value", "flag": "flag"}
    sections["not_shown"] = [labels[k] for k, present in sections["has"].items() if not present]
    intersections = field(report, "intersections")
    sections["intersections"], sections["n_intersections"] = intersection_rows(intersections)
    sections["intersections_missing"] = intersections is MISSING
    sections["descriptor_tests"] = descriptor_test_rows(field(report, "descriptor_tests"))
    sections["sensitivity"] = (
        None if sensitivity is None else sensitivity_section(sensitivity, svg, BANDS)
    )
    return sections


def render_html(
    report: Any,
    *,
    card: Any = None,
    sensitivity: pd.DataFrame | None = None,
    title: str | None = None,
    context: Mapping[str, Any] | None = None,
    class_names: Any = None,
) -> str:
    """The report as one HTML document (a string); see :func:`write_html_report`."""
    jinja2 = require("jinja2", _PURPOSE)
    matplotlib = require("matplotlib", _PURPOSE)

    if context is not None and not isinstance(context, Mapping):
        raise TypeError(f"context must be a mapping, got {type(context).__name__}")
    if sensitivity is not None:
        sensitivity_summary(sensitivity)  # refuse a bad table before drawing anything
    report, sensitivity = with_class_names(report, sensitivity, class_names)
    sections_of_card: list[CardSection] = resolve_card(card, card_defaults(report, context))
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("semcov_metrics", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    environment.filters["breakable"] = _breakable
    with matplotlib.rc_context(SVG_STYLE):
        sections = _sections(report, sensitivity, _Figures())
    table = report.table
    return environment.get_template("report.html.j2").render(
        title=title or "Semantic fairness report",
        summary=summary_sentences(report, context),
        details=context_details(context),
        key_numbers=_key_numbers(report),
        card=sections_of_card,
        n_scgs=len(table),
        n_valid=report.n_valid,
        min_support=fmt(field(report, "min_support"), 2),
        confidence=percent(float(getattr(report, "confidence", 0.95))),
        version=__version__,
        schema_version=report.to_dict().get("schema_version", NOT_COMPUTED),
        not_computed=NOT_COMPUTED,
        **sections,
    )


def write_html_report(
    report: Any,
    path: str | Path,
    *,
    card: Any = None,
    sensitivity: pd.DataFrame | None = None,
    title: str | None = None,
    context: Mapping[str, Any] | None = None,
    class_names: Any = None,
) -> Path:
    """Write ``report`` as a self-contained HTML file (figures inline, no script, no request).

    Args:
        report: a :class:`~semcov_metrics.SemanticFairnessReport`; fields it does not carry
            are shown as "not computed".
        path: the HTML file; its folder must exist (checked before any work).
        card: a :class:`~semcov_metrics.model_card.ModelCard`, a mapping of its fields, or a
            YAML path; sections left out are derived from the report and marked as defaults.
        sensitivity: descriptor sensitivity, columns :data:`SENSITIVITY_COLUMNS`; None leaves
            the section out with a note.
        title: the page title (default "Semantic fairness report").
        context: what was audited, e.g. ``{"model": ..., "train": ..., "test": ...}``: those
            three open the summary, other keys are listed under "Audit details".
        class_names: the classes' names, ``{class: name}`` or a sequence in the report's class
            order, for a report computed on class codes; the page shows the names, the numbers
            are the report's.

    Returns:
        The path written.

    Raises:
        ImportError: the ``html`` extra is not installed (the message names it).

    Example:
        >>> import tempfile
        >>> import numpy as np
        >>> from semcov_metrics import semantic_fairness_report
        >>> rng = np.random.default_rng(0)
        >>> report = semantic_fairness_report(
        ...     train_descriptors=rng.random((400, 3)), train_labels=rng.integers(0, 2, 400),
        ...     train_subgroups=rng.integers(0, 4, 400), test_descriptors=rng.random((300, 3)),
        ...     test_labels=rng.integers(0, 2, 300), test_predictions=rng.integers(0, 2, 300),
        ...     test_subgroups=rng.integers(0, 4, 300))
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     html = write_html_report(report, Path(folder) / "audit.html").read_text()
        >>> html.count("<svg"), html.count("<h2>Class "), "<script" in html
        (3, 2, False)
    """
    require_html_extra()
    path = check_html_path(path)
    html = render_html(
        report,
        card=card,
        sensitivity=sensitivity,
        title=title,
        context=context,
        class_names=class_names,
    )
    path.write_text(html, encoding="utf-8")
    return path
