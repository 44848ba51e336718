"""Class × descriptor coverage of a training split with missing concept labels masked out, beside
each concept's global prevalence (the "globally rare" control)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from semcov_metrics._masked import long_frame, ratio, validate_masked, warn_unlabelled

__all__ = ["class_descriptor_coverage"]


def class_descriptor_coverage(
    descriptors: Any,
    labels: Any,
    *,
    mask: Any = None,
    descriptor_names: Sequence[str] | None = None,
    classes: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """Coverage of every (class, descriptor) pair, counting only observed concept labels.

    With ``a_{i,k}`` the concept value of sample i (a probability, or 0/1 for annotated
    concepts) and ``m_{i,k}`` = 1 where that label is observed:

    * ``n_labelled_{y,k} = Σ_{i: y_i = y} m_{i,k}`` (the number of class-y samples with a label),
    * ``coverage_{y,k} = Σ_{i: y_i = y} m_{i,k} a_{i,k} / n_labelled_{y,k}``, NaN when
      ``n_labelled = 0`` (with :class:`~semcov_metrics.UndefinedMetricWarning`),
    * ``global_prevalence_k = Σ_i m_{i,k} a_{i,k} / Σ_i m_{i,k}`` over the whole split, and
    * ``coverage_minus_global = coverage - global_prevalence``: a concept that is rare in every
      class has a low coverage but a difference near 0; a class-conditioned gap stays negative.

    This is the released SemCovNet code's coverage (masked mean, NaN without labels); unlike
    :func:`~semcov_metrics.scg_coverage`, whose empty cells have coverage 0, a class without
    labelled samples has no coverage here, because a missing label is not an absent concept.
    Compute it on the training split only.

    Args:
        descriptors: concept values in [0, 1], shape (N, K); NaN marks a missing label.
        labels: class of each sample, shape (N,).
        mask: optional (N, K) booleans or 0/1, True/1 where the label is observed; an entry is
            missing when the mask says so or the value is NaN.
        descriptor_names: K names; default the DataFrame columns or ``d0 … d{K-1}``.
        classes: the class axis; default the sorted labels present.

    Returns:
        DataFrame, one row per (class, descriptor), class-major: ``class, descriptor,
        n_samples`` (class size), ``n_labelled, presence`` (Σ of the observed values),
        ``coverage, global_prevalence, coverage_minus_global``.

    Example:
        >>> import numpy as np
        >>> a = np.array([[1.0, 0.0], [np.nan, 1.0], [0.0, 1.0], [1.0, np.nan]])
        >>> table = class_descriptor_coverage(a, ["mel", "mel", "nev", "nev"],
        ...                                   descriptor_names=["veil", "dots"])
        >>> table["global_prevalence"].round(3).tolist()
        [0.667, 0.667, 0.667, 0.667]
        >>> print(table[["class", "descriptor", "n_labelled", "coverage",
        ...              "coverage_minus_global"]].round(3))
          class descriptor  n_labelled  coverage  coverage_minus_global
        0   mel       veil           1       1.0                  0.333
        1   mel       dots           2       0.5                 -0.167
        2   nev       veil           2       0.5                 -0.167
        3   nev       dots           1       1.0                  0.333
    """
    concepts = validate_masked(descriptors, labels, mask, descriptor_names, classes)
    presence, labelled = concepts.class_sums()
    coverage = ratio(presence, labelled)
    warn_unlabelled(coverage, concepts.classes, concepts.descriptors, "class × descriptor")
    prevalence = ratio(presence.sum(axis=0), labelled.sum(axis=0))
    n_samples = np.bincount(concepts.codes, minlength=len(concepts.classes))
    return long_frame(
        concepts.classes,
        concepts.descriptors,
        n_samples=n_samples[:, None],
        n_labelled=labelled.astype(np.int64),
        presence=presence,
        coverage=coverage,
        global_prevalence=prevalence[None, :],
        coverage_minus_global=coverage - prevalence[None, :],
    )
