"""Command line ``python -m semcov_metrics``: ``report``, the semantic fairness report of a model
from two CSV files (training rows and scored test rows) as JSON, CSV and Markdown; ``power``."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from semcov_metrics._cli_html import HtmlOutput
from semcov_metrics._cli_inputs import (
    InputError,
    categorical,
    class_axis,
    column_list,
    probabilities,
    read_split,
    require,
)
from semcov_metrics._statistics import DEFAULT_MIN_SUPPORT
from semcov_metrics.cell_permutation import DEFAULT_N_PERMUTATIONS
from semcov_metrics.cli_coverage import add_coverage_command
from semcov_metrics.cli_power import add_power_command
from semcov_metrics.exceptions import UndefinedMetricWarning
from semcov_metrics.power import DEFAULT_REFERENCE_SLOPE

__all__ = ["build_parser", "main"]

PROG = "python -m semcov_metrics"
FIGURES = ("coverage_error.png", "coverage_heatmap.png")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # One line on stderr, no usage block: scripts and schedulers log the reason only.
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Coverage-aware fairness metrics from CSV files.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    report = commands.add_parser(
        "report",
        help="CDI, TPR_w, TPR_std per Semantic Coverage Group from a train and a test CSV",
        description=(
            "Coverage from TRAIN.csv (descriptor scores, labels, subgroups), per-SCG TPR from "
            "TEST.csv (the same columns plus predictions or scores). Writes report.json, "
            "scg.csv, report.md and, with matplotlib installed, the coverage-error scatter and "
            "the coverage heatmap."
        ),
    )
    report.add_argument("--train", type=Path, required=True, help="training rows (coverage)")
    report.add_argument("--test", type=Path, required=True, help="test rows with predictions")
    report.add_argument("--descriptor-columns", required=True, help="a,b,c: scores in [0, 1]")
    report.add_argument("--label-column", required=True, help="true class of each row")
    report.add_argument("--subgroup-column", required=True, help="site, skin tone, ...")
    source = report.add_mutually_exclusive_group(required=True)
    source.add_argument("--prediction-column", help="predicted class of each test row")
    source.add_argument(
        "--score-columns", help="s0,s1,...: one score per class, in the order of --classes"
    )
    source.add_argument("--score-column", help="positive-class score of a binary task")
    report.add_argument(
        "--score-threshold",
        type=float,
        default=0.5,
        help="with --score-column: predict the positive class when score >= this (default 0.5)",
    )
    report.add_argument(
        "--positive-class", help="with --score-column: the positive class (default: the last)"
    )
    report.add_argument("--classes", help="c0,c1,...: class order (default: sorted labels)")
    report.add_argument("--membership", choices=["soft", "hard"], default="soft")
    report.add_argument(
        "--threshold", type=float, default=0.5, help="descriptor threshold of hard membership"
    )
    report.add_argument(
        "--min-support",
        type=float,
        default=DEFAULT_MIN_SUPPORT,
        help=f"minimum test support of an SCG that counts (default {DEFAULT_MIN_SUPPORT:g})",
    )
    report.add_argument("--n-boot", type=int, default=1000, help="bootstrap replicates")
    report.add_argument("--confidence", type=float, default=0.95)
    report.add_argument("--n-permutations", type=int, default=DEFAULT_N_PERMUTATIONS)
    report.add_argument(
        "--power",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="simulate whether this test design could detect a coverage-error slope (default on)",
    )
    report.add_argument(
        "--reference-slope",
        type=float,
        default=DEFAULT_REFERENCE_SLOPE,
        help=f"planted slope of the power simulation (default {DEFAULT_REFERENCE_SLOPE:g})",
    )
    report.add_argument("--tail-fraction", type=float, default=0.3)
    report.add_argument("--seed", type=int, default=0)
    report.add_argument("--no-plots", action="store_true", help="skip the figures")
    report.add_argument("--out", type=Path, required=True, help="output folder")
    report.add_argument("--html", type=Path, help="also write a self-contained HTML report here")
    report.add_argument("--card", type=Path, help="model card (YAML) for report.json and --html")
    report.set_defaults(run=_run_report)
    add_power_command(commands)
    add_coverage_command(commands)
    return parser


def _predictions(args: argparse.Namespace, test, classes: list[Any]) -> tuple[Any, Any]:
    """(test_predictions, positive-class scores or None) from the chosen prediction source."""
    frame, path = test.frame, test.path
    if args.prediction_column is not None:
        require(frame, path, [args.prediction_column], "prediction")
        predicted = categorical(frame, path, args.prediction_column, "prediction")
        unknown = sorted({str(v) for v in predicted.tolist() if v not in set(classes)})
        if unknown:
            raise InputError(
                f"{path}: prediction column {args.prediction_column!r} holds values that are "
                f"not classes: {unknown[:5]}; classes: {classes}"
            )
        return predicted, None
    if args.score_columns is not None:
        columns = column_list(args.score_columns, "--score-columns")
        require(frame, path, columns, "score")
        if len(columns) != len(classes):
            raise InputError(
                f"--score-columns: {len(columns)} columns for {len(classes)} classes {classes}; "
                "give one score column per class (order: --classes)"
            )
        scores = probabilities(frame, path, columns, "score")
        return scores, (scores[:, 1] if len(classes) == 2 else None)
    require(frame, path, [args.score_column], "score")
    if len(classes) != 2:
        raise InputError(f"--score-column needs a binary task, got classes {classes}")
    positive = classes[1] if args.positive_class is None else _class(args.positive_class, classes)
    negative = classes[1 - classes.index(positive)]
    score = probabilities(frame, path, [args.score_column], "score")[:, 0]
    if not 0.0 <= args.score_threshold <= 1.0:
        raise InputError(f"--score-threshold must lie in [0, 1], got {args.score_threshold}")
    predicted = np.where(score >= args.score_threshold, positive, negative)
    if positive != classes[1]:
        classes.reverse()  # the report's positive class is the second of the class axis
    return predicted, score


def _class(name: str, classes: list[Any]) -> Any:
    for value in classes:
        if str(value) == name:
            return value
    raise InputError(f"--positive-class {name!r} is not a class; classes: {classes}")


def _compute(args: argparse.Namespace):
    from semcov_metrics.report import semantic_fairness_report

    descriptors = column_list(args.descriptor_columns, "--descriptor-columns")
    train = read_split(args.train, "--train", descriptors, args.label_column, args.subgroup_column)
    test = read_split(args.test, "--test", descriptors, args.label_column, args.subgroup_column)
    observed = [train.labels, test.labels]
    if args.prediction_column is not None and args.classes is None:
        require(test.frame, test.path, [args.prediction_column], "prediction")
        observed.append(categorical(test.frame, test.path, args.prediction_column, "prediction"))
    classes = class_axis(args.classes, *observed)
    predictions, scores = _predictions(args, test, classes)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UndefinedMetricWarning)
        report = semantic_fairness_report(
            train_descriptors=train.descriptors,
            train_labels=train.labels,
            train_subgroups=train.subgroups,
            test_descriptors=test.descriptors,
            test_labels=test.labels,
            test_predictions=predictions,
            test_subgroups=test.subgroups,
            membership=args.membership,
            threshold=args.threshold,
            min_support=args.min_support,
            n_boot=args.n_boot,
            seed=args.seed,
            confidence=args.confidence,
            n_permutations=args.n_permutations,
            power=args.power,
            reference_slope=args.reference_slope,
            test_scores=scores,
            tail_fraction=args.tail_fraction,
            descriptor_names=descriptors,
            classes=classes,
        )
    notes = list(dict.fromkeys(str(w.message) for w in caught))
    return report, train, test, classes, notes


def _payload(args, report, train, test, classes, notes, figures) -> dict[str, Any]:
    from semcov_metrics import __version__

    source = {
        "prediction_column": args.prediction_column,
        "score_columns": args.score_columns,
        "score_column": args.score_column,
    }
    return {
        **report.to_dict(),
        "classes": [str(c) for c in classes],
        "n_train": len(train.labels),
        "n_test": len(test.labels),
        "n_unknown_subgroup": {"train": train.n_unknown_subgroup, "test": test.n_unknown_subgroup},
        "settings": {
            "train": str(args.train),
            "test": str(args.test),
            "descriptor_columns": column_list(args.descriptor_columns, "--descriptor-columns"),
            "label_column": args.label_column,
            "subgroup_column": args.subgroup_column,
            **{k: v for k, v in source.items() if v is not None},
            "score_threshold": args.score_threshold if args.score_column else None,
            "membership": args.membership,
            "threshold": args.threshold,
            "n_boot": args.n_boot,
            "n_permutations": args.n_permutations,
            "power": args.power,
            "reference_slope": args.reference_slope,
            "tail_fraction": args.tail_fraction,
            "seed": args.seed,
            "semcov_metrics": __version__,
        },
        "warnings": notes,
        "figures": figures,
    }


def _number(value: Any) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _markdown(payload: dict[str, Any], report) -> str:
    interval = payload["cdi_interval"]
    ci = "" if interval[0] is None else f" [{interval[0]:.3f}, {interval[1]:.3f}]"
    cdi, p_value = payload["cdi"], payload["cdi_p_value"]
    if cdi is None or p_value is None:
        verdict = "CDI or its test is undefined on these SCGs."
    elif p_value < 0.05:
        verdict = (
            f"Error follows training coverage beyond chance: p = {p_value:.3g} against a null "
            "in which error depends on the (class, subgroup) cell only "
            "(docs/paper-notes.md#cdi-test)."
        )
    else:
        verdict = f"No evidence that error follows coverage (p = {p_value:.3g})."
    verdict += " " + _slope_sentence(payload["coverage_error_slope"])
    verdict += " " + _power_sentence(payload["power"])
    lines = [
        "# Semantic fairness report",
        "",
        f"Train: `{payload['settings']['train']}` ({payload['n_train']} rows); test: "
        f"`{payload['settings']['test']}` ({payload['n_test']} rows). {payload['n_valid']} of "
        f"{payload['n_scgs']} SCGs count (test support ≥ {payload['min_support']:g}, "
        f"{payload['settings']['membership']} membership).",
        "",
        "| statistic | value |",
        "|---|---|",
        f"| CDI ({payload['settings']['membership']}) | {_number(cdi)}{ci} |",
        f"| CDI, hard membership | {_number(payload['cdi_hard'])} |",
        f"| CDI p-value | {_number(p_value)} |",
        f"| CDI null: mean, 95 % quantile | {_number(payload['cdi_null'])}, "
        f"{_number(payload['cdi_null_q95'])} |",
        f"| coverage-error slope | {_slope_cell(payload['coverage_error_slope'])} |",
        *(
            f"| CDI within class {name} | {_number(value)} |"
            for name, value in payload["cdi_per_class"].items()
        ),
        f"| TPR_w | {_number(payload['tpr_worst'])} |",
        f"| TPR_std | {_number(payload['tpr_std'])} |",
        f"| S@95_tail | {_number(payload['s95_tail'])} |",
        "",
        verdict,
        "",
        "## Worst SCGs",
        "",
        "| class | descriptor | subgroup | coverage | support | TPR [95 % CI] | q-value |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in report.worst_groups(5).itertuples(index=False):
        lines.append(
            f"| {row[0]} | {row.descriptor} | {row.subgroup} | {row.coverage:.3f} | "
            f"{row.support:.2f} | {row.tpr:.3f} [{row.tpr_low:.3f}, {row.tpr_high:.3f}] | "
            f"{row.q_value:.3g} |"
        )
    lines += [
        "",
        "## Training set: does each concept's coverage differ between classes?",
        "",
        "Prevalence-preserving class permutation of the training rows (the released code's "
        "test); q-values by Benjamini–Hochberg.",
        "",
        "| descriptor | between-class variance | null mean | p-value | q-value |",
        "|---|---|---|---|---|",
    ]
    for test in payload["descriptor_tests"]:
        lines.append(
            f"| {test['descriptor']} | {_number(test['statistic'])} | "
            f"{_number(test['null_mean'])} | {_number(test['p_value'])} | "
            f"{_number(test['q_value'])} |"
        )
    for note in payload["warnings"]:
        lines += ["", f"Note: {note}"]
    return "\n".join(lines) + "\n"


def _slope_cell(slope: dict[str, Any] | None) -> str:
    if slope is None or slope["slope"] is None:
        return "n/a"
    low, high = slope["interval"]
    ci = "" if low is None else f" [{low:.3f}, {high:.3f}]"
    return f"{slope['slope']:.3f}{ci}, p = {_number(slope['p_value'])}"


def _slope_sentence(slope: dict[str, Any] | None) -> str:
    if slope is None or slope["slope"] is None:
        return "The coverage-error slope is undefined."
    return (
        f"A test image's miss probability changes by {slope['slope']:.3f} per unit of training "
        f"coverage ({_slope_cell(slope)}, {slope['n_samples']} images in "
        f"{slope['n_clusters']} cells)."
    )


def _power_sentence(power: dict[str, Any] | None) -> str:
    if power is None:
        return "Power was not simulated (--no-power)."
    mds = power["min_detectable_slope"]
    reach = (
        "no simulated slope reaches it"
        if mds is None
        else f"the smallest slope it detects with that power is {mds:.2f}"
    )
    state = "underpowered" if power["underpowered"] else "adequately powered"
    return (
        f"The audit is {state}: against a slope of {power['reference_slope']:g} its CDI test "
        f"rejects in {power['power_at_reference']:.0%} of simulated audits (target "
        f"{power['target_power']:.0%}); {reach}."
    )


def _figures(report, out: Path) -> list[str]:
    try:
        import matplotlib
    except ImportError:
        return []
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for name, draw in zip(
        FIGURES, (report.plot_coverage_error, report.plot_coverage_heatmap), strict=True
    ):
        axes = draw()
        axes.figure.tight_layout()
        axes.figure.savefig(out / name, dpi=150)
        plt.close(axes.figure)
        written.append(name)
    return written


def _run_report(args: argparse.Namespace) -> int:
    html = HtmlOutput.from_args(args)
    report, train, test, classes, notes = _compute(args)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    figures = [] if args.no_plots else _figures(report, out)
    payload = _payload(args, report, train, test, classes, notes, figures)
    html.add_card(payload, report)
    (out / "report.json").write_text(json.dumps(payload, indent=2, allow_nan=False) + "\n")
    report.table.to_csv(out / "scg.csv", index=False)
    (out / "report.md").write_text(_markdown(payload, report))
    for note in notes:
        print(f"{PROG} report: warning: {note}", file=sys.stderr)
    if not args.no_plots and not figures:
        print(
            f"{PROG} report: figures skipped: pip install 'semcov-metrics[plot]'", file=sys.stderr
        )
    print(f"wrote {out / 'report.json'}, scg.csv, report.md" + "".join(f", {f}" for f in figures))
    if html.path is not None:
        print(f"wrote {html.write(report, payload)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; bad input exits 2 with one line on stderr."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (InputError, ValueError, TypeError, OSError, ImportError) as error:
        message = " ".join(str(error).split())
        print(f"{PROG} {args.command}: error: {message}", file=sys.stderr)
        return 2
