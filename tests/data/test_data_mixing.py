"""CutMix, FMix and SaliencyMix batch mixing with CAS-drawn or permuted sources."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from semcov_data import SemCovDataset, load_milk10k, mixing
from semcov_data.mix_masks import cutmix_mask, fmix_mask, saliencymix_mask, sample_mix_lambda
from semcov_data.mixing import MIX_MODES, BatchMixer, CASMixSource
from semcov_data.saliency import spectral_residual_saliency


def _assert_close(actual, expected, *, atol=1e-6):
    # numpy's check: torch.testing pulls in torch.distributed, seconds of import per run.
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual.cpu().numpy(), expected.cpu().numpy(), atol=atol, rtol=0)


def _generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _blob_image(height, width, row, col, *, seed=0, sigma=2.0):
    """A noisy grey background with one bright Gaussian blob, (1, 3, H, W) in [0, 1]."""
    background = 0.3 + 0.05 * torch.randn(1, 3, height, width, generator=_generator(seed))
    y, x = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    blob = torch.exp(-((y - row) ** 2 + (x - col) ** 2) / (2 * sigma**2))
    return (background + 0.7 * blob).clamp(0, 1)


class _TupleDataset(torch.utils.data.Dataset):
    """Item i: a 3×8×8 image filled with i, label i % 3."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int):
        return torch.full((3, 8, 8), float(index)), index % 3


def test_lambda_follows_beta_alpha_alpha():
    lam = sample_mix_lambda(0.2, 20_000, generator=_generator())
    assert lam.dtype == torch.float64 and lam.shape == (20_000,)
    assert ((lam >= 0) & (lam <= 1)).all()
    assert float(lam.mean()) == pytest.approx(0.5, abs=0.01)
    assert float(lam.var()) == pytest.approx(1 / (4 * (2 * 0.2 + 1)), abs=0.01)
    # α = 0.2 is U-shaped: most draws sit near 0 or 1.
    assert float(((lam < 0.1) | (lam > 0.9)).double().mean()) > 0.5
    _assert_close(lam, sample_mix_lambda(0.2, 20_000, generator=_generator()))
    assert not torch.equal(lam, sample_mix_lambda(0.2, 20_000, generator=_generator(1)))


@pytest.mark.parametrize("mode", MIX_MODES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.uint8])
def test_mixing_keeps_label_mass(mode, dtype):
    g = _generator(3)
    batch, size = 16, 32
    scale = 255 if dtype == torch.uint8 else 1.0
    # Targets are dark, sources bright: every mixed pixel says where it came from.
    target = (0.4 * torch.rand(batch, 3, size, size, generator=g) * scale).to(dtype)
    source = ((0.6 + 0.4 * torch.rand(batch, 3, size, size, generator=g)) * scale).to(dtype)
    labels, source_labels = torch.zeros(batch, dtype=torch.long), torch.full((batch,), 2)
    mixer = BatchMixer(mode, num_classes=3)
    lam_requested = torch.linspace(0.05, 0.95, batch)
    mixed, soft, lam = mixer(target, labels, source, source_labels, generator=g, lam=lam_requested)
    assert mixed.dtype == dtype and mixed.shape == target.shape
    from_source = (mixed.float() > 0.5 * scale).all(dim=1)
    assert ((mixed == source) | (mixed == target)).all()
    measured = from_source.flatten(1).double().mean(dim=1).float()
    _assert_close(1 - lam, measured)
    _assert_close(soft.sum(dim=1), torch.ones(batch))
    _assert_close(soft[:, 0], lam)
    _assert_close(soft[:, 2], 1 - lam)
    assert (soft[:, 1] == 0).all()
    # The kept fraction is the requested one up to the box rounding (and clipping for CutMix).
    if mode == "fmix":
        _assert_close(lam.double(), torch.round(lam_requested * size**2) / size**2)
    else:  # boxes round their sides down and are clipped: never more is pasted than asked
        assert (lam >= lam_requested - 1e-6).all()


def test_soft_targets_mix_as_given():
    images = torch.zeros(4, 1, 8, 8)
    sources = torch.ones(4, 1, 8, 8)
    targets = torch.tensor([[0.9, 0.1]] * 4)
    source_targets = torch.tensor([[0.0, 1.0]] * 4)
    _, soft, lam = BatchMixer("cutmix")(images, targets, sources, source_targets, lam=0.75)
    _assert_close(soft, lam[:, None] * targets + (1 - lam[:, None]) * source_targets)


@pytest.mark.parametrize(("height", "width"), [(32, 32), (31, 17), (64, 48)])
def test_fmix_masks_have_exactly_the_requested_area(height, width):
    lam = torch.tensor([0.0, 0.013, 0.25, 0.5, 0.731, 0.999, 1.0])
    masks = fmix_mask(lam, height, width, generator=_generator())
    assert masks.dtype == torch.bool and masks.shape == (len(lam), height, width)
    expected = torch.round(lam * height * width).long()
    _assert_close(masks.flatten(1).sum(dim=1), expected)


def test_fmix_masks_are_low_frequency():
    # With δ = 3 neighbouring pixels nearly always agree; a random mask disagrees half the time.
    masks = fmix_mask(torch.full((32,), 0.5), 64, 64, generator=_generator())
    disagree = (masks[:, 1:, :] != masks[:, :-1, :]).float().mean()
    assert float(disagree) < 0.1
    flat = fmix_mask(torch.full((32,), 0.5), 64, 64, decay_power=0.01, generator=_generator())
    assert float((flat[:, 1:, :] != flat[:, :-1, :]).float().mean()) > 0.3


def test_cutmix_cuts_one_box_of_the_requested_size():
    lam = torch.full((64,), 0.75)
    masks = cutmix_mask(lam, 40, 40, generator=_generator())
    for mask in masks:
        rows, cols = torch.nonzero(~mask, as_tuple=True)
        box = ~mask[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
        assert box.all()  # the pasted region is a rectangle
        assert box.shape[0] <= 20 and box.shape[1] <= 20  # sides ⌊40·√0.25⌋, clipped
    full = (~masks).flatten(1).sum(dim=1) == 400
    assert full.any()  # unclipped boxes have the whole area


@pytest.mark.parametrize(
    ("height", "width", "row", "col"), [(64, 64, 20, 40), (48, 80, 30, 12), (32, 32, 3, 28)]
)
def test_saliencymix_pastes_the_box_around_the_most_salient_point(height, width, row, col):
    source = _blob_image(height, width, row, col, seed=1)
    target = 0.2 * torch.rand(1, 3, height, width, generator=_generator(2))
    saliency = spectral_residual_saliency(source)
    peak = int(saliency.flatten(1).argmax())
    assert abs(peak // width - row) <= 1 and abs(peak % width - col) <= 1
    mixer = BatchMixer("saliencymix", num_classes=2)
    labels, source_labels = torch.tensor([0]), torch.tensor([1])
    mixed, _, lam = mixer(target, labels, source, source_labels, lam=0.75)
    pasted = (mixed != target).any(dim=1)[0]
    rows, cols = torch.nonzero(pasted, as_tuple=True)
    top, bottom, left, right = rows.min(), rows.max(), cols.min(), cols.max()
    assert top <= row <= bottom and left <= col <= right  # the box holds the blob
    inside = torch.zeros(height, width, dtype=torch.bool)
    inside[top : bottom + 1, left : right + 1] = True
    _assert_close(mixed[0][:, inside], source[0][:, inside])
    _assert_close(mixed[0][:, ~inside], target[0][:, ~inside])
    # Sides ⌊side·√(1−λ)⌋ = half the image, centred on the peak, clipped at the border.
    peak_row, peak_col = divmod(peak, width)
    for start, end, centre, side in (
        (top, bottom, peak_row, height),
        (left, right, peak_col, width),
    ):
        first = centre - (side // 2) // 2
        assert (int(start), int(end) + 1) == (max(0, first), min(side, first + side // 2))
    assert float(lam) == pytest.approx(1 - inside.float().mean().item())


def test_saliency_maps_lie_in_unit_range_and_mask_matches_mixer():
    images = torch.rand(3, 3, 20, 24, generator=_generator())
    maps = spectral_residual_saliency(images)
    assert maps.shape == (3, 20, 24) and maps.dtype == torch.float32
    assert (maps >= 0).all() and torch.allclose(maps.flatten(1).amax(1), torch.ones(3))
    assert spectral_residual_saliency(torch.rand(2, 1, 2, 5)).shape == (2, 2, 5)
    lam = torch.tensor([0.5, 0.9, 1.0])
    masks = saliencymix_mask(lam, images)
    assert masks[2].all()  # λ = 1 pastes nothing
    _, _, kept = BatchMixer("saliencymix", num_classes=2)(
        images.flip(0), torch.zeros(3, dtype=torch.long), images, torch.ones(3).long(), lam=lam
    )
    _assert_close(kept, masks.flatten(1).float().mean(1))


@pytest.mark.parametrize("mode", MIX_MODES)
def test_mixing_is_deterministic_given_a_generator(mode):
    images = torch.rand(8, 3, 24, 24, generator=_generator(5))
    labels = torch.arange(8) % 4
    mixer = BatchMixer(mode, num_classes=4)
    first = mixer(images, labels, generator=_generator(7))
    second = mixer(images, labels, generator=_generator(7))
    for a, b in zip(first, second, strict=True):
        assert torch.equal(a, b)
    other = mixer(images, labels, generator=_generator(8))
    assert not torch.equal(first[2], other[2])


def test_prob_mixes_that_share_of_batches():
    images, labels = torch.rand(4, 3, 8, 8, generator=_generator()), torch.arange(4) % 2
    g = _generator(4)
    never = BatchMixer("cutmix", num_classes=2, prob=0.0)
    mixed, soft, lam = never(images, labels, generator=g)
    assert torch.equal(mixed, images) and (lam == 1).all()
    _assert_close(soft, torch.nn.functional.one_hot(labels, 2).float())
    half = BatchMixer("cutmix", num_classes=2, prob=0.5)
    mixed_batches = [
        bool((half(images, labels, generator=g, lam=0.5)[2] < 1).any()) for _ in range(400)
    ]
    assert np.mean(mixed_batches) == pytest.approx(0.5, abs=0.08)


def test_permutation_baseline_pastes_from_the_batch():
    batch = 6
    images = torch.arange(batch, dtype=torch.float32)[:, None, None, None].expand(batch, 3, 16, 16)
    labels = torch.arange(batch)
    mixed, soft, lam = BatchMixer("cutmix", num_classes=batch)(
        images.contiguous(), labels, generator=_generator(1), lam=0.5
    )
    for i in range(batch):
        values = mixed[i].unique()
        assert set(values.tolist()) <= set(range(batch)) and i in values.tolist()
        pasted = [int(v) for v in values if int(v) != i]
        if pasted:  # the soft target names the image the pasted pixels came from
            assert soft[i, pasted[0]] == pytest.approx(1 - float(lam[i]))
    _assert_close(soft.sum(dim=1), torch.ones(batch))


def test_cas_source_draws_by_weight_and_resumes():
    weights = np.array([1.0, 1.0, 1.0, 7.0])
    source = CASMixSource(_TupleDataset(4), weights, seed=0)
    counts = torch.bincount(source.indices(20_000), minlength=4).double() / 20_000
    _assert_close(counts, torch.tensor([0.1, 0.1, 0.1, 0.7]).double(), atol=0.015)
    state = source.state_dict()
    images, labels = source.draw(5)
    assert images.shape == (5, 3, 8, 8) and labels.dtype == torch.int64
    _assert_close(labels, images[:, 0, 0, 0].long() % 3)
    source.load_state_dict(state)
    again, _ = source.draw(5)
    assert torch.equal(images, again)
    threaded = CASMixSource(_TupleDataset(4), weights, seed=0, num_threads=2)
    threaded.load_state_dict(state)
    assert torch.equal(threaded.draw(5)[0], images)


def test_mixer_pastes_cas_drawn_sources():
    # Only item 3 can be drawn: every pasted pixel holds 3.
    source = CASMixSource(_TupleDataset(4), [0.0, 0.0, 0.0, 1.0], seed=0)
    mixer = BatchMixer("fmix", num_classes=3, source=source)
    targets = torch.full((5, 3, 8, 8), -1.0)
    mixed, soft, lam = mixer(targets, torch.ones(5).long(), generator=_generator(), lam=0.5)
    assert set(mixed.unique().tolist()) == {-1.0, 3.0}
    _assert_close(soft[:, 1], lam)
    _assert_close(soft[:, 0], 1 - lam)  # item 3 has label 0


def test_cas_source_on_a_semcov_dataset(milk10k_challenge):
    dataset = SemCovDataset(load_milk10k(milk10k_challenge), check_images=False)
    source = CASMixSource(dataset, power=1.2, seed=0)
    images, labels = source.draw(4)
    assert images.dtype == torch.uint8 and images.shape == (4, 3, 36, 48)
    assert set(labels.tolist()) <= {0, 1}
    mixer = BatchMixer("saliencymix", num_classes=2, source=source)
    mixed, soft, _ = mixer(images.flip(0), labels.flip(0), generator=_generator())
    assert mixed.dtype == torch.uint8
    _assert_close(soft.sum(dim=1), torch.ones(4))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("mode", MIX_MODES)
def test_mixing_runs_on_the_images_device(mode):
    g = torch.Generator(device="cuda").manual_seed(0)
    images = torch.rand(8, 3, 32, 32, device="cuda")
    labels = torch.arange(8, device="cuda") % 2
    mixed, soft, lam = BatchMixer(mode, num_classes=2)(images, labels, generator=g)
    assert mixed.device.type == soft.device.type == lam.device.type == "cuda"
    _assert_close(soft.sum(dim=1), torch.ones(8, device="cuda"))
    again = BatchMixer(mode, num_classes=2)(
        images, labels, generator=torch.Generator(device="cuda").manual_seed(0)
    )
    assert torch.equal(mixed, again[0])


_IMAGES = torch.zeros(2, 3, 8, 8)
_LABELS = torch.tensor([0, 1])


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: BatchMixer("mixup"), ValueError, "mode"),
        (lambda: BatchMixer(alpha=0), ValueError, "alpha"),
        (lambda: BatchMixer(alpha=True), TypeError, "alpha"),
        (lambda: BatchMixer(num_classes=0), ValueError, "num_classes"),
        (lambda: BatchMixer(decay_power=-1), ValueError, "decay_power"),
        (lambda: BatchMixer(source=object()), TypeError, "source"),
        (lambda: BatchMixer(prob=1.5), ValueError, "prob"),
        (lambda: BatchMixer(prob="1"), TypeError, "prob"),
        (lambda: BatchMixer(num_classes=2)(_IMAGES.numpy(), _LABELS), TypeError, "images"),
        (lambda: BatchMixer(num_classes=2)(_IMAGES[0], _LABELS), ValueError, "images"),
        (lambda: BatchMixer()(_IMAGES, _LABELS), ValueError, "num_classes"),
        (lambda: BatchMixer(num_classes=2)(_IMAGES, _LABELS + 1), ValueError, "targets"),
        (lambda: BatchMixer(num_classes=2)(_IMAGES, _LABELS[:1]), ValueError, "targets"),
        (lambda: BatchMixer(num_classes=2)(_IMAGES, [0, 1]), TypeError, "targets"),
        (lambda: BatchMixer(num_classes=3)(_IMAGES, torch.eye(2)), ValueError, "num_classes"),
        (
            lambda: BatchMixer(num_classes=2)(_IMAGES, _LABELS, _IMAGES[:, :1], _LABELS),
            ValueError,
            "source_images",
        ),
        (
            lambda: BatchMixer(num_classes=2)(_IMAGES, _LABELS, _IMAGES.double(), _LABELS),
            TypeError,
            "source_images",
        ),
        (lambda: BatchMixer(num_classes=2)(_IMAGES, _LABELS, _IMAGES), ValueError, "source"),
        (lambda: BatchMixer(num_classes=2)(_IMAGES, _LABELS, None, _LABELS), ValueError, "source"),
        (lambda: BatchMixer(num_classes=2)(_IMAGES, _LABELS, lam=1.5), ValueError, "lam"),
        (lambda: BatchMixer(num_classes=2)(_IMAGES, _LABELS, lam=[0.5]), ValueError, "lam"),
        (lambda: BatchMixer(num_classes=2)(_IMAGES, _LABELS, lam="0.5"), TypeError, "lam"),
        (lambda: BatchMixer(num_classes=2)(_IMAGES, _LABELS, generator=0), TypeError, "generator"),
        (lambda: sample_mix_lambda(0.2, 0), ValueError, "size"),
        (lambda: sample_mix_lambda(-1.0, 4), ValueError, "alpha"),
        (lambda: fmix_mask([0.5], 0, 8), ValueError, "height"),
        (lambda: cutmix_mask([0.5], 8, 8.0), TypeError, "width"),
        (
            lambda: spectral_residual_saliency(torch.zeros(2, 3, 8, 8, dtype=torch.bool)),
            TypeError,
            "images",
        ),
        (lambda: CASMixSource(object()), TypeError, "dataset"),
        (lambda: CASMixSource(_TupleDataset(0)), ValueError, "empty"),
        (lambda: CASMixSource(_TupleDataset(3)), ValueError, "weights"),
        (lambda: CASMixSource(_TupleDataset(3), [1.0, 2.0]), ValueError, "weights"),
        (lambda: CASMixSource(_TupleDataset(2), [1.0, -1.0]), ValueError, "weights"),
        (lambda: CASMixSource(_TupleDataset(2), [1.0, 1.0], power=2), TypeError, "power"),
        (lambda: CASMixSource(_TupleDataset(2), [1.0, 1.0], seed="0"), TypeError, "seed"),
        (
            lambda: CASMixSource(_TupleDataset(2), [1.0, 1.0], num_threads=-1),
            ValueError,
            "num_threads",
        ),
        (lambda: CASMixSource(_TupleDataset(2), [1.0, 1.0]).draw(0), ValueError, "n"),
        (
            lambda: CASMixSource(_TupleDataset(2), [1.0, 1.0]).load_state_dict({}),
            ValueError,
            "state",
        ),
    ],
)
def test_bad_input_names_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_bad_dataset_items_are_reported():
    class Scalars(torch.utils.data.Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, index):
            return 1.0

    with pytest.raises(TypeError, match="dataset items"):
        CASMixSource(Scalars(), [1.0, 1.0]).draw(2)


def test_mixing_module_still_exports_the_masks_and_saliency_of_semcov_data_0_1():
    assert mixing.cutmix_mask is cutmix_mask and mixing.fmix_mask is fmix_mask
    assert mixing.saliencymix_mask is saliencymix_mask
    assert mixing.sample_mix_lambda is sample_mix_lambda
    assert mixing.spectral_residual_saliency is spectral_residual_saliency
