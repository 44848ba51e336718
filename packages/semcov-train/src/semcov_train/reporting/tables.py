"""Cells ``x ± h``, tables beside the paper's numbers, and Markdown / CSV / LaTeX output."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "DIGITS",
    "NOT_IN_PAPER",
    "difference_row",
    "differences_table",
    "extra_rows",
    "format_cell",
    "format_table",
    "paper_table",
    "side_by_side",
    "summary_table",
    "write_tables",
]

#: Decimals of every cell unless a table asks for others.
DIGITS = 4


def _undefined(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def format_cell(
    mean: Any,
    half_width: Any = math.nan,
    n: Any = None,
    *,
    digits: int = DIGITS,
    row_n: Any = None,
) -> str:
    """One table cell.

    ``n/a`` when `mean` is undefined; ``0.8123 (n = 1)`` for a single run (no interval);
    ``0.8123 ± 0.0456`` (mean ± 95 % half-width) otherwise, followed by ``(n = k)`` when the
    cell rests on fewer values than its row's `row_n` runs (a metric undefined on some runs);
    the number alone when `half_width` is undefined and `n` is not given (a paper's value).

    >>> format_cell(0.8, 0.24841, 3)
    '0.8000 ± 0.2484'
    >>> format_cell(0.8, float("nan"), 1)
    '0.8000 (n = 1)'
    """
    if _undefined(mean):
        return "n/a"
    text = f"{float(mean):.{digits}f}"
    count = None if _undefined(n) else int(n)
    if not _undefined(half_width):
        text += f" ± {float(half_width):.{digits}f}"
    elif count == 1:
        return f"{text} (n = 1)"
    if count is not None and not _undefined(row_n) and count != int(row_n):
        text += f" (n = {count})"
    return text


def _cell(record: Mapping, metric: str, digits: int) -> str:
    return format_cell(
        record.get(metric),
        record.get(f"{metric}_h", math.nan),
        record.get(f"{metric}_n"),
        digits=digits,
        row_n=record.get("n"),
    )


def summary_table(
    summary: pd.DataFrame, metrics: Sequence[str], *, digits: int = DIGITS
) -> pd.DataFrame:
    """:func:`~semcov_train.reporting.summarize`'s frame as cells: its key columns, ``n``, one
    ``x ± h`` cell per metric (and ``backbone`` when present)."""
    stats = {f"{m}{s}" for m in metrics for s in ("", "_h", "_n", "_std")}
    keys = [
        c for c in summary.columns if c not in stats and c not in ("n", "backbone", "table_row")
    ]
    table = summary[[*keys, "n"]].copy()
    records = summary.to_dict("records")
    for metric in metrics:
        table[metric] = [_cell(record, metric, digits) for record in records]
    if "backbone" in summary.columns:
        table["backbone"] = summary["backbone"]
    return table


def differences_table(
    paired: pd.DataFrame, metrics: Sequence[str], *, digits: int = DIGITS
) -> pd.DataFrame:
    """:func:`~semcov_train.reporting.paired_differences`'s frame as cells: its keys,
    ``treatment − control``, ``n`` pairs, one ``d ± h`` cell per metric, ``unmatched``."""
    stats = {f"{m}{s}" for m in metrics for s in ("", "_h", "_n", "_std")}
    skip = {"treatment", "control", "n", "n_unmatched", "unmatched", *stats}
    keys = [c for c in paired.columns if c not in skip]
    table = paired[keys].copy()
    table["difference"] = [
        f"{t} − {c}" for t, c in zip(paired["treatment"], paired["control"], strict=True)
    ]
    table["n"] = paired["n"]
    records = paired.to_dict("records")
    for metric in metrics:
        table[metric] = [_cell(record, metric, digits) for record in records]
    table["unmatched"] = paired["unmatched"]
    return table


def paper_table(path: str | Path) -> pd.DataFrame:
    """A paper table kept as CSV (header row of labels and metric names; ``#`` lines are
    notes), e.g. ``paper_table("apps/paper_tables/table1_milk10k.csv")``.

    Raises:
        ValueError: the file does not exist (the CSVs of its folder are named).
    """
    path = Path(path)
    if path.suffix != ".csv":
        path = path.with_name(path.name + ".csv")
    if not path.is_file():
        known = sorted(p.stem for p in path.parent.glob("*.csv")) if path.parent.is_dir() else []
        raise ValueError(
            f"paper table {str(path)!r} not found"
            + (f"; in its folder: {', '.join(known)}" if known else "")
        )
    return pd.read_csv(path, comment="#")


def side_by_side(
    summary: pd.DataFrame,
    paper: pd.DataFrame,
    *,
    paper_keys: Sequence[str],
    summary_keys: Sequence[str],
    metrics: Sequence[str],
    labels: Mapping | None = None,
    not_run: Mapping | None = None,
    digits: int = DIGITS,
) -> pd.DataFrame:
    """One row per paper row: ``n`` runs, ``<metric> (ours)``, ``<metric> (paper)``, ``note``.

    Our cells read ``x ± h`` (95 % t-interval over the runs, see :func:`format_cell`); the
    paper's cells keep the paper's own numbers (``mean ± std`` where the CSV has a
    ``<metric>_std`` column). Rows without runs read ``not run`` in every "ours" cell and give
    the reason in ``note``; rows with runs name the backbones behind our cells there
    (``ours: resnet10t``), since a preset may train a stand-in for the paper's model.

    Args:
        summary: output of :func:`~semcov_train.reporting.summarize`.
        paper: output of :func:`paper_table`.
        paper_keys: columns identifying a paper row (``["model", "modality"]``).
        summary_keys: the matching summary columns, in the same order.
        metrics: metric columns present in both.
        labels: maps each summary key tuple's first element to the paper's label
            (``{"erm": "ENet-B0"}``); identity when None.
        not_run: paper label → why it has no runs (default "no finished run").
        digits: decimals of every cell.

    Raises:
        ValueError: a key or metric column is missing, or two summary rows map to one paper row.
    """
    labels = labels or {}
    not_run = not_run or {}
    if len(paper_keys) != len(summary_keys):
        raise ValueError("paper_keys and summary_keys must have the same length")
    for name, frame, columns in (
        ("summary", summary, [*summary_keys, *metrics]),
        ("paper", paper, [*paper_keys, *metrics]),
    ):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(f"{name}: {missing} are not columns; columns: {list(frame.columns)}")
    ours: dict[tuple, dict] = {}
    for record in summary.to_dict("records"):
        values = [record[k] for k in summary_keys]
        values[0] = labels.get(values[0], values[0])
        if tuple(values) in ours:
            raise ValueError(f"summary: two rows map to the paper row {tuple(values)}")
        ours[tuple(values)] = record
    rows = []
    for record in paper.to_dict("records"):
        key = tuple(record[k] for k in paper_keys)
        row: dict[str, Any] = {k: record[k] for k in paper_keys}
        found = ours.get(key)
        row["n"] = int(found["n"]) if found is not None else 0
        for metric in metrics:
            row[f"{metric} (ours)"] = "not run" if found is None else _cell(found, metric, digits)
            row[f"{metric} (paper)"] = format_cell(
                record[metric], record.get(f"{metric}_std", math.nan), digits=digits
            )
        if found is None:
            row["note"] = f"not run: {not_run.get(key[0], 'no finished run')}"
        else:
            row["note"] = _backbone_note(found)
        rows.append(row)
    return pd.DataFrame(rows)


def difference_row(
    paired: Mapping,
    metrics: Sequence[str],
    labels: Mapping[str, Any],
    *,
    paper: Mapping[str, Any] | None = None,
    digits: int = DIGITS,
) -> dict[str, Any]:
    """A row of a :func:`side_by_side` table for one paired difference (one record of
    :func:`~semcov_train.reporting.paired_differences`): `labels` in the key columns
    (``{"model": "Δ SemCovNet − ENet-B0", "dataset": "milk10k-dermoscopic"}``), ``n`` pairs,
    ``d ± h`` as ``<metric> (ours)``, the paper's difference (`paper`: metric → value, e.g. the
    difference of its two rows) as ``<metric> (paper)``, and the pairing and any unmatched
    runs in ``note``. Append it with ``pd.concat([table, pd.DataFrame([row])])``."""
    row: dict[str, Any] = dict(labels)
    row["n"] = int(paired["n"])
    for metric in metrics:
        row[f"{metric} (ours)"] = _cell(paired, metric, digits)
        value = (paper or {}).get(metric)
        row[f"{metric} (paper)"] = "" if value is None else format_cell(value, digits=digits)
    note = f"paired over {int(paired['n'])} matched (fold, seed)"
    if paired.get("unmatched"):
        note += f"; unmatched: {paired['unmatched']}"
    row["note"] = note
    return row


def _backbone_note(record: Mapping) -> str:
    """``ours: <backbone>`` for a summary row (a preset may train a stand-in), else ``""``."""
    backbone = record.get("backbone")
    return f"ours: {backbone}" if isinstance(backbone, str) and backbone else ""


#: The paper's cell of a row the paper does not have (a control, the oracle).
NOT_IN_PAPER = "—"


def extra_rows(
    summary: pd.DataFrame,
    *,
    keys: Sequence[str],
    summary_keys: Sequence[str],
    metrics: Sequence[str],
    labels: Mapping[str, str],
    note: str,
    digits: int = DIGITS,
) -> pd.DataFrame:
    """Rows of a :func:`side_by_side` table that the paper does not have (controls such as
    "ENet-B0 + descriptors (late fusion)"): one per `summary` row whose first key is in
    `labels`, our cells ``x ± h`` as in :func:`side_by_side`, the paper's cells
    :data:`NOT_IN_PAPER`, and `note` (with the backbones behind our cells) in ``note``.
    Append them with ``pd.concat([table, rows], ignore_index=True)``."""
    rows = []
    for record in summary.to_dict("records"):
        if record[summary_keys[0]] not in labels:
            continue
        row: dict[str, Any] = {
            key: record[column] for key, column in zip(keys, summary_keys, strict=True)
        }
        row[keys[0]] = labels[record[summary_keys[0]]]
        row["n"] = int(record["n"])
        for metric in metrics:
            row[f"{metric} (ours)"] = _cell(record, metric, digits)
            row[f"{metric} (paper)"] = NOT_IN_PAPER
        ours = _backbone_note(record)
        row["note"] = f"{note}; {ours}" if ours else note
        rows.append(row)
    return pd.DataFrame(rows)


def _latex_escape(text: str) -> str:
    for char, replacement in (
        ("\\", r"\textbackslash{}"),
        ("&", r"\&"),
        ("%", r"\%"),
        ("_", r"\_"),
        ("#", r"\#"),
        ("±", r"$\pm$"),
        ("−", r"$-$"),
        ("Δ", r"$\Delta$"),
    ):
        text = text.replace(char, replacement)
    return text


def format_table(frame: pd.DataFrame, fmt: str = "markdown") -> str:
    """The frame as ``markdown`` (a pipe table; ``|`` in cells escaped), ``csv`` or ``latex``
    (a booktabs tabular) text, cells as they are.

    Raises:
        ValueError: an unknown `fmt`.
    """
    columns = [str(c) for c in frame.columns]
    cells = [[str(v) for v in row] for row in frame.itertuples(index=False)]
    if fmt == "csv":
        return frame.to_csv(index=False, lineterminator="\n")
    if fmt == "markdown":
        lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(c.replace("|", r"\|") for c in row) + " |" for row in cells]
        return "\n".join(lines) + "\n"
    if fmt == "latex":
        lines = [
            r"\begin{tabular}{" + "l" * len(columns) + "}",
            r"\toprule",
            " & ".join(_latex_escape(c) for c in columns) + r" \\",
            r"\midrule",
            *(" & ".join(_latex_escape(c) for c in row) + r" \\" for row in cells),
            r"\bottomrule",
            r"\end{tabular}",
        ]
        return "\n".join(lines) + "\n"
    raise ValueError(f"fmt must be 'markdown', 'csv' or 'latex', got {fmt!r}")


def write_tables(frame: pd.DataFrame, out_dir: str | Path, stem: str) -> list[Path]:
    """Write ``<stem>.md``, ``<stem>.csv`` and ``<stem>.tex`` into `out_dir`; their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix, fmt in ((".md", "markdown"), (".csv", "csv"), (".tex", "latex")):
        path = out_dir / f"{stem}{suffix}"
        path.write_text(format_table(frame, fmt))
        written.append(path)
    return written
