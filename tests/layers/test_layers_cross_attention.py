"""DescriptorCrossAttention (paper Eq. 4) against a hand-written reference."""

import pytest
import torch
import torch.nn.functional as F

from semcov_layers import DescriptorCrossAttention


def _reference(
    module: DescriptorCrossAttention, query: torch.Tensor, context: torch.Tensor
) -> torch.Tensor:
    """Eq. 4 written out head by head: t = LN(t_d + MHA), then LN(t + FFN(t))."""
    heads = module.num_heads
    head_dim = module.attn_dim // heads
    ctx = module.norm_context(context)
    q = query @ module.q.weight.T + module.q.bias
    kv = ctx @ module.kv.weight.T + module.kv.bias
    k, v = kv[..., : module.attn_dim], kv[..., module.attn_dim :]
    outputs = []
    for h in range(heads):
        sl = slice(h * head_dim, (h + 1) * head_dim)
        scores = q[..., sl] @ k[..., sl].transpose(-1, -2) / head_dim**0.5
        outputs.append(scores.softmax(dim=-1) @ v[..., sl])
    attended = torch.cat(outputs, dim=-1) @ module.proj.weight.T + module.proj.bias
    tokens = module.norm1(query + attended)
    return module.norm2(tokens + module.mlp(tokens))


def test_matches_multi_head_reference():
    torch.manual_seed(0)
    module = DescriptorCrossAttention(16, 4, attn_dim=8, mlp_ratio=1.0).eval()
    query, context = torch.randn(3, 2, 16), torch.randn(3, 10, 16)
    assert torch.allclose(module(query, context), _reference(module, query, context), atol=1e-5)


def test_single_patch_attends_with_weight_one():
    # With one patch token the attention weights are 1, so MHA(t, c) = proj(W_v LN(c) + b_v).
    torch.manual_seed(0)
    module = DescriptorCrossAttention(8, 2, mlp_ratio=0.0).eval()
    query, context = torch.randn(2, 8), torch.randn(2, 1, 8)
    value = module.kv(module.norm_context(context))[..., 8:]
    expected = module.norm1(query + module.proj(value)[:, 0])
    assert torch.allclose(module(query, context), expected, atol=1e-6)


def test_two_dim_query_is_one_token():
    torch.manual_seed(0)
    module = DescriptorCrossAttention(8, 2, context_dim=12).eval()
    query, context = torch.randn(2, 8), torch.randn(2, 5, 12)
    out = module(query, context)
    assert out.shape == (2, 8)
    assert torch.allclose(out, module(query.unsqueeze(1), context)[:, 0])


def test_output_depends_on_context_and_is_layer_normed():
    torch.manual_seed(0)
    module = DescriptorCrossAttention(8, 2)
    query = torch.randn(2, 8)
    a, b = module(query, torch.randn(2, 5, 8)), module(query, torch.randn(2, 5, 8))
    assert not torch.allclose(a, b)
    assert torch.allclose(a.mean(dim=-1), torch.zeros(2), atol=1e-5)


def test_every_parameter_gets_a_gradient():
    torch.manual_seed(0)
    module = DescriptorCrossAttention(8, 2, mlp_ratio=0.5)
    (module(torch.randn(2, 8), torch.randn(2, 5, 8)) * torch.randn(2, 8)).sum().backward()
    for name, param in module.named_parameters():
        assert param.grad is not None and float(param.grad.abs().max()) > 1e-6, name


def test_sdpa_is_used(monkeypatch):
    calls = []
    original = F.scaled_dot_product_attention

    def spy(*args, **kwargs):
        calls.append(args[0].shape)
        return original(*args, **kwargs)

    monkeypatch.setattr(F, "scaled_dot_product_attention", spy)
    DescriptorCrossAttention(8, 2)(torch.randn(3, 8), torch.randn(3, 4, 8))
    assert calls == [torch.Size([3, 2, 1, 4])]


@pytest.mark.parametrize(
    ("query", "context", "error", "match"),
    [
        (torch.randn(2, 7), torch.randn(2, 4, 8), ValueError, "`query` must have shape"),
        (
            torch.randn(2, 8),
            torch.randn(2, 4, 6),
            ValueError,
            r"`context` must have shape \(B, N, C\)",
        ),
        (torch.randn(2, 8), torch.randn(3, 4, 8), ValueError, "`context` must have the same batch"),
        ("token", torch.randn(2, 4, 8), TypeError, "`query` must be a torch.Tensor"),
        (torch.randn(2, 8), torch.randn(2, 8), ValueError, "`context` must have shape"),
    ],
)
def test_bad_inputs_name_the_argument(query, context, error, match):
    with pytest.raises(error, match=match):
        DescriptorCrossAttention(8, 2)(query, context)


def test_heads_must_divide_attention_width():
    with pytest.raises(ValueError, match="`attn_dim`"):
        DescriptorCrossAttention(8, 3)
