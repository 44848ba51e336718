"""Descriptor–vision alignment of paper Tables 6 and 9: Align-cos, R@1 and the align gap."""

from __future__ import annotations

from typing import Any

import numpy as np

from semcov_metrics._validation import as_float_array, check_finite

__all__ = ["align_gap", "alignment_cosine", "recall_at_1"]


def _embedding_pair(visual: Any, descriptor: Any) -> tuple[np.ndarray, np.ndarray]:
    v = as_float_array(visual, "visual", ndim=2)
    d = as_float_array(descriptor, "descriptor", ndim=2)
    if v.shape != d.shape:
        raise ValueError(
            f"visual and descriptor embeddings must have the same shape (N, D), got "
            f"{v.shape} and {d.shape}"
        )
    for name, array in (("visual", v), ("descriptor", d)):
        check_finite(array, name)
    v_norm = np.linalg.norm(v, axis=1, keepdims=True)
    d_norm = np.linalg.norm(d, axis=1, keepdims=True)
    for name, norm in (("visual", v_norm), ("descriptor", d_norm)):
        if (norm == 0).any():
            raise ValueError(f"{name} has rows of zero norm; their cosine similarity is undefined")
    return v / v_norm, d / d_norm


def alignment_cosine(visual: Any, descriptor: Any) -> float:
    """Align-cos: the mean cosine similarity of matched pairs (v_i, d_i).

    Args:
        visual: visual embeddings, shape (N, D).
        descriptor: descriptor embeddings of the same samples, shape (N, D).

    Example:
        >>> alignment_cosine([[1.0, 0.0], [0.0, 2.0]], [[1.0, 1.0], [0.0, 1.0]]).__round__(4)
        0.8536
    """
    v, d = _embedding_pair(visual, descriptor)
    return float(np.einsum("nd,nd->n", v, d).mean())


def recall_at_1(visual: Any, descriptor: Any) -> float:
    """R@1: the share of samples i whose most similar descriptor embedding is their own.

    Similarity is the cosine ``S_ij = v_i · d_j``; a tie with another j counts as a miss only
    when that j comes first (``argmax`` picks the first maximum).

    Example:
        >>> recall_at_1([[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [1.0, 0.0]])
        0.5
    """
    v, d = _embedding_pair(visual, descriptor)
    similarity = v @ d.T
    return float((similarity.argmax(axis=1) == np.arange(len(v))).mean())


def align_gap(align_cos_a: float, align_cos_b: float) -> float:
    """The cross-domain align gap |Align-cos(a) − Align-cos(b)| (paper Table 9)."""
    for name, value in (("align_cos_a", align_cos_a), ("align_cos_b", align_cos_b)):
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            raise TypeError(f"{name} must be a number, got {value!r}")
    return float(abs(float(align_cos_a) - float(align_cos_b)))
