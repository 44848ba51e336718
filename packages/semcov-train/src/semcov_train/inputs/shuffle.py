"""Descriptor shuffling within (class, subgroup) cells: the "shuffled descriptors" control.

Each sample's descriptor vector p is replaced by the vector of another sample of the same class
and subgroup (site by default) of the same split part, drawn by a seeded permutation. Every
cell keeps its multiset of vectors, so the training coverage, the SCG grid and the descriptor
statistics a model can learn per (class, site) are unchanged; what is lost is which image a
vector belongs to. Applied to the sample tables at load time, before the datasets are built, so
training, validation and test all see it (and the run's predictions record the shuffled p, the
ones the model saw). Paper: no such row; here: added as the control "SemCovNet (shuffled
descriptors)", the modules without per-sample information.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

__all__ = ["shuffle_within_cells", "shuffled_descriptor_rows"]


def shuffled_descriptor_rows(
    labels: np.ndarray, subgroups: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Source row of each sample's descriptors: a permutation within each (label, subgroup) cell.

    Args:
        labels: (N,) class codes.
        subgroups: (N,) subgroup values (any hashable).
        rng: the generator that draws the permutations.

    Returns:
        (N,) int64 positions: sample i takes the descriptors of sample ``rows[i]``, which has the
        same label and subgroup; ``rows`` is a permutation of ``0..N-1``.
    """
    labels = np.asarray(labels)
    subgroups = np.asarray(subgroups, dtype=object)
    if labels.shape != subgroups.shape or labels.ndim != 1:
        raise ValueError(
            f"labels and subgroups must be 1-D of one length, got {labels.shape} and "
            f"{subgroups.shape}"
        )
    rows = np.arange(len(labels), dtype=np.int64)
    keys = np.array([f"{a}\x1f{b}" for a, b in zip(labels, subgroups, strict=True)], dtype=object)
    for key in sorted(set(keys.tolist())):
        members = np.flatnonzero(keys == key)
        rows[members] = members[rng.permutation(len(members))]
    return rows


def shuffle_within_cells(table, seed: int, part: int = 0):
    """A copy of a :class:`~semcov_data.SampleTable` with p permuted within (class, subgroup).

    Args:
        table: the samples of one split part.
        seed: the run's seed (a different seed draws different permutations).
        part: index of the split part (train 0, val 1, test 2), so the parts draw independently.

    Returns:
        The table with its descriptor columns permuted; every other column unchanged.
    """
    rng = np.random.default_rng([int(seed), int(part), 0x5EED])
    rows = shuffled_descriptor_rows(
        table.frame["label"].to_numpy(), table.frame["subgroup"].to_numpy(dtype=object), rng
    )
    frame = table.frame.copy()
    columns = list(table.descriptor_names)
    frame[columns] = table.frame[columns].to_numpy()[rows]
    return replace(table, frame=frame)
