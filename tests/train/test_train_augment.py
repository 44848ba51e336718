"""The SIIM-ISIC 2020 batch augmentation (kornia): every operation of the recipe is in the
paper preset's pipeline, shapes / dtype / range are kept, a seed fixes it, it runs on CPU."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import torch
from kornia import augmentation as K

from semcov_data.transforms import IMAGENET_MEAN, IMAGENET_STD
from semcov_train import make_config, train
from semcov_train.inputs.augment import (
    SIIM2020_OPERATIONS,
    OneOf,
    Siim2020Config,
    batch_augmentation,
    siim2020,
    train_loader_transform,
)


def _classes(module: torch.nn.Module) -> Counter:
    return Counter(type(m).__name__ for m in module.modules())


def test_the_paper_preset_uses_every_operation_of_the_recipe_on_the_batch():
    config = make_config("paper")
    assert config.augment_recipe == "siim2020"
    pipeline = batch_augmentation(config)
    assert pipeline is not None
    present = _classes(pipeline)
    for operation, kornia_class in SIIM2020_OPERATIONS:
        assert present[kornia_class] >= 1, operation
    assert len(SIIM2020_OPERATIONS) == 16
    # one of the blurs / noise, one of the distortions, CLAHE: drawn per sample
    groups = [m for m in pipeline.modules() if isinstance(m, OneOf)]
    assert [len(g.operations) for g in groups] == [4, 3, 1]
    assert [g.p for g in groups] == [0.7, 0.7, 0.7]
    # the loader ships resized uint8; the device does the rest
    image = torch.randint(0, 256, (3, 40, 40), dtype=torch.uint8)
    assert train_loader_transform(config)(image).dtype == torch.uint8


@pytest.mark.parametrize(("preset", "recipe"), [("smoke", "light"), ("quick", "flips")])
def test_the_cpu_presets_augment_per_sample_in_the_loader(preset, recipe):
    config = make_config(preset)
    assert config.augment_recipe == recipe and batch_augmentation(config) is None
    image = torch.randint(0, 256, (3, config.image_size, config.image_size), dtype=torch.uint8)
    assert train_loader_transform(config)(image).dtype == torch.float32


def test_the_flips_recipe_draws_only_the_symmetries_of_the_square():
    config = make_config("quick")
    image = torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8)
    normal = (image.float() / 255 - torch.tensor(IMAGENET_MEAN).view(3, 1, 1)) / torch.tensor(
        IMAGENET_STD
    ).view(3, 1, 1)
    symmetries = []
    for turned in (normal, normal.transpose(-1, -2)):
        for flipped in (turned, turned.flip(-1), turned.flip(-2), turned.flip(-1).flip(-2)):
            symmetries.append(flipped)
    transform = train_loader_transform(config)
    torch.manual_seed(0)
    seen = set()
    for _ in range(64):
        out = transform(image)
        matches = [k for k, s in enumerate(symmetries) if torch.allclose(out, s, atol=1e-5)]
        assert matches, "an output that is not a symmetry of the input"
        seen.add(matches[0])
    assert len(seen) == 8  # every symmetry is drawn


def test_shape_dtype_and_range_are_kept_and_a_seed_fixes_the_draws():
    pipeline = siim2020(image_size=32)
    images = torch.randint(0, 256, (16, 3, 32, 32), dtype=torch.uint8)
    torch.manual_seed(0)
    first = pipeline.augment(images)
    torch.manual_seed(0)
    again = pipeline.augment(images)
    torch.manual_seed(1)
    other = pipeline.augment(images)
    assert first.shape == images.shape and first.dtype == torch.float32
    assert float(first.min()) >= 0.0 and float(first.max()) <= 1.0
    assert torch.equal(first, again) and not torch.equal(first, other)
    assert not torch.allclose(first, images.float() / 255)  # it changed the images
    torch.manual_seed(0)
    normalised = pipeline(images)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    torch.manual_seed(0)
    torch.testing.assert_close(normalised, (pipeline.augment(images) - mean) / std)


def test_float_input_in_unit_range_is_accepted_and_bad_input_is_rejected():
    pipeline = siim2020(image_size=32)
    out = pipeline.augment(torch.rand(2, 3, 32, 32))
    assert out.shape == (2, 3, 32, 32)
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        pipeline.augment(torch.rand(3, 32, 32))
    with pytest.raises(TypeError, match="uint8 or float"):
        pipeline.augment(torch.zeros(2, 3, 32, 32, dtype=torch.int32))
    with pytest.raises(ValueError, match="flip_p"):
        Siim2020Config(flip_p=1.5)


def test_transpose_and_flips_draw_the_eight_symmetries_of_the_square_uniformly():
    """With every other operation off, the output is one of the 8 images of the dihedral
    group, each with probability 1/8, as for albumentations' transpose + two flips (2,000
    draws: 1/8 ± 0.03 is over 4 standard errors)."""
    off = {
        name: 0.0
        for name in vars(Siim2020Config())
        if name.endswith("_p") and name not in ("flip_p", "transpose_p")
    }
    pipeline = siim2020(Siim2020Config(**off), image_size=16)
    base = torch.arange(256, dtype=torch.float32).view(1, 1, 16, 16).div(256).expand(1, 3, 16, 16)
    symmetries = []
    for k in range(4):
        rotated = torch.rot90(base, k, (-2, -1))
        symmetries += [rotated, rotated.flip(-1)]
    assert len({tuple(s.flatten().tolist()) for s in symmetries}) == 8
    torch.manual_seed(0)
    out = pipeline.augment(base.expand(2000, 3, 16, 16).contiguous())
    counts = Counter()
    for image in out:
        matches = [i for i, s in enumerate(symmetries) if torch.equal(image, s[0])]
        assert len(matches) == 1
        counts[matches[0]] += 1
    assert set(counts) == set(range(8))
    assert all(abs(c / 2000 - 1 / 8) < 0.03 for c in counts.values())


def test_one_of_applies_at_most_one_operation_per_sample():
    choice = OneOf([K.RandomHorizontalFlip(p=1.0), K.RandomVerticalFlip(p=1.0)], p=0.6)
    images = torch.rand(1, 3, 6, 6).expand(3000, 3, 6, 6).contiguous()
    torch.manual_seed(0)
    out = choice(images)
    unchanged = (out == images).flatten(1).all(1)
    horizontal = (out == images.flip(-1)).flatten(1).all(1)
    vertical = (out == images.flip(-2)).flatten(1).all(1)
    assert bool((unchanged | horizontal | vertical).all())
    assert abs(float(unchanged.float().mean()) - 0.4) < 0.04
    assert abs(float(horizontal.float().mean()) - 0.3) < 0.04
    assert abs(float(vertical.float().mean()) - 0.3) < 0.04


def test_a_smoke_run_trains_with_the_batch_recipe_on_cpu(smoke):
    config = smoke(method="erm", augment_recipe="siim2020")
    result = train(config)
    stored = json.loads((result.run_dir / "config.json").read_text())["config"]
    assert stored["augment_recipe"] == "siim2020"
    assert result.history[0]["train_loss"] > 0
