"""The batch-mixing methods come in pairs (``cutmix`` / ``cas_cutmix``, ...) that differ in the
sampler only: the trainer draws the plain ones uniformly and the ``cas_`` ones with the
Compositional Attribute Imbalance paper's weights ``r^b / Σ r^b``. What a run drew with and
how often it mixed is read from its run directory (``config.json``'s ``resolved["sampling"]``
and ``resolved["mixing"]``, ``history.csv``'s ``train_mixed``) and checked against weights
computed by hand."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from semcov_data.cas import cas_attributes, cas_weights
from semcov_train import METHODS, prepare_data, train
from semcov_train.rundir import read_config, read_history

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


def _summary(p: np.ndarray) -> dict:
    """Min, max and effective size 1 / Σ p² of per-draw probabilities, by hand."""
    return {
        "n": len(p),
        "weight_min": p.min(),
        "weight_max": p.max(),
        "effective_size": 1.0 / np.sum(p**2),
    }


def _check_recorded(recorded: dict, kind: str, p: np.ndarray) -> None:
    assert recorded["kind"] == kind
    for key, value in _summary(p).items():
        assert recorded[key] == pytest.approx(value, rel=1e-9), key


def _check_mixed(run_dir, mode: str, config) -> None:
    """config.json names the mixer the run built, history.csv shows how often it mixed."""
    mixing = read_config(run_dir).resolved["mixing"]
    assert mixing == {"mode": mode, "alpha": config.mix_alpha, "prob": config.mix_prob}
    history = read_history(run_dir)
    assert list(history["train_mixed"]) == [config.mix_prob] * config.epochs  # 0 or 1 here


@pytest.mark.parametrize(("mode", "prob"), [("cutmix", 1.0), ("saliencymix", 1.0), ("fmix", 0.0)])
def test_plain_mixing_trains_with_a_uniform_sampler(mode, prob, smoke):
    config = smoke(method=mode, mix_prob=prob)
    result = train(config)
    n_train = len(prepare_data(config).train)
    sampling = read_config(result.run_dir).resolved["sampling"]
    _check_recorded(sampling, "uniform", np.full(n_train, 1.0 / n_train))
    _check_mixed(result.run_dir, mode, config)


@pytest.mark.parametrize("mode", ["cutmix", "fmix"])
def test_cas_mixing_trains_with_cas_weighted_draws(mode, smoke):
    config = smoke(method=f"cas_{mode}")
    result = train(config)
    data = prepare_data(config)
    arrays = data.split_arrays("train")
    attributes = cas_attributes(data.train, "scores", threshold=config.cas_threshold)
    binarised = attributes.iloc[:, : arrays["descriptors"].shape[1]].to_numpy()
    np.testing.assert_array_equal(binarised, arrays["descriptors"] >= config.cas_threshold)
    assert attributes.shape[1] > arrays["descriptors"].shape[1]  # metadata composed beside them
    expected = _hand_cas_weights(attributes, arrays["labels"], config.cas_power)
    library = cas_weights(
        data.train, "scores", power=config.cas_power, threshold=config.cas_threshold
    )
    np.testing.assert_allclose(library / library.sum(), expected, rtol=1e-9)
    assert np.ptp(expected) > 0  # the draws really are not uniform
    # what the run drew with: the same weights, not uniform ones
    _check_recorded(read_config(result.run_dir).resolved["sampling"], "cas", expected)
    assert _summary(expected)["effective_size"] < len(expected) - 1e-6
    _check_mixed(result.run_dir, mode, config)


def test_erm_neither_mixes_nor_weights(smoke):
    config = smoke(method="erm")
    result = train(config)
    resolved = read_config(result.run_dir).resolved
    assert resolved["mixing"] is None
    assert "train_mixed" not in read_history(result.run_dir).columns
    assert resolved["sampling"]["kind"] == "uniform"
    assert resolved["sampling"]["effective_size"] == pytest.approx(resolved["n_train"])
