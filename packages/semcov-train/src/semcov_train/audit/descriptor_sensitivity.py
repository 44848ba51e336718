"""Descriptor sensitivity: how a model's test scores and decisions move when one descriptor
score p_d of every image is set to 0 or to 1 (the others as observed), per Semantic Coverage
Group, beside the group's training coverage: does the model use a concept where it is rare?

Paper: no such analysis; here: the audit of a run whose model reads p (SemCovNet, late fusion).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from ..evaluation.threshold import DecisionThreshold, decide
from ..runtime.device_policy import autocast

__all__ = [
    "SENSITIVITY_COLUMNS",
    "SENSITIVITY_SETTINGS",
    "SensitivityPasses",
    "sensitivity_passes",
    "sensitivity_table",
]

#: The values p_d is set to.
SENSITIVITY_SETTINGS = (0.0, 1.0)
#: Columns of :func:`sensitivity_table` (``band`` follows when the coverage table has one).
SENSITIVITY_COLUMNS = (
    "descriptor",
    "class",
    "class_name",
    "subgroup",
    "setting",
    "n",
    "mean_observed",
    "mean_score_change",
    "decision_flip_rate",
    "n_train",
    "coverage",
)


@dataclass(frozen=True)
class SensitivityPasses:
    """Class probabilities of one pass with the observed descriptors and of one pass per
    (descriptor, setting), in dataset order.

    Attributes:
        index: dataset positions (N,), sorted.
        observed: probabilities with the observed p, (N, T).
        forced: probabilities with p_d set to ``settings[s]``, (K, S, N, T).
        settings: the S values.
    """

    index: np.ndarray
    observed: np.ndarray
    forced: np.ndarray
    settings: tuple[float, ...]


@torch.inference_mode()
def sensitivity_passes(
    model: nn.Module,
    loader,
    *,
    device: torch.device,
    amp_dtype: torch.dtype | None = None,
    channels_last: bool = False,
    settings: Sequence[float] = SENSITIVITY_SETTINGS,
) -> SensitivityPasses:
    """Run `model` on every batch of `loader` once with the observed descriptors and once per
    descriptor d and setting v with column d of p replaced by v (1 + K·S forwards a batch).

    Args:
        model: called as ``model(images (B, 3, S, S), p (B, K))``, returning ``.logits`` (B, T).
        loader: batches with ``image``, ``descriptors`` (B, K) and ``index`` (B,).
        device: where the model is.
        amp_dtype: autocast dtype (None: full precision).
        channels_last: images in channels-last memory format.
        settings: the values p_d is set to.

    Returns:
        The probabilities, sorted by dataset index.
    """
    was_training = model.training
    model.eval()
    values = tuple(float(v) for v in settings)
    index, observed, forced = [], [], []
    for batch in loader:
        images = batch["image"].to(device, non_blocking=True)
        if channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        scores = batch["descriptors"].to(device, non_blocking=True)
        observed.append(_probabilities(model, images, scores, device, amp_dtype))
        per_descriptor = []
        for d in range(scores.shape[1]):
            per_setting = []
            for value in values:
                changed = scores.clone()
                changed[:, d] = value
                per_setting.append(_probabilities(model, images, changed, device, amp_dtype))
            per_descriptor.append(np.stack(per_setting))
        forced.append(np.stack(per_descriptor))
        index.append(batch["index"].numpy())
    model.train(was_training)
    if not index:
        raise ValueError("loader: no test batch to probe")
    positions = np.concatenate(index)
    order = np.argsort(positions, kind="stable")
    return SensitivityPasses(
        index=positions[order],
        observed=np.concatenate(observed)[order],
        forced=np.concatenate(forced, axis=2)[:, :, order],
        settings=values,
    )


def _probabilities(model, images, scores, device, amp_dtype) -> np.ndarray:
    with autocast(device, amp_dtype):
        output = model(images, scores)
    return F.softmax(output.logits.float(), dim=1).cpu().numpy()


def _score(probabilities: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The positive-class probability of a binary task; the true class's otherwise."""
    if probabilities.shape[-1] == 2:
        return probabilities[..., 1]
    return np.take_along_axis(probabilities, labels[:, None], axis=-1)[..., 0]


def sensitivity_table(
    passes: SensitivityPasses,
    *,
    labels: np.ndarray,
    subgroups: np.ndarray,
    descriptors: np.ndarray,
    descriptor_names: Sequence[str],
    class_names: Sequence[str],
    threshold: DecisionThreshold,
    coverage: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per SCG (class, descriptor d, subgroup) and setting of p_d: the mean score change and
    the share of decisions that flip, over the test samples of that class and subgroup.

    The score is the positive-class probability of a binary task (the probability of the
    sample's own class with more than two classes); ``mean_score_change`` is forced minus
    observed, averaged over the cell's samples; ``decision_flip_rate`` the share whose decision
    under `threshold` differs from the observed one. ``mean_observed`` is the cell's mean p_d
    (a setting near it can move little). ``n_train`` and ``coverage`` are the SCG's training
    count and coverage from `coverage` (a fairness report's table; its ``band`` too, if any).
    Only (class, subgroup) cells with test samples have rows.

    Args:
        passes: :func:`sensitivity_passes` of the N test samples.
        labels: class codes (N,).
        subgroups: subgroup values (N,).
        descriptors: observed p (N, K).
        descriptor_names: the K names.
        class_names: the T class names, in code order.
        threshold: the run's decision rule.
        coverage: per-SCG table with ``class, descriptor, subgroup, n_train, coverage``.

    Returns:
        One row per descriptor × setting × populated (class, subgroup) cell, columns
        :data:`SENSITIVITY_COLUMNS`, sorted by descriptor (the run's order), setting, class,
        subgroup.

    Raises:
        ValueError: the arrays do not describe the same samples.

    Example:
        >>> observed = np.array([[0.6, 0.4], [0.3, 0.7], [0.8, 0.2]])
        >>> forced = np.array([[[[0.5, 0.5], [0.3, 0.7], [0.9, 0.1]],  # p_0 := 0
        ...                     [[0.2, 0.8], [0.1, 0.9], [0.8, 0.2]]]])  # p_0 := 1
        >>> passes = SensitivityPasses(np.arange(3), observed, forced, (0.0, 1.0))
        >>> rule = DecisionThreshold("0.5", 0.5, "fixed")
        >>> table = sensitivity_table(
        ...     passes, labels=np.array([1, 1, 0]), subgroups=np.array(["a", "a", "b"]),
        ...     descriptors=np.array([[0.0], [1.0], [0.5]]), descriptor_names=["hair"],
        ...     class_names=["rest", "MEL"], threshold=rule)
        >>> table[["class", "subgroup", "setting", "n", "mean_score_change"]].round(2)
           class subgroup setting  n  mean_score_change
        0      0        b       0  1              -0.10
        1      1        a       0  2               0.05
        2      0        b       1  1               0.00
        3      1        a       1  2               0.30
        >>> table["decision_flip_rate"].tolist()
        [0.0, 0.5, 0.0, 0.5]
    """
    labels = np.asarray(labels, dtype=np.int64)
    subgroups = np.asarray([str(s) for s in subgroups], dtype=object)
    descriptors = np.asarray(descriptors, dtype=np.float64)
    n, k = len(passes.index), len(descriptor_names)
    if passes.forced.shape[:3] != (k, len(passes.settings), n):
        raise ValueError(
            f"passes: forced probabilities {passes.forced.shape} do not match {k} descriptors, "
            f"{len(passes.settings)} settings and {n} samples"
        )
    if len(labels) != n or len(subgroups) != n or descriptors.shape != (n, k):
        raise ValueError(
            f"labels ({len(labels)}), subgroups ({len(subgroups)}) and descriptors "
            f"{descriptors.shape} must describe the {n} probed samples and {k} descriptors"
        )
    observed_score = _score(passes.observed, labels)
    observed_decision = decide(passes.observed, threshold)
    cells = pd.DataFrame({"class": labels, "subgroup": subgroups})
    parts = []
    for d, name in enumerate(descriptor_names):
        for s, value in enumerate(passes.settings):
            probabilities = passes.forced[d, s]
            frame = cells.assign(
                observed=descriptors[:, d],
                change=_score(probabilities, labels) - observed_score,
                flip=(decide(probabilities, threshold) != observed_decision).astype(np.float64),
            )
            grouped = frame.groupby(["class", "subgroup"], sort=True).agg(
                n=("change", "size"),
                mean_observed=("observed", "mean"),
                mean_score_change=("change", "mean"),
                decision_flip_rate=("flip", "mean"),
            )
            parts.append(grouped.reset_index().assign(descriptor=name, setting=f"{value:g}"))
    table = pd.concat(parts, ignore_index=True)
    table["class_name"] = [class_names[int(c)] for c in table["class"]]
    return _with_coverage(table, coverage)


def _with_coverage(table: pd.DataFrame, coverage: pd.DataFrame | None) -> pd.DataFrame:
    extra = ["band"] if coverage is not None and "band" in coverage.columns else []
    if coverage is None:
        table["n_train"] = np.nan
        table["coverage"] = np.nan
    else:
        keys = coverage[["class", "descriptor", "subgroup", "n_train", "coverage", *extra]].copy()
        keys["class"] = keys["class"].astype(np.int64)
        keys["subgroup"] = keys["subgroup"].astype(str)
        table = table.merge(keys, on=["class", "descriptor", "subgroup"], how="left")
    return table[[*SENSITIVITY_COLUMNS, *extra]]
