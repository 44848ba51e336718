"""Descriptor–image alignment: a model that copies p into z aligns only when fed p; R@1 over
random batches of 32 against a count of which pairs share a batch."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from semcov_metrics import recall_at_1
from semcov_train.evaluation.alignment import (
    RECALL_BATCH,
    RECALL_ROUNDS,
    alignment_results,
    batched_recall_at_1,
    mean_descriptors,
)
from semcov_train.evaluation.evaluate import predict
from semcov_train.runtime.distributed import DistContext


@dataclass
class _Output:
    logits: Tensor
    embedding: Tensor
    descriptor_embedding: Tensor


class _CopiesP(nn.Module):
    """z = Linear(p - mean) + 0.05 · (a random projection of the pixels): z copies the
    descriptor embedding d = Linear(p - mean) and holds almost nothing of the image."""

    def __init__(self, mean: np.ndarray, dim: int = 16) -> None:
        super().__init__()
        torch.manual_seed(0)
        k = len(mean)
        self.descriptor_proj = nn.Linear(k, dim)
        with torch.no_grad():
            self.descriptor_proj.bias.copy_(-self.descriptor_proj.weight @ torch.tensor(mean))
        self.pixels = nn.Linear(3 * 8 * 8, dim)
        self.head = nn.Linear(dim, 2)

    def forward(self, images: Tensor, descriptors: Tensor) -> _Output:
        d = self.descriptor_proj(descriptors)
        z = d + 0.05 * self.pixels(images.flatten(1))
        return _Output(self.head(z), z, d)


class _Samples(Dataset):
    def __init__(self, images: Tensor, descriptors: Tensor) -> None:
        self.images, self.descriptors = images, descriptors

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> dict:
        return {
            "image": self.images[i],
            "descriptors": self.descriptors[i],
            "label": torch.tensor(0),
            "index": torch.tensor(i),
        }


def test_a_model_copying_p_aligns_when_fed_p_but_not_from_the_image():
    generator = torch.Generator().manual_seed(1)
    n, k = 256, 7
    train_descriptors = torch.rand(1000, k, generator=generator).numpy()
    mean = mean_descriptors(train_descriptors)
    np.testing.assert_allclose(mean, train_descriptors.mean(axis=0), rtol=1e-6)
    samples = _Samples(
        torch.rand(n, 3, 8, 8, generator=generator), torch.rand(n, k, generator=generator)
    )
    model = _CopiesP(mean)
    loader = DataLoader(samples, batch_size=50)
    fed = predict(model, loader, DistContext())
    image_only = predict(model, loader, DistContext(), descriptors=mean)
    # the image-only pass feeds the same vector to every sample; d comes from the fed pass
    np.testing.assert_allclose(
        fed.descriptor_embedding, model.descriptor_proj(samples.descriptors).detach(), atol=1e-5
    )
    results = alignment_results(fed.embedding, fed.descriptor_embedding, image_only.embedding)
    assert results["align_cos_fed"] > 0.95
    assert results["recall_at_1_fed"] > 0.9
    assert abs(results["align_cos"]) < 0.3
    assert results["recall_at_1"] < 0.25  # chance is 1/32
    assert results["recall_at_1_full"] < 0.05  # chance is 1/256


def test_batched_recall_counts_the_samples_whose_distractor_sits_in_another_batch():
    """d_i = e_i; v_i = e_i + 2 e_partner(i): among all samples i retrieves its partner (full
    R@1 = 0); in a batch of 32 it retrieves itself exactly when its partner is elsewhere."""
    n = 96
    partner = np.arange(n) ^ 1  # pairs (0, 1), (2, 3), ...
    descriptor = np.eye(n)
    visual = np.eye(n) + 2 * np.eye(n)[partner]
    assert recall_at_1(visual, descriptor) == 0.0
    seed = 5
    rng = np.random.default_rng(seed)
    hits, total = 0, 0
    for _ in range(RECALL_ROUNDS):
        order = rng.permutation(n)
        batch_of = np.empty(n, dtype=int)
        batch_of[order] = np.arange(n) // RECALL_BATCH
        hits += int((batch_of != batch_of[partner]).sum())
        total += n
    value = batched_recall_at_1(visual, descriptor, seed=seed)
    assert value == pytest.approx(hits / total, abs=1e-12)
    assert 0.5 < value < 0.85  # the expected share is 64/95 ≈ 0.67


def test_batched_recall_leaves_the_remainder_out_and_uses_one_batch_below_32():
    rng = np.random.default_rng(0)
    visual, descriptor = rng.normal(size=(20, 4)), rng.normal(size=(20, 4))
    assert batched_recall_at_1(visual, descriptor) == recall_at_1(visual, descriptor)
    # 40 samples repeating 8 directions: one batch of 32 per round (8 left out); within a
    # batch, a row is retrieved iff it is the first of its direction in batch order (argmax
    # takes the first maximum), so each batch scores (distinct directions in it) / 32.
    direction = np.arange(40) % 8
    same = np.eye(8)[direction]
    rng = np.random.default_rng(3)
    expected = np.mean([len(np.unique(direction[rng.permutation(40)[:32]])) / 32 for _ in range(4)])
    assert batched_recall_at_1(same, same, rounds=4, seed=3) == pytest.approx(expected)
    with pytest.raises(ValueError, match="batch_size"):
        batched_recall_at_1(visual, descriptor, batch_size=1)
