"""SemCovNet around user backbones: feature maps, tokens, outputs, training step, errors."""

import io

import pytest
import torch
from torch import nn

from semcov_layers import SemCovLoss, SemCovNet, SemCovNetOutput

K, T, D = 4, 3, 32


def _conv_backbone() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(8, 16, 3, stride=2, padding=1),
        nn.ReLU(),
    )


class _TokenBackbone(nn.Module):
    """Patchify into a 4x4 grid of 24-dim tokens and prepend `prefix` learned tokens."""

    def __init__(self, prefix: int) -> None:
        super().__init__()
        self.patch = nn.Conv2d(3, 24, 4, stride=4)
        self.prefix = nn.Parameter(torch.randn(1, prefix, 24)) if prefix else None

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        tokens = self.patch(images).flatten(2).transpose(1, 2)
        if self.prefix is None:
            return tokens
        return torch.cat([self.prefix.expand(images.shape[0], -1, -1), tokens], dim=1)


class _ChannelsLast(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = _conv_backbone()

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.body(images).permute(0, 2, 3, 1)


class _ListOutput(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = _conv_backbone()

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        return [images, self.body(images)]


def _model(backbone=None, feature_dim=16, **kwargs) -> SemCovNet:
    torch.manual_seed(0)
    backbone = backbone if backbone is not None else _conv_backbone()
    return SemCovNet(backbone, feature_dim, T, K, dim=D, **kwargs)


def _batch(size: int = 4, image: int = 16):
    generator = torch.Generator().manual_seed(2)
    images = torch.randn(size, 3, image, image, generator=generator)
    descriptors = torch.rand(size, K, generator=generator)
    targets = torch.randint(0, T, (size,), generator=generator)
    subgroups = torch.randint(0, 2, (size,), generator=generator)
    return images, descriptors, targets, subgroups


def test_output_fields_and_shapes():
    images, p, _, _ = _batch()
    out = _model()(images, p)
    assert isinstance(out, SemCovNetOutput)
    assert out.logits.shape == (4, T)
    assert out.descriptor_logits.shape == (4, K)
    assert out.embedding.shape == (4, D)
    assert out.descriptor_embedding.shape == (4, D)
    assert out.features.shape == (4, D, 4, 4)
    assert out.token.shape == (4, D)
    assert len(out.maps) == 3 and out.maps[0].shape == (4, K, 4, 4)
    assert len(out.descriptors) == 3 and torch.equal(out.descriptors[0], p)
    assert torch.allclose(out.embedding, out.features.mean(dim=(2, 3)), atol=1e-6)


@pytest.mark.parametrize("prefix", [0, 1, 5])
def test_token_backbones_with_prefix_tokens(prefix):
    images, p, _, _ = _batch()
    model = _model(_TokenBackbone(prefix), feature_dim=24, num_prefix_tokens=prefix)
    out = model(images, p)
    assert out.features.shape == (4, D, 4, 4)
    grid = model.forward_features(images)
    tokens = model.backbone(images)[:, prefix:]
    # Patch token n sits at row n // 4, column n % 4 of the grid.
    assert torch.equal(grid[:, :, 1, 2], tokens[:, 1 * 4 + 2])


def test_wrong_prefix_count_is_reported():
    images, p, _, _ = _batch()
    model = _model(_TokenBackbone(1), feature_dim=24, num_prefix_tokens=0)
    with pytest.raises(ValueError, match="num_prefix_tokens"):
        model(images, p)


def test_explicit_token_grid_for_non_square_images():
    images = torch.randn(2, 3, 8, 16)
    model = _model(_TokenBackbone(1), feature_dim=24, num_prefix_tokens=1, token_grid=(2, 4))
    assert model(images, torch.rand(2, K)).features.shape == (2, D, 2, 4)


def test_channels_last_and_list_outputs():
    images, p, _, _ = _batch()
    reference = _model()(images, p).logits
    channels_last = _model(_ChannelsLast())
    channels_last.load_state_dict(
        {k.replace("backbone.", "backbone.body."): v for k, v in _model().state_dict().items()}
    )
    assert torch.allclose(channels_last(images, p).logits, reference, atol=1e-6)
    listed = _model(_ListOutput())
    listed.load_state_dict(channels_last.state_dict())
    assert torch.allclose(listed(images, p).logits, reference, atol=1e-6)


@pytest.mark.parametrize("order", ["attn_dam", "dam_attn", "mixture", "mixture_attn_dam"])
def test_one_training_step_updates_every_parameter(order):
    images, p, y, s = _batch()
    model = _model(order=order)
    criterion = SemCovLoss(torch.rand(T, K, 2))
    optimizer = torch.optim.SGD([*model.parameters(), *criterion.parameters()], lr=0.1)
    before = {name: param.detach().clone() for name, param in model.named_parameters()}
    temperature = criterion.dva.log_temperature.detach().clone()
    losses = criterion(model(images, p), y, p, s)
    losses.total.backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and bool(torch.isfinite(param.grad).all()), name
    optimizer.step()
    for name, param in model.named_parameters():
        assert not torch.equal(param, before[name]), name
    assert not torch.equal(criterion.dva.log_temperature, temperature)


def test_bf16_autocast_training_step_is_finite():
    images, p, y, s = _batch()
    model = _model(order="mixture")
    criterion = SemCovLoss(torch.rand(T, K, 2))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        losses = criterion(model(images, p), y, p, s)
    losses.total.backward()
    for term in (losses.total, losses.classification, losses.descriptor, losses.dva, losses.cdi):
        assert bool(torch.isfinite(term)), term
    for name, param in model.named_parameters():
        assert param.grad is not None and bool(torch.isfinite(param.grad).all()), name


def test_same_seed_same_output_and_state_dict_round_trip():
    images, p, _, _ = _batch()
    a, b = _model().eval(), _model().eval()
    assert torch.equal(a(images, p).logits, b(images, p).logits)
    a.train()(images, p)
    a.eval()
    buffer = io.BytesIO()
    torch.save(a.state_dict(), buffer)
    buffer.seek(0)
    torch.manual_seed(7)
    fresh = SemCovNet(_conv_backbone(), 16, T, K, dim=D).eval()
    assert not torch.allclose(fresh(images, p).logits, a(images, p).logits)
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    assert torch.equal(fresh(images, p).logits, a(images, p).logits)


def test_encoder_options_are_passed_through():
    model = _model(depth=2, order="dam_attn", feedback=False, sdm_mode="add")
    assert model.encoder.depth == 2 and not model.encoder.feedback
    assert model.encoder.uncertainty_source == "input"
    assert _model(uncertainty_source="refined").encoder.uncertainty_source == "refined"
    assert all(
        layer.order == "dam_attn" and layer.sdm.mode == "add" for layer in model.encoder.layers
    )


def test_head_dropout_only_acts_in_training():
    images, p, _, _ = _batch()
    model = _model(drop_rate=0.5)
    plain = _model()
    model.eval(), plain.eval()
    assert torch.equal(model(images, p).logits, plain(images, p).logits)
    model.train()
    torch.manual_seed(0)
    first = model(images, p).logits
    torch.manual_seed(1)
    assert not torch.allclose(first, model(images, p).logits)


@pytest.mark.parametrize(
    ("images", "p", "error", "match"),
    [
        (
            torch.randn(4, 3, 16),
            torch.rand(4, K),
            ValueError,
            r"`images` must have shape \(B, C, H, W\)",
        ),
        (None, torch.rand(4, K), TypeError, "`images` must be a torch.Tensor"),
        (torch.randn(4, 3, 16, 16), torch.rand(4, K + 2), ValueError, f"K = {K}"),
        (torch.randn(4, 3, 16, 16), torch.rand(3, K), ValueError, "same batch size"),
        (torch.randn(4, 3, 16, 16), torch.rand(4, K) * 2, ValueError, r"\[0, 1\]"),
    ],
)
def test_bad_inputs_name_the_argument(images, p, error, match):
    with pytest.raises(error, match=match):
        _model()(images, p)


def test_wrong_feature_dim_is_reported():
    images, p, _, _ = _batch()
    with pytest.raises(ValueError, match="feature_dim=20"):
        _model(feature_dim=20)(images, p)


def test_bad_constructor_arguments():
    with pytest.raises(TypeError, match="`backbone`"):
        SemCovNet(lambda x: x, 16, T, K)
    with pytest.raises(ValueError, match="`num_classes`"):
        SemCovNet(_conv_backbone(), 16, 0, K)
    with pytest.raises(ValueError, match="`token_grid`"):
        SemCovNet(_conv_backbone(), 16, T, K, token_grid=(4,))
    with pytest.raises(TypeError, match="unexpected keyword"):
        SemCovNet(_conv_backbone(), 16, T, K, deepth=3)


def test_backbone_returning_a_dict_is_rejected():
    class DictBackbone(nn.Module):
        def forward(self, images):
            return {"out": images}

    with pytest.raises(TypeError, match="the backbone must return a tensor"):
        SemCovNet(DictBackbone(), 3, T, K, dim=D)(torch.randn(1, 3, 8, 8), torch.rand(1, K))
