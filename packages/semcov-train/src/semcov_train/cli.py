"""Command line: ``python -m semcov_train --method NAME --dataset NAME --preset NAME --out DIR``.

Every field of :class:`~semcov_train.TrainConfig` is an option (``--batch-size 16``,
``--use-cdi false``); the preset supplies the values not given.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from semcov_metrics.performance import PERFORMANCE_KEYS

from ._registry import did_you_mean, lookup
from .audit.run_audit import main as audit_main
from .config import PRESETS, TrainConfig, _field_types, check_field_names, make_config
from .evaluation.predict import main as predict_main
from .inputs.sources import DATASETS
from .methods.models import MissingWeightsError
from .methods.registry import METHODS, check_available
from .parsing import OneLineParser
from .training.preemption import PREEMPTED_EXIT_CODE, TrainingPreempted
from .training.trainer import train

__all__ = ["build_parser", "config_from_args", "field_value", "main"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_HEADLINE = (*PERFORMANCE_KEYS, "cdi")


def _bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _optional_str(text: str) -> str | None:
    return None if text.lower() in {"none", "null", ""} else text


def _converter(kind: Any):
    if kind is bool:
        return _bool
    if kind in (int, float, str):
        return kind
    return _optional_str


def field_value(name: str, text: str) -> Any:
    """`text` as a value of the TrainConfig field `name`, read as its command-line option is
    (``"true"`` for a bool, ``"none"`` for an unset optional string).

    Raises:
        ValueError: `name` is not a field (with a did-you-mean) or `text` does not convert.
    """
    check_field_names([name])
    try:
        return _converter(_field_types()[name])(text)
    except (ValueError, argparse.ArgumentTypeError) as error:
        raise ValueError(f"{name}: {error}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="semcov-train",
        description="Train one method of the SemCovNet paper and write its run directory.",
        epilog=(
            f"methods: {', '.join(METHODS)}. datasets: {', '.join(DATASETS)}. presets: "
            f"{', '.join(PRESETS)}. Launch on N processes with torchrun --nproc-per-node N "
            "-m semcov_train ..."
        ),
    )
    parser.add_argument("--method", required=True, help="registry name, e.g. erm, semcovnet")
    parser.add_argument("--dataset", required=True, help="synthetic, milk10k, ...")
    parser.add_argument("--preset", default="quick", help="smoke, quick or paper (default quick)")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted run")
    types = _field_types()
    for field in fields(TrainConfig):
        if field.name in ("method", "dataset", "preset"):
            continue
        kind = types[field.name]
        name = f"--{field.name.replace('_', '-')}"
        aliases = [name] if "_" not in field.name else [name, f"--{field.name}"]
        shown = getattr(kind, "__name__", "str")
        parser.add_argument(
            *aliases,
            dest=field.name,
            type=_converter(kind),
            default=argparse.SUPPRESS,
            metavar=shown.upper(),
            help=f"config field {field.name} ({shown})",
        )
    # The apps' spelling: one option name for progress bars on every command line.
    parser.add_argument(
        "--no-progress",
        dest="progress",
        action="store_false",
        default=argparse.SUPPRESS,
        help="hide progress bars (same as --progress false)",
    )
    return parser


def config_from_args(argv: Sequence[str] | None = None) -> tuple[TrainConfig, bool]:
    """Parse the command line into a config and the ``--resume`` flag.

    Raises:
        SystemExit: unknown options (with a did-you-mean) or values of the wrong type.
        ValueError: unknown method/dataset/preset, invalid values.
    """
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        options = [o for action in parser._actions for o in action.option_strings]
        first = unknown[0].split("=", 1)[0]
        parser.error(f"unknown option {first!r}{did_you_mean(first, options)}")
    values = vars(args)
    preset = values.pop("preset")
    resume = values.pop("resume")
    return make_config(preset, **values), resume


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m semcov_train`` and ``semcov-train``; returns the exit code.

    ``semcov-train predict ...`` applies a trained run to new images
    (:mod:`semcov_train.evaluation.predict`), ``semcov-train audit ...`` audits a trained run
    (:mod:`semcov_train.audit.run_audit`); anything else trains. Exit codes: 0 done, 2 bad input
    (one line on stderr), 75 stopped on SIGTERM with a checkpoint
    (:data:`~semcov_train.training.preemption.PREEMPTED_EXIT_CODE`).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["predict"]:
        return predict_main(args[1:])
    if args[:1] == ["audit"]:
        return audit_main(args[1:])

    rank = int(os.environ.get("RANK", "0"))
    logging.basicConfig(
        level=logging.INFO if rank == 0 else logging.WARNING, format="%(name)s: %(message)s"
    )
    try:
        config, resume = config_from_args(args)

        lookup(METHODS, config.method, "method")
        lookup(DATASETS, config.dataset, "dataset")
        check_available(config)
        result = train(config, resume=resume)
    except TrainingPreempted as stopped:
        print(f"semcov-train: {stopped}", file=sys.stderr)
        return PREEMPTED_EXIT_CODE
    except (
        ValueError,
        TypeError,
        FileNotFoundError,
        MissingWeightsError,
    ) as error:
        message = " ".join(str(error).split())  # one line, whatever the message holds
        print(f"semcov-train: error: {message}", file=sys.stderr)
        return 2
    if rank == 0:
        metrics = ", ".join(
            f"{k} {result.results[k]:.4f}"
            for k in _HEADLINE
            if isinstance(result.results.get(k), float)
        )
        print(f"{result.run_dir}: best epoch {result.results['best_epoch']}; test {metrics}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
