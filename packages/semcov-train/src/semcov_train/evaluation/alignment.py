"""Descriptor–image alignment of a run (Tables 6 and 9): Align-cos and R@1 without p in z.

SemCovNet's pooled embedding z is computed from the image *and* the descriptor scores p, and
the descriptor embedding is d = Linear(p), so the alignment of (z, d) can be high because z
copies p. Paper: Align-cos and R@1 measure "descriptor–vision alignment" of (v, d) without
saying how p reaches v; here: ``align_cos`` and ``recall_at_1`` take z from a second pass over
the test split in which every sample's p is replaced by the **training-split mean** descriptor
vector (the image is the only per-sample input), against d = Linear(p) of the normal pass; the
values of the normal, p-fed pass are kept as ``align_cos_fed`` and ``recall_at_1_fed``.

R@1's candidate pool: paper: the retrieval pool is not stated (the DVA loss contrasts a
training batch of 32); here: ``recall_at_1`` is the mean over seeded random test batches of
:data:`RECALL_BATCH` samples, and ``recall_at_1_full`` retrieves among the whole test split
(harder, and dependent on the test size). The values themselves come from
:mod:`semcov_metrics.alignment`.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from semcov_metrics import alignment_cosine, recall_at_1

__all__ = [
    "RECALL_BATCH",
    "RECALL_ROUNDS",
    "alignment_results",
    "batched_recall_at_1",
    "mean_descriptors",
]

#: Candidate pool of ``recall_at_1``: the paper's training batch.
RECALL_BATCH = 32
#: Random partitions of the test split into batches that ``recall_at_1`` averages over.
RECALL_ROUNDS = 10


def mean_descriptors(train_descriptors: np.ndarray) -> np.ndarray:
    """The training-split mean descriptor vector (K,), float32: the p of the image-only pass."""
    descriptors = np.asarray(train_descriptors, dtype=np.float64)
    if descriptors.ndim != 2 or len(descriptors) == 0:
        raise ValueError(
            f"train_descriptors must have shape (N, K) with N >= 1, got {descriptors.shape}"
        )
    return descriptors.mean(axis=0).astype(np.float32)


def batched_recall_at_1(
    visual: np.ndarray,
    descriptor: np.ndarray,
    *,
    batch_size: int = RECALL_BATCH,
    rounds: int = RECALL_ROUNDS,
    seed: int = 0,
) -> float:
    """Mean R@1 over random batches: each of `rounds` seeded permutations of the N samples is
    cut into ``N // batch_size`` batches (the remainder is left out of that round) and
    ``semcov_metrics.recall_at_1`` is computed within each batch. All batches have the same
    size, so this is also the share of retrieved samples over every (round, batch) draw.
    With fewer than `batch_size` samples the whole set is one batch.

    Args:
        visual: visual embeddings (N, D).
        descriptor: descriptor embeddings (N, D).
        batch_size: candidate pool size.
        rounds: number of random partitions.
        seed: seed of the permutations.
    """
    n = len(visual)
    if batch_size < 2 or rounds < 1:
        raise ValueError(f"batch_size must be >= 2 and rounds >= 1, got {batch_size}, {rounds}")
    if n < batch_size:
        return recall_at_1(visual, descriptor)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(rounds):
        order = rng.permutation(n)
        for start in range(0, n - batch_size + 1, batch_size):
            rows = order[start : start + batch_size]
            values.append(recall_at_1(visual[rows], descriptor[rows]))
    return float(np.mean(values))


def _quiet(function, *args, **kwargs) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return function(*args, **kwargs)
        except ValueError:  # e.g. a zero-norm embedding row: undefined cosine
            return math.nan


def alignment_results(
    embedding: np.ndarray,
    descriptor_embedding: np.ndarray,
    image_embedding: np.ndarray | None,
    *,
    seed: int = 0,
) -> dict[str, float | None]:
    """``align_cos``, ``recall_at_1``, ``recall_at_1_full`` (image-only z) and
    ``align_cos_fed``, ``recall_at_1_fed`` (z of the p-fed pass) of one test split.

    Args:
        embedding: z of the normal pass (N, D).
        descriptor_embedding: d = Linear(p) of the normal pass (N, D).
        image_embedding: z of the pass with p replaced by the training mean (N, D), or None
            (then the image-only values are None).
        seed: seed of the R@1 batches.
    """
    results: dict[str, float | None] = {
        "align_cos_fed": _quiet(alignment_cosine, embedding, descriptor_embedding),
        "recall_at_1_fed": _quiet(batched_recall_at_1, embedding, descriptor_embedding, seed=seed),
        "align_cos": None,
        "recall_at_1": None,
        "recall_at_1_full": None,
    }
    if image_embedding is not None:
        results["align_cos"] = _quiet(alignment_cosine, image_embedding, descriptor_embedding)
        results["recall_at_1"] = _quiet(
            batched_recall_at_1, image_embedding, descriptor_embedding, seed=seed
        )
        results["recall_at_1_full"] = _quiet(recall_at_1, image_embedding, descriptor_embedding)
    return results
