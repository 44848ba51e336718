"""Predictions on a split (sharded under DDP, gathered whole); history and results metrics."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from semcov_data.cas import cas_evaluation_subsets
from semcov_metrics import performance_report, semantic_fairness_report
from semcov_metrics.performance import PERFORMANCE_KEYS

from ..runtime.device_policy import autocast
from ..runtime.distributed import DistContext, all_gather_objects
from .alignment import alignment_results
from .threshold import DecisionThreshold, choose_threshold, decide

__all__ = [
    "PERFORMANCE_KEYS",
    "Predictions",
    "SplitEvaluation",
    "bootstrap_performance",
    "evaluate_test",
    "json_ready",
    "predict",
    "predictions_frame",
    "scg_frame",
    "validation_metrics",
    "validation_threshold",
]

#: Table 1 metric names (``semcov_metrics.performance_report``).
#: Scalar statistics of ``semcov_metrics.semantic_fairness_report`` kept per epoch and per run.
FAIRNESS_KEYS = ("cdi", "cdi_hard", "cdi_null", "tpr_worst", "tpr_std")
#: The test of CDI and the support-aware slope, written for the test split only.
TEST_KEYS = ("cdi_null_q95", "cdi_p_value", "coverage_error_slope", "slope_p_value")


@dataclass
class Predictions:
    """Model outputs on one split, in dataset order.

    Attributes:
        index: dataset positions (N,).
        probabilities: softmax class probabilities (N, T).
        embedding: pooled embedding z (N, D).
        descriptor_embedding: SemCovNet's Linear(p) (N, D), or None.
        loss: mean cross-entropy.
        image_embedding: z of a pass with every p replaced by the training-mean descriptor
            vector (N, D), for descriptor–image alignment
            (:mod:`semcov_train.evaluation.alignment`); None when not computed.
    """

    index: np.ndarray
    probabilities: np.ndarray
    embedding: np.ndarray
    descriptor_embedding: np.ndarray | None
    loss: float
    image_embedding: np.ndarray | None = None

    @property
    def predicted(self) -> np.ndarray:
        return self.probabilities.argmax(axis=1)


@torch.no_grad()
def predict(
    model: nn.Module,
    loader: DataLoader,
    context: DistContext,
    *,
    amp_dtype: torch.dtype | None = None,
    channels_last: bool = False,
    progress: bool = False,
    desc: str = "eval",
    descriptors: np.ndarray | None = None,
) -> Predictions:
    """Run `model` in eval mode over this rank's shard of `loader` and gather every rank's part,
    so each rank returns the predictions of the whole (un-padded) split, sorted by index.

    `descriptors` (K,), when given, replaces every sample's descriptor scores (the image-only
    pass of :mod:`semcov_train.evaluation.alignment`)."""
    was_training = model.training
    model.eval()
    device = context.device
    parts: dict[str, list[np.ndarray]] = {"index": [], "prob": [], "emb": [], "demb": [], "nll": []}
    fixed = None if descriptors is None else torch.as_tensor(descriptors, device=device)
    batches = tqdm(loader, desc=desc, leave=False, disable=not (progress and context.is_main))
    for batch in batches:
        images = batch["image"].to(device, non_blocking=True)
        if channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        scores = batch["descriptors"].to(device, non_blocking=True)
        if fixed is not None:
            scores = fixed.to(scores.dtype).expand_as(scores)
        labels = batch["label"].to(device, non_blocking=True)
        with autocast(device, amp_dtype):
            output = model(images, scores)
        logits = output.logits.float()
        parts["index"].append(batch["index"].numpy())
        parts["prob"].append(F.softmax(logits, dim=1).cpu().numpy())
        parts["nll"].append(F.cross_entropy(logits, labels, reduction="none").cpu().numpy())
        parts["emb"].append(output.embedding.float().cpu().numpy())
        if getattr(output, "descriptor_embedding", None) is not None:
            parts["demb"].append(output.descriptor_embedding.float().cpu().numpy())
    model.train(was_training)
    local = {k: (np.concatenate(v) if v else None) for k, v in parts.items()}
    gathered = [g for g in all_gather_objects(local, context) if g["index"] is not None]
    merged = {
        k: (np.concatenate([g[k] for g in gathered]) if gathered[0][k] is not None else None)
        for k in local
    }
    index = _gathered(merged, "index")
    order = np.argsort(index, kind="stable")
    return Predictions(
        index=index[order],
        probabilities=_gathered(merged, "prob")[order],
        embedding=_gathered(merged, "emb")[order],
        descriptor_embedding=None if merged["demb"] is None else merged["demb"][order],
        loss=float(_gathered(merged, "nll").mean()),
    )


def _gathered(merged: dict[str, np.ndarray | None], key: str) -> np.ndarray:
    """A part that every batch produces (so present whenever any rank had samples)."""
    value = merged[key]
    if value is None:
        raise RuntimeError(f"no {key!r} predictions were gathered")
    return value


def _quiet(function, *args, **kwargs):
    """Call a metric; undefined values (one class, too few SCGs) are NaN without warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


def _positive_scores(probabilities: np.ndarray) -> np.ndarray | None:
    return probabilities[:, 1] if probabilities.shape[1] == 2 else None


def _performance(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    y_prob = probabilities[:, 1] if probabilities.shape[1] == 2 else probabilities
    return _quiet(performance_report, labels, y_prob)


def _fairness(data, part_arrays: dict, predicted: np.ndarray, config, n_boot: int, scores=None):
    """The fairness report of one split: decisions `predicted`, positive-class `scores` for
    S@95_tail (None: NaN), the package's default SCG support rule."""
    train = data.split_arrays("train")
    return _quiet(
        semantic_fairness_report,
        train_descriptors=train["descriptors"],
        train_labels=train["labels"],
        train_subgroups=train["subgroup_names"],
        test_descriptors=part_arrays["descriptors"],
        test_labels=part_arrays["labels"],
        test_predictions=predicted,
        test_subgroups=part_arrays["subgroup_names"],
        membership=config.membership,
        n_boot=n_boot,
        seed=config.seed,
        test_scores=scores,
        tail_fraction=config.tail_fraction,
        descriptor_names=list(data.descriptor_names),
        classes=list(range(data.num_classes)),
        subgroup_values=list(data.subgroup_values),
    )


def validation_threshold(predictions: Predictions, data, config) -> DecisionThreshold:
    """``config.decision_threshold`` resolved on validation predictions (one class in the
    validation split: argmax, without a warning here; the note says so)."""
    labels = data.split_arrays("val")["labels"]
    return _quiet(choose_threshold, labels, predictions.probabilities, config.decision_threshold)


def validation_metrics(predictions: Predictions, data, config) -> dict[str, float]:
    """Per-epoch validation metrics: loss, Table 1 metrics, CDI / TPR_w / TPR_std (Figure 3).

    CDI, TPR_w and TPR_std use the decision threshold chosen on these same validation
    predictions (``decision_threshold``, recorded beside them).
    """
    arrays = data.split_arrays("val")
    metrics = {"loss": predictions.loss}
    metrics.update(_performance(arrays["labels"], predictions.probabilities))
    threshold = validation_threshold(predictions, data, config)
    predicted = decide(predictions.probabilities, threshold)
    report = _fairness(data, arrays, predicted, config, n_boot=0)
    metrics.update({k: float(getattr(report, k)) for k in FAIRNESS_KEYS})
    metrics["decision_threshold"] = math.nan if threshold.value is None else threshold.value
    return metrics


def bootstrap_performance(
    labels: np.ndarray, probabilities: np.ndarray, n_boot: int, seed: int, confidence: float = 0.95
) -> dict[str, tuple[float, float]]:
    """Percentile intervals of the Table 1 metrics over test samples drawn with replacement;
    replicates where a metric is undefined are left out of its interval."""
    if n_boot <= 0:
        return {}
    rng = np.random.default_rng(seed)
    n = len(labels)
    values: dict[str, list[float]] = {k: [] for k in PERFORMANCE_KEYS}
    for _ in range(n_boot):
        rows = rng.integers(0, n, n)
        for key, value in _performance(labels[rows], probabilities[rows]).items():
            values[key].append(value)
    tail = (1.0 - confidence) / 2.0
    intervals = {}
    for key, samples in values.items():
        finite = np.asarray(samples, dtype=np.float64)
        finite = finite[np.isfinite(finite)]
        intervals[key] = (
            (float(np.quantile(finite, tail)), float(np.quantile(finite, 1.0 - tail)))
            if len(finite)
            else (math.nan, math.nan)
        )
    return intervals


def _cas_subsets(data, arrays: dict, predicted: np.ndarray, probabilities, config) -> dict:
    # CAS of the test samples against the training split's frequencies, descriptors and
    # metadata composed, ties broken by the run's seed (the CAS paper's protocol).
    subsets = cas_evaluation_subsets(
        data.test, "scores", threshold=config.cas_threshold, train=data.train, seed=config.seed
    )
    result = {}
    for name in ("low", "middle", "high"):
        rows = subsets == name
        labels = arrays["labels"][rows]
        entry = {"n": int(rows.sum()), "accuracy": math.nan, "auc": math.nan}
        if rows.any():
            entry["accuracy"] = float((predicted[rows] == labels).mean())
            entry["auc"] = _performance(labels, probabilities[rows])["auc"]
        result[name] = entry
    return result


@dataclass(frozen=True)
class SplitEvaluation:
    """What the trainer writes about the test split.

    Attributes:
        results: the ``results.json`` payload (see :func:`evaluate_test`).
        scg: the ``scg.csv`` table (see :func:`scg_frame`).
    """

    results: dict
    scg: pd.DataFrame


def scg_frame(report, data) -> pd.DataFrame:
    """The per-SCG table of a test fairness report with the class names beside the class codes.

    Columns: ``class`` (code), ``class_name``, ``descriptor``, ``subgroup``, ``n_train`` and
    ``coverage`` (training split), ``support`` (test membership mass), ``tpr``, ``error``
    (1 - TPR) and ``valid`` (counted by CDI, TPR_w and TPR_std). Kept per run so that figures
    (coverage long tail, coverage-error scatter) need no second pass over the data.
    """
    table = report.table.copy()
    names = [data.classes[int(code)] for code in table["class"]]
    table.insert(1, "class_name", names)
    return table


def evaluate_test(
    predictions: Predictions,
    data,
    config,
    *,
    extra: dict | None = None,
    threshold: DecisionThreshold | None = None,
) -> SplitEvaluation:
    """The ``results.json`` payload and the per-SCG table of the same fairness report (one pass).

    Table 1's metrics (AUC, PR-AUC, S@95, BAcc and Macro-F1 at argmax, ECE) come from the
    probabilities. Per-SCG TPR, TPR_w, TPR_std and CDI use the decisions at `threshold`, the
    rule resolved on the validation split (:func:`validation_threshold`); without one, argmax
    (the note in ``conventions`` says so). S@95_tail sets its own operating point (95 %
    specificity on the tail samples) and is not affected by the decision threshold; the CAS
    subsets' accuracy stays at argmax like Table 1's.

    ``cdi`` (soft membership), ``cdi_hard`` (hard, at the descriptor threshold), ``cdi_null``
    and ``cdi_null_q95`` (the mean and 95 % quantile of CDI's null), ``cdi_p_value``,
    ``coverage_error_slope`` with ``coverage_error_slope_interval`` and ``slope_p_value``
    (the support-aware slope), ``cdi_per_class`` (by class name), TPR_w, TPR_std and S@95_tail
    all come from one ``semcov_metrics.semantic_fairness_report``: the valid SCGs (test
    support of at least ``min_support`` expected members, stored, and a defined TPR) for all
    but ``cdi_hard``, which uses the SCGs valid under hard membership.
    """
    arrays = data.split_arrays("test")
    labels, probabilities = arrays["labels"], predictions.probabilities
    predicted = predictions.predicted
    if threshold is None:
        threshold = DecisionThreshold(
            "argmax", None, "argmax (no validation threshold given)", True
        )
    decisions = decide(probabilities, threshold)
    results: dict = dict(extra or {})
    results.update(_performance(labels, probabilities))
    positive = _positive_scores(probabilities)
    report = _fairness(data, arrays, decisions, config, n_boot=config.n_boot, scores=positive)
    results.update({k: float(getattr(report, k)) for k in (*FAIRNESS_KEYS, *TEST_KEYS)})
    results["coverage_error_slope_interval"] = [float(v) for v in report.slope_interval]
    results["cdi_per_class"] = {
        data.classes[int(code)]: float(value) for code, value in report.cdi_per_class.items()
    }
    results["decision_threshold"] = threshold.value
    results["decision_rule"] = threshold.rule
    results["n_valid_scgs"] = int(report.n_valid)
    results["n_valid_scgs_hard"] = int(report.table["valid_hard"].sum())
    results["min_support"] = float(report.min_support)
    intervals = bootstrap_performance(labels, probabilities, config.n_boot, config.seed)
    intervals.update({k: tuple(v) for k, v in report.intervals.items()})
    results["intervals"] = {k: list(v) for k, v in intervals.items()}
    results["s95_tail"] = float(report.s95_tail)
    alignment = dict.fromkeys(
        ("align_cos", "align_cos_fed", "recall_at_1", "recall_at_1_fed", "recall_at_1_full")
    )
    if predictions.descriptor_embedding is not None:
        alignment = alignment_results(
            predictions.embedding,
            predictions.descriptor_embedding,
            predictions.image_embedding,
            seed=config.seed,
        )
    results.update(alignment)
    results["cas_subsets"] = _cas_subsets(data, arrays, predicted, probabilities, config)
    results["n_test"] = len(labels)
    results["conventions"] = {
        "ece": "top_label, 15 bins",
        "membership": config.membership,
        "decision_threshold": (
            f"{threshold.rule}: {threshold.note}; per-SCG TPR, TPR_w, TPR_std and CDI on "
            "test at this threshold; Table 1 metrics at argmax"
        ),
        "alignment": (
            "align_cos / recall_at_1: z with p replaced by the training-mean descriptors; "
            "*_fed: z of the p-fed pass; recall_at_1 over random test batches of 32, "
            "recall_at_1_full over the whole test split"
        ),
        "bootstrap": f"{config.n_boot} replicates over test samples, 95 % percentile",
        "cdi_test": (
            f"{report.n_permutations} replicates of the cell-rate resampling null "
            "(docs/paper-notes.md#cdi-test); coverage_error_slope: miss on the sample's "
            "coverage, class intercepts, 95 % interval clustered by (class, subgroup)"
        ),
        "scg_set": (
            f"valid SCGs: test support >= {report.min_support} expected members and a defined "
            "TPR; cdi, cdi_null, cdi_per_class, tpr_worst, tpr_std and s95_tail over them; "
            "cdi_hard over the SCGs valid under hard membership"
        ),
        "tail": (
            f"bottom {config.tail_fraction:.0%} of the valid SCGs by training coverage, hard "
            "membership"
        ),
        "cas_subsets": (
            f"test CAS from descriptors >= {config.cas_threshold} and metadata, ranked by "
            "training frequencies, ties by seed, 30/30/40 %"
        ),
    }
    return SplitEvaluation(json_ready(results), scg_frame(report, data))


def predictions_frame(
    predictions: Predictions,
    data,
    part: str = "test",
    *,
    threshold: DecisionThreshold | None = None,
) -> pd.DataFrame:
    """One row per sample: id, y_true, y_pred (argmax), y_decision (at `threshold`, argmax
    without one), class probabilities, descriptors, subgroup and the embeddings (list
    columns; ``image_embedding`` when the image-only pass was run)."""
    arrays = data.split_arrays(part)
    frame = pd.DataFrame(
        {
            "index": predictions.index,
            "id": arrays["ids"],
            "y_true": arrays["labels"],
            "y_pred": predictions.predicted,
            "y_decision": (
                predictions.predicted
                if threshold is None
                else decide(predictions.probabilities, threshold)
            ),
        }
    )
    for k, name in enumerate(data.classes):
        frame[f"prob_{name}"] = predictions.probabilities[:, k].astype(np.float32)
    for k, name in enumerate(data.descriptor_names):
        frame[name] = arrays["descriptors"][:, k]
    frame["subgroup"] = arrays["subgroup_names"].astype(str)
    frame["subgroup_code"] = arrays["subgroups"]
    frame["embedding"] = list(predictions.embedding.astype(np.float32))
    if predictions.descriptor_embedding is not None:
        frame["descriptor_embedding"] = list(predictions.descriptor_embedding.astype(np.float32))
    if predictions.image_embedding is not None:
        frame["image_embedding"] = list(predictions.image_embedding.astype(np.float32))
    return frame


def json_ready(value):
    """Floats that are NaN/inf become None (strict JSON); numpy scalars become Python ones."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
