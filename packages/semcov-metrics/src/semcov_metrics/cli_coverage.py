"""Command ``python -m semcov_metrics coverage``: the dataset diagnostics of one training CSV, no
model needed (masked class coverage, the globally-rare control, the class-permutation test,
class-balanced subsampling, within-class bootstrap intervals), as JSON, CSV and Markdown."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from semcov_metrics._cli_inputs import (
    InputError,
    categorical,
    class_axis,
    column_list,
    concept_values,
    probabilities,
    read_csv,
    require,
    subgroup_text,
)
from semcov_metrics.exceptions import UndefinedMetricWarning
from semcov_metrics.prevalence_null import MIN_PERMUTATIONS

__all__ = ["add_coverage_command", "run_coverage"]

PROG = "python -m semcov_metrics coverage"
#: Version of the layout of coverage.json.
SCHEMA = "semcov-coverage/1"


def add_coverage_command(commands: Any) -> None:
    """Add the ``coverage`` subcommand to the subparsers action ``commands``."""
    parser = commands.add_parser(
        "coverage",
        help="class × descriptor coverage diagnostics of a training CSV (no model needed)",
        description=(
            "Coverage of every class × descriptor pair in TRAIN.csv with missing concept "
            "labels masked out, each concept's global prevalence, a class-permutation p-value "
            "and BH q-value per descriptor, coverage on class-balanced subsamples and "
            "within-class bootstrap intervals. Writes coverage.json, coverage.csv, "
            "coverage.md and, with --subgroup-column, scg_coverage.csv."
        ),
    )
    parser.add_argument("--train", type=Path, required=True, help="training rows")
    parser.add_argument("--descriptor-columns", required=True, help="a,b,c: values in [0, 1]")
    parser.add_argument("--label-column", required=True, help="class of each row")
    parser.add_argument(
        "--subgroup-column", help="site, skin tone, ...: bootstrap intervals per SCG too"
    )
    parser.add_argument(
        "--mask-columns", help="m_a,m_b,m_c: one 0/1 column per descriptor, 1 = label observed"
    )
    parser.add_argument(
        "--empty-is-missing",
        action="store_true",
        help="an empty descriptor cell is a missing label (otherwise it is refused)",
    )
    parser.add_argument("--classes", help="c0,c1,...: class order (default: sorted labels)")
    parser.add_argument("--n-permutations", type=int, default=1000)
    parser.add_argument("--n-boot", type=int, default=1000, help="bootstrap replicates")
    parser.add_argument("--n-repeats", type=int, default=20, help="balanced subsamples")
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.set_defaults(run=run_coverage)


def _inputs(args: argparse.Namespace) -> dict[str, Any]:
    if args.n_permutations < MIN_PERMUTATIONS:
        raise InputError(
            f"--n-permutations must be at least {MIN_PERMUTATIONS}, got {args.n_permutations}"
        )
    if args.n_boot < 1 or args.n_repeats < 2:
        raise InputError(
            f"--n-boot must be >= 1 and --n-repeats >= 2, got {args.n_boot}, {args.n_repeats}"
        )
    if not 0.0 < args.confidence < 1.0:
        raise InputError(f"--confidence must lie in (0, 1), got {args.confidence}")
    names = column_list(args.descriptor_columns, "--descriptor-columns")
    frame = read_csv(args.train, "--train")
    path = args.train
    require(frame, path, names, "descriptor")
    require(frame, path, [args.label_column], "label")
    observed = np.ones((len(frame), len(names)), dtype=bool)
    if args.mask_columns is not None:
        mask_names = column_list(args.mask_columns, "--mask-columns", allow_repeats=True)
        if len(mask_names) != len(names):
            raise InputError(
                f"--mask-columns: {len(mask_names)} columns for {len(names)} descriptors; give "
                "one per descriptor, in the same order"
            )
        require(frame, path, mask_names, "mask")
        flags = probabilities(frame, path, mask_names, "mask")
        if not np.isin(flags, (0.0, 1.0)).all():
            raise InputError(f"{path}: mask columns must hold 0 or 1 (1 = label observed)")
        observed = flags == 1.0
    empty_ok = ~observed | args.empty_is_missing
    values = concept_values(frame, path, names, empty_ok=empty_ok)
    labels = categorical(frame, path, args.label_column, "label")
    subgroups, n_unknown = None, 0
    if args.subgroup_column is not None:
        require(frame, path, [args.subgroup_column], "subgroup")
        subgroups, n_unknown = subgroup_text(frame, args.subgroup_column)
    mask = observed & ~np.isnan(values)
    return {
        "names": names,
        "values": values,
        "mask": mask,
        "labels": labels,
        "classes": class_axis(args.classes, labels),
        "subgroups": subgroups,
        "n_unknown_subgroup": n_unknown,
    }


def _compute(args: argparse.Namespace, data: dict[str, Any]) -> dict[str, Any]:
    from semcov_metrics.class_coverage import class_descriptor_coverage
    from semcov_metrics.coverage_bootstrap import coverage_bootstrap_intervals
    from semcov_metrics.prevalence_null import class_permutation_test
    from semcov_metrics.strata import coverage_strata
    from semcov_metrics.subsampling import class_balanced_subsampling

    common = {
        "mask": data["mask"],
        "descriptor_names": data["names"],
        "classes": data["classes"],
    }
    values, labels = data["values"], data["labels"]
    table = class_descriptor_coverage(values, labels, **common)
    bands, thresholds = coverage_strata(table["coverage"].to_numpy())
    table["band"] = bands
    boot = coverage_bootstrap_intervals(
        values, labels, **common, n_boot=args.n_boot, confidence=args.confidence, seed=args.seed
    )
    for column in ("boot_low", "boot_high", "boot_se"):
        table[column] = boot[column].to_numpy()
    balanced = class_balanced_subsampling(
        values,
        labels,
        **common,
        n_repeats=args.n_repeats,
        confidence=args.confidence,
        seed=args.seed,
    )
    for column in ("balanced_mean", "balanced_sd", "balanced_low", "balanced_high"):
        table[column] = balanced.table[column].to_numpy()
    test = class_permutation_test(
        values, labels, **common, n_permutations=args.n_permutations, seed=args.seed
    )
    table = table.merge(
        test[["descriptor", "statistic", "p_value", "q_value"]], on="descriptor", how="left"
    )
    scg = None
    if data["subgroups"] is not None:
        scg = coverage_bootstrap_intervals(
            values,
            labels,
            data["subgroups"],
            **common,
            n_boot=args.n_boot,
            confidence=args.confidence,
            seed=args.seed,
        )
    return {
        "table": table,
        "thresholds": thresholds,
        "test": test,
        "balanced": balanced,
        "scg": scg,
    }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _plain(value: Any) -> Any:
    """JSON values: NaN becomes None, numpy scalars Python ones."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _payload(
    args: argparse.Namespace, data: dict[str, Any], result: dict[str, Any], notes: list[str]
) -> dict[str, Any]:
    from semcov_metrics import __version__

    mask = data["mask"]
    return {
        "schema": SCHEMA,
        "n_rows": len(data["labels"]),
        "classes": [str(c) for c in data["classes"]],
        "descriptors": data["names"],
        "n_missing": {n: int((~mask[:, k]).sum()) for k, n in enumerate(data["names"])},
        "n_unknown_subgroup": data["n_unknown_subgroup"],
        "strata": {
            "q_low": _plain(result["thresholds"][0]),
            "q_high": _plain(result["thresholds"][1]),
            "levels": [0.25, 0.75],
        },
        "coverage": _records(result["table"]),
        "permutation_test": _records(result["test"]),
        "subsampling": {
            "summary": {k: _plain(v) for k, v in result["balanced"].summary().items()},
            "repeats": _records(result["balanced"].repeats),
        },
        "scg_coverage": None if result["scg"] is None else _records(result["scg"]),
        "settings": {
            "train": str(args.train),
            "descriptor_columns": data["names"],
            "label_column": args.label_column,
            "subgroup_column": args.subgroup_column,
            "mask_columns": args.mask_columns,
            "empty_is_missing": args.empty_is_missing,
            "n_permutations": args.n_permutations,
            "n_boot": args.n_boot,
            "n_repeats": args.n_repeats,
            "confidence": args.confidence,
            "seed": args.seed,
            "semcov_metrics": __version__,
        },
        "warnings": notes,
    }


def _number(value: Any) -> str:
    return (
        "n/a" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value:.3f}"
    )


def _markdown(payload: dict[str, Any], table: pd.DataFrame, test: pd.DataFrame) -> str:
    summary = payload["subsampling"]["summary"]
    lines = [
        "# Coverage diagnostics",
        "",
        f"`{payload['settings']['train']}`: {payload['n_rows']} rows, classes "
        f"{', '.join(payload['classes'])}; missing labels per descriptor: "
        + ", ".join(f"{k} {v}" for k, v in payload["n_missing"].items())
        + ".",
        "",
        "## Does a concept's coverage differ between classes?",
        "",
        "| descriptor | between-class variance | null mean | p | q (BH) |",
        "|---|---|---|---|---|",
    ]
    for row in test.itertuples(index=False):
        lines.append(
            f"| {row.descriptor} | {row.statistic:.3g} | {row.null_mean:.3g} | "
            f"{_number(row.p_value)} | {_number(row.q_value)} |"
        )
    lines += [
        "",
        f"## Tail cells (coverage <= Q25 = {_number(payload['strata']['q_low'])})",
        "",
        "| class | descriptor | coverage | 95 % bootstrap interval | minus global prevalence |",
        "|---|---|---|---|---|",
    ]
    for row in table[table["band"] == "Tail"].sort_values("coverage").itertuples(index=False):
        lines.append(
            f"| {row[0]} | {row.descriptor} | {_number(row.coverage)} | "
            f"[{_number(row.boot_low)}, {_number(row.boot_high)}] | "
            f"{_number(row.coverage_minus_global)} |"
        )
    lines += [
        "",
        f"Class-balanced subsampling ({summary['n_repeats']} repeats of "
        f"{summary['n_per_class']} per class): mean Spearman ρ with the full coverage "
        f"{_number(summary['spearman_mean'])}, band agreement "
        f"{_number(summary['band_agreement_mean'])}.",
    ]
    for note in payload["warnings"]:
        lines += ["", f"Note: {note}"]
    return "\n".join(lines) + "\n"


def run_coverage(args: argparse.Namespace) -> int:
    """Read, compute, write; errors propagate to the command line's one-line handler."""
    data = _inputs(args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UndefinedMetricWarning)
        result = _compute(args, data)
    notes = list(dict.fromkeys(str(w.message) for w in caught))
    payload = _payload(args, data, result, notes)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    (out / "coverage.json").write_text(json.dumps(payload, indent=2, allow_nan=False) + "\n")
    result["table"].to_csv(out / "coverage.csv", index=False)
    written = ["coverage.json", "coverage.csv", "coverage.md"]
    if result["scg"] is not None:
        result["scg"].to_csv(out / "scg_coverage.csv", index=False)
        written.append("scg_coverage.csv")
    (out / "coverage.md").write_text(_markdown(payload, result["table"], result["test"]))
    for note in notes:
        print(f"{PROG}: warning: {note}", file=sys.stderr)
    print(f"wrote {out / written[0]}, " + ", ".join(written[1:]))
    return 0
