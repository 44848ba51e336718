"""Turn run directories into mean ± std tables (Markdown, CSV, LaTeX) beside the paper's numbers.

Reads only what the trainer writes (``config.json``, ``results.json`` and the ``DONE`` marker)::

    uv run apps/collect_results.py --runs runs --out results/collected [--paper table1_milk10k]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

__all__ = [
    "DONE",
    "GROUP_KEYS",
    "METRICS",
    "PAPER_TABLES",
    "collect",
    "emit",
    "format_cell",
    "format_table",
    "paper_table",
    "side_by_side",
    "summarize",
    "write_tables",
]

PAPER_TABLES = Path(__file__).resolve().parent / "paper_tables"
DONE = "DONE"
GROUP_KEYS = ("experiment", "method", "dataset", "modality")
METRICS = (
    "auc",
    "pr_auc",
    "sens_at_95spec",
    "balanced_accuracy",
    "macro_f1",
    "ece",
    "cdi",
    "tpr_worst",
    "tpr_std",
    "s95_tail",
    "align_cos",
    "recall_at_1",
)
IDENTITY = (
    "experiment",
    "method",
    "table_row",
    "dataset",
    "modality",
    "fold",
    "seed",
    "backbone",
)


def _read_json(path: Path) -> dict:
    with path.open() as handle:
        return json.load(handle)


def _run_dirs(runs_dir: Path) -> list[Path]:
    """Every directory holding a trainer ``config.json`` (a started run)."""
    return sorted(p.parent for p in runs_dir.rglob("config.json") if p.parent.name != "checkpoints")


def collect(runs_dir: str | Path) -> pd.DataFrame:
    """One row per finished run under `runs_dir`: its identity and its test metrics.

    A run is finished when its ``DONE`` marker exists. Started but unfinished runs are not
    rows; their directories are listed in ``frame.attrs["unfinished"]`` so nothing is
    dropped silently.

    Raises:
        ValueError: `runs_dir` is not a directory.
    """
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        raise ValueError(f"runs_dir: {str(runs_dir)!r} is not a directory")
    rows, unfinished = [], []
    for run_dir in _run_dirs(runs_dir):
        if not (run_dir / DONE).is_file() or not (run_dir / "results.json").is_file():
            unfinished.append(str(run_dir))
            continue
        config = _read_json(run_dir / "config.json")
        settings = config.get("config", config)
        resolved = config.get("resolved", {})
        results = _read_json(run_dir / "results.json")
        row = {
            "experiment": settings.get("experiment", "default"),
            "method": results.get("method", settings.get("method")),
            "table_row": results.get("table_row", resolved.get("table_row")),
            "dataset": results.get("dataset", settings.get("dataset")),
            "modality": results.get("modality", resolved.get("modality")),
            "fold": results.get("fold", settings.get("fold")),
            "seed": results.get("seed", settings.get("seed")),
            "backbone": resolved.get("backbone"),
        }
        for metric in METRICS:
            value = results.get(metric)
            row[metric] = float(value) if isinstance(value, (int, float)) else math.nan
        row["run_dir"] = str(run_dir)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=[*IDENTITY, *METRICS, "run_dir"])
    frame.attrs["unfinished"] = unfinished
    return frame


def summarize(
    runs: pd.DataFrame,
    metrics: Sequence[str] = METRICS,
    keys: Sequence[str] = GROUP_KEYS,
) -> pd.DataFrame:
    """Mean, sample std (ddof 1) and run count per group of `keys` over folds and seeds.

    Columns: the keys, ``n``, then ``<metric>`` (mean) and ``<metric>_std`` for each metric,
    and ``backbone`` (the backbones behind the group, comma-separated) when `runs` has that
    column. A group of one run has std ``nan``.
    """
    if runs.empty:
        columns = [*keys, "n", *[c for m in metrics for c in (m, f"{m}_std")]]
        return pd.DataFrame(columns=columns)
    grouped = runs.groupby(list(keys), sort=True, dropna=False)
    summary = grouped.size().rename("n").to_frame()
    for metric in metrics:
        summary[metric] = grouped[metric].mean()
        summary[f"{metric}_std"] = grouped[metric].std(ddof=1)
    if "backbone" in runs.columns and "backbone" not in keys:
        summary["backbone"] = grouped["backbone"].agg(
            lambda names: ", ".join(sorted({str(n) for n in names.dropna()}))
        )
    return summary.reset_index()


def format_cell(mean: float, std: float = math.nan, digits: int = 4) -> str:
    """``0.9114 ± 0.0123``; the mean alone when std is undefined; ``n/a`` when mean is."""
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "n/a"
    if std is None or (isinstance(std, float) and math.isnan(std)):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def paper_table(name: str) -> pd.DataFrame:
    """The paper's numbers, e.g. ``paper_table("table1_milk10k")`` (``#`` lines are notes)."""
    path = PAPER_TABLES / f"{name.removesuffix('.csv')}.csv"
    if not path.is_file():
        known = sorted(p.stem for p in PAPER_TABLES.glob("*.csv"))
        raise ValueError(f"paper table {name!r} not found; known: {', '.join(known)}")
    return pd.read_csv(path, comment="#")


def side_by_side(
    summary: pd.DataFrame,
    paper: pd.DataFrame,
    *,
    paper_keys: Sequence[str],
    summary_keys: Sequence[str],
    metrics: Sequence[str],
    labels: dict | None = None,
    not_run: dict | None = None,
    digits: int = 4,
) -> pd.DataFrame:
    """One row per paper row: ``n`` runs, ``<metric> (ours)``, ``<metric> (paper)``, ``note``.

    Rows without runs read ``not run`` in every "ours" cell and give the reason in ``note``;
    rows with runs name the backbones behind our cells there (``ours: resnet10t``), since a
    preset may train a stand-in for the paper's model.

    Args:
        summary: output of :func:`summarize`.
        paper: output of :func:`paper_table`.
        paper_keys: columns identifying a paper row (``["model", "modality"]``).
        summary_keys: the matching summary columns, in the same order.
        metrics: metric columns present in both.
        labels: maps each summary key tuple's first element to the paper's label
            (e.g. ``{"erm": "ENet-B0"}``); identity when None.
        not_run: paper label → why it has no runs (default "no finished run").
    """
    labels = labels or {}
    not_run = not_run or {}
    ours = {}
    for record in summary.to_dict("records"):
        key = [record[k] for k in summary_keys]
        key[0] = labels.get(key[0], key[0])
        ours[tuple(key)] = record
    rows = []
    for record in paper.to_dict("records"):
        key = tuple(record[k] for k in paper_keys)
        row = {k: record[k] for k in paper_keys}
        found = ours.get(key)
        reason = not_run.get(key[0], "no finished run")
        row["n"] = int(found["n"]) if found is not None else 0
        for metric in metrics:
            if found is None:
                row[f"{metric} (ours)"] = "not run"
            else:
                row[f"{metric} (ours)"] = format_cell(
                    found[metric], found.get(f"{metric}_std", math.nan), digits
                )
            row[f"{metric} (paper)"] = format_cell(
                record[metric], record.get(f"{metric}_std", math.nan), digits
            )
        if found is None:
            row["note"] = f"not run: {reason}"
        else:
            backbone = found.get("backbone")
            row["note"] = f"ours: {backbone}" if isinstance(backbone, str) and backbone else ""
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
    ):
        text = text.replace(char, replacement)
    return text


def format_table(frame: pd.DataFrame, fmt: str = "markdown") -> str:
    """The frame as ``markdown``, ``csv`` or ``latex`` text (cells as they are)."""
    columns = [str(c) for c in frame.columns]
    cells = [[str(v) for v in row] for row in frame.itertuples(index=False)]
    if fmt == "csv":
        return frame.to_csv(index=False)
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


def emit(table: pd.DataFrame, out: Path, stem: str) -> list[Path]:
    """Print `table` as Markdown and write ``<stem>.md/.csv/.tex`` into `out`."""
    print(format_table(table, "markdown"))
    paths = write_tables(table, out, stem)
    for path in paths:
        print(f"wrote {path}", file=sys.stderr)
    return paths


def _summary_cells(summary: pd.DataFrame, metrics: Iterable[str]) -> pd.DataFrame:
    table = summary[[*GROUP_KEYS, "n"]].copy()
    for metric in metrics:
        table[metric] = [
            format_cell(m, s)
            for m, s in zip(summary[metric], summary[f"{metric}_std"], strict=True)
        ]
    return table


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="runs", help="folder of run directories")
    parser.add_argument("--out", default="results/collect_results", help="where tables go")
    parser.add_argument("--experiment", default=None, help="only this experiment")
    args = parser.parse_args(argv)
    try:
        runs = collect(args.runs)
    except ValueError as error:
        print(f"collect_results: error: {error}", file=sys.stderr)
        return 2
    unfinished = runs.attrs["unfinished"]
    if args.experiment is not None:
        runs = runs[runs["experiment"] == args.experiment]
    summary = _summary_cells(summarize(runs), METRICS)
    print(format_table(summary, "markdown"))
    print(f"{len(runs)} finished runs", file=sys.stderr)
    for run_dir in unfinished:
        print(f"unfinished (excluded): {run_dir}", file=sys.stderr)
    write_tables(summary, args.out, "summary")
    runs.to_csv(Path(args.out) / "runs.csv", index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
