"""``semcov-train audit``: the semantic fairness audit of a trained run, from its run directory.

The report (``semcov_metrics.semantic_fairness_report``) is computed from the run's stored test
predictions at its own decision threshold and from its training descriptors, exactly as the
trainer computed ``results.json``'s CDI; a model that reads descriptors is also probed with
each descriptor set to 0 and to 1 (:mod:`semcov_train.audit.descriptor_sensitivity`). Written into
``RUN_DIR/audit/`` (or ``--out``): ``report.json``, ``scg.csv``, ``sensitivity.csv`` and, with
an HTML-capable semcov-metrics, ``report.html``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from torch.utils.data import DataLoader

from semcov_metrics import SemanticFairnessReport, semantic_fairness_report
from semcov_metrics.cell_permutation import MIN_TEST_PERMUTATIONS

from .._registry import lookup
from ..evaluation.evaluate import json_ready, scg_frame
from ..evaluation.run_model import build_run_model
from ..methods.registry import METHODS
from ..parsing import OneLineParser
from ..rundir import AUDIT_DIR, BEST_CHECKPOINT, CHECKPOINT_DIR
from ..runtime.checkpoint import atomic_write_bytes, atomic_write_json
from ..runtime.device_policy import amp_dtype, use_channels_last
from ..runtime.distributed import setup_distributed
from .card import audit_context, default_card, load_user_card, merge_card, page_context
from .descriptor_sensitivity import sensitivity_passes, sensitivity_table
from .run_inputs import AuditInputs, check_run_dir, read_audit_inputs, rebuild_test_dataset

__all__ = ["AUDIT_FILES", "audit_run", "main"]

logger = logging.getLogger("semcov_train")

#: What an audit writes (``report.html`` only with an HTML-capable semcov-metrics,
#: ``sensitivity.csv`` only for a model that reads descriptors).
AUDIT_FILES = ("report.json", "scg.csv", "sensitivity.csv", "report.html")
_HTML_MISSING = (
    "report.html not written: the HTML report needs semcov-metrics with the html extra "
    "(pip install 'semcov-metrics[html]'); report.json and the CSVs are complete"
)


@dataclass
class _Notes:
    """What the audit tells the user (also recorded in ``report.json``)."""

    settings: dict[str, int]
    sensitivity: str | None = None
    warnings: list[str] = field(default_factory=list)
    observed_difference: float | None = None


def audit_run(
    run_dir: str | Path,
    *,
    out: str | Path | None = None,
    card: str | Path | Mapping[str, Any] | None = None,
    n_boot: int = 1000,
    n_permutations: int = 1000,
    seed: int = 0,
    html: bool = True,
    device: str | None = None,
    batch_size: int = 0,
) -> tuple[SemanticFairnessReport, pd.DataFrame | None]:
    """Audit the run in `run_dir` and write the audit into `out`.

    The training descriptors come from the run's ``train_descriptors.parquet``, or for a run
    written before that file, from its training split rebuilt from ``config.json`` (the log
    says which). The test decisions are the run's own (``y_decision`` of
    ``predictions.parquet``, at ``results.json``'s ``decision_threshold``), so ``report.cdi``
    equals ``results.json``'s ``cdi``; the bootstrap and the permutation null use `n_boot`,
    `n_permutations` and `seed`.

    Args:
        run_dir: a finished run directory.
        out: folder of the audit; default ``run_dir/audit``.
        card: the user's model card (a YAML file or a mapping); its fields override those of
            the card made from ``config.json``.
        n_boot: bootstrap replicates of the intervals (>= 0).
        n_permutations: replicates of the CDI test's null (>= 99).
        seed: seed of the bootstrap and the permutations.
        html: write ``report.html`` when semcov-metrics can render it.
        device: where the sensitivity passes run (``auto``, ``cpu``, ``cuda``); default the
            run's own setting.
        batch_size: images per sensitivity batch; default the run's evaluation batch.

    Returns:
        ``(report, sensitivity)``: the fairness report, and the descriptor sensitivity table
        (:func:`~semcov_train.audit.descriptor_sensitivity.sensitivity_table`), or None for a method
        whose model takes no descriptors or when it could not be computed (the log says why).

    Raises:
        ValueError: naming the run directory, file, column, option or folder at fault, before
            any computation (the `out` folder is created only for a finished run).
    """
    _check_options(n_boot, n_permutations, seed, batch_size)
    if device is not None:
        setup_distributed(device)  # an unknown or absent device is named before any work
    run = check_run_dir(run_dir)
    user_card = load_user_card(card) if card is not None else {}
    folder = Path(out).expanduser() if out is not None else run / AUDIT_DIR
    _make_writable(folder)
    inputs = read_audit_inputs(run)
    logger.info("training descriptors: %s", inputs.training_source)
    notes = _Notes({"n_boot": n_boot, "n_permutations": n_permutations, "seed": seed})
    report = _fairness_report(inputs, notes, n_boot, n_permutations, seed)
    sensitivity = _sensitivity(inputs, notes, report.table, device, batch_size)
    card_fields = merge_card(default_card(inputs), user_card)
    _write(folder, inputs, report, sensitivity, card_fields, html, notes)
    return report, sensitivity


def _check_options(n_boot: Any, n_permutations: Any, seed: Any, batch_size: Any) -> None:
    for name, value, low in (
        ("n_boot", n_boot, 0),
        ("n_permutations", n_permutations, MIN_TEST_PERMUTATIONS),
        ("seed", seed, 0),
        ("batch_size", batch_size, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")


def _make_writable(folder: Path) -> None:
    """Create `folder` and check that a file can be written into it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ValueError(f"out: {str(folder)!r} is not a writable folder ({reason})") from None


def _fairness_report(
    inputs: AuditInputs, notes: _Notes, n_boot: int, n_permutations: int, seed: int
) -> SemanticFairnessReport:
    config, axes = inputs.config, inputs.axes
    probabilities = inputs.test_probabilities
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = semantic_fairness_report(
            train_descriptors=inputs.descriptors("train"),
            train_labels=inputs.train["y_true"].to_numpy(dtype=np.int64),
            train_subgroups=inputs.subgroups("train"),
            test_descriptors=inputs.descriptors("test"),
            test_labels=inputs.test_labels,
            test_predictions=inputs.test_decisions,
            test_subgroups=inputs.subgroups("test"),
            membership=config.membership,
            n_boot=n_boot,
            seed=seed,
            n_permutations=n_permutations,
            power=True,
            test_scores=probabilities[:, 1] if probabilities.shape[1] == 2 else None,
            tail_fraction=config.tail_fraction,
            descriptor_names=list(axes.descriptor_names),
            classes=list(range(len(axes.classes))),
            subgroup_values=[str(v) for v in axes.subgroup_values],
        )
    for message in dict.fromkeys(" ".join(str(w.message).split()) for w in caught):
        logger.warning("warning: %s", message)
        notes.warnings.append(message)
    return report


def _sensitivity(
    inputs: AuditInputs,
    notes: _Notes,
    coverage: pd.DataFrame,
    device: str | None,
    batch_size: int,
) -> pd.DataFrame | None:
    config = inputs.config if device is None else inputs.config.replace(device=device)
    if not lookup(METHODS, config.method, "method").takes_descriptors:
        notes.sensitivity = f"method {config.method!r} takes no descriptors: no sensitivity"
        logger.info("descriptor sensitivity: %s", notes.sensitivity)
        return None
    if not (inputs.run_dir / CHECKPOINT_DIR / BEST_CHECKPOINT).is_file():
        notes.sensitivity = f"skipped: the run has no {CHECKPOINT_DIR}/{BEST_CHECKPOINT}"
        logger.warning("descriptor sensitivity %s", notes.sensitivity)
        return None
    try:
        context = setup_distributed(config.device)
    except ValueError as error:
        notes.sensitivity = f"skipped: the run's device is not here ({error}); pass --device"
        logger.warning("descriptor sensitivity %s", notes.sensitivity)
        return None
    try:
        dataset = rebuild_test_dataset(inputs, config)
    except (ValueError, FileNotFoundError, OSError) as error:
        notes.sensitivity = f"skipped: the test images could not be read ({error})"
        logger.warning("descriptor sensitivity %s", " ".join(notes.sensitivity.split()))
        return None
    amp = amp_dtype(config, context.device)
    channels_last = use_channels_last(config, context.device)
    model = build_run_model(config, inputs.axes, inputs.run_dir, context.device)
    loader = DataLoader(
        dataset,
        batch_size=batch_size or config.eval_batch_size or 2 * config.batch_size,
        shuffle=False,
        num_workers=config.num_workers,
        pin_memory=context.device.type == "cuda",
    )
    passes = sensitivity_passes(
        model, loader, device=context.device, amp_dtype=amp, channels_last=channels_last
    )
    notes.observed_difference = float(np.abs(passes.observed - inputs.test_probabilities).max())
    return sensitivity_table(
        passes,
        labels=inputs.test_labels,
        subgroups=inputs.subgroups("test"),
        descriptors=inputs.descriptors("test"),
        descriptor_names=inputs.axes.descriptor_names,
        class_names=inputs.axes.classes,
        threshold=inputs.threshold,
        coverage=coverage,
    )


def _write(
    folder: Path,
    inputs: AuditInputs,
    report: SemanticFairnessReport,
    sensitivity: pd.DataFrame | None,
    card: dict[str, Any],
    html: bool,
    notes: _Notes,
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    context = audit_context(inputs)
    payload = dict(report.to_dict())
    payload["sensitivity"] = [] if sensitivity is None else sensitivity.to_dict("records")
    payload["run"] = {
        **context,
        "results_cdi": inputs.results.get("cdi"),
        **notes.settings,
        "sensitivity_note": notes.sensitivity,
        "sensitivity_observed_max_abs_difference": notes.observed_difference,
        "warnings": notes.warnings,
    }
    payload["card"] = card
    atomic_write_json(folder / "report.json", json_ready(payload))
    table = scg_frame(report, inputs.axes).to_csv(index=False, lineterminator="\n")
    atomic_write_bytes(folder / "scg.csv", table.encode())
    stale = folder / "sensitivity.csv"
    if sensitivity is not None:
        atomic_write_bytes(stale, sensitivity.to_csv(index=False, lineterminator="\n").encode())
    elif stale.is_file():
        stale.unlink()  # an earlier audit's table would contradict this report
    if not html:
        return
    if not hasattr(report, "to_html"):
        logger.warning(_HTML_MISSING)
        return
    title = f"Semantic fairness audit: {context['model']} on {inputs.config.dataset}"
    try:
        report.to_html(
            folder / "report.html",
            card=card,
            sensitivity=sensitivity,
            title=title,
            context=page_context(context),
            class_names=list(inputs.axes.classes),  # the report is on class codes
        )
    except ImportError:  # the renderer is there, its template engine is not
        logger.warning(_HTML_MISSING)


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="semcov-train audit",
        description="Semantic fairness audit of a trained run, from its run directory.",
    )
    parser.add_argument("--run", required=True, help="run directory (holds predictions.parquet)")
    parser.add_argument("--out", help=f"folder to write into (default: RUN/{AUDIT_DIR})")
    parser.add_argument("--card", help="model card YAML; its fields override the run's own")
    parser.add_argument(
        "--html",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="write report.html when semcov-metrics can render it (default: yes)",
    )
    parser.add_argument("--n-boot", type=int, default=1000, help="bootstrap replicates")
    parser.add_argument("--n-permutations", type=int, default=1000, help="CDI null permutations")
    parser.add_argument("--seed", type=int, default=0, help="seed of bootstrap and permutations")
    parser.add_argument(
        "--device", help="auto, cpu or cuda for the sensitivity passes (default: the run's)"
    )
    parser.add_argument("--batch-size", type=int, default=0, help="images per batch")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``semcov-train audit --run RUN [--out DIR] [--card card.yaml] [--no-html]``; exit code
    (2 with one line on stderr for bad input)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    out = Path(args.out) if args.out else Path(args.run).expanduser() / AUDIT_DIR
    try:
        report, sensitivity = audit_run(
            args.run,
            out=out,
            card=args.card,
            n_boot=args.n_boot,
            n_permutations=args.n_permutations,
            seed=args.seed,
            html=args.html,
            device=args.device,
            batch_size=args.batch_size,
        )
    except (ValueError, TypeError, OSError) as error:
        message = " ".join(str(error).split())
        print(f"semcov-train audit: error: {message}", file=sys.stderr)
        return 2
    cdi = "undefined" if not np.isfinite(report.cdi) else f"{report.cdi:.4f}"
    rows = "no descriptor sensitivity" if sensitivity is None else f"{len(sensitivity)} rows"
    print(f"{out}: CDI {cdi} over {report.n_valid} valid SCGs; sensitivity: {rows}")
    return 0
