"""Class names for the HTML page: a report computed on class codes (0, 1, ...) shown with the
names of its classes ("rest", "MEL") in every table, sentence and figure, its numbers unchanged."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, cast

import pandas as pd

__all__ = ["class_name_map", "with_class_names"]


def class_name_map(classes: Sequence[Any], class_names: Any) -> dict[Any, str]:
    """``{class value: display name}`` from a mapping or a sequence in the order of `classes`.

    Raises:
        TypeError: `class_names` is neither a mapping nor a sequence of names.
        ValueError: a class has no name, or two classes share one.

    Example:
        >>> class_name_map([0, 1], ["rest", "MEL"])
        {0: 'rest', 1: 'MEL'}
        >>> class_name_map([0, 1], {0: "rest"})
        Traceback (most recent call last):
        ...
        ValueError: class_names gives no name for the classes [1]
    """
    if isinstance(class_names, Mapping):
        names = {value: str(class_names[value]) for value in classes if value in class_names}
    elif isinstance(class_names, Sequence) and not isinstance(class_names, str | bytes):
        if len(class_names) != len(classes):
            raise ValueError(
                f"class_names has {len(class_names)} names for the report's {len(classes)} "
                f"classes {list(classes)}"
            )
        names = {value: str(name) for value, name in zip(classes, class_names, strict=True)}
    else:
        raise TypeError(
            "class_names must be a mapping {class: name} or a sequence of names, got "
            f"{type(class_names).__name__}"
        )
    missing = [value for value in classes if value not in names]
    if missing:
        raise ValueError(f"class_names gives no name for the classes {missing}")
    if len(set(names.values())) != len(names):
        raise ValueError(f"class_names must name each class once, got {list(names.values())}")
    return names


def _renamed(frame: Any, names: Mapping[Any, str]) -> Any:
    if not isinstance(frame, pd.DataFrame) or "class" not in frame.columns:
        return frame
    return frame.assign(**{"class": frame["class"].map(lambda value: names.get(value, value))})


def with_class_names(
    report: Any, sensitivity: pd.DataFrame | None, class_names: Any
) -> tuple[Any, pd.DataFrame | None]:
    """``(report, sensitivity)`` with every class value replaced by its name (`class_names`:
    see :func:`class_name_map`); the report must be a dataclass (as
    :class:`~semcov_metrics.SemanticFairnessReport` is). None leaves both as they are.

    Example:
        >>> import numpy as np
        >>> from semcov_metrics import semantic_fairness_report
        >>> rng = np.random.default_rng(0)
        >>> report = semantic_fairness_report(
        ...     train_descriptors=rng.random((300, 2)), train_labels=rng.integers(0, 2, 300),
        ...     train_subgroups=rng.integers(0, 3, 300), test_descriptors=rng.random((200, 2)),
        ...     test_labels=rng.integers(0, 2, 200), test_predictions=rng.integers(0, 2, 200),
        ...     test_subgroups=rng.integers(0, 3, 200))
        >>> named, _ = with_class_names(report, None, ["rest", "MEL"])
        >>> sorted(set(named.table["class"])), named.cdi == report.cdi
        (['MEL', 'rest'], True)
    """
    if class_names is None:
        return report, sensitivity
    if not dataclasses.is_dataclass(report) or isinstance(report, type):
        raise TypeError(f"class_names needs a dataclass report, got {type(report).__name__}")
    report = cast(Any, report)  # a dataclass of any type: its fields are read by name
    classes = list(getattr(report, "classes", None) or dict.fromkeys(report.table["class"]))
    names = class_name_map(classes, class_names)
    changes: dict[str, Any] = {"table": _renamed(report.table, names)}
    fields = {f.name for f in dataclasses.fields(report)}
    if "classes" in fields:
        changes["classes"] = [names[value] for value in classes]
    if "cdi_per_class" in fields:
        changes["cdi_per_class"] = {names.get(k, k): v for k, v in report.cdi_per_class.items()}
    if "intersections" in fields:
        changes["intersections"] = _renamed(report.intersections, names)
    return dataclasses.replace(report, **changes), _renamed(sensitivity, names)
