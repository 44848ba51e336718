"""SemanticDescriptorMap (paper Eq. 1-3): fusion modes, normalization, branches, errors."""

import math

import pytest
import torch

from semcov_layers import (
    DescriptorEmbedding,
    SemanticDescriptorMap,
    fuse_descriptor_maps,
    normalize_descriptor_maps,
)

MODES = ("descriptor", "feature", "add", "mul", "gated")


def _constant(value: float) -> torch.Tensor:
    return torch.full((1, 1, 1, 2), value)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("descriptor", 4.0), ("feature", 2.0), ("add", 6.0), ("mul", 8.0), ("gated", 3.5)],
)
def test_fusion_modes_by_hand(mode, expected):
    # M_f = 2, M_d = 4, g = 0.25: gated = 0.25 * 2 + 0.75 * 4 = 3.5 (Eq. 3).
    fused = fuse_descriptor_maps(_constant(2.0), _constant(4.0), torch.tensor([[0.25]]), mode)
    assert torch.allclose(fused, _constant(expected))


def test_gated_fusion_uses_one_gate_per_descriptor_channel():
    feature = torch.stack([torch.full((2, 2), 1.0), torch.full((2, 2), 10.0)]).unsqueeze(0)
    descriptor = torch.zeros_like(feature)
    fused = fuse_descriptor_maps(feature, descriptor, torch.tensor([[1.0, 0.5]]), "gated")
    assert torch.allclose(fused[0, 0], torch.full((2, 2), 1.0))
    assert torch.allclose(fused[0, 1], torch.full((2, 2), 5.0))


def test_softmax_normalization_by_hand():
    maps = torch.tensor([0.0, math.log(3.0)]).reshape(1, 1, 1, 2)
    # softmax = [1/4, 3/4], times H*W = 2.
    assert torch.allclose(
        normalize_descriptor_maps(maps, "softmax"), torch.tensor([[[[0.5, 1.5]]]])
    )
    assert torch.equal(normalize_descriptor_maps(maps, "none"), maps)


def test_softmax_normalization_gives_mean_one_per_channel():
    maps = torch.randn(3, 5, 4, 6)
    normalized = normalize_descriptor_maps(maps)
    assert torch.allclose(normalized.mean(dim=(2, 3)), torch.ones(3, 5), atol=1e-5)
    assert bool((normalized > 0).all())


@pytest.mark.parametrize("mode", MODES)
def test_forward_is_normalized_fusion_of_branches(mode):
    torch.manual_seed(0)
    sdm = SemanticDescriptorMap(16, 5, mode=mode)
    features, p = torch.randn(2, 16, 6, 6), torch.rand(2, 5)
    token = DescriptorEmbedding(16, 5)(p)
    m_f, m_d, g = sdm.branches(features, p, token)
    assert (m_f is None) == (mode == "descriptor")
    assert (m_d is None) == (mode == "feature")
    assert (g is None) == (mode != "gated")
    expected = normalize_descriptor_maps(fuse_descriptor_maps(m_f, m_d, g, mode))
    out = sdm(features, p, token)
    assert out.shape == (2, 5, 6, 6)
    assert torch.allclose(out, expected)


@pytest.mark.parametrize("mode", MODES)
def test_every_parameter_gets_a_gradient(mode):
    torch.manual_seed(0)
    sdm = SemanticDescriptorMap(8, 3, mode=mode, norm="none")
    features = torch.randn(2, 8, 5, 5)
    p = torch.rand(2, 3)
    token = torch.randn(2, 8)
    (sdm(features, p, token) * torch.randn(2, 3, 5, 5)).sum().backward()
    for name, param in sdm.named_parameters():
        assert param.grad is not None, name
        assert float(param.grad.abs().max()) > 1e-6, name


def test_descriptor_branch_is_eq1():
    # M_d = phi_d(resize(Linear(t))) * sigmoid(W_d p): with phi_d the identity conv and W_d = 0,
    # a constant prior becomes a constant map scaled by sigmoid(bias).
    sdm = SemanticDescriptorMap(4, 2, mode="descriptor", norm="none", prior_size=2)
    with torch.no_grad():
        sdm.to_prior.weight.zero_()
        sdm.to_prior.bias.fill_(3.0)
        sdm.refine_descriptor.weight.zero_()
        sdm.refine_descriptor.weight[0, 0, 1, 1] = 1.0
        sdm.refine_descriptor.weight[1, 1, 1, 1] = 1.0
        sdm.refine_descriptor.bias.zero_()
        sdm.descriptor_gate.weight.zero_()
        sdm.descriptor_gate.bias.copy_(torch.tensor([0.0, math.log(3.0)]))
    out = sdm(torch.randn(1, 4, 3, 3), torch.rand(1, 2), torch.randn(1, 4))
    # sigmoid(0) = 0.5, sigmoid(log 3) = 0.75; interior and border pixels alike after resizing a
    # constant map, and the identity conv keeps the value.
    assert torch.allclose(out[0, 0], torch.full((3, 3), 1.5))
    assert torch.allclose(out[0, 1], torch.full((3, 3), 2.25))


def test_descriptor_gate_responds_to_descriptors():
    torch.manual_seed(0)
    sdm = SemanticDescriptorMap(8, 3)
    features, token = torch.randn(1, 8, 4, 4), torch.randn(1, 8)
    a = sdm(features, torch.tensor([[0.1, 0.2, 0.3]]), token)
    b = sdm(features, torch.tensor([[0.9, 0.8, 0.7]]), token)
    assert not torch.allclose(a, b)


def test_token_required_outside_feature_mode():
    sdm = SemanticDescriptorMap(8, 3, mode="gated")
    with pytest.raises(ValueError, match="`token`"):
        sdm(torch.randn(1, 8, 4, 4), torch.rand(1, 3))
    feature_only = SemanticDescriptorMap(8, 3, mode="feature")
    assert feature_only(torch.randn(1, 8, 4, 4), torch.rand(1, 3)).shape == (1, 3, 4, 4)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"features": [1.0]}, TypeError, "`features` must be a torch.Tensor"),
        (
            {"features": torch.randn(1, 8, 4)},
            ValueError,
            r"`features` must have shape \(B, D, H, W\)",
        ),
        ({"features": torch.randn(1, 7, 4, 4)}, ValueError, "D = 8"),
        ({"descriptors": torch.rand(1, 4)}, ValueError, r"`descriptors` must have shape \(B, K\)"),
        ({"descriptors": torch.rand(2, 3)}, ValueError, "`descriptors` must have the same batch"),
        (
            {"descriptors": torch.full((1, 3), 1.5)},
            ValueError,
            r"`descriptors` must hold .* \[0, 1\]",
        ),
        (
            {"descriptors": torch.ones(1, 3, dtype=torch.long)},
            TypeError,
            "`descriptors` must be a floating",
        ),
        ({"token": torch.randn(1, 5)}, ValueError, r"`token` must have shape \(B, 8\)"),
    ],
)
def test_bad_inputs_name_the_argument(kwargs, error, match):
    sdm = SemanticDescriptorMap(8, 3)
    args = {
        "features": torch.randn(1, 8, 4, 4),
        "descriptors": torch.rand(1, 3),
        "token": torch.randn(1, 8),
    }
    args.update(kwargs)
    with pytest.raises(error, match=match):
        sdm(**args)


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="`mode`"):
        SemanticDescriptorMap(8, 3, mode="concat")
    with pytest.raises(ValueError, match="`norm`"):
        SemanticDescriptorMap(8, 3, norm="instance")
    with pytest.raises(TypeError, match="`num_descriptors`"):
        SemanticDescriptorMap(8, 3.0)
    with pytest.raises(ValueError, match="`mode`"):
        fuse_descriptor_maps(_constant(1.0), _constant(1.0), None, "max")
    with pytest.raises(ValueError, match="`gate`"):
        fuse_descriptor_maps(_constant(1.0), _constant(1.0), None, "gated")


def test_descriptor_embedding_shape_and_errors():
    embed = DescriptorEmbedding(32, 7)
    assert embed(torch.rand(4, 7)).shape == (4, 32)
    with pytest.raises(ValueError, match="K = 7"):
        embed(torch.rand(4, 6))
