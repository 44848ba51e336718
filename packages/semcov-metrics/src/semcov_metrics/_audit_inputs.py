"""The inputs of an audit checked and encoded once: a training and a test split on one SCG grid,
with the predictions as class codes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from semcov_metrics._groups import (
    Grid,
    Split,
    encode_split,
    make_grid,
    prediction_codes,
    prediction_labels,
    validate_split,
)
from semcov_metrics._validation import check_same_length

__all__: list[str] = []

TRAIN_NAMES = ("train_descriptors", "train_labels", "train_subgroups")
TEST_NAMES = ("test_descriptors", "test_labels", "test_subgroups")

#: One validated split as given: descriptors (N, K), raw labels, raw subgroups, descriptor names.
RawSplit = tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]


@dataclass(frozen=True)
class AuditInputs:
    """The grid, both splits (raw and encoded) and the predicted class codes."""

    grid: Grid
    train_raw: RawSplit
    test_raw: RawSplit
    train: Split
    test: Split
    predicted: np.ndarray


def audit_inputs(
    *,
    train: tuple[Any, Any, Any],
    test: tuple[Any, Any, Any],
    test_predictions: Any,
    descriptor_names: Sequence[str] | None,
    classes: Sequence[Any] | None,
    subgroup_values: Sequence[Any] | None,
) -> AuditInputs:
    """Validate (descriptors, labels, subgroups) of both splits and the predictions; the class
    axis joins labels and predicted labels, the subgroup axis both splits' subgroups."""
    train_raw = validate_split(*train, TRAIN_NAMES, descriptor_names)
    test_raw = validate_split(*test, TEST_NAMES, descriptor_names)
    if train_raw[0].shape[1] != test_raw[0].shape[1]:
        raise ValueError(
            f"train_descriptors has {train_raw[0].shape[1]} columns but test_descriptors has "
            f"{test_raw[0].shape[1]}"
        )
    if train_raw[3] != test_raw[3]:
        raise ValueError(
            f"train and test descriptor names differ: {train_raw[3]} vs {test_raw[3]}; reorder "
            "the columns or pass descriptor_names"
        )
    predicted_labels = prediction_labels(test_predictions, "test_predictions")
    observed = [train_raw[1], test_raw[1]]
    if predicted_labels is not None:
        observed.append(predicted_labels)
    grid = make_grid(classes, train_raw[3], subgroup_values, observed, [train_raw[2], test_raw[2]])
    predicted = prediction_codes(test_predictions, "test_predictions", grid.classes)
    check_same_length(test_labels=test_raw[1], test_predictions=predicted)
    return AuditInputs(
        grid=grid,
        train_raw=train_raw,
        test_raw=test_raw,
        train=encode_split(grid, *train_raw[:3], TRAIN_NAMES),
        test=encode_split(grid, *test_raw[:3], TEST_NAMES),
        predicted=predicted,
    )
