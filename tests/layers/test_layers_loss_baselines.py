"""Baseline losses: class-balanced, asymmetric, Group DRO, NIR and semantic-scale-balanced."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from semcov_layers import (
    AsymmetricLoss,
    ClassBalancedLoss,
    GroupDROLoss,
    NIRRegularizer,
    SemanticScaleBalancedLoss,
    asymmetric_loss,
    class_semantic_scale,
    effective_number_class_weights,
    group_dro_loss,
    nir_regularizer,
    semantic_scale_weights,
)

# ---------------------------------------------------------------- class-balanced (Cui et al.)


@pytest.mark.parametrize("beta", [0.0, 0.9, 0.999, 0.9999])
def test_effective_number_class_weights_are_the_formula(beta):
    counts = [5000, 500, 50, 5]
    raw = [(1 - beta) / (1 - beta**n) for n in counts]
    expected = np.array(raw) * len(counts) / sum(raw)
    assert np.allclose(effective_number_class_weights(counts, beta).numpy(), expected, rtol=1e-6)


def test_effective_number_class_weights_limits():
    assert torch.allclose(effective_number_class_weights([10, 1000], 0.0), torch.ones(2))
    # beta -> 1 approaches inverse class frequency.
    weights = effective_number_class_weights([10, 1000], 0.999999)
    assert weights[0] / weights[1] == pytest.approx(100.0, rel=1e-3)


def test_class_balanced_softmax_and_sigmoid_by_hand():
    logits = torch.tensor([[2.0, 0.0], [0.5, 1.5], [0.0, 0.0]])
    targets = torch.tensor([0, 1, 1])
    loss = ClassBalancedLoss([300, 100], beta=0.99, reduction="none")
    w = effective_number_class_weights([300, 100], 0.99)
    expected = w[targets] * F.cross_entropy(logits, targets, reduction="none")
    assert torch.allclose(loss(logits, targets), expected)
    sigmoid = ClassBalancedLoss([300, 100], beta=0.99, loss_type="sigmoid", reduction="mean")
    one_hot = F.one_hot(targets, 2).float()
    bce = F.binary_cross_entropy_with_logits(logits, one_hot, reduction="none").sum(1)
    assert torch.allclose(sigmoid(logits, targets), (w[targets] * bce).mean())
    binary = ClassBalancedLoss([300, 100], beta=0.99, loss_type="sigmoid", reduction="sum")
    single = torch.tensor([1.0, -0.5, 2.0])
    expected_binary = (
        w[targets] * F.binary_cross_entropy_with_logits(single, targets.float(), reduction="none")
    ).sum()
    assert torch.allclose(binary(single, targets), expected_binary)


def test_class_balanced_bad_inputs():
    with pytest.raises(ValueError, match="`samples_per_class` must be positive"):
        ClassBalancedLoss([10, 0])
    with pytest.raises(ValueError, match="`beta`"):
        ClassBalancedLoss([10, 5], beta=1.0)
    loss = ClassBalancedLoss([10, 5, 3])
    with pytest.raises(ValueError, match=r"`logits` must have shape \(B, 3\)"):
        loss(torch.randn(4, 2), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="`targets` must hold indices"):
        loss(torch.randn(4, 3), torch.full((4,), 3))
    with pytest.raises(ValueError, match="loss_type='sigmoid'"):
        ClassBalancedLoss([10, 5])(torch.randn(4), torch.zeros(4, dtype=torch.long))


# ---------------------------------------------------------------- asymmetric (Ridnik et al.)


def test_asl_with_zero_gammas_and_clip_is_bce():
    torch.manual_seed(0)
    logits = torch.randn(8, 5) * 4
    targets = (torch.rand(8, 5) > 0.6).float()
    asl = asymmetric_loss(logits, targets, gamma_neg=0.0, gamma_pos=0.0, clip=0.0, reduction="none")
    bce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none").sum(1)
    assert torch.allclose(asl, bce, atol=1e-5)
    module = AsymmetricLoss(gamma_neg=0.0, gamma_pos=0.0, clip=0.0, reduction="sum")
    assert torch.allclose(module(logits, targets), bce.sum(), atol=1e-4)


def test_asl_by_hand_with_focusing_and_clip():
    # One positive with p = sigmoid(0) = 0.5 and one negative with p = 0.8.
    logits = torch.tensor([[0.0, math.log(4.0)]])
    targets = torch.tensor([[1.0, 0.0]])
    gamma_pos, gamma_neg, clip = 1.0, 2.0, 0.1
    positive = -((1 - 0.5) ** gamma_pos) * math.log(0.5)
    shifted = 0.8 - clip
    negative = -(shifted**gamma_neg) * math.log(1 - shifted)
    value = asymmetric_loss(logits, targets, gamma_neg=gamma_neg, gamma_pos=gamma_pos, clip=clip)
    assert value.item() == pytest.approx(positive + negative, rel=1e-5)


def test_asl_discards_easy_negatives_below_the_clip():
    logits = torch.tensor([[-5.0]])  # p = 0.0067 < clip: the negative contributes nothing
    assert asymmetric_loss(logits, torch.tensor([[0.0]]), clip=0.05).item() == 0.0


def test_asl_class_index_targets_equal_one_hot():
    torch.manual_seed(0)
    logits = torch.randn(6, 3)
    targets = torch.randint(0, 3, (6,))
    one_hot = F.one_hot(targets, 3).float()
    assert torch.allclose(AsymmetricLoss()(logits, targets), AsymmetricLoss()(logits, one_hot))


def test_asl_bad_inputs():
    with pytest.raises(ValueError, match="`targets` must have shape"):
        AsymmetricLoss()(torch.randn(4, 3), torch.zeros(4, 2))
    with pytest.raises(ValueError, match="`clip`"):
        AsymmetricLoss(clip=1.0)
    with pytest.raises(ValueError, match=r"`targets` .* \[0, 1\]"):
        AsymmetricLoss()(torch.randn(4, 3), torch.full((4, 3), 2.0))


# ---------------------------------------------------------------- Group DRO (Sagawa et al.)


def test_group_dro_weights_move_toward_the_worst_group():
    dro = GroupDROLoss(3, step_size=0.1)
    losses = torch.tensor([0.1, 0.2, 2.0, 2.2, 0.5, 0.7])
    groups = torch.tensor([0, 0, 1, 1, 2, 2])
    for _ in range(5):
        dro(losses, groups)
    weights = dro.group_weights
    assert weights.argmax().item() == 1
    assert weights[1] > weights[2] > weights[0]
    assert weights.sum().item() == pytest.approx(1.0)


def test_group_dro_update_is_exponentiated_gradient():
    dro = GroupDROLoss(2, step_size=0.5)
    losses = torch.tensor([1.0, 3.0, 2.0], requires_grad=True)
    groups = torch.tensor([0, 0, 1])
    robust = dro(losses, groups)
    group_loss = torch.tensor([2.0, 2.0])
    q = 0.5 * torch.exp(0.5 * group_loss)
    q = q / q.sum()
    assert torch.allclose(dro.group_weights, q)
    assert robust.item() == pytest.approx(float(q @ group_loss))
    robust.backward()
    # d(robust)/d(loss_i) = q_g / n_g of the sample's group.
    assert torch.allclose(losses.grad, torch.tensor([q[0] / 2, q[0] / 2, q[1]]))


def test_group_dro_adjustment_enters_only_the_weight_update():
    counts = [100, 4]
    dro = GroupDROLoss(2, step_size=1.0, adjustment=2.0, group_counts=counts)
    losses = torch.tensor([1.0, 1.0])
    groups = torch.tensor([0, 1])
    robust = dro(losses, groups)
    # Equal batch losses, but the small group is adjusted by 2 / sqrt(4) = 1 vs 2 / 10 = 0.2.
    step = torch.tensor([1.0 + 0.2, 1.0 + 1.0])
    expected = torch.softmax(step, dim=0)
    assert torch.allclose(dro.group_weights, expected)
    assert torch.allclose(dro.last_group_losses, torch.tensor([1.0, 1.0]))
    assert robust.item() == pytest.approx(1.0)  # sum_g q_g * 1, with no adjustment in the loss


def test_group_dro_absent_groups_keep_their_weight_and_eval_does_not_update():
    dro = GroupDROLoss(3, step_size=1.0, adjustment=1.0, group_counts=[1, 1, 1])
    dro(torch.tensor([1.0, 1.0]), torch.tensor([0, 1]))
    log_w = torch.log(dro.group_weights)
    assert log_w[0] == pytest.approx(log_w[1].item())
    assert log_w[0] - log_w[2] == pytest.approx(2.0, abs=1e-5)  # exp(eta (1 + 1)) vs unchanged
    before = dro.group_weights.clone()
    dro.eval()
    dro(torch.tensor([5.0]), torch.tensor([2]))
    assert torch.equal(dro.group_weights, before)
    dro.reset()
    assert torch.allclose(dro.group_weights, torch.full((3,), 1 / 3))


def test_group_dro_functional_and_errors():
    value = group_dro_loss(
        torch.tensor([1.0, 3.0, 5.0]), torch.tensor([0, 0, 1]), torch.tensor([0.25, 0.75])
    )
    assert value.item() == pytest.approx(0.25 * 2.0 + 0.75 * 5.0)
    with pytest.raises(ValueError, match="`group_counts`"):
        GroupDROLoss(2, adjustment=1.0)
    with pytest.raises(ValueError, match="`groups` must hold indices"):
        GroupDROLoss(2)(torch.ones(2), torch.tensor([0, 2]))
    with pytest.raises(ValueError, match="per-sample losses"):
        GroupDROLoss(2)(torch.ones(2, 2), torch.tensor([0, 1]))


# ---------------------------------------------------------------- NIR


def test_nir_is_zero_when_activations_are_uniform():
    torch.manual_seed(0)
    activations = torch.full((6, 10), 0.7)
    assert nir_regularizer(activations, torch.randn(6, 3)).item() == pytest.approx(0.0, abs=1e-12)
    # Per-sample constant rows (each sample spreads evenly over the neurons) are also uniform.
    rows = torch.rand(6, 1).expand(6, 10)
    assert NIRRegularizer()(rows, torch.randn(6)).item() == pytest.approx(0.0, abs=1e-12)


def test_nir_by_hand():
    # Binary logits 0 -> P(1) = 0.5 for both samples: weighted means are plain means.
    activations = torch.tensor([[1.0, 3.0], [3.0, 5.0]])
    value = nir_regularizer(activations, torch.zeros(2), reduction="none")
    # Means per neuron (2, 4): population variance 1, for the negative and the positive class.
    assert torch.allclose(value, torch.tensor([1.0, 1.0]))
    # A confident positive sample dominates the positive-class means.
    skew = nir_regularizer(activations, torch.tensor([20.0, -20.0]), reduction="none")
    assert torch.allclose(skew, torch.tensor([1.0, 1.0]), atol=1e-6)
    spread = torch.tensor([[0.0, 4.0], [1.0, 1.0]])
    value = nir_regularizer(spread, torch.tensor([20.0, -20.0]), reduction="none")
    assert torch.allclose(value, torch.tensor([0.0, 4.0]), atol=1e-6)


def test_nir_penalty_gradient_spreads_activation():
    activations = torch.tensor([[5.0, 0.0, 0.0], [4.0, 1.0, 0.0]], requires_grad=True)
    NIRRegularizer()(activations, torch.randn(2, 2)).backward()
    # Lowering the dominant neuron and raising the weak ones reduces the penalty.
    assert bool((activations.grad[:, 0] > 0).all()) and bool((activations.grad[:, 2] < 0).all())


def test_nir_bad_inputs():
    with pytest.raises(ValueError, match=r"`activations` must have shape \(B, N\)"):
        NIRRegularizer()(torch.randn(4, 3, 2), torch.randn(4))
    with pytest.raises(ValueError, match="`logits` must have the same batch"):
        NIRRegularizer()(torch.randn(4, 3), torch.randn(5))


# ---------------------------------------------------------------- semantic scale (Ma et al.)


def test_semantic_scale_by_hand():
    # Z = [[1, 0], [-1, 0]] (centred), d = m = 2: det(I + Z^T Z) = det(diag(3, 1)) = 3.
    z = torch.tensor([[1.0, 0.0], [-1.0, 0.0]])
    expected = 0.5 * math.log2(3.0)
    assert class_semantic_scale(z, normalize=False).item() == pytest.approx(expected)
    # Normalizing and centring leave this Z unchanged.
    assert class_semantic_scale(z).item() == pytest.approx(expected)
    # m > d uses the d x d Gram matrix: three copies of the same two points, d / m = 2 / 6.
    tripled = z.repeat(3, 1)
    assert class_semantic_scale(tripled, normalize=False).item() == pytest.approx(
        0.5 * math.log2(1 + 2 / 6 * 6)
    )


def test_semantic_scale_grows_with_diversity_and_is_scale_free():
    torch.manual_seed(0)
    tight = torch.randn(1, 16) + 0.05 * torch.randn(64, 16)
    diverse = torch.randn(64, 16)
    assert class_semantic_scale(diverse) > class_semantic_scale(tight)
    assert class_semantic_scale(diverse * 10).item() == pytest.approx(
        class_semantic_scale(diverse).item()
    )
    assert class_semantic_scale(torch.ones(5, 4)).item() == pytest.approx(0.0, abs=1e-9)


def test_semantic_scale_weights():
    weights = semantic_scale_weights(torch.tensor([1.0, 2.0, 4.0]))
    inverse = torch.tensor([1.0, 0.5, 0.25])
    assert torch.allclose(weights, inverse * 3 / inverse.sum())
    assert torch.allclose(
        semantic_scale_weights(torch.tensor([1.0, 2.0]), alpha=0.0), torch.ones(2)
    )
    assert bool(torch.isfinite(semantic_scale_weights(torch.tensor([0.0, 1.0]))).all())


def test_semantic_scale_loss_updates_weights_from_the_feature_bank():
    torch.manual_seed(0)
    loss = SemanticScaleBalancedLoss(2, 16, bank_size=32)
    targets = torch.tensor([0] * 8 + [1] * 8)
    logits = torch.randn(16, 2)
    features = torch.cat([torch.randn(1, 16) + 0.05 * torch.randn(8, 16), torch.randn(8, 16)])
    first = loss(logits, targets, features)
    # The first call used the initial weights (all 1): plain cross-entropy.
    assert torch.allclose(first, F.cross_entropy(logits, targets))
    assert loss.bank_count.tolist() == [8, 8]
    # The low-diversity class 0 now weighs more.
    assert loss.weights[0] > 1.0 > loss.weights[1]
    assert torch.allclose(loss.weights, semantic_scale_weights(loss.scales))
    second = loss(logits, targets, features)
    expected = (loss.weights[targets] * F.cross_entropy(logits, targets, reduction="none")).mean()
    assert torch.allclose(second, expected)


def test_semantic_scale_bank_is_a_ring_buffer_and_eval_freezes_it():
    loss = SemanticScaleBalancedLoss(2, 4, bank_size=4, min_samples=2)
    for step in range(3):
        features = torch.full((3, 4), float(step))
        loss(torch.randn(3, 2), torch.tensor([0, 0, 0]), features)
    assert loss.bank_count.tolist() == [4, 0]
    # 9 vectors through 4 slots: step 2 wrote slots 2, 3 and 0; slot 1 still holds step 1.
    assert loss.bank[0, :, 0].tolist() == [2.0, 1.0, 2.0, 2.0]
    assert torch.equal(loss.weights, torch.ones(2))  # class 1 has no features yet
    loss.eval()
    loss(torch.randn(2, 2), torch.tensor([1, 1]), torch.randn(2, 4))
    assert loss.bank_count.tolist() == [4, 0]


def test_semantic_scale_loss_bad_inputs():
    loss = SemanticScaleBalancedLoss(3, 8)
    with pytest.raises(ValueError, match=r"`features` must have shape \(B, d\) with d = 8"):
        loss(torch.randn(4, 3), torch.zeros(4, dtype=torch.long), torch.randn(4, 6))
    with pytest.raises(ValueError, match="`features` must have the same batch"):
        loss(torch.randn(5, 3), torch.zeros(5, dtype=torch.long), torch.randn(4, 8))
    with pytest.raises(ValueError, match="`min_samples`"):
        SemanticScaleBalancedLoss(3, 8, bank_size=4, min_samples=5)
