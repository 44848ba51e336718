"""The terminal view of a table: every line within the width, long texts said once as
footnotes, every cell still there, the row labels in front of each block of columns."""

from __future__ import annotations

import pandas as pd

from semcov_train.reporting.terminal import MAX_CELL, terminal_table

REASON = "not run: needs the MONET weights in ~/.cache/semcov/monet (download them first)"


def _wide_table() -> pd.DataFrame:
    columns = {"model": ["ENet-B0", "CLIP", "MONET"], "modality": ["dermoscopic"] * 3}
    for metric in ("auc", "pr_auc", "s95", "bacc", "f1", "ece", "cdi"):
        columns[f"{metric} (ours)"] = ["0.8382 ± 0.0181 (n = 3)", "not run", "not run"]
        columns[f"{metric} (paper)"] = ["0.9114"] * 3
    columns["note"] = ["ours: semcov_resnet10t_narrow", REASON, REASON]
    return pd.DataFrame(columns)


def test_every_line_fits_and_long_texts_are_said_once():
    table = _wide_table()
    text = terminal_table(table, width=100, key_columns=2)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert text.count(REASON) == 1 and "[1] " + REASON in lines
    table_lines = [line for line in lines if line.startswith("|")]
    # Every header and every short cell is printed; the row labels lead each block.
    for column in table.columns:
        assert f" {column} " in text
    blocks = [line for line in table_lines if line.startswith("| model ")]
    assert len(blocks) > 1
    assert sum(line.startswith("| ENet-B0 | dermoscopic |") for line in table_lines) == len(blocks)
    assert all(len(cell.strip()) <= MAX_CELL for line in table_lines for cell in line.split("|"))


def test_a_narrow_table_is_one_block():
    table = pd.DataFrame({"row": ["a", "b"], "value": ["1", "2"]})
    assert (
        terminal_table(table)
        == "| row | value |\n|-----|-------|\n| a   | 1     |\n| b   | 2     |\n"
    )
