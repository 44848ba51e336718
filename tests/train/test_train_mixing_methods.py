"""The batch-mixing methods come in pairs (``cutmix`` / ``cas_cutmix``, ...) that differ in the
sampler only: the trainer draws the plain ones uniformly and the ``cas_`` ones with the
Compositional Attribute Imbalance paper's weights ``r^b / Σ r^b``."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from torch.utils.data import DistributedSampler

from semcov_data.cas import cas_attributes
from semcov_train import METHODS, train
from semcov_train import trainer as trainer_module
from semcov_train.distributed import WeightedDistributedSampler

MODES = ("cutmix", "fmix", "saliencymix")
#: Fields in which the two methods of a pair may differ.
PAIR_DIFFERENCES = {"name", "table_row", "description", "sampling"}


@pytest.mark.parametrize("mode", MODES)
def test_mixing_pairs_differ_in_the_sampler_only(mode):
    plain, weighted = METHODS[mode], METHODS[f"cas_{mode}"]
    assert (plain.sampling, weighted.sampling) == ("uniform", "cas")
    assert plain.mixing == weighted.mixing == mode
    differing = {
        field.name
        for field in dataclasses.fields(plain)
        if getattr(plain, field.name) != getattr(weighted, field.name)
    }
    assert differing == PAIR_DIFFERENCES


def test_existing_cas_methods_keep_their_table_rows():
    assert METHODS["cas_cutmix"].table_row == (
        "CAS + CutMix (Compositional Attribute Imbalance, Table 2 '+weight' rows)"
    )
    assert METHODS["cas_fmix"].build_objective is METHODS["erm"].build_objective
    assert METHODS["erm"].mixing is None and METHODS["erm"].sampling == "uniform"


def _hand_cas_weights(attributes: pd.DataFrame, labels: np.ndarray, power: float) -> np.ndarray:
    """CAS by hand: per class and attribute (binarised descriptors, then the metadata such as
    site and age bin), the rank of the value's frequency (most frequent 1, ties share the
    better rank), summed over attributes; then r^b / Σ r^b."""
    present = attributes.reset_index(drop=True)
    scores = np.zeros(len(present))
    for label in np.unique(labels):
        rows = labels == label
        for column in present.columns:
            values = present.loc[rows, column]
            rank = values.value_counts().rank(ascending=False, method="min")
            scores[rows] += values.map(rank).to_numpy()
    weights = scores**power
    return weights / weights.sum()


@pytest.fixture
def built_trainers(monkeypatch):
    """Every trainer that builds its loaders during the test, with its data."""
    built = []
    original = trainer_module._Trainer._loaders

    def spy(self, data):
        original(self, data)
        built.append((self, data))

    monkeypatch.setattr(trainer_module._Trainer, "_loaders", spy)
    return built


@pytest.mark.parametrize("mode", ["cutmix", "saliencymix"])
def test_plain_mixing_trains_with_a_uniform_sampler(mode, smoke, built_trainers):
    result = train(smoke(method=mode))
    assert result.results["auc"] is not None
    (trainer, data), *_ = built_trainers
    sampler = trainer.sampler
    assert isinstance(sampler, DistributedSampler) and sampler.shuffle
    sampler.set_epoch(3)
    assert sorted(sampler) == list(range(len(data.train)))  # every sample once per epoch
    assert trainer.mixer is not None and trainer.mixer.mode == mode


@pytest.mark.parametrize("mode", ["cutmix", "fmix"])
def test_cas_mixing_trains_with_cas_weighted_draws(mode, smoke, built_trainers):
    config = smoke(method=f"cas_{mode}")
    result = train(config)
    assert result.results["auc"] is not None
    (trainer, data), *_ = built_trainers
    sampler = trainer.sampler
    assert isinstance(sampler, WeightedDistributedSampler)
    arrays = data.split_arrays("train")
    attributes = cas_attributes(data.train, "scores", threshold=config.cas_threshold)
    binarised = attributes.iloc[:, : arrays["descriptors"].shape[1]].to_numpy()
    np.testing.assert_array_equal(binarised, arrays["descriptors"] >= config.cas_threshold)
    assert attributes.shape[1] > arrays["descriptors"].shape[1]  # metadata composed beside them
    expected = _hand_cas_weights(attributes, arrays["labels"], config.cas_power)
    weights = sampler.weights.numpy()
    np.testing.assert_allclose(weights / weights.sum(), expected, rtol=1e-9)
    assert np.ptp(expected) > 0  # the draws really are not uniform
    assert trainer.mixer is not None and trainer.mixer.mode == mode
