"""The pieces under the trainer: fold rotation, samplers, seeds, atomic writes, JSON output."""

from __future__ import annotations

import json
import math
import os
import random

import numpy as np
import pytest
import torch

from semcov_train.evaluation.evaluate import bootstrap_performance, json_ready
from semcov_train.inputs.folds import fold_parts
from semcov_train.runtime.checkpoint import (
    atomic_write,
    atomic_write_json,
    get_rng_state,
    set_rng_state,
)
from semcov_train.runtime.distributed import (
    DistContext,
    ShardSampler,
    WeightedDistributedSampler,
    derive_seed,
    scale_grad,
    uniform_sampler,
)


@pytest.fixture
def grouped_labels():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(120), 2).astype(object)
    labels = np.repeat(rng.random(120) < 0.2, 2).astype(np.int64)
    return labels, groups


def test_fold_zero_is_the_grouped_split(grouped_labels):
    from semcov_data import grouped_split

    labels, groups = grouped_labels
    np.testing.assert_array_equal(
        fold_parts(labels, groups, 0, 3), grouped_split(labels, groups, seed=3)
    )


def test_folds_rotate_70_10_20_without_leakage(grouped_labels):
    labels, groups = grouped_labels
    tests = []
    for fold in range(5):
        parts = fold_parts(labels, groups, fold, 0)
        shares = {p: np.mean(parts == p) for p in ("train", "val", "test")}
        assert shares["train"] == pytest.approx(0.7, abs=0.03)
        assert shares["val"] == pytest.approx(0.1, abs=0.03)
        for part in ("train", "val", "test"):
            others = set(groups[parts != part])
            assert not others & set(groups[parts == part])  # no lesion in two parts
        tests.append(parts == "test")
    assert (np.sum(tests, axis=0) == 1).all()  # every sample tested exactly once


def test_too_few_groups_for_the_split():
    with pytest.raises(ValueError, match="needs at least 10"):
        fold_parts(np.zeros(9, dtype=int), np.arange(9).astype(object), 0, 0)


def test_weighted_sampler_shards_one_global_draw():
    weights = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    whole = WeightedDistributedSampler(weights, seed=5)
    whole.set_epoch(2)
    shards = []
    for rank in range(2):
        sampler = WeightedDistributedSampler(weights, num_replicas=2, rank=rank, seed=5)
        sampler.set_epoch(2)
        shards.append(list(sampler))
    draws = list(whole)
    padded = [*draws, draws[0]]  # padded to equal shares, as DistributedSampler does
    assert shards == [padded[0::2], padded[1::2]]
    assert 0 not in draws  # weight 0 is never drawn
    again = WeightedDistributedSampler(weights, seed=5)
    again.set_epoch(2)
    assert list(again) == draws
    again.set_epoch(3)
    assert list(again) != draws


def test_uniform_sampler_reshuffles_per_epoch():
    sampler = uniform_sampler(20, DistContext(), seed=1)
    sampler.set_epoch(0)
    first = list(sampler)
    sampler.set_epoch(1)
    assert sorted(first) == list(range(20)) and list(sampler) != first


def test_shard_sampler_covers_the_split_once():
    shards = [list(ShardSampler(7, DistContext(rank=r, world_size=3))) for r in range(3)]
    assert sorted(i for s in shards for i in s) == list(range(7))


def test_derived_seeds_differ_per_part():
    seeds = {derive_seed(0, epoch, rank) for epoch in range(10) for rank in range(4)}
    assert len(seeds) == 40
    assert derive_seed(1, 2) == derive_seed(1, 2)


def test_scale_grad_keeps_the_value_and_scales_the_gradient():
    x = torch.tensor(3.0, requires_grad=True)
    y = scale_grad(x * x, 4.0)
    y.backward()
    assert y.item() == 9.0 and x.grad.item() == 24.0


def test_rng_state_round_trip():
    def draw():
        # The legacy global numpy generator is the one the checkpoint saves.
        return torch.rand(3), np.random.rand(3), random.random()  # noqa: NPY002

    state = get_rng_state()
    first = draw()
    set_rng_state(state)
    second = draw()
    assert torch.equal(first[0], second[0]) and np.array_equal(first[1], second[1])
    assert first[2] == second[2]


def test_atomic_write_leaves_the_old_file_on_failure(tmp_path):
    target = tmp_path / "results.json"
    atomic_write_json(target, {"auc": 0.5})

    def fail(handle):
        handle.write(b'{"auc": ')
        raise RuntimeError("killed while writing")

    with pytest.raises(RuntimeError):
        atomic_write(target, fail)
    assert json.loads(target.read_text()) == {"auc": 0.5}
    assert os.listdir(tmp_path) == ["results.json"]


def test_json_ready_writes_strict_json():
    value = json_ready({"a": float("nan"), "b": [np.float32(0.5), math.inf], "c": np.int64(3)})
    assert value == {"a": None, "b": [0.5, None], "c": 3}
    json.dumps(value, allow_nan=False)


def test_bootstrap_intervals_bracket_the_estimate():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 200)
    probabilities = np.clip(labels * 0.3 + rng.random(200) * 0.7, 0, 1)
    probabilities = np.stack([1 - probabilities, probabilities], axis=1)
    intervals = bootstrap_performance(labels, probabilities, 50, seed=0)
    low, high = intervals["auc"]
    assert 0.5 < low < high <= 1.0
    assert bootstrap_performance(labels, probabilities, 50, seed=0) == intervals


def test_float_output_lifts_low_precision_fields():
    from semcov_train.methods.models import ClassifierOutput
    from semcov_train.runtime.device_policy import float_output

    output = ClassifierOutput(torch.zeros(2, 2, dtype=torch.bfloat16), torch.zeros(2, 3))
    lifted = float_output(output)
    assert lifted.logits.dtype == torch.float32 and lifted.embedding is output.embedding
    assert float_output(lifted) is lifted
