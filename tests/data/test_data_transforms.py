"""Training augmentation and the deterministic eval transform."""

from __future__ import annotations

import pytest
import torch

from semcov_data import AugmentConfig, eval_transform, normalize_batch, train_transform
from semcov_data.transforms import RandomTranspose


@pytest.fixture
def image():
    return torch.randint(
        0, 256, (3, 60, 40), dtype=torch.uint8, generator=torch.Generator().manual_seed(0)
    )


def test_eval_transform_is_deterministic_and_normalised(image):
    transform = eval_transform(32)
    out = transform(image)
    assert out.shape == (3, 32, 32)
    assert out.dtype == torch.float32
    assert torch.equal(out, transform(image))
    assert -3.0 < out.mean().item() < 3.0


def test_train_transform_is_random_with_fixed_shape(image):
    transform = train_transform(32)
    torch.manual_seed(1)
    first = transform(image)
    second = transform(image)
    assert first.shape == second.shape == (3, 32, 32)
    assert not torch.equal(first, second)
    torch.manual_seed(1)
    assert torch.equal(first, transform(image))  # seeded → reproducible


def test_cutout_and_transpose():
    square = torch.arange(16, dtype=torch.uint8).reshape(1, 4, 4).repeat(3, 1, 1)
    assert torch.equal(RandomTranspose(p=1.0)(square), square.transpose(-1, -2))
    assert torch.equal(RandomTranspose(p=0.0)(square), square)
    config = AugmentConfig(flip_p=0, transpose_p=0, color_p=0, blur_noise_p=0, affine_p=0,
                           cutout_p=1.0)  # fmt: skip
    out = train_transform(32, config)(torch.full((3, 32, 32), 200, dtype=torch.uint8))
    holes = (out == 0).all(dim=0)
    assert holes.sum().item() == 12 * 12  # one hole of 37.5 % of the side


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="cutout_p"):
        AugmentConfig(cutout_p=1.5)
    with pytest.raises(ValueError, match="size"):
        eval_transform(0)


def test_uint8_eval_and_batch_normalisation_match_the_float_transform(image):
    resized = eval_transform(32, normalize=False)(image)
    assert resized.dtype == torch.uint8
    assert resized.shape == (3, 32, 32)
    assert eval_transform(32, normalize=False)(resized) is resized  # already the size: untouched
    batch = normalize_batch(torch.stack([resized, resized]))
    assert torch.allclose(batch[0], eval_transform(32)(image), atol=1e-5)
    with pytest.raises(TypeError, match="uint8"):
        normalize_batch(batch)
