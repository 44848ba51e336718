"""``semcov-train predict``: apply a trained run to the images of a new CSV.

The run directory says everything needed: ``config.json`` (columns, classes, image size,
descriptor names, method and backbone), ``checkpoints/best.pt`` (the weights reported in
``results.json``) and ``results.json`` (the decision threshold chosen on validation, when the
run has one).
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.metrics import balanced_accuracy_score, f1_score
from torch.utils.data import DataLoader

from semcov_data import SemCovDataset, build_image_cache, drop_bad_images, eval_transform
from semcov_metrics import performance_report, semantic_fairness_report

from ..config import TrainConfig
from ..inputs.csv_data import csv_columns, load_csv_table
from ..parsing import OneLineParser
from ..runtime.checkpoint import atomic_write_bytes, atomic_write_json
from ..runtime.device_policy import amp_dtype, autocast, use_channels_last
from ..runtime.distributed import setup_distributed
from .evaluate import json_ready
from .run_model import RunAxes, build_run_model, load_run_config, training_split

__all__ = ["PredictionOutput", "load_run_config", "main", "predict_csv"]

logger = logging.getLogger("semcov_train")

#: Threshold on the positive-class probability of a binary run without ``decision_threshold``.
DEFAULT_THRESHOLD = 0.5
#: Config fields a prediction may set differently from training (where things are, how fast).
PREDICT_OVERRIDES = (
    "image_column",
    "id_column",
    "label_column",
    "bad_images",
    "device",
    "cache_dir",
    "num_workers",
)


@dataclass(frozen=True)
class PredictionOutput:
    """What :func:`predict_csv` returns.

    Attributes:
        predictions: one row per image kept: ``id``, ``label`` (when the CSV has labels),
            ``predicted`` (class name at the run's threshold), ``prob_<class>`` per class.
        report: the JSON report (load report, threshold and, with labels, the performance and
            fairness metrics).
    """

    predictions: pd.DataFrame
    report: dict


def _table_for(config: TrainConfig, csv_path: Path, root: Path | None, resolved: dict):
    if not csv_path.is_file():
        raise ValueError(f"csv_path: {str(csv_path)!r} is not a file")
    header = set(pd.read_csv(csv_path, nrows=0).columns)
    labelled = config.label_column in header
    subgroups = bool(csv_columns(config.subgroup_columns)) and set(
        csv_columns(config.subgroup_columns)
    ).issubset(header)
    table = load_csv_table(
        config,
        root,
        csv_path=csv_path,
        classes=tuple(resolved["classes"]),
        labelled=labelled,
        subgroups=subgroups,
    )
    if list(table.descriptor_names) != list(resolved["descriptors"]):
        raise ValueError(
            f"descriptor_columns: the run was trained on {resolved['descriptors']}, the CSV "
            f"gives {list(table.descriptor_names)}"
        )
    return table, labelled, subgroups


def _probabilities(model, loader, device, amp, channels_last) -> tuple[np.ndarray, np.ndarray]:
    index, probabilities = [], []
    with torch.no_grad():
        for batch in loader:
            images = batch["image"].to(device, non_blocking=True)
            if channels_last:
                images = images.contiguous(memory_format=torch.channels_last)
            with autocast(device, amp):
                output = model(images, batch["descriptors"].to(device, non_blocking=True))
            probabilities.append(F.softmax(output.logits.float(), dim=1).cpu().numpy())
            index.append(batch["index"].numpy())
    return np.concatenate(index), np.concatenate(probabilities)


def _decide(probabilities: np.ndarray, threshold: float | None) -> np.ndarray:
    if probabilities.shape[1] == 2:
        cut = DEFAULT_THRESHOLD if threshold is None else float(threshold)
        return (probabilities[:, 1] >= cut).astype(np.int64)
    return probabilities.argmax(axis=1)


def _metrics(config, table, probabilities, predicted, threshold, subgroups) -> dict:
    labels = table.labels
    scores = probabilities[:, 1] if probabilities.shape[1] == 2 else probabilities
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        performance = performance_report(labels, scores)
        if probabilities.shape[1] == 2 and threshold is not None:
            # performance_report cuts at 0.5; the run decides at its own threshold
            performance["balanced_accuracy"] = float(balanced_accuracy_score(labels, predicted))
            performance["macro_f1"] = float(f1_score(labels, predicted, average="macro"))
    report: dict[str, Any] = {"performance": performance, "fairness": None}
    if not subgroups:
        report["fairness_note"] = "the CSV has no subgroup column(s): no fairness report"
        return report
    try:
        train = training_split(config)
    except (ValueError, FileNotFoundError) as error:
        report["fairness_note"] = f"training data not available for coverage: {error}"
        return report
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fairness = semantic_fairness_report(
            train_descriptors=train.descriptors,
            train_labels=train.labels,
            train_subgroups=train.frame["subgroup"].to_numpy(dtype=object),
            test_descriptors=table.descriptors,
            test_labels=labels,
            test_predictions=predicted,
            test_subgroups=table.frame["subgroup"].to_numpy(dtype=object),
            membership=config.membership,
            n_boot=config.n_boot,
            seed=config.seed,
            descriptor_names=list(table.descriptor_names),
            classes=list(range(len(table.classes))),
            subgroup_values=sorted(set(train.subgroup_values) | set(table.subgroup_values)),
        )
    report["fairness"] = {
        "cdi": fairness.cdi,
        "tpr_worst": fairness.tpr_worst,
        "tpr_std": fairness.tpr_std,
        "n_valid_scgs": int(fairness.n_valid),
        "intervals": {k: list(v) for k, v in fairness.intervals.items()},
    }
    return report


def predict_csv(
    run_dir: str | Path,
    csv_path: str | Path,
    *,
    data_root: str | Path | None = None,
    batch_size: int = 0,
    **overrides,
) -> PredictionOutput:
    """Predict every image of ``csv_path`` with the best checkpoint of ``run_dir``.

    The CSV needs the run's image and descriptor columns; with its label column the report
    adds the performance metrics, and with its subgroup column(s) the fairness metrics against
    the run's training coverage. Images go through the image cache at the run's size, in
    batches, on the GPU when there is one (``device="auto"``).

    Args:
        run_dir: a run directory written by :func:`~semcov_train.train`.
        csv_path: the new CSV (one row per image).
        data_root: folder the image paths are relative to; default the CSV's folder.
        batch_size: images per batch; default the run's evaluation batch.
        **overrides: any of :data:`PREDICT_OVERRIDES` (e.g. ``image_column="path"``).

    Raises:
        ValueError: naming the option, column, row or file at fault.
    """
    unknown = sorted(set(overrides) - set(PREDICT_OVERRIDES))
    if unknown:
        raise ValueError(f"predict: unknown option(s) {unknown}; allowed: {PREDICT_OVERRIDES}")
    run = Path(run_dir).expanduser()
    trained, resolved, results = load_run_config(run)
    overrides = {k: v for k, v in overrides.items() if v is not None}
    config = trained.replace(**overrides) if overrides else trained
    # The training data (for coverage) is read with the run's own columns.
    runtime = {k: v for k, v in overrides.items() if k in ("cache_dir", "device", "num_workers")}
    trained = trained.replace(**runtime)
    if config.dataset != "csv" and "descriptor_columns" not in overrides:
        config = config.replace(descriptor_columns=",".join(resolved["descriptors"]))
    root = Path(data_root).expanduser() if data_root is not None else None
    if root is not None and not root.is_dir():
        raise ValueError(f"data_root: {str(root)!r} is not a directory")
    table, labelled, subgroups = _table_for(config, Path(csv_path).expanduser(), root, resolved)
    cache = None
    if config.cache_images:
        folder = config.cache_path / "images"
        cache = build_image_cache(table.image_paths(), folder, size=config.image_size)
    table = drop_bad_images(table, cache=cache, on_bad_image=config.bad_images)
    if len(table) == 0:
        raise ValueError(f"csv_path: no image of {csv_path} could be read")
    dataset = SemCovDataset(
        table, transform=eval_transform(config.image_size), cache=cache, check_images=False
    )
    device = setup_distributed(config.device).device
    amp, channels_last = amp_dtype(config, device), use_channels_last(config, device)
    axes = RunAxes.from_resolved(resolved)
    model = build_run_model(config, axes, run, device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    size = batch_size or config.eval_batch_size or 2 * config.batch_size
    loader = DataLoader(
        dataset,
        batch_size=size,
        shuffle=False,
        num_workers=config.num_workers,
        pin_memory=device.type == "cuda",
    )
    index, probabilities = _probabilities(model, loader, device, amp, channels_last)
    order = np.argsort(index, kind="stable")
    probabilities = probabilities[order]
    threshold = results.get("decision_threshold")
    predicted = _decide(probabilities, threshold)
    frame = pd.DataFrame({"id": [str(i) for i in dataset.table.sample_ids]})
    if labelled:
        frame["label"] = dataset.table.frame["class_name"].to_numpy()
    frame["predicted"] = [axes.classes[int(i)] for i in predicted]
    for k, name in enumerate(axes.classes):
        frame[f"prob_{name}"] = probabilities[:, k]
    report = {
        "run": str(run),
        "csv": str(csv_path),
        "n_predicted": len(frame),
        "decision_threshold": (
            (DEFAULT_THRESHOLD if threshold is None else float(threshold))
            if len(axes.classes) == 2
            else None
        ),
        "classes": list(axes.classes),
        "load_report": dict(dataset.report.to_dict()),
    }
    if labelled:
        report.update(
            _metrics(trained, dataset.table, probabilities, predicted, threshold, subgroups)
        )
    return PredictionOutput(frame, json_ready(report))


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="semcov-train predict",
        description="Apply a trained run to the images of a new CSV.",
    )
    parser.add_argument("--run", required=True, help="run directory (holds config.json)")
    parser.add_argument("--csv-path", required=True, help="CSV of the images to predict")
    parser.add_argument("--out", required=True, help="predictions CSV to write")
    parser.add_argument("--report", help="report JSON (default: <out stem>.report.json)")
    parser.add_argument("--data-root", help="folder the image paths are relative to")
    parser.add_argument("--batch-size", type=int, default=0, help="images per batch")
    parser.add_argument(
        "--device", default="auto", help="auto (default: the GPU when there is one), cpu, cuda"
    )
    parser.add_argument("--cache-dir", help="image cache folder (default: the run's)")
    parser.add_argument("--num-workers", type=int, help="DataLoader workers")
    parser.add_argument("--bad-images", choices=("exclude", "raise"), help="unreadable images")
    for column in ("image", "id", "label"):
        parser.add_argument(f"--{column}-column", help=f"{column} column (default: the run's)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``semcov-train predict --run RUN --csv-path NEW.csv --out preds.csv``; exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    try:
        if args.batch_size < 0:
            raise ValueError(f"batch_size must be >= 0, got {args.batch_size}")
        output = predict_csv(
            args.run,
            args.csv_path,
            data_root=args.data_root,
            batch_size=args.batch_size,
            image_column=args.image_column,
            id_column=args.id_column,
            label_column=args.label_column,
            bad_images=args.bad_images,
            device=args.device,
            cache_dir=args.cache_dir,
            num_workers=args.num_workers,
        )
    except (ValueError, TypeError, FileNotFoundError) as error:
        message = " ".join(str(error).split())
        print(f"semcov-train predict: error: {message}", file=sys.stderr)
        return 2
    out = Path(args.out)
    report_path = Path(args.report) if args.report else out.with_suffix(".report.json")
    csv_bytes = output.predictions.to_csv(index=False, lineterminator="\n").encode()
    atomic_write_bytes(out, csv_bytes)
    atomic_write_json(report_path, output.report)
    auc = (output.report.get("performance") or {}).get("auc")
    shown = f"; auc {auc:.4f}" if isinstance(auc, float) else ""
    print(f"{out}: {len(output.predictions)} image(s); report {report_path}{shown}")
    return 0
