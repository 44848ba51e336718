"""CDIRegularizer (paper Eq. 8-9): scipy Pearson reference, running sums, DDP, edge cases."""

import json
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from scipy import stats

from semcov_layers import CDIRegularizer, cdi_regularizer

C, K, S = 2, 5, 4


def _hard_batch(n: int, seed: int):
    rng = np.random.default_rng(seed)
    targets = rng.integers(0, C, n)
    subgroups = rng.integers(0, S, n)
    descriptors = (rng.random((n, K)) < rng.uniform(0.2, 0.8, K)).astype(np.float32)
    # Accuracy depends on the SCG, so errors vary across groups.
    skill = rng.uniform(-2.0, 2.0, (C, S))
    logits = rng.normal(skill[targets, subgroups], 1.0)
    return targets, subgroups, descriptors, logits.astype(np.float32)


def _reference_cdi(coverage, targets, subgroups, descriptors, q):
    """|Pearson(c_g, 1 - TPR_g)| over SCGs with members, computed group by group in numpy."""
    cov, err = [], []
    for c in range(C):
        for k in range(K):
            for s in range(S):
                members = (targets == c) & (subgroups == s) & (descriptors[:, k] == 1)
                if members.any():
                    cov.append(coverage[c, k, s])
                    err.append(1.0 - q[members].mean())
    return abs(stats.pearsonr(cov, err).statistic)


@pytest.mark.parametrize("hard_predictions", [False, True])
def test_matches_scipy_pearson_on_a_large_hard_batch(hard_predictions):
    targets, subgroups, descriptors, logits = _hard_batch(4000, seed=0)
    if hard_predictions:
        logits = np.where(logits > 0, 30.0, -30.0).astype(np.float32)
    coverage = np.random.default_rng(1).random((C, K, S)).astype(np.float32)
    positive = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
    q = np.where(targets == 1, positive, 1.0 - positive)
    expected = _reference_cdi(coverage, targets, subgroups, descriptors, q)
    regularizer = CDIRegularizer(torch.from_numpy(coverage), membership="soft")
    value = regularizer(
        torch.from_numpy(logits),
        torch.from_numpy(targets),
        torch.from_numpy(descriptors),
        torch.from_numpy(subgroups),
    )
    assert expected > 0.05  # a real correlation, not a trivially zero case
    assert abs(value.item() - expected) < 1e-4
    hard = cdi_regularizer(
        torch.from_numpy(logits),
        torch.from_numpy(targets),
        torch.from_numpy(descriptors),
        torch.from_numpy(subgroups),
        torch.from_numpy(coverage),
        membership="hard",
    )
    assert abs(hard.item() - expected) < 1e-4


def test_two_class_logits_equal_one_binary_logit():
    targets, subgroups, descriptors, logits = _hard_batch(500, seed=2)
    coverage = torch.rand(C, K, S, generator=torch.Generator().manual_seed(0))
    one = torch.from_numpy(logits)
    two = torch.stack([torch.zeros_like(one), one], dim=1)  # softmax([0, x])[1] = sigmoid(x)
    args = (
        torch.from_numpy(targets),
        torch.from_numpy(descriptors),
        torch.from_numpy(subgroups),
        coverage,
    )
    assert torch.allclose(cdi_regularizer(one, *args), cdi_regularizer(two, *args), atol=1e-6)


def test_soft_membership_weights_by_descriptor_probability():
    # Two class-1 samples, one subgroup, three descriptors; the soft TPR_g of Eq. 8 by hand:
    # d0: weights (1, 0) -> TPR 1; d1: (0.5, 0.5) -> 0.5; d2: (0, 1) -> 0. Errors (0, 0.5, 1) are
    # perfectly correlated with coverage (0, 1, 2); class-0 SCGs have no support and drop out.
    coverage = torch.tensor([[[5.0], [3.0], [4.0]], [[0.0], [1.0], [2.0]]])
    logits = torch.tensor([10.0, -10.0])  # q = 1 for sample 0, ~0 for sample 1 (both class 1)
    targets = torch.tensor([1, 1])
    subgroups = torch.tensor([0, 0])
    descriptors = torch.tensor([[1.0, 0.5, 0.0], [0.0, 0.5, 1.0]])
    value = cdi_regularizer(logits, targets, descriptors, subgroups, coverage)
    assert value.item() == pytest.approx(1.0, abs=1e-4)


def test_running_sums_equal_one_big_batch():
    targets, subgroups, descriptors, logits = _hard_batch(600, seed=3)
    tensors = [torch.from_numpy(a) for a in (logits, targets, descriptors, subgroups)]
    coverage = torch.rand(C, K, S, generator=torch.Generator().manual_seed(0))
    regularizer = CDIRegularizer(coverage, decay=1.0)
    for start in (0, 200, 400):
        last = regularizer(*(t[start : start + 200] for t in tensors))
    full = cdi_regularizer(*tensors, coverage)
    assert torch.allclose(last, full, atol=1e-5)
    regularizer.reset()
    assert float(regularizer.running_support.abs().sum()) == 0.0


def test_decay_and_eval_mode():
    targets, subgroups, descriptors, logits = _hard_batch(100, seed=4)
    tensors = [torch.from_numpy(a) for a in (logits, targets, descriptors, subgroups)]
    regularizer = CDIRegularizer(torch.rand(C, K, S), decay=0.5)
    regularizer(*tensors)
    first = regularizer.running_support.clone()
    regularizer(*tensors)
    assert torch.allclose(regularizer.running_support, 1.5 * first)
    regularizer.eval()
    regularizer(*tensors)
    assert torch.allclose(regularizer.running_support, 1.5 * first)


def test_gradient_flows_to_the_current_batch_only():
    targets, subgroups, descriptors, logits = _hard_batch(300, seed=5)
    regularizer = CDIRegularizer(torch.rand(C, K, S, generator=torch.Generator().manual_seed(0)))
    regularizer(*(torch.from_numpy(a) for a in (logits, targets, descriptors, subgroups)))
    batch = torch.from_numpy(logits[:50]).requires_grad_()
    regularizer(
        batch, *(torch.from_numpy(a[:50]) for a in (targets, descriptors, subgroups))
    ).backward()
    assert batch.grad is not None and float(batch.grad.abs().sum()) > 0
    assert not regularizer.running_hits.requires_grad


@pytest.mark.parametrize(
    "case",
    [
        "one_group",
        "constant_error",
        "single_sample",
        "empty_batch",
        "zero_descriptors",
        "constant_coverage",
    ],
)
def test_degenerate_batches_are_finite_and_zero(case):
    logits = torch.randn(8, requires_grad=True)
    targets = torch.ones(8, dtype=torch.long)
    subgroups = torch.zeros(8, dtype=torch.long)
    descriptors = torch.rand(8, K)
    coverage = torch.rand(C, K, S)
    if case == "one_group":
        descriptors = torch.zeros(8, K)
        descriptors[:, 0] = 1.0
    elif case == "constant_error":
        logits = torch.full((8,), 50.0, requires_grad=True)  # every prediction correct: e_g = 0
    elif case == "single_sample":
        logits, targets = torch.randn(1, requires_grad=True), targets[:1]
        subgroups, descriptors = subgroups[:1], torch.tensor([[1.0] + [0.0] * (K - 1)])
    elif case == "empty_batch":
        logits = torch.zeros(0, requires_grad=True)
        targets, subgroups, descriptors = targets[:0], subgroups[:0], descriptors[:0]
    elif case == "zero_descriptors":
        descriptors = torch.zeros(8, K)
    else:
        coverage = torch.full((C, K, S), 0.3)
    value = CDIRegularizer(coverage)(logits, targets, descriptors, subgroups)
    assert bool(torch.isfinite(value)) and value.item() == 0.0
    if value.requires_grad:
        value.backward()
        assert logits.grad is not None and bool(torch.isfinite(logits.grad).all())


def test_gradients_are_finite_on_random_small_batches():
    generator = torch.Generator().manual_seed(0)
    regularizer = CDIRegularizer(torch.rand(C, K, S, generator=generator), decay=0.0)
    for _ in range(50):
        logits = torch.randn(4, C, generator=generator).mul(10).requires_grad_()
        targets = torch.randint(0, C, (4,), generator=generator)
        subgroups = torch.randint(0, S, (4,), generator=generator)
        descriptors = (torch.rand(4, K, generator=generator) > 0.5).float()
        value = regularizer(logits, targets, descriptors, subgroups)
        value.backward()
        assert bool(torch.isfinite(value)) and 0.0 <= value.item() <= 1.0 + 1e-6
        assert bool(torch.isfinite(logits.grad).all())


def test_state_dict_holds_running_sums():
    targets, subgroups, descriptors, logits = _hard_batch(100, seed=6)
    source = CDIRegularizer(torch.rand(C, K, S))
    source(*(torch.from_numpy(a) for a in (logits, targets, descriptors, subgroups)))
    target = CDIRegularizer(torch.zeros(C, K, S))
    target.load_state_dict(source.state_dict())
    assert torch.equal(target.running_hits, source.running_hits)
    assert torch.equal(target.coverage, source.coverage)


@pytest.mark.parametrize(
    ("name", "value", "error", "match"),
    [
        ("logits", torch.randn(4, 3), ValueError, r"`logits` must have shape \(B, 2\)"),
        ("logits", torch.randn(4, 2, 2), ValueError, "`logits` must have shape"),
        (
            "targets",
            torch.tensor([0, 1, 2, 0]),
            ValueError,
            r"`targets` must hold indices in \[0, 2\)",
        ),
        ("targets", torch.zeros(4), TypeError, "`targets` must be an integer tensor"),
        ("descriptors", torch.rand(4, K + 1), ValueError, f"K = {K}"),
        ("descriptors", torch.rand(4, K) + 1, ValueError, r"`descriptors` must hold probabilities"),
        ("subgroups", torch.tensor([0, 1, 2, S]), ValueError, r"`subgroups` must hold indices"),
        (
            "subgroups",
            torch.zeros(3, dtype=torch.long),
            ValueError,
            "`subgroups` must have the same batch",
        ),
    ],
)
def test_bad_inputs_name_the_argument(name, value, error, match):
    args = {
        "logits": torch.randn(4),
        "targets": torch.tensor([0, 1, 1, 0]),
        "descriptors": torch.rand(4, K),
        "subgroups": torch.tensor([0, 1, 2, 3]),
    }
    args[name] = value
    with pytest.raises(error, match=match):
        CDIRegularizer(torch.rand(C, K, S))(**args)


def test_bad_coverage():
    with pytest.raises(ValueError, match="`coverage` must have shape"):
        CDIRegularizer(torch.rand(C, K))
    with pytest.raises(ValueError, match="`coverage` must be finite"):
        CDIRegularizer(torch.full((C, K, S), float("nan")))
    with pytest.raises(ValueError, match="`decay`"):
        CDIRegularizer(torch.rand(C, K, S), decay=1.5)
    with pytest.raises(ValueError, match="`membership`"):
        CDIRegularizer(torch.rand(C, K, S), membership="fuzzy")


_WORKER = textwrap.dedent(
    """
    import json, os, sys
    import numpy as np
    import torch
    import torch.distributed as dist
    from semcov_layers import CDIRegularizer

    rank = int(os.environ["RANK"])
    dist.init_process_group("gloo", rank=rank, world_size=2)
    data = np.load(sys.argv[1])
    regularizer = CDIRegularizer(torch.from_numpy(data["coverage"]))
    # A warm-up batch first, so that the gradient gain of the running sums is exercised.
    for offset in (400, 0):
        half = slice(offset + rank * 200, offset + (rank + 1) * 200)
        logits = torch.from_numpy(data["logits"][half]).requires_grad_()
        value = regularizer(
            logits,
            torch.from_numpy(data["targets"][half]),
            torch.from_numpy(data["descriptors"][half]),
            torch.from_numpy(data["subgroups"][half]),
        )
    value.backward()
    with open(sys.argv[2] + f".{rank}", "w") as handle:
        json.dump({"value": value.item(), "grad": logits.grad.tolist(),
                   "support": regularizer.running_support.sum().item()}, handle)
    dist.destroy_process_group()
    """
)


def test_statistics_are_all_reduced_across_processes(tmp_path):
    targets, subgroups, descriptors, logits = _hard_batch(800, seed=7)
    coverage = np.random.default_rng(2).random((C, K, S)).astype(np.float32)
    data = tmp_path / "batch.npz"
    np.savez(
        data,
        targets=targets,
        subgroups=subgroups,
        descriptors=descriptors,
        logits=logits,
        coverage=coverage,
    )
    script = tmp_path / "worker.py"
    script.write_text(_WORKER)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = tmp_path / "result"
    env = {
        **os.environ,
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(port),
        "WORLD_SIZE": "2",
        "OMP_NUM_THREADS": "1",
    }
    workers = [
        subprocess.Popen(
            [sys.executable, str(script), str(data), str(result)], env={**env, "RANK": str(rank)}
        )
        for rank in range(2)
    ]
    assert [w.wait(timeout=120) for w in workers] == [0, 0]
    outputs = [json.loads((tmp_path / f"result.{rank}").read_text()) for rank in range(2)]

    tensors = [torch.from_numpy(a) for a in (logits, targets, descriptors, subgroups)]
    full = CDIRegularizer(torch.from_numpy(coverage))
    full(*(t[400:] for t in tensors))
    full_logits = tensors[0][:400].clone().requires_grad_()
    value = full(full_logits, *(t[:400] for t in tensors[1:]))
    value.backward()
    for rank, output in enumerate(outputs):
        assert output["value"] == pytest.approx(value.item(), abs=1e-5)
        assert output["support"] == pytest.approx(full.running_support.sum().item(), rel=1e-5)
        expected_grad = full_logits.grad[rank * 200 : (rank + 1) * 200]
        assert torch.allclose(torch.tensor(output["grad"]), expected_grad, atol=1e-6)
