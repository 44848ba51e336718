"""Weighted samplers that balance classes, or Semantic Coverage Groups, in expectation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch.utils.data import WeightedRandomSampler

__all__ = [
    "class_balanced_sample_weights",
    "class_balanced_sampler",
    "scg_balanced_sampler",
    "scg_balanced_weights",
]


def _codes(values: Sequence | np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=object)
    if array.ndim != 1 or len(array) == 0:
        raise ValueError(f"{name} must be a non-empty 1-d sequence, got shape {array.shape}")
    if pd.isna(pd.Series(array)).any():
        raise ValueError(f"{name} must not contain missing values")
    return pd.factorize(pd.Series(array).astype(str))[0]


def class_balanced_sample_weights(labels: Sequence | np.ndarray) -> np.ndarray:
    """Weight ``1 / (n_classes · count(class))`` per sample: every class draws equally often.

    Example:
        >>> class_balanced_sample_weights([0, 0, 0, 1]).round(3).tolist()
        [0.167, 0.167, 0.167, 0.5]
    """
    codes = _codes(labels, "labels")
    counts = np.bincount(codes)
    return 1.0 / (len(counts) * counts[codes])


def scg_balanced_weights(
    labels: Sequence | np.ndarray,
    subgroups: Sequence | np.ndarray,
    descriptors: np.ndarray | None = None,
) -> np.ndarray:
    """Per-sample weights that give every populated SCG the same expected share of draws.

    Without descriptors the groups are the (class, subgroup) cells: ``w_i = 1 / count(cell_i)``.
    With descriptors p (N, K), sample i belongs to SCG g = (c_i, d, s_i) with weight
    ``p_{i,d}``; ``w_i = Σ_d p_{i,d} / m_g`` with m_g = Σ_{j ∈ g} p_{j,d} the SCG's mass, so
    each SCG with mass receives the same total weight. Samples with no descriptor mass at all
    (hard descriptors all 0) form one extra "none" descriptor, so they are still drawn. Paper:
    silent on SCG sampling; this is the sampler used for its balanced baselines here.

    Returns:
        Weights summing to 1, shape (N,).
    """
    cls = _codes(labels, "labels")
    sub = _codes(subgroups, "subgroups")
    if len(cls) != len(sub):
        raise ValueError(f"labels ({len(cls)}) and subgroups ({len(sub)}) differ in length")
    cell = cls * (sub.max() + 1) + sub
    if descriptors is None:
        p = np.ones((len(cell), 1))
    else:
        p = np.asarray(descriptors, dtype=np.float64)
        if p.ndim != 2 or p.shape[0] != len(cell):
            raise ValueError(f"descriptors must have shape ({len(cell)}, K), got {p.shape}")
        if not np.isfinite(p).all() or (p < 0).any() or (p > 1).any():
            raise ValueError("descriptors must be probabilities in [0, 1] without NaN")
        none = p.sum(axis=1) == 0
        if none.any():
            p = np.concatenate([p, none[:, None].astype(np.float64)], axis=1)
    n_cells = int(cell.max()) + 1
    mass = np.zeros((n_cells, p.shape[1]))
    np.add.at(mass, cell, p)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(mass[cell] > 0, p / mass[cell], 0.0)
    weights = share.sum(axis=1)
    return weights / weights.sum()


def _sampler(
    weights: np.ndarray, num_samples: int | None, seed: int | None
) -> WeightedRandomSampler:
    generator = None
    if seed is not None:
        generator = torch.Generator().manual_seed(int(seed))
    n = len(weights) if num_samples is None else int(num_samples)
    if n < 1:
        raise ValueError(f"num_samples must be >= 1, got {num_samples!r}")
    return WeightedRandomSampler(
        # torch's annotation says Sequence[float]; the sampler runs torch.as_tensor on it and
        # documents tensors as accepted.
        torch.as_tensor(weights, dtype=torch.double),  # type: ignore[arg-type]
        n,
        replacement=True,
        generator=generator,
    )


def class_balanced_sampler(
    labels: Sequence | np.ndarray, *, num_samples: int | None = None, seed: int | None = None
) -> WeightedRandomSampler:
    """A ``WeightedRandomSampler`` (with replacement) drawing every class equally often.

    Args:
        labels: class of each sample.
        num_samples: draws per epoch; default the number of samples.
        seed: seeds the sampler's own generator (same seed, same order).
    """
    return _sampler(class_balanced_sample_weights(labels), num_samples, seed)


def scg_balanced_sampler(
    labels: Sequence | np.ndarray,
    subgroups: Sequence | np.ndarray,
    descriptors: np.ndarray | None = None,
    *,
    num_samples: int | None = None,
    seed: int | None = None,
) -> WeightedRandomSampler:
    """A ``WeightedRandomSampler`` drawing every populated SCG equally often (see
    :func:`scg_balanced_weights`)."""
    return _sampler(scg_balanced_weights(labels, subgroups, descriptors), num_samples, seed)
