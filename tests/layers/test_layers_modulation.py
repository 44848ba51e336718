"""DescriptorAttentionModulation (paper Eq. 5-6) on hand-computed cases."""

import math

import pytest
import torch
from torch import nn

from semcov_layers import (
    DescriptorAttentionModulation,
    descriptor_uncertainty,
    film,
    uncertainty_gate,
)


def test_film_by_hand():
    features = torch.tensor([1.0, -2.0]).reshape(1, 2, 1, 1)
    scale = torch.tensor([[0.0, math.atanh(0.5)]])
    shift = torch.tensor([[0.5, -1.0]])
    # F * (1 + tanh(gamma)) + beta = [1 * 1 + 0.5, -2 * 1.5 - 1]
    assert torch.allclose(film(features, scale, shift).flatten(), torch.tensor([1.5, -4.0]))


def test_uncertainty_by_hand():
    p = torch.tensor([[0.0, 0.25, 0.5, 1.0]])
    assert torch.allclose(descriptor_uncertainty(p), torch.tensor([[0.0, 0.75, 1.0, 0.0]]))


@pytest.mark.parametrize(
    ("p", "s", "b", "expected"),
    [
        ([0.5, 1.0], 2.0, -1.0, 0.5),  # u_bar = 0.5: sigmoid(2 * 0.5 - 1) = sigmoid(0)
        ([0.0, 1.0], 2.0, -1.0, 1 / (1 + math.exp(-1.0))),  # certain: sigmoid(2 - 1)
        ([0.5, 0.5], 3.0, 0.5, 1 / (1 + math.exp(-0.5))),  # all uncertain: sigmoid(b)
    ],
)
def test_uncertainty_gate_with_known_s_and_b(p, s, b, expected):
    alpha = uncertainty_gate(torch.tensor([p]), torch.tensor(s), torch.tensor(b))
    assert alpha.shape == (1,)
    assert math.isclose(alpha.item(), expected, rel_tol=1e-6)


def _hand_module(residual: bool) -> DescriptorAttentionModulation:
    dam = DescriptorAttentionModulation(
        2, 2, film_hidden_dim=4, residual=residual, act_layer=nn.Identity
    )
    dam.eval()
    with torch.no_grad():
        for norm in (dam.norm, dam.refine[1]):
            norm.eps = 0.0
            norm.running_mean.zero_()
            norm.running_var.fill_(1.0)
        dam.film[-1].weight.zero_()
        dam.film[-1].bias.copy_(torch.tensor([0.0, math.atanh(0.5), 0.5, -1.0]))
        dam.spatial_gate.weight.zero_()
        dam.spatial_gate.bias.zero_()
        dam.gate_scale.fill_(2.0)
        dam.gate_bias.fill_(-1.0)
        dam.refine[0].weight.zero_()
        dam.refine[0].weight[:, 0, 1, 1] = 1.0
    return dam


@pytest.mark.parametrize(("residual", "expected"), [(False, [1.125, -3.0]), (True, [2.125, -5.0])])
def test_dam_by_hand(residual, expected):
    # F = [1, -2]; FiLM gives F_c = [1.5, -4]; p = [0.5, 1] so u_bar = 0.5 and alpha = 0.5;
    # G_s = sigmoid(0) = 0.5; F_s = F_c * (0.5 + 0.5 * 0.5) = [1.125, -3]; residual adds F.
    dam = _hand_module(residual)
    features = torch.tensor([1.0, -2.0]).reshape(1, 2, 1, 1)
    out = dam(features, torch.randn(1, 2), torch.randn(1, 2, 1, 1), torch.tensor([[0.5, 1.0]]))
    assert torch.allclose(out.flatten(), torch.tensor(expected))


def test_confident_descriptors_strengthen_the_gate():
    dam = _hand_module(False)
    features = torch.tensor([1.0, -2.0]).reshape(1, 2, 1, 1)
    token, maps = torch.randn(1, 2), torch.randn(1, 2, 1, 1)
    uncertain = dam(features, token, maps, torch.tensor([[0.5, 0.5]]))
    certain = dam(features, token, maps, torch.tensor([[0.0, 1.0]]))
    assert bool((certain.abs() > uncertain.abs()).all())


def test_every_parameter_gets_a_gradient():
    torch.manual_seed(0)
    dam = DescriptorAttentionModulation(8, 3)
    out = dam(torch.randn(2, 8, 4, 4), torch.randn(2, 8), torch.randn(2, 3, 4, 4), torch.rand(2, 3))
    (out * torch.randn_like(out)).sum().backward()
    for name, param in dam.named_parameters():
        assert param.grad is not None and float(param.grad.abs().max()) > 1e-6, name


@pytest.mark.parametrize(
    ("name", "value", "match"),
    [
        ("features", torch.randn(2, 7, 4, 4), "D = 8"),
        ("token", torch.randn(2, 4), r"`token` must have shape \(B, 8\)"),
        ("descriptor_map", torch.randn(2, 3, 5, 4), "`descriptor_map` must have shape"),
        ("descriptors", torch.rand(2, 4), "K = 3"),
        ("descriptors", torch.rand(3, 3), "`descriptors` must have the same batch"),
        ("descriptors", -torch.rand(2, 3), r"\[0, 1\]"),
    ],
)
def test_bad_inputs_name_the_argument(name, value, match):
    args = {
        "features": torch.randn(2, 8, 4, 4),
        "token": torch.randn(2, 8),
        "descriptor_map": torch.randn(2, 3, 4, 4),
        "descriptors": torch.rand(2, 3),
    }
    args[name] = value
    with pytest.raises(ValueError, match=match):
        DescriptorAttentionModulation(8, 3)(**args)
