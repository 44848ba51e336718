"""semcov_train.reporting: run directories into tables with 95 % intervals and paired deltas.

Read finished runs into one typed frame, summarise them over folds and seeds (``mean ± h``, h
the half-width of the 95 % t-interval over runs), compare two methods paired over matched
(fold, seed), set the cells beside a paper table and write Markdown, CSV and LaTeX::

    from semcov_train.reporting import read_runs, summarize, paired_differences, summary_table

    runs = read_runs("runs", experiment="table1")             # one row per finished run
    summary = summarize(runs, ["auc", "cdi"], keys=["method", "modality"])
    print(summary_table(summary, ["auc", "cdi"]))             # "0.8123 ± 0.0456" cells, n
    delta = paired_differences(runs, "semcovnet", "erm", ["auc", "cdi"])

From the shell (exit status 2 and one line on stderr for a missing folder or no runs)::

    python -m semcov_train.reporting RUNS_DIR [--experiment E] [--metrics auc,cdi]
        [--baseline erm] [--out DIR]

Public names: :func:`read_runs`, :data:`IDENTITY_COLUMNS`, :data:`INFO_COLUMNS`,
:data:`DEFAULT_METRICS` (frame); :class:`Interval`, :func:`t_interval`, :func:`summarize`,
:func:`paired_differences`, :data:`GROUP_KEYS`, :data:`PAIR_KEYS`, :data:`MATCH_KEYS`
(intervals); :func:`format_cell`, :func:`summary_table`, :func:`differences_table`,
:func:`paper_table`, :func:`side_by_side`, :func:`extra_rows` (rows the paper does not
have), :data:`NOT_IN_PAPER`, :func:`difference_row`, :func:`format_table`,
:func:`write_tables`, :data:`DIGITS` (tables); :func:`difference_sentence` (a paired
difference in words, for table notes); :func:`main` (the command line). What the figures of
run directories share (matplotlib without a display, model colours) is in
:mod:`semcov_train.reporting.figures`, imported on its own.
"""

from __future__ import annotations

from .cli import main
from .frame import DEFAULT_METRICS, IDENTITY_COLUMNS, INFO_COLUMNS, read_runs
from .intervals import (
    GROUP_KEYS,
    MATCH_KEYS,
    PAIR_KEYS,
    Interval,
    paired_differences,
    summarize,
    t_interval,
)
from .notes import difference_sentence
from .tables import (
    DIGITS,
    NOT_IN_PAPER,
    difference_row,
    differences_table,
    extra_rows,
    format_cell,
    format_table,
    paper_table,
    side_by_side,
    summary_table,
    write_tables,
)

__all__ = [
    "DEFAULT_METRICS",
    "DIGITS",
    "GROUP_KEYS",
    "IDENTITY_COLUMNS",
    "INFO_COLUMNS",
    "MATCH_KEYS",
    "NOT_IN_PAPER",
    "PAIR_KEYS",
    "Interval",
    "difference_row",
    "difference_sentence",
    "differences_table",
    "extra_rows",
    "format_cell",
    "format_table",
    "main",
    "paired_differences",
    "paper_table",
    "read_runs",
    "side_by_side",
    "summarize",
    "summary_table",
    "t_interval",
    "write_tables",
]
