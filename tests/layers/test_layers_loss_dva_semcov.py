"""DVALoss (paper Eq. 7) and SemCovLoss (Eq. 10-12)."""

import math

import pytest
import torch
import torch.nn.functional as F

from semcov_layers import DVALoss, SemCovLoss, SemCovNetOutput, dva_loss, semcov_loss


def test_dva_on_orthogonal_embeddings_by_hand():
    # v = d = I_4: S = I / tau, so each row's CE is log(1 + 3 exp(-1/tau)).
    eye = torch.eye(4)
    tau = 0.5
    expected = math.log(1 + 3 * math.exp(-1 / tau))
    assert math.isclose(dva_loss(eye, eye, tau).item(), expected, rel_tol=1e-6)
    assert math.isclose(dva_loss(eye, eye, tau, symmetric=True).item(), expected, rel_tol=1e-6)


def test_dva_mismatched_pairs_cost_more():
    # Pairing image i with descriptor i+1 puts the diagonal at cosine 0 and one off-diagonal at 1.
    eye = torch.eye(4)
    shifted = torch.roll(eye, 1, dims=0)
    tau = 0.5
    expected = math.log(math.exp(1 / tau) + 3) - 0.0
    assert math.isclose(dva_loss(eye, shifted, tau).item(), expected, rel_tol=1e-6)


def test_dva_normalizes_and_matches_cross_entropy():
    torch.manual_seed(0)
    z, d = torch.randn(6, 8) * 5, torch.randn(6, 8)
    logits = F.normalize(z, dim=1) @ F.normalize(d, dim=1).T / 0.07
    expected = F.cross_entropy(logits, torch.arange(6), reduction="none")
    assert torch.allclose(dva_loss(z, d, reduction="none"), expected, atol=1e-5)
    assert torch.allclose(dva_loss(z, d, reduction="sum"), expected.sum(), atol=1e-4)
    symmetric = 0.5 * (expected + F.cross_entropy(logits.T, torch.arange(6), reduction="none"))
    assert torch.allclose(dva_loss(z, d, symmetric=True, reduction="none"), symmetric, atol=1e-5)
    assert not torch.allclose(symmetric, expected)


def test_dva_temperature_is_learnable_log_parametrized_and_clamped():
    loss = DVALoss()
    assert math.isclose(loss.temperature.item(), 0.07, rel_tol=1e-6)
    assert math.isclose(loss.log_temperature.item(), math.log(0.07), rel_tol=1e-6)
    torch.manual_seed(0)
    loss(torch.randn(4, 8), torch.randn(4, 8)).backward()
    assert loss.log_temperature.grad is not None and loss.log_temperature.grad.abs() > 0
    with torch.no_grad():
        loss.log_temperature.fill_(math.log(1e-5))
    assert math.isclose(loss.temperature.item(), 0.01, rel_tol=1e-6)
    fixed = DVALoss(learnable=False)
    assert not list(fixed.parameters()) and "log_temperature" in fixed.state_dict()


@pytest.mark.parametrize(
    ("z", "d", "error", "match"),
    [
        (
            torch.randn(4, 8),
            torch.randn(4, 6),
            ValueError,
            "`descriptor_embedding` must have shape",
        ),
        (
            torch.randn(4, 8),
            torch.randn(3, 8),
            ValueError,
            "`descriptor_embedding` must have shape",
        ),
        (torch.randn(4), torch.randn(4), ValueError, r"`embedding` must have shape \(B, D\)"),
        ("z", torch.randn(4, 8), TypeError, "`embedding` must be a torch.Tensor"),
    ],
)
def test_dva_bad_inputs(z, d, error, match):
    with pytest.raises(error, match=match):
        DVALoss()(z, d)


def test_dva_bad_settings():
    with pytest.raises(ValueError, match="`temperature`"):
        DVALoss(temperature=0.001)
    with pytest.raises(ValueError, match="`reduction`"):
        DVALoss(reduction="avg")
    with pytest.raises(ValueError, match="`temperature`"):
        dva_loss(torch.eye(2), torch.eye(2), temperature=0.0)


def _output(batch: int = 6, classes: int = 2, k: int = 3, d: int = 8) -> SemCovNetOutput:
    generator = torch.Generator().manual_seed(0)

    def rand(*shape):
        return torch.randn(*shape, generator=generator, requires_grad=True)

    return SemCovNetOutput(
        logits=rand(batch, classes),
        descriptor_logits=rand(batch, k),
        embedding=rand(batch, d),
        descriptor_embedding=rand(batch, d),
        features=torch.zeros(batch, d, 1, 1),
        token=torch.zeros(batch, d),
        maps=(),
        descriptors=(),
    )


def _labels(batch: int = 6, k: int = 3):
    generator = torch.Generator().manual_seed(1)
    return (
        torch.tensor([0, 1] * (batch // 2)),
        torch.rand(batch, k, generator=generator),
        torch.arange(batch) % 3,
    )


def test_semcov_loss_is_eq12_with_paper_weights():
    out = _output()
    y, p, s = _labels()
    criterion = SemCovLoss(torch.rand(2, 3, 3))
    assert (criterion.lambda_desc, criterion.lambda_dva, criterion.lambda_cdi) == (0.05, 0.1, 0.1)
    terms = criterion(out, y, p, s)
    assert torch.allclose(terms.classification, F.cross_entropy(out.logits, y))
    assert torch.allclose(
        terms.descriptor, F.binary_cross_entropy_with_logits(out.descriptor_logits, p)
    )
    assert torch.allclose(terms.dva, dva_loss(out.embedding, out.descriptor_embedding, 0.07))
    assert terms.cdi.item() > 0
    expected = terms.classification + 0.05 * terms.descriptor + 0.1 * terms.dva + 0.1 * terms.cdi
    assert torch.allclose(terms.total, expected)
    terms.total.backward()
    for name in ("logits", "descriptor_logits", "embedding", "descriptor_embedding"):
        assert getattr(out, name).grad is not None, name


def test_semcov_loss_without_coverage_has_zero_cdi():
    out = _output()
    y, p, _ = _labels()
    terms = SemCovLoss(lambda_dva=0.5)(out, y, p)
    assert terms.cdi.item() == 0.0
    assert torch.allclose(
        terms.total, terms.classification + 0.05 * terms.descriptor + 0.5 * terms.dva
    )


def test_semcov_loss_binary_logits_and_custom_classification_loss():
    out = _output(classes=1)
    y, p, _ = _labels()
    terms = SemCovLoss()(out, y, p)
    assert torch.allclose(
        terms.classification, F.binary_cross_entropy_with_logits(out.logits[:, 0], y.float())
    )
    seen = []

    def custom(logits, targets):
        seen.append(logits.shape)
        return logits.sum() * 0 + 1.5

    two_class = _output()
    terms = SemCovLoss(classification_loss=custom)(two_class, y, p)
    assert seen == [(6, 2)] and terms.classification.item() == 1.5


def test_semcov_loss_sum_reduction():
    out = _output()
    y, p, _ = _labels()
    mean = SemCovLoss()(out, y, p)
    total = SemCovLoss(reduction="sum")(out, y, p)
    assert torch.allclose(total.classification, mean.classification * 6, atol=1e-5)
    assert torch.allclose(total.dva, mean.dva * 6, atol=1e-5)


def test_functional_matches_module():
    out = _output()
    y, p, _ = _labels()
    module = SemCovLoss()(out, y, p)
    functional = semcov_loss(
        out.logits, out.descriptor_logits, out.embedding, out.descriptor_embedding, y, p
    )
    assert torch.allclose(module.total, functional.total)


def test_semcov_loss_bad_inputs():
    out = _output()
    y, p, s = _labels()
    with pytest.raises(ValueError, match="`subgroups`"):
        SemCovLoss(torch.rand(2, 3, 3))(out, y, p)
    with pytest.raises(ValueError, match="`subgroups`"):
        SemCovLoss()(out, y, p, s)
    with pytest.raises(TypeError, match="`output`"):
        SemCovLoss()(out.logits, y, p)
    with pytest.raises(ValueError, match="`targets` must hold indices"):
        SemCovLoss()(out, y + 2, p)
    with pytest.raises(TypeError, match="`targets` must be an integer"):
        SemCovLoss()(out, y.float(), p)
    with pytest.raises(ValueError, match="`descriptor_logits` must have shape"):
        SemCovLoss()(out, y, p[:, :2])
    with pytest.raises(ValueError, match="`lambda_cdi`"):
        SemCovLoss(lambda_cdi=-1.0)
    with pytest.raises(ValueError, match="need a `coverage`"):
        SemCovLoss(decay=0.5)


def test_gather_and_distributed_change_nothing_on_one_process():
    g = torch.Generator().manual_seed(3)
    z, d = torch.randn(6, 5, generator=g), torch.randn(6, 5, generator=g)
    for symmetric in (False, True):
        plain = dva_loss(z, d, 0.1, symmetric=symmetric, reduction="none")
        gathered = dva_loss(z, d, 0.1, symmetric=symmetric, gather=True, reduction="none")
        assert torch.equal(plain, gathered)
    assert SemCovLoss(distributed=True).dva.gather and not SemCovLoss().dva.gather
