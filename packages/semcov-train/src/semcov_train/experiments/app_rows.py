"""The rows the apps share, as data: ``apps/paper_tables/rows.json`` and the paper's tables.

``rows.json`` maps registry names to the paper's row labels (Table 1's models, the controls
that sit beside them, the oracle's label), lists the metrics of Tables 1 and 3 and the
settings every app gives SemCovNet; an app reads it with :func:`read_rows` and the paper's
numbers with :func:`read_paper_table`, so no app imports another.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from semcov_train.reporting import paper_table

__all__ = ["read_paper_table", "read_rows"]


def read_rows(app_file: str | Path) -> dict:
    """The shared row definitions of the apps: ``paper_tables/rows.json`` beside `app_file`,
    without its ``_about`` notes (keys that start with ``_``)."""
    path = Path(app_file).resolve().parent / "paper_tables" / "rows.json"
    return _without_notes(json.loads(path.read_text()))


def read_paper_table(app_file: str | Path, name: str):
    """The paper's numbers ``paper_tables/<name>.csv`` beside `app_file`
    (:func:`semcov_train.reporting.paper_table`)."""
    return paper_table(Path(app_file).resolve().parent / "paper_tables" / f"{name}.csv")


def _without_notes(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_notes(v) for k, v in value.items() if not k.startswith("_")}
    return value
