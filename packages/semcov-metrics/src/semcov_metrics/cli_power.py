"""Command line ``python -m semcov_metrics power``: could an audit of this design detect that
error follows coverage? Power at a planted slope and the minimum detectable slope."""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path
from typing import Any

from semcov_metrics._cli_inputs import InputError, class_axis, column_list, read_split
from semcov_metrics._statistics import DEFAULT_MIN_SUPPORT
from semcov_metrics.exceptions import UndefinedMetricWarning
from semcov_metrics.power import DEFAULT_REFERENCE_SLOPE, cdi_power

__all__ = ["add_power_command", "run_power"]


def add_power_command(commands: Any) -> None:
    """Add the ``power`` subcommand to the subparsers of ``python -m semcov_metrics``."""
    power = commands.add_parser(
        "power",
        help="how many test images an audit needs: power of the CDI test by simulation",
        description=(
            "Coverage from TRAIN.csv; test designs either drawn from its rows (--n-test, "
            "--class-proportions) or taken from TEST.csv (--test). Misses are simulated with a "
            "planted coverage-error slope and scored by the report's tests."
        ),
    )
    power.add_argument("--train", type=Path, required=True, help="training rows (coverage)")
    design = power.add_mutually_exclusive_group(required=True)
    design.add_argument("--n-test", type=int, help="simulated test size (draws from TRAIN.csv)")
    design.add_argument("--test", type=Path, help="a test design: its descriptors and labels")
    power.add_argument("--descriptor-columns", required=True, help="a,b,c: scores in [0, 1]")
    power.add_argument("--label-column", required=True)
    power.add_argument("--subgroup-column", required=True)
    power.add_argument(
        "--class-proportions", help="with --n-test: c0=0.3,c1=0.7 (default: as in TRAIN.csv)"
    )
    power.add_argument("--slope", type=float, default=DEFAULT_REFERENCE_SLOPE)
    power.add_argument("--base-error", type=float, default=0.2, help="miss rate at mean coverage")
    power.add_argument("--cell-sd", type=float, default=0.0, help="sd of cell effects")
    power.add_argument("--membership", choices=["soft", "hard"], default="soft")
    power.add_argument("--threshold", type=float, default=0.5)
    power.add_argument("--min-support", type=float, default=DEFAULT_MIN_SUPPORT)
    power.add_argument("--alpha", type=float, default=0.05)
    power.add_argument("--target-power", type=float, default=0.8)
    power.add_argument("--n-simulations", type=int, default=200)
    power.add_argument("--n-permutations", type=int, default=199)
    power.add_argument("--seed", type=int, default=0)
    power.add_argument("--out", type=Path, help="folder for power.json and power.csv")
    power.set_defaults(run=run_power)


def _proportions(text: str | None, classes: list[Any]) -> dict[Any, float] | None:
    if text is None:
        return None
    by_name = {str(c): c for c in classes}
    result: dict[Any, float] = {}
    for item in column_list(text, "--class-proportions"):
        name, sep, value = item.partition("=")
        if not sep or name not in by_name:
            raise InputError(
                f"--class-proportions: expected class=share for classes {list(by_name)}, "
                f"got {item!r}"
            )
        try:
            result[by_name[name]] = float(value)
        except ValueError:
            raise InputError(f"--class-proportions: {value!r} is not a number") from None
    return result


def run_power(args: argparse.Namespace) -> int:
    """Simulate, print the answer in words, write power.json/power.csv with ``--out``."""
    descriptors = column_list(args.descriptor_columns, "--descriptor-columns")
    train = read_split(args.train, "--train", descriptors, args.label_column, args.subgroup_column)
    test = None
    if args.test is not None:
        test = read_split(args.test, "--test", descriptors, args.label_column, args.subgroup_column)
    observed = [train.labels] + ([] if test is None else [test.labels])
    classes = class_axis(None, *observed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UndefinedMetricWarning)
        result = cdi_power(
            train_descriptors=train.descriptors,
            train_labels=train.labels,
            train_subgroups=train.subgroups,
            n_test=args.n_test,
            class_proportions=_proportions(args.class_proportions, classes),
            test_descriptors=None if test is None else test.descriptors,
            test_labels=None if test is None else test.labels,
            test_subgroups=None if test is None else test.subgroups,
            slope=args.slope,
            base_error=args.base_error,
            cell_sd=args.cell_sd,
            membership=args.membership,
            threshold=args.threshold,
            min_support=args.min_support,
            alpha=args.alpha,
            target_power=args.target_power,
            n_simulations=args.n_simulations,
            n_permutations=args.n_permutations,
            seed=args.seed,
            descriptor_names=descriptors,
            classes=classes,
        )
    mds = result.min_detectable_slope_cdi
    print(
        f"{result.n_test} test images: the CDI test rejects at alpha={result.alpha:g} in "
        f"{result.power_cdi:.0%} of simulated audits with slope {result.slope:g} (the slope "
        f"test: {result.power_slope:.0%}); false positives at slope 0: "
        f"{result.false_positive_cdi:.0%}."
    )
    print(
        f"Minimum detectable slope at {result.target_power:.0%} power: "
        + ("none up to the simulated range" if mds != mds else f"{mds:.2f}")
        + (" (underpowered)" if result.underpowered else "")
        + f"; {result.n_simulations} simulated audits per slope."
    )
    for note in dict.fromkeys(str(w.message) for w in caught):
        print(f"note: {note}")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        payload = {**result.to_dict(), "settings": _settings(args)}
        (args.out / "power.json").write_text(json.dumps(payload, indent=2, allow_nan=False) + "\n")
        result.curve.to_csv(args.out / "power.csv", index=False)
        print(f"wrote {args.out / 'power.json'}, power.csv")
    return 0


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    names = (
        "train",
        "test",
        "n_test",
        "class_proportions",
        "descriptor_columns",
        "label_column",
        "subgroup_column",
        "slope",
        "base_error",
        "cell_sd",
        "membership",
        "threshold",
        "min_support",
        "alpha",
        "target_power",
        "n_simulations",
        "n_permutations",
        "seed",
    )
    return {
        name: (None if v is None else str(v) if isinstance(v, Path) else v)
        for name in names
        for v in [getattr(args, name)]
    }
