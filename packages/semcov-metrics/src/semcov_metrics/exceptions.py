"""Warnings raised by semcov-metrics."""

from __future__ import annotations

from sklearn.exceptions import UndefinedMetricWarning as _SklearnUndefinedMetricWarning

__all__ = ["UndefinedMetricWarning"]


class UndefinedMetricWarning(_SklearnUndefinedMetricWarning):
    """A metric is mathematically undefined for the given (valid) input; the result is ``nan``.

    It subclasses scikit-learn's warning of the same name, so a filter on either catches both.
    """
