"""The control rows: late fusion (p at the head) and SemCovNet with shuffled descriptors; the
synthetic independent test draw."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest
import torch

from semcov_train import METHODS
from semcov_train.inputs.datasets import prepare_data
from semcov_train.inputs.shuffle import shuffle_within_cells, shuffled_descriptor_rows
from semcov_train.methods.late_fusion import LateFusionClassifier


def test_late_fusion_head_sees_features_and_descriptors():
    torch.manual_seed(0)
    model = LateFusionClassifier("test_efficientnet", 2, 7, image_size=32).eval()
    assert model.head.in_features == model.num_features + 7
    images = torch.randn(3, 3, 32, 32)
    p = torch.rand(3, 7)
    out = model(images, p)
    assert out.logits.shape == (3, 2) and out.embedding.shape == (3, model.num_features + 7)
    torch.testing.assert_close(out.embedding[:, -7:], p)
    changed = model(images, p.flip(0))
    assert not torch.allclose(out.logits, changed.logits)  # same images, other p
    # the logits are the linear head applied to [pooled features, p]
    torch.testing.assert_close(out.logits, model.head(out.embedding))
    with pytest.raises(ValueError, match=r"descriptors must have shape \(B, 7\)"):
        model(images, torch.rand(3, 5))


def test_late_fusion_method_builds_the_fusion_model(smoke):
    method = METHODS["erm_late_fusion"]
    assert method.table_row == "ENet-B0 + descriptors (late fusion)"
    assert METHODS["semcovnet_shuffled"].shuffle_descriptors
    assert not METHODS["semcovnet"].shuffle_descriptors
    config = smoke(method="erm_late_fusion")
    data = prepare_data(config)
    model = method.build_model(config, data, method)
    assert isinstance(model, LateFusionClassifier)
    assert model.head.in_features == model.num_features + data.num_descriptors


def _cells(labels, subgroups, matrix):
    cells: dict = {}
    for label, subgroup, row in zip(labels, subgroups, matrix, strict=True):
        cells.setdefault((label, subgroup), Counter())[tuple(np.round(row, 6))] += 1
    return cells


def test_shuffle_keeps_each_cells_multiset_and_breaks_the_pairing():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 600)
    subgroups = rng.choice(["trunk", "face", "leg"], 600)
    matrix = rng.random((600, 7))
    rows = shuffled_descriptor_rows(labels, subgroups, np.random.default_rng(1))
    assert sorted(rows) == list(range(600))
    np.testing.assert_array_equal(labels[rows], labels)
    np.testing.assert_array_equal(subgroups[rows], subgroups)
    shuffled = matrix[rows]
    assert _cells(labels, subgroups, shuffled) == _cells(labels, subgroups, matrix)
    kept = (rows == np.arange(600)).mean()
    assert kept < 0.1  # cells of ~100: about 1 % stay in place by chance
    again = shuffled_descriptor_rows(labels, subgroups, np.random.default_rng(1))
    np.testing.assert_array_equal(rows, again)  # seeded


def test_shuffled_run_sees_permuted_descriptors_in_train_and_test(smoke):
    plain = prepare_data(smoke(method="semcovnet"))
    shuffled = prepare_data(smoke(method="semcovnet_shuffled", seed=3))
    for part in ("train", "val", "test"):
        a, b = getattr(plain, part).table, getattr(shuffled, part).table
        assert list(a.sample_ids) == list(b.sample_ids)
        np.testing.assert_array_equal(a.labels, b.labels)
        subgroups = a.frame["subgroup"].to_numpy()
        assert _cells(a.labels, subgroups, a.descriptors) == _cells(
            b.labels, subgroups, b.descriptors
        )
    train_a, train_b = plain.train.table.descriptors, shuffled.train.table.descriptors
    assert (np.abs(train_a - train_b).max(axis=1) > 0).mean() > 0.3
    # coverage is a per-cell statistic: identical
    pd.testing.assert_frame_equal(plain.coverage_table, shuffled.coverage_table)
    torch.testing.assert_close(plain.coverage, shuffled.coverage)


def test_shuffle_within_cells_of_a_table(smoke):
    table = prepare_data(smoke()).train.table
    one = shuffle_within_cells(table, seed=0)
    two = shuffle_within_cells(table, seed=1)
    assert not np.array_equal(one.descriptors, two.descriptors)
    pd.testing.assert_frame_equal(
        one.frame.drop(columns=list(table.descriptor_names)),
        table.frame.drop(columns=list(table.descriptor_names)),
    )


def test_independent_test_draw_is_shared_by_every_fold(smoke):
    base = smoke(synthetic_test_lesions=60)
    folds = [prepare_data(base.replace(fold=k)) for k in (0, 1)]
    tests = [list(bundle.test.table.sample_ids) for bundle in folds]
    assert tests[0] == tests[1] and len(tests[0]) == 60
    pool = prepare_data(smoke())
    pool_ids = {
        *pool.train.table.sample_ids,
        *pool.val.table.sample_ids,
        *pool.test.table.sample_ids,
    }
    assert not pool_ids & set(tests[0])  # a different draw, ids apart
    # the pool's test tenths train too: 90:10
    bundle = folds[0]
    assert len(bundle.train) + len(bundle.val) == len(pool_ids)
    with pytest.raises(ValueError, match="synthetic_test_lesions must be >= 0"):
        smoke(synthetic_test_lesions=-1)


def test_oracle_ceiling_uses_the_runs_own_split(smoke):
    from semcov_data.synthetic_oracle import oracle_auc, read_scenes
    from semcov_train import prepare_synthetic
    from semcov_train.methods.oracle import oracle_ceiling

    config = smoke(synthetic_test_lesions=60)
    data = prepare_data(config)
    pool = read_scenes(prepare_synthetic(config))
    draw = read_scenes(
        prepare_synthetic(
            config.replace(synthetic_seed=1001, synthetic_lesions=60, synthetic_test_lesions=0)
        )
    )
    train = pool[pool["lesion_id"].isin(set(data.train.table.frame["lesion_id"]))]
    assert len(draw) == 60 and len(train) == len(data.train)
    expected = oracle_auc(train, draw, model="logistic")
    assert oracle_ceiling(config, model="logistic") == pytest.approx(expected)
    assert 0.5 < expected <= 1.0
    with pytest.raises(ValueError, match="dataset: the oracle ceiling needs"):
        oracle_ceiling(config.replace(dataset="milk10k"))


def test_a_run_is_scored_on_the_independent_test_draw(smoke):
    from semcov_train import train

    result = train(smoke(method="erm_late_fusion", synthetic_test_lesions=60))
    assert result.results["n_test"] == 60
    frame = pd.read_parquet(result.run_dir / "predictions.parquet")
    assert len(frame) == 60 and frame["id"].is_unique
