"""The decision threshold of the per-SCG metrics: chosen on validation with scikit-learn's
definitions, stored in results.json, applied to test unchanged."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
import torch
from sklearn.metrics import balanced_accuracy_score, roc_curve
from torch.utils.data import DataLoader

from semcov_metrics import UndefinedMetricWarning
from semcov_train import make_config, prepare_data, train
from semcov_train.cli import main
from semcov_train.evaluation.evaluate import predict
from semcov_train.evaluation.threshold import choose_threshold, decide
from semcov_train.methods.registry import METHODS
from semcov_train.runtime.distributed import DistContext


def _best_balanced_threshold(labels: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """Brute force with sklearn: the largest score t whose rule ``scores >= t`` has the
    highest balanced accuracy, and that accuracy."""
    candidates = np.unique(scores)
    accuracies = np.array(
        [balanced_accuracy_score(labels, (scores >= t).astype(int)) for t in candidates]
    )
    best = accuracies.max()
    return float(candidates[np.flatnonzero(np.isclose(accuracies, best, atol=1e-12))].max()), best


def _probabilities(scores: np.ndarray) -> np.ndarray:
    return np.stack([1.0 - scores, scores], axis=1)


@pytest.mark.parametrize("seed", range(6))
def test_balanced_threshold_matches_a_brute_force_over_sklearn_balanced_accuracy(seed):
    rng = np.random.default_rng(seed)
    labels = (rng.random(300) < 0.12).astype(int)
    # informative but noisy scores, rounded so that ties between samples occur
    scores = np.round(np.clip(0.15 + 0.3 * labels + rng.normal(0, 0.15, 300), 0.001, 0.999), 2)
    chosen = choose_threshold(labels, _probabilities(scores), "balanced")
    expected, best = _best_balanced_threshold(labels, scores)
    assert chosen.value == pytest.approx(expected, abs=1e-12)
    decided = decide(_probabilities(scores), chosen)
    assert balanced_accuracy_score(labels, decided) == pytest.approx(best, abs=1e-12)
    # Youden's J on sklearn's ROC curve selects the same point
    fpr, tpr, thresholds = roc_curve(labels, scores, drop_intermediate=False)
    j = tpr - fpr
    assert j[np.flatnonzero(thresholds == chosen.value)[0]] == pytest.approx(j.max(), abs=1e-12)
    assert choose_threshold(labels, _probabilities(scores), "youden").value == chosen.value


def test_balanced_threshold_beats_argmax_when_every_score_is_below_one_half():
    labels = np.array([0, 0, 0, 0, 1, 1])
    scores = np.array([0.05, 0.1, 0.15, 0.3, 0.25, 0.4])
    chosen = choose_threshold(labels, _probabilities(scores), "balanced")
    assert chosen.value == pytest.approx(0.25)  # 0.25, 0.4 and 0.3 positive: BAcc 0.875
    assert decide(_probabilities(scores), chosen).tolist() == [0, 0, 0, 1, 1, 1]
    argmax = choose_threshold(labels, _probabilities(scores), "argmax")
    assert argmax.value == 0.5 and decide(_probabilities(scores), argmax).sum() == 0


def test_fixed_and_argmax_rules_and_their_decisions():
    probabilities = _probabilities(np.array([0.2, 0.5, 0.7]))
    fixed = choose_threshold(np.array([0, 1, 1]), probabilities, "0.6")
    assert fixed.value == pytest.approx(0.6)
    assert decide(probabilities, fixed).tolist() == [0, 0, 1]
    argmax = choose_threshold(np.array([0, 1, 1]), probabilities, "argmax")
    assert decide(probabilities, argmax).tolist() == probabilities.argmax(axis=1).tolist()


def test_one_class_validation_falls_back_to_argmax_with_a_warning():
    with pytest.warns(UndefinedMetricWarning, match="one class"):
        chosen = choose_threshold(
            np.zeros(5, int), _probabilities(np.linspace(0.1, 0.9, 5)), "balanced"
        )
    assert chosen.value == 0.5 and chosen.uses_argmax


def test_multiclass_uses_argmax_whatever_the_rule():
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(3), size=20)
    chosen = choose_threshold(rng.integers(0, 3, 20), probabilities, "balanced")
    assert chosen.value is None and "argmax" in chosen.note
    assert decide(probabilities, chosen).tolist() == probabilities.argmax(axis=1).tolist()


@pytest.mark.parametrize("rule", ["bogus", "0", "1", "1.5", "nan", "-0.2"])
def test_bad_rules_are_rejected_naming_the_field(rule):
    with pytest.raises(ValueError, match="decision_threshold must be one of"):
        make_config("smoke", decision_threshold=rule)


def test_the_command_line_rejects_a_bad_rule_in_one_line(capsys):
    code = main(["--method", "erm", "--dataset", "synthetic", "--decision-threshold", "2"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "decision_threshold" in err


# ---------------------------------------------------------------- on a trained smoke run


@pytest.fixture(scope="module")
def semcovnet_run(train_cache, tmp_path_factory):
    config = make_config(
        "smoke",
        method="semcovnet",
        cache_dir=str(train_cache),
        out=str(tmp_path_factory.mktemp("threshold") / "runs"),
        num_threads=1,
        # 64 test images: the default smoke size (8) has fewer than 3 SCGs with one expected
        # test member, where CDI is undefined
        synthetic_lesions=320,
    )
    return config, train(config)


def test_smoke_results_hold_the_threshold_and_the_new_fairness_and_alignment_numbers(
    semcovnet_run,
):
    _, result = semcovnet_run
    results = json.loads((result.run_dir / "results.json").read_text())
    assert 0.0 < results["decision_threshold"] < 1.0
    assert results["decision_rule"] == "balanced"
    keys = ("cdi", "cdi_hard", "cdi_null", "align_cos", "align_cos_fed")
    keys += ("recall_at_1", "recall_at_1_full", "recall_at_1_fed", "s95_tail")
    for key in keys:
        assert isinstance(results[key], float) and math.isfinite(results[key]), key
    assert set(results["cdi_per_class"]) == {"rest", "MEL"}
    assert -1.0 <= results["align_cos"] <= 1.0 and 0.0 <= results["recall_at_1"] <= 1.0
    assert results["n_valid_scgs"] >= 3
    assert "decision_threshold" in results["conventions"]


def test_the_stored_threshold_is_the_balanced_optimum_on_the_best_checkpoints_val_predictions(
    semcovnet_run,
):
    config, result = semcovnet_run
    data = prepare_data(config)
    model = METHODS["semcovnet"].build_model(config, data, METHODS["semcovnet"])
    best = torch.load(result.run_dir / "checkpoints" / "best.pt", weights_only=False)
    model.load_state_dict(best["model"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        val = predict(model, DataLoader(data.val, batch_size=16), DistContext())
    labels = data.split_arrays("val")["labels"]
    expected, _ = _best_balanced_threshold(labels, val.probabilities[:, 1])
    assert result.results["decision_threshold"] == pytest.approx(expected, abs=1e-7)
    # the history records the per-epoch (in-sample) validation threshold beside val CDI
    assert all(0.0 < row["val_decision_threshold"] < 1.0 for row in result.history)
