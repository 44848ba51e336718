"""Semantic scale of a class: the feature-diversity measure of the semantic-scale paper."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from semcov_metrics._validation import (
    as_float_array,
    as_labels,
    check_finite,
    check_same_length,
    warn_undefined,
)

__all__ = ["semantic_scale"]


def semantic_scale(
    features: Any, labels: Any = None, *, normalize: bool = False
) -> float | pd.Series:
    """Semantic scale ``S = ½ · log2 det(I + (d / m) · Zᵀ Z)`` of centred features.

    Z holds the m feature vectors of one class (rows, centred on their mean), d is the feature
    dimension. The determinant is taken in whichever of the d × d or m × m forms is smaller
    (Sylvester's identity gives the same value). Fewer than 2 samples: ``nan`` with
    :class:`UndefinedMetricWarning`.

    Args:
        features: feature vectors, shape (m, d).
        labels: class of each row (m,); ``None`` treats all rows as one class.
        normalize: L2-normalise each feature vector before centring (paper: features are
            normalised; here: off by default, so the value is in the features' own units).

    Returns:
        A float without labels; a Series indexed by class with labels.

    Example:
        >>> round(semantic_scale([[1.0, 0.0], [-1.0, 0.0]]), 4)
        0.7925
    """
    z = as_float_array(features, "features", ndim=2)
    check_finite(z, "features")
    if not isinstance(normalize, bool):
        raise TypeError(f"normalize must be a bool, got {normalize!r}")
    if normalize:
        norms = np.linalg.norm(z, axis=1, keepdims=True)
        if (norms == 0).any():
            raise ValueError("features has rows of zero norm; they cannot be normalised")
        z = z / norms
    if labels is None:
        return _scale(z)
    label_array = as_labels(labels, "labels")
    check_same_length(features=z, labels=label_array)
    classes, codes = np.unique(label_array, return_inverse=True)
    return pd.Series(
        [_scale(z[codes == k]) for k in range(len(classes))],
        index=pd.Index(classes, name="class"),
        name="semantic_scale",
    )


def _scale(z: np.ndarray) -> float:
    m, d = z.shape
    if m < 2:
        return warn_undefined("semantic scale needs at least 2 samples of a class")
    centred = z - z.mean(axis=0)
    gram = centred.T @ centred if d <= m else centred @ centred.T
    _, logdet = np.linalg.slogdet(np.eye(gram.shape[0]) + (d / m) * gram)
    return float(0.5 * logdet / np.log(2.0))
