"""The summary of a semantic fairness report in plain sentences: what was audited, whether error
follows training coverage, whether the audit could have seen it, and which groups fare worst."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from semcov_metrics._report_view import (
    MISSING,
    NOT_COMPUTED,
    field,
    fmt,
    fmt_interval,
    fmt_p,
    ordered_scgs,
    percent,
    scg_name,
    slope_details,
)
from semcov_metrics.power import SLOPE_GRID

__all__ = [
    "CONTEXT_LABELS",
    "LARGEST_SLOPE",
    "cdi_interval",
    "context_details",
    "summary_sentences",
]

#: How the summary introduces the usual ``context`` keys; other keys are listed as details.
CONTEXT_LABELS = {"model": "Model", "train": "Training data", "test": "Test data"}
#: The largest slope magnitude the power simulation tries (its grid's end).
LARGEST_SLOPE = max(SLOPE_GRID)


def _with_interval(value: Any, interval: Any, confidence: float) -> str:
    text = fmt(value)
    bounds = fmt_interval(interval)
    return f"{text} ({percent(confidence)} CI {bounds})" if bounds else text


def cdi_interval(report: Any) -> Any:
    """The CDI's interval: ``report.cdi_interval``, else the bootstrap one in ``intervals``."""
    interval = field(report, "cdi_interval")
    if interval is MISSING:
        interval = getattr(report, "intervals", {}).get("cdi", MISSING)
    return interval


def context_details(context: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """The ``context`` entries the summary does not state (all but model, train and test), as
    ``(name, text)`` pairs with underscores read as spaces; entries without a value are left out.

    Example:
        >>> context_details({"model": "CNN", "n_test": 32, "git_commit": None})
        [('n test', '32')]
    """
    return [
        (str(key).replace("_", " "), fmt(value))
        for key, value in (context or {}).items()
        if key not in CONTEXT_LABELS and value is not None and str(value) != ""
    ]


def _context(context: Mapping[str, Any] | None) -> list[str]:
    parts = [
        f"{label}: {context[key]}."
        for key, label in CONTEXT_LABELS.items()
        if context and context.get(key) not in (None, "")
    ]
    if parts:
        return [" ".join(parts)]
    if context:
        return ["The audited run is described under \u201cAudit details\u201d at the end."]
    return ["The model and the data were not described (no context was given)."]


def _null_words(report: Any) -> str:
    replicates = field(report, "n_permutations")
    count = f"{fmt(replicates)} replicates: " if isinstance(replicates, int) and replicates else ""
    return (
        f"the cell-rate resampling null ({count}each (class, subgroup) cell's error rate is "
        "permuted among the cells of its class and every test image's miss is redrawn from its "
        "cell's new rate, the images and their descriptors left in place)"
    )


def _cdi(report: Any, confidence: float) -> str:
    text = (
        f"Across the {report.n_valid} semantic coverage groups (SCGs) with enough test support, "
        "the coverage disparity index (CDI: the absolute correlation between an SCG's training "
        "coverage and its test error, 0 = unrelated, 1 = perfectly related) is "
        + _with_interval(report.cdi, cdi_interval(report), confidence)
    )
    p_value, q95 = field(report, "cdi_p_value"), field(report, "cdi_null_q95")
    if p_value is MISSING and q95 is MISSING:
        return text + (
            f". Its p-value and the 95\u00a0% quantile of the resampling null were "
            f"{NOT_COMPUTED}; the mean of that null is {fmt(field(report, 'cdi_null'))}."
        )
    text += (
        f". Against {_null_words(report)}, its p-value is {fmt_p(p_value)} and the null's "
        f"95\u00a0% quantile is {fmt(q95)}."
    )
    if p_value is not MISSING and p_value == p_value:
        text += (
            " Error follows coverage more than this null gives; read it with the per-SCG "
            "tables, since a descriptor that is hard in every cell also counts here."
            if p_value < 0.05
            else " This CDI is within what the null gives: no evidence that error follows coverage."
        )
    return text


def _slope(report: Any, confidence: float) -> str:
    slope = slope_details(report)
    if slope["slope"] is MISSING:
        return f"The support-aware coverage–error slope was {NOT_COMPUTED}."
    text = (
        "The support-aware slope (every test image's miss regressed on its own training "
        "coverage, one intercept per class) is "
        f"{_with_interval(slope['slope'], slope['interval'], confidence)} per unit of coverage, "
        f"p-value {fmt_p(slope['p_value'])} against the same null"
    )
    if slope["n_clusters"] is not MISSING:
        text += (
            f" ({fmt(slope['n_samples'])} test images in {fmt(slope['n_clusters'])} cells, "
            "interval clustered by cell)"
        )
    value, interval = slope["slope"], fmt_interval(slope["interval"])
    if fmt(value) == "undefined" or not interval:
        return text + "."
    low, high = (float(v) for v in slope["interval"])
    if low <= 0.0 <= high:
        return text + ": the interval includes zero, so no trend is established."
    direction = "rises where coverage is scarce" if value < 0 else "falls where coverage is scarce"
    return text + f": the error {direction}."


def _share(value: Any) -> str:
    return fmt(value) if fmt(value) in ("undefined", NOT_COMPUTED) else percent(value)


def _power(report: Any) -> str:
    power = field(report, "power")
    if power is MISSING or power is None:
        return f"Whether the audit had the power to see an effect was {NOT_COMPUTED}."
    target = _share(power.get("target_power"))
    simulated = power.get("n_simulations")
    how = f"{fmt(simulated)} simulated audits of this design" if simulated else "simulation"
    alpha = fmt(power.get("alpha"), 2)
    detectable = power.get("min_detectable_slope")
    if fmt(detectable) == "undefined":
        text = (
            f"Power, by {how} with a planted slope: no slope up to {LARGEST_SLOPE:g} reaches "
            f"{target} power with this design (the CDI test at α = {alpha})"
        )
    else:
        text = (
            f"Power, by {how} with a planted slope: the CDI test at α = {alpha} detects a "
            f"slope of {fmt(detectable)} or steeper with {target} power"
        )
    reference = power.get("reference_slope")
    if reference is not None:
        text += (
            f"; a slope of {fmt(reference)} would be found with probability "
            f"{_share(power.get('power_at_reference'))}"
        )
    if power.get("underpowered"):
        return text + (
            ". The audit is underpowered: a slope it did not find may still be there, so the "
            "absence of a significant slope is not evidence of fairness."
        )
    return text + f". The audit had the power to see a slope of {fmt(reference)}."


def _worst(table: pd.DataFrame, confidence: float, n: int = 3) -> str:
    worst = ordered_scgs(table).head(n)
    if worst.empty:
        return "No SCG had enough test support to be ranked."
    has_interval = "tpr_low" in worst.columns
    names = []
    for row in worst.itertuples(index=False):
        tpr = f"true positive rate {fmt(row.tpr, 2)}"
        if has_interval:
            bounds = fmt_interval((row.tpr_low, row.tpr_high), 2)
            tpr += f", {percent(confidence)} CI {bounds}" if bounds else ""
        names.append(
            f"{scg_name(row[0], row.descriptor, row.subgroup)} ({tpr}, test support "
            f"{row.support:.1f})"
        )
    return "The worst groups: " + "; ".join(names) + "."


def _flagged(report: Any, table: pd.DataFrame) -> str:
    if "flagged" not in table.columns:
        return f"Flagging SCGs at a false discovery rate was {NOT_COMPUTED}."
    count = int(table["flagged"].eq(True).sum())
    level = field(report, "fdr")
    at = "the report's level" if level is MISSING else f"{fmt(level, 2)}"
    rule = (
        f"error above their class's, Benjamini–Hochberg q-values at a false discovery rate of {at}"
    )
    if count == 0:
        return f"0 of {report.n_valid} SCGs are flagged ({rule}): none stands out."
    return f"{count} of {report.n_valid} SCGs are flagged ({rule}); they are marked in the tables."


def summary_sentences(report: Any, context: Mapping[str, Any] | None) -> list[str]:
    """The summary paragraphs, in reading order (context, CDI, slope, power, worst, flags).

    Example:
        >>> import numpy as np
        >>> from semcov_metrics import semantic_fairness_report
        >>> rng = np.random.default_rng(0)
        >>> report = semantic_fairness_report(
        ...     train_descriptors=rng.random((300, 2)), train_labels=rng.integers(0, 2, 300),
        ...     train_subgroups=rng.integers(0, 3, 300), test_descriptors=rng.random((200, 2)),
        ...     test_labels=rng.integers(0, 2, 200), test_predictions=rng.integers(0, 2, 200),
        ...     test_subgroups=rng.integers(0, 3, 200))
        >>> print(summary_sentences(report, {"model": "logistic regression"})[0])
        Model: logistic regression.
    """
    confidence = float(getattr(report, "confidence", 0.95))
    return [
        *_context(context),
        _cdi(report, confidence),
        _slope(report, confidence),
        _power(report),
        _worst(report.table, confidence),
        _flagged(report, report.table),
    ]
