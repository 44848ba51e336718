"""A table as a terminal shows it: no line wider than the terminal, a long text said once as a
footnote instead of in every row; the files keep the full table."""

from __future__ import annotations

import pandas as pd

__all__ = ["TERMINAL_WIDTH", "terminal_table"]

#: Columns of the terminal a printed table must fit.
TERMINAL_WIDTH = 100
#: Longer cell texts become numbered footnotes below the table.
MAX_CELL = 32


def _row(cells: list[str], widths: list[int]) -> str:
    return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"


def _block(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(c) for c in column) for column in zip(header, *rows, strict=True)]
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return [_row(header, widths), rule, *(_row(r, widths) for r in rows)]


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 1)] + "…"


def terminal_table(frame: pd.DataFrame, width: int = TERMINAL_WIDTH, key_columns: int = 1) -> str:
    """`frame` as aligned pipe tables at most `width` characters wide.

    Cell texts longer than :data:`MAX_CELL` are replaced by ``[n]`` and listed once below, in
    order of first appearance. When the columns do not fit side by side, the first
    `key_columns` (the row labels) are repeated in front of each block of the others; a
    column too wide for any block is cut with "…".

    Example:
        >>> frame = pd.DataFrame({"row": ["ERM", "CLIP"], "AUC": ["0.84 ± 0.02", "—"],
        ...     "note": ["", "not run: needs the CLIP weights in ~/.cache/clip (download)"]})
        >>> print(terminal_table(frame, width=40), end="")
        | row  | AUC         | note |
        |------|-------------|------|
        | ERM  | 0.84 ± 0.02 |      |
        | CLIP | —           | [1]  |
        <BLANKLINE>
        [1] not run: needs the CLIP weights in ~/.cache/clip (download)
    """
    header = [str(c) for c in frame.columns]
    notes: dict[str, int] = {}
    rows = []
    for values in frame.itertuples(index=False):
        row = []
        for value in values:
            text = str(value).replace("|", r"\|")
            if len(text) > MAX_CELL:
                text = f"[{notes.setdefault(text, len(notes) + 1)}]"
            row.append(text)
        rows.append(row)
    keys = min(max(key_columns, 0), len(header))
    column_width = [max(len(c) for c in col) for col in zip(header, *rows, strict=True)]
    key_width = sum(w + 3 for w in column_width[:keys]) + 1
    blocks: list[list[int]] = []
    current: list[int] = []
    used = key_width
    for index in range(keys, len(header)):
        need = column_width[index] + 3
        if current and used + need > width:
            blocks.append(current)
            current, used = [], key_width
        current.append(index)
        used += need
    if current:
        blocks.append(current)
    limit = max(width - key_width - 4, 8)
    lines: list[str] = []
    for block in blocks or [[]]:
        columns = list(range(keys)) + block
        lines += _block(
            [_truncate(header[j], limit) for j in columns],
            [[_truncate(row[j], limit) for j in columns] for row in rows],
        )
        lines.append("")
    for text, number in notes.items():
        lines.append(f"[{number}] {text}")
    return "\n".join(lines).rstrip("\n") + "\n"
