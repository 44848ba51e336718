"""SemanticEncoder: orders, feedback, ablation switches, gradients, compile, bf16, determinism."""

import io

import pytest
import torch

from semcov_layers import SemanticEncoder, SemanticEncoderLayer
from semcov_layers.encoder import layer_orders

C, K, D = 12, 5, 32


def _inputs(batch: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    return torch.randn(batch, C, 4, 4, generator=generator), torch.rand(
        batch, K, generator=generator
    )


def _encoder(**kwargs) -> SemanticEncoder:
    torch.manual_seed(0)
    options = {"dim": D, "depth": 3}
    options.update(kwargs)
    return SemanticEncoder(C, K, **options).eval()


@pytest.mark.parametrize(
    ("order", "depth", "expected"),
    [
        ("attn_dam", 3, ("attn_dam",) * 3),
        ("dam_attn", 2, ("dam_attn",) * 2),
        ("mixture", 2, ("mixture",) * 2),
        ("mixture_attn_dam", 3, ("attn_dam", "attn_dam", "dam_attn")),
        ("mixture_dam_attn", 3, ("dam_attn", "dam_attn", "attn_dam")),
        ("mixture_dam_attn", 4, ("dam_attn", "dam_attn", "attn_dam", "attn_dam")),
        ("mixture_attn_dam", 1, ("attn_dam",)),
    ],
)
def test_layer_orders(order, depth, expected):
    assert layer_orders(order, depth) == expected
    assert tuple(layer.order for layer in _encoder(order=order, depth=depth).layers) == expected


def test_output_shapes():
    features, p = _inputs()
    out = _encoder()(features, p)
    assert out.features.shape == (3, D, 4, 4)
    assert out.token.shape == (3, D)
    assert len(out.maps) == 3 and all(m.shape == (3, K, 4, 4) for m in out.maps)
    assert len(out.descriptors) == 3 and torch.equal(out.descriptors[0], p)


def test_feedback_refines_descriptors_between_layers():
    features, p = _inputs()
    with_feedback = _encoder(feedback=True)(features, p)
    assert not torch.allclose(with_feedback.descriptors[1], p)
    assert bool(((with_feedback.descriptors[1] > 0) & (with_feedback.descriptors[1] < 1)).all())
    without = _encoder(feedback=False)(features, p)
    assert all(torch.equal(d, p) for d in without.descriptors)


def test_residual_feedback_starts_near_the_input_descriptors():
    encoder = _encoder(feedback_mode="residual")
    token = torch.zeros(3, D)
    p = _inputs()[1]
    with torch.no_grad():
        encoder.feedback_heads[0].weight.zero_()
        encoder.feedback_heads[0].bias.zero_()
    assert torch.allclose(
        encoder.refine_descriptors(p, token, 0), p.clamp(1e-4, 1 - 1e-4), atol=1e-6
    )
    replace = _encoder(feedback_mode="replace")
    with torch.no_grad():
        replace.feedback_heads[0].weight.zero_()
        replace.feedback_heads[0].bias.zero_()
    assert torch.allclose(replace.refine_descriptors(p, token, 0), torch.full_like(p, 0.5))


BASE = {"order": "attn_dam", "feedback": True, "feedback_mode": "residual", "sdm_mode": "gated"}
SWITCHES = [
    ("order", "dam_attn"),
    ("order", "mixture"),
    ("order", "mixture_attn_dam"),
    ("order", "mixture_dam_attn"),
    ("feedback", False),
    ("feedback_mode", "replace"),
    ("sdm_mode", "descriptor"),
    ("sdm_mode", "feature"),
    ("sdm_mode", "add"),
    ("sdm_mode", "mul"),
    ("map_norm", "none"),
    ("dam_residual", True),
    ("uncertainty_source", "refined"),
]


@pytest.mark.parametrize(("name", "value"), SWITCHES)
def test_every_ablation_switch_changes_the_output(name, value):
    # The variant gets the base model's weights wherever the parameters are shared, so a
    # difference comes from the switch itself, not from a different initialisation.
    features, p = _inputs()
    base = _encoder(**BASE)
    variant = _encoder(**{**BASE, name: value})
    variant.load_state_dict(base.state_dict(), strict=False)
    a, b = base(features, p), variant(features, p)
    assert not torch.allclose(a.features, b.features, atol=1e-5)


def _record_dam_inputs(encoder: SemanticEncoder) -> tuple[list, list]:
    """Per DAM call: the descriptors it received and the gate strength alpha it computed."""
    received, alphas = [], []
    for layer in encoder.layers:
        layer.dam.register_forward_pre_hook(lambda _, args: received.append(args[3]))
        original = layer.dam.gate_strength

        def recording(descriptors, original=original):
            alpha = original(descriptors)
            alphas.append(alpha)
            return alpha

        layer.dam.gate_strength = recording
    return received, alphas


@pytest.mark.parametrize("order", ["attn_dam", "mixture_dam_attn", "mixture"])
def test_dam_uncertainty_reads_the_input_descriptors_in_every_layer(order):
    features, p = _inputs()
    encoder = _encoder(order=order, feedback=True).train()
    received, alphas = _record_dam_inputs(encoder)
    out = encoder(features, p)
    calls_per_layer = 2 if order == "mixture" else 1
    assert len(received) == 3 * calls_per_layer
    assert all(torch.equal(r, p) for r in received)
    assert not torch.allclose(out.descriptors[1], p)  # feedback did refine the SDM's p'
    for index in range(1, 3):
        refined = out.descriptors[index]
        for alpha in alphas[index * calls_per_layer : (index + 1) * calls_per_layer]:
            assert torch.autograd.grad(alpha.sum(), refined, allow_unused=True)[0] is None
    # No gradient reaches the feedback heads through u either.
    late_alphas = torch.stack(alphas[calls_per_layer:]).sum()
    heads = list(encoder.feedback_heads.parameters())
    assert all(g is None for g in torch.autograd.grad(late_alphas, heads, allow_unused=True))


def test_refined_uncertainty_source_keeps_the_old_behaviour():
    features, p = _inputs()
    encoder = _encoder(feedback=True, uncertainty_source="refined").train()
    received, alphas = _record_dam_inputs(encoder)
    out = encoder(features, p)
    assert all(torch.equal(r, d) for r, d in zip(received, out.descriptors, strict=True))
    gradient = torch.autograd.grad(alphas[1].sum(), out.descriptors[1])[0]
    assert float(gradient.abs().max()) > 1e-6  # the gate is learned through p'


def test_the_mixture_orders_differ_from_each_other():
    features, p = _inputs()
    base = _encoder(order="mixture_attn_dam")
    other = _encoder(order="mixture_dam_attn")
    other.load_state_dict(base.state_dict())
    assert not torch.allclose(base(features, p).features, other(features, p).features, atol=1e-5)


@pytest.mark.parametrize("order", ["attn_dam", "dam_attn", "mixture", "mixture_dam_attn"])
def test_every_parameter_gets_a_gradient(order):
    encoder = _encoder(order=order).train()
    features, p = _inputs()
    out = encoder(features, p)
    (out.features * torch.randn_like(out.features)).sum().add(
        (out.token * torch.randn_like(out.token)).sum()
    ).backward()
    for name, param in encoder.named_parameters():
        assert param.grad is not None, name
        assert bool(torch.isfinite(param.grad).all()), name
        assert float(param.grad.abs().max()) > 1e-6, name


def test_torch_compile_fullgraph():
    # fullgraph=True fails on any graph break. The aot_eager backend traces the same graph as
    # inductor without its C++ code generation, which alone takes about a minute on 2 CPU cores.
    encoder = _encoder(order="mixture_dam_attn", depth=2)
    features, p = _inputs()
    expected = encoder(features, p)
    torch._dynamo.reset()
    compiled = torch.compile(encoder, fullgraph=True, backend="aot_eager")
    out = compiled(features, p)
    assert torch.allclose(out.features, expected.features, atol=1e-5)
    assert torch.allclose(out.token, expected.token, atol=1e-5)


def test_bf16_autocast_forward_backward_is_finite():
    encoder = _encoder(order="mixture").train()
    features, p = _inputs()
    seen = []
    encoder.proj[0].register_forward_hook(lambda module, args, output: seen.append(output.dtype))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = encoder(features, p)
        loss = out.features.float().square().mean() + out.token.float().square().mean()
    loss.backward()
    assert seen == [torch.bfloat16]  # autocast really ran the projection in bf16
    assert bool(torch.isfinite(out.features).all()) and bool(torch.isfinite(out.token).all())
    assert bool(torch.isfinite(loss))
    for name, param in encoder.named_parameters():
        assert param.grad is not None and bool(torch.isfinite(param.grad).all()), name


def test_same_seed_same_output():
    features, p = _inputs()
    assert torch.equal(_encoder()(features, p).features, _encoder()(features, p).features)


def test_state_dict_round_trip():
    features, p = _inputs()
    source = _encoder(order="mixture")
    source.train()(features, p)  # move the BatchNorm running statistics away from their init
    source.eval()
    buffer = io.BytesIO()
    torch.save(source.state_dict(), buffer)
    buffer.seek(0)
    torch.manual_seed(123)
    target = SemanticEncoder(C, K, dim=D, depth=3, order="mixture").eval()
    assert not torch.allclose(target(features, p).features, source(features, p).features)
    target.load_state_dict(torch.load(buffer, weights_only=True))
    assert torch.equal(target(features, p).features, source(features, p).features)


def test_depth_range_and_options_are_checked():
    with pytest.raises(ValueError, match="`depth` must be between 1 and 6"):
        SemanticEncoder(C, K, depth=7)
    with pytest.raises(ValueError, match="`depth` must be >= 1"):
        SemanticEncoder(C, K, depth=0)
    with pytest.raises(ValueError, match="`order`"):
        SemanticEncoder(C, K, order="attn")
    with pytest.raises(ValueError, match="`feedback_mode`"):
        SemanticEncoder(C, K, feedback_mode="add")
    with pytest.raises(ValueError, match="`uncertainty_source`"):
        SemanticEncoder(C, K, uncertainty_source="refine")
    with pytest.raises(ValueError, match="`order`"):
        SemanticEncoderLayer(D, K, order="mixture_dam_attn")


@pytest.mark.parametrize(
    ("features", "p", "error", "match"),
    [
        (torch.randn(3, C + 1, 4, 4), torch.rand(3, K), ValueError, f"C = {C}"),
        (
            torch.randn(3, C, 16),
            torch.rand(3, K),
            ValueError,
            r"`features` must have shape \(B, C, H, W\)",
        ),
        (torch.randn(3, C, 4, 4), torch.rand(3, K + 1), ValueError, f"K = {K}"),
        (torch.randn(3, C, 4, 4), torch.rand(2, K), ValueError, "same batch size"),
        (torch.randn(3, C, 4, 4), torch.rand(3, K) + 1, ValueError, r"\[0, 1\]"),
        (
            torch.randn(3, C, 4, 4).numpy(),
            torch.rand(3, K),
            TypeError,
            "`features` must be a torch.Tensor",
        ),
    ],
)
def test_bad_inputs_name_the_argument(features, p, error, match):
    with pytest.raises(error, match=match):
        _encoder()(features, p)


def test_default_width_and_depth():
    encoder = SemanticEncoder(64, 7)
    assert encoder.dim == 256 and encoder.depth == 3 and encoder.feedback
    assert encoder.proj[0].out_channels == 256


@pytest.mark.parametrize("order", ["dam_attn", "mixture"])
def test_final_token_false_skips_only_token_work(order):
    features, p = _inputs()
    full = _encoder(order=order)
    lean = _encoder(order=order, final_token=False)
    missing, unexpected = lean.load_state_dict(full.state_dict(), strict=False)
    assert not missing and unexpected  # the lean encoder is a strict subset
    assert torch.allclose(full(features, p).features, lean(features, p).features)
    assert sum(x.numel() for x in lean.parameters()) < sum(x.numel() for x in full.parameters())
