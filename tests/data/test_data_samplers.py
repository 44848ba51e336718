"""Class-balanced and SCG-balanced weighted samplers."""

from __future__ import annotations

import numpy as np
import pytest

from semcov_data import (
    class_balanced_sample_weights,
    class_balanced_sampler,
    scg_balanced_sampler,
    scg_balanced_weights,
)


def test_class_balanced_sampler_draws_classes_equally():
    labels = np.array([0] * 90 + [1] * 10)
    weights = class_balanced_sample_weights(labels)
    assert weights[labels == 0].sum() == pytest.approx(weights[labels == 1].sum())
    draws = list(class_balanced_sampler(labels, num_samples=4000, seed=0))
    share = labels[draws].mean()
    assert 0.45 < share < 0.55
    assert draws == list(class_balanced_sampler(labels, num_samples=4000, seed=0))


def test_scg_weights_give_every_populated_scg_equal_mass():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 300)
    subgroups = rng.choice(["a", "b", "c"], 300, p=[0.7, 0.2, 0.1])
    p = rng.uniform(0, 1, (300, 3))
    weights = scg_balanced_weights(labels, subgroups, p)
    assert weights.sum() == pytest.approx(1.0)
    shares = [(weights[(labels == c) & (subgroups == s)]).sum() for c in (0, 1) for s in "abc"]
    assert np.allclose(shares, shares[0])  # each (class, subgroup) cell gets one share per SCG
    # Within a cell, a sample's weight follows its descriptor mass.
    cell = (labels == 0) & (subgroups == "a")
    mass = p[cell].sum(0)
    np.testing.assert_allclose(weights[cell] / weights.sum(), (p[cell] / mass).sum(1) / (6 * 3))


def test_scg_cell_weights_without_descriptors():
    labels = np.array([0, 0, 0, 1])
    subgroups = np.array(["x", "x", "y", "y"])
    weights = scg_balanced_weights(labels, subgroups)
    np.testing.assert_allclose(weights, [1 / 6, 1 / 6, 1 / 3, 1 / 3])


def test_hard_descriptors_with_no_mass_still_drawn():
    labels = np.array([0, 0, 1, 1])
    subgroups = np.array(["x", "x", "x", "x"])
    p = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    weights = scg_balanced_weights(labels, subgroups, p)
    assert (weights > 0).all()
    sampler = scg_balanced_sampler(labels, subgroups, p, num_samples=10, seed=0)
    assert len(list(sampler)) == 10


def test_sampler_input_errors():
    with pytest.raises(ValueError, match="descriptors"):
        scg_balanced_weights([0, 1], ["a", "b"], np.array([[0.5], [1.5]]))
    with pytest.raises(ValueError, match="labels"):
        class_balanced_sample_weights([])
    with pytest.raises(ValueError, match="length"):
        scg_balanced_weights([0, 1], ["a"])
