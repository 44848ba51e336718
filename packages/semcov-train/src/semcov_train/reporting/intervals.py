"""Summaries over runs with 95 % t-intervals, and paired differences between two methods.

Over the n runs of a cell (folds × seeds) the cell reads ``mean ± h`` with
``h = t_{(1+c)/2, n-1} · s / sqrt(n)`` (s the sample standard deviation, c = 0.95): the
half-width of the Student-t confidence interval of the mean. A paired difference takes the runs
of two methods that share a fold and a seed, d = treatment − control per pair, and reads
``mean(d) ± h`` with the same formula over the n pairs, so the variation that both methods share
(the split, the seed's initialisation and sampling) cancels. paper: reports one number (or
mean ± std over folds) per cell; here: the 95 % t-interval over runs and paired differences
over matched (fold, seed).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .frame import DEFAULT_METRICS

__all__ = [
    "GROUP_KEYS",
    "MATCH_KEYS",
    "PAIR_KEYS",
    "Interval",
    "paired_differences",
    "summarize",
    "t_interval",
]

#: Default groups of :func:`summarize`: one cell per experiment, method, dataset, modality and
#: settings (preset and overrides), over folds and seeds.
GROUP_KEYS = ("experiment", "method", "dataset", "modality", "settings")
#: Default groups of :func:`paired_differences` (the methods compared live in one group).
PAIR_KEYS = ("experiment", "dataset", "modality")
#: What makes two runs of different methods a pair.
MATCH_KEYS = ("fold", "seed")


@dataclass(frozen=True)
class Interval:
    """A mean with the half-width of its t confidence interval.

    Attributes:
        mean: the mean of the finite values (NaN when there are none).
        half_width: ``t_{(1+c)/2, n-1} · std / sqrt(n)``; NaN when n < 2.
        n: how many finite values.
        std: their sample standard deviation (ddof 1; NaN when n < 2).
    """

    mean: float
    half_width: float
    n: int
    std: float

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")


def t_interval(values: Iterable[float], confidence: float = 0.95) -> Interval:
    """Mean and t-interval half-width of the finite `values` (NaN values are undefined metrics
    of some runs: they are not counted in ``n``).

    >>> round(t_interval([0.8, 0.9, 0.7]).half_width, 4)  # 4.3027 * 0.1 / sqrt(3)
    0.2484

    Raises:
        ValueError: `confidence` outside (0, 1).
    """
    _check_confidence(confidence)
    array = np.asarray(list(values), dtype=np.float64)
    array = array[np.isfinite(array)]
    n = int(array.size)
    if n == 0:
        return Interval(math.nan, math.nan, 0, math.nan)
    mean = float(array.mean())
    if n == 1:
        return Interval(mean, math.nan, 1, math.nan)
    std = float(array.std(ddof=1))
    quantile = float(stats.t.ppf((1.0 + confidence) / 2.0, n - 1))
    return Interval(mean, quantile * std / math.sqrt(n), n, std)


def _check_columns(runs: pd.DataFrame, names: Sequence[str], what: str) -> None:
    if not isinstance(runs, pd.DataFrame):
        raise TypeError(f"runs must be a pandas DataFrame (read_runs), got {type(runs).__name__}")
    missing = [name for name in names if name not in runs.columns]
    if missing:
        raise ValueError(f"{what}: {missing} are not columns of runs; columns: {list(runs)}")


def _metrics(runs: pd.DataFrame, metrics: Sequence[str] | None) -> list[str]:
    if metrics is None:
        return [m for m in DEFAULT_METRICS if m in runs.columns]
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    _check_columns(runs, metrics, "metrics")
    for metric in metrics:
        if not pd.api.types.is_numeric_dtype(runs[metric]):
            raise ValueError(f"metrics: {metric!r} is not a numeric column of runs")
    return metrics


def _metric_columns(interval: Interval, metric: str) -> dict[str, float | int]:
    return {
        metric: interval.mean,
        f"{metric}_h": interval.half_width,
        f"{metric}_n": interval.n,
        f"{metric}_std": interval.std,
    }


def _groups(runs: pd.DataFrame, keys: Sequence[str]):
    if not keys:
        return [((), runs)]
    return [
        (key if isinstance(key, tuple) else (key,), group)
        for key, group in runs.groupby(list(keys), sort=True, dropna=False)
    ]


def _check_one_setting(key: tuple, group: pd.DataFrame, keys: Sequence[str]) -> None:
    if "settings" in keys or "settings" not in group.columns:
        return
    names = sorted({str(s) for s in group["settings"].dropna()})
    if len(names) > 1:
        cell = ", ".join(f"{k}={v}" for k, v in zip(keys, key, strict=True))
        raise ValueError(
            f"runs of one cell ({cell}) were trained with different settings ({', '.join(names)}):"
            " select the runs of one setting first, or add 'settings' to keys"
        )


def summarize(
    runs: pd.DataFrame,
    metrics: Sequence[str] | None = None,
    keys: Sequence[str] = GROUP_KEYS,
    *,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Mean and t-interval of `metrics` per group of `keys`, over folds and seeds.

    Columns: the keys; ``n`` (runs in the group); for each metric ``<m>`` (mean), ``<m>_h``
    (half-width, NaN when fewer than 2 finite values), ``<m>_n`` (finite values: a run whose
    metric is undefined is not counted) and ``<m>_std`` (sample std); ``backbone`` and
    ``table_row`` (the values behind the group, comma-separated) when `runs` has them.

    Args:
        runs: output of :func:`~semcov_train.reporting.read_runs` (or any frame with the keys
            and metric columns).
        metrics: numeric columns; default the :data:`DEFAULT_METRICS` that `runs` has.
        keys: grouping columns.
        confidence: of the interval.

    Raises:
        ValueError: a key or metric is not a column, a metric is not numeric, or a group holds
            runs of different ``settings`` while ``settings`` is not a key (two presets or two
            sets of overrides are never averaged together).
    """
    _check_confidence(confidence)
    keys = [keys] if isinstance(keys, str) else list(keys)
    _check_columns(runs, keys, "keys")
    metrics = _metrics(runs, metrics)
    info = [c for c in ("backbone", "table_row") if c in runs.columns and c not in keys]
    rows = []
    for key, group in _groups(runs, keys) if len(runs) else []:
        _check_one_setting(key, group, keys)
        row: dict = dict(zip(keys, key, strict=True))
        row["n"] = len(group)
        for metric in metrics:
            row.update(_metric_columns(t_interval(group[metric], confidence), metric))
        for column in info:
            row[column] = ", ".join(sorted({str(v) for v in group[column].dropna()}))
        rows.append(row)
    columns = [*keys, "n", *[f"{m}{s}" for m in metrics for s in ("", "_h", "_n", "_std")], *info]
    return pd.DataFrame(rows, columns=columns)


def _pair_label(match: Sequence[str], values: tuple) -> str:
    return "-".join(f"{name}{value}" for name, value in zip(match, values, strict=True))


def _indexed(group: pd.DataFrame, match: list[str], method: str) -> pd.DataFrame:
    duplicated = group.duplicated(match, keep=False)
    if duplicated.any():
        twice = sorted({tuple(r) for r in group.loc[duplicated, match].itertuples(index=False)})
        raise ValueError(
            f"method {method!r} has more than one run per ({', '.join(match)}) {twice}: select "
            "the runs of one setting before pairing"
        )
    return group.set_index(match)


def paired_differences(
    runs: pd.DataFrame,
    treatment: str,
    control: str,
    metrics: Sequence[str] | None = None,
    *,
    keys: Sequence[str] = PAIR_KEYS,
    by: str = "method",
    match: Sequence[str] = MATCH_KEYS,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """``treatment − control`` of `metrics`, paired over runs that share `match` (fold, seed),
    per group of `keys`, with the t-interval over the pairs.

    Runs without a partner are never silently dropped: each row counts them in
    ``n_unmatched`` and names them in ``unmatched`` (``"semcovnet only: fold1-seed0"``); a pair
    whose metric is undefined on either side is not counted in ``<m>_n``.

    Columns: the keys, ``treatment``, ``control``, ``n`` (pairs), for each metric ``<m>``
    (mean difference), ``<m>_h``, ``<m>_n``, ``<m>_std`` (of the differences), then
    ``n_unmatched`` and ``unmatched``. A group with runs of only one of the two methods is a
    row with n = 0.

    Args:
        runs: output of :func:`~semcov_train.reporting.read_runs`.
        treatment, control: values of the `by` column (registry names: ``"semcovnet"``,
            ``"erm"``).
        metrics: numeric columns; default the :data:`DEFAULT_METRICS` that `runs` has.
        keys: the groups within which runs are paired.
        by: the column naming the compared methods.
        match: the columns that make two runs a pair.
        confidence: of the interval.

    Raises:
        ValueError: a missing column, ``treatment == control``, or a method with two runs of
            one (fold, seed) in a group (runs of two settings: select one first).
    """
    _check_confidence(confidence)
    keys = [keys] if isinstance(keys, str) else list(keys)
    match = [match] if isinstance(match, str) else list(match)
    _check_columns(runs, [*keys, by, *match], "keys, by and match")
    metrics = _metrics(runs, metrics)
    if treatment == control:
        raise ValueError(f"treatment and control are both {treatment!r}")
    chosen = runs[runs[by].isin([treatment, control])]
    rows = []
    for key, group in _groups(chosen, keys) if len(chosen) else []:
        treated = _indexed(group[group[by] == treatment], match, treatment)
        controls = _indexed(group[group[by] == control], match, control)
        pairs = treated.index.intersection(controls.index).sort_values()
        row: dict = dict(zip(keys, key, strict=True))
        row.update(treatment=treatment, control=control, n=len(pairs))
        for metric in metrics:
            difference = treated.loc[pairs, metric].to_numpy(dtype=np.float64) - controls.loc[
                pairs, metric
            ].to_numpy(dtype=np.float64)
            row.update(_metric_columns(t_interval(difference, confidence), metric))
        alone = []
        for name, frame, other in ((treatment, treated, controls), (control, controls, treated)):
            only = frame.index.difference(other.index).sort_values()
            labels = [_pair_label(match, v if isinstance(v, tuple) else (v,)) for v in only]
            if labels:
                alone.append(f"{name} only: {', '.join(labels)}")
            row.setdefault("n_unmatched", 0)
            row["n_unmatched"] += len(labels)
        row["unmatched"] = "; ".join(alone)
        rows.append(row)
    stats_columns = [f"{m}{s}" for m in metrics for s in ("", "_h", "_n", "_std")]
    columns = [*keys, "treatment", "control", "n", *stats_columns, "n_unmatched", "unmatched"]
    return pd.DataFrame(rows, columns=columns)
