"""Warnings raised by semcov-metrics."""

from __future__ import annotations

__all__ = ["UndefinedMetricWarning"]


class UndefinedMetricWarning(UserWarning):
    """A metric is mathematically undefined for the given (valid) input; the result is ``nan``.

    Its own class rather than scikit-learn's warning of the same name, so that importing
    semcov-metrics does not load scikit-learn (and scipy) before a metric needs them.
    """
