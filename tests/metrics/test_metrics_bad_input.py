"""Bad input is rejected at the boundary with an error that names the argument."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import semcov_metrics as sm

P = np.full((4, 2), 0.5)
Y = np.array([0, 1, 0, 1])
S = np.array(["a", "a", "b", "b"])


def report(**changes):
    inputs = dict(
        train_descriptors=P,
        train_labels=Y,
        train_subgroups=S,
        test_descriptors=P,
        test_labels=Y,
        test_predictions=Y,
        test_subgroups=S,
    )
    return lambda: sm.semantic_fairness_report(**{**inputs, **changes})


CASES = {
    "coverage nan descriptor": (
        lambda: sm.scg_coverage(np.array([[np.nan], [0.1]]), [0, 1], ["a", "b"]),
        ValueError,
        "descriptors",
    ),
    "coverage inf descriptor": (
        lambda: sm.scg_coverage(np.array([[np.inf], [0.1]]), [0, 1], ["a", "b"]),
        ValueError,
        "descriptors",
    ),
    "coverage probability above one": (
        lambda: sm.scg_coverage(np.array([[1.2], [0.1]]), [0, 1], ["a", "b"]),
        ValueError,
        "descriptors",
    ),
    "coverage negative probability": (
        lambda: sm.scg_coverage(np.array([[-0.1], [0.1]]), [0, 1], ["a", "b"]),
        ValueError,
        "descriptors",
    ),
    "coverage 3-D descriptors": (
        lambda: sm.scg_coverage(np.zeros((2, 2, 2)), [0, 1], ["a", "b"]),
        ValueError,
        "descriptors",
    ),
    "coverage length mismatch": (
        lambda: sm.scg_coverage(P, [0, 1, 0], S),
        ValueError,
        "labels=3",
    ),
    "coverage empty input": (
        lambda: sm.scg_coverage(np.zeros((0, 2)), [], []),
        ValueError,
        "descriptors is empty",
    ),
    "coverage unknown kind": (lambda: sm.scg_coverage(P, Y, S, kind="sum"), ValueError, "kind"),
    "coverage label outside classes": (
        lambda: sm.scg_coverage(P, Y, S, classes=[0]),
        ValueError,
        "classes",
    ),
    "coverage subgroup outside values": (
        lambda: sm.scg_coverage(P, Y, S, subgroup_values=["a"]),
        ValueError,
        "subgroup_values",
    ),
    "coverage missing subgroup": (
        lambda: sm.scg_coverage(P, Y, np.array(["a", None, "b", "b"], dtype=object)),
        ValueError,
        "subgroups contains missing",
    ),
    "coverage threshold out of range": (
        lambda: sm.scg_coverage(P, Y, S, threshold=1.5),
        ValueError,
        "threshold",
    ),
    "coverage threshold wrong length": (
        lambda: sm.scg_coverage(P, Y, S, threshold=[0.5, 0.5, 0.5]),
        ValueError,
        "threshold",
    ),
    "coverage descriptor names wrong length": (
        lambda: sm.scg_coverage(P, Y, S, descriptor_names=["hair"]),
        ValueError,
        "descriptor_names",
    ),
    "coverage string descriptors": (
        lambda: sm.scg_coverage(np.array([["x"], ["y"]]), [0, 1], ["a", "b"]),
        TypeError,
        "descriptors must be numeric",
    ),
    "coverage descriptors is a string": (
        lambda: sm.scg_coverage("0.5", [0], ["a"]),
        TypeError,
        "descriptors",
    ),
    "coverage duplicate classes": (
        lambda: sm.scg_coverage(P, Y, S, classes=[0, 1, 1]),
        ValueError,
        "classes contains duplicates",
    ),
    "tpr unknown membership": (
        lambda: sm.scg_tpr(Y, Y, P, S, membership="fuzzy"),
        ValueError,
        "membership",
    ),
    "tpr prediction outside classes": (
        lambda: sm.scg_tpr(Y, [0, 1, 0, 0.7], P, S),
        ValueError,
        "y_pred",
    ),
    "tpr score matrix wrong width": (
        lambda: sm.scg_tpr(Y, np.ones((4, 3)) / 3, P, S),
        ValueError,
        "y_pred has 3 score columns",
    ),
    "tpr prediction length mismatch": (
        lambda: sm.scg_tpr(Y, [0, 1], P, S),
        ValueError,
        "y_pred=2",
    ),
    "report negative n_boot": (report(n_boot=-1), ValueError, "n_boot"),
    "report negative min_support": (report(min_support=-0.5), ValueError, "min_support"),
    "report confidence out of range": (report(confidence=1.5), ValueError, "confidence"),
    "report descriptor width mismatch": (
        report(test_descriptors=np.full((4, 3), 0.5)),
        ValueError,
        "test_descriptors",
    ),
    "report test labels length": (report(test_labels=[0, 1]), ValueError, "test_labels=2"),
    "report train probability out of range": (
        report(train_descriptors=P * 3),
        ValueError,
        "train_descriptors",
    ),
    "report descriptor names differ": (
        report(
            train_descriptors=pd.DataFrame(P, columns=["a", "b"]),
            test_descriptors=pd.DataFrame(P, columns=["b", "a"]),
        ),
        ValueError,
        "descriptor names differ",
    ),
    "cdi length mismatch": (
        lambda: sm.coverage_disparity_index([0.1, 0.2, 0.3], [0.1, 0.2]),
        ValueError,
        "coverage=3",
    ),
    "cdi 2-D input": (
        lambda: sm.coverage_disparity_index(np.zeros((3, 2)), np.zeros((3, 2))),
        ValueError,
        "coverage must be 1-D",
    ),
    "cdi infinite": (
        lambda: sm.coverage_disparity_index([0.1, np.inf, 0.3], [0.1, 0.2, 0.3]),
        ValueError,
        "infinite",
    ),
    "ece negative n_bins": (
        lambda: sm.expected_calibration_error(Y, [0.2, 0.8, 0.3, 0.7], n_bins=-1),
        ValueError,
        "n_bins",
    ),
    "ece float n_bins": (
        lambda: sm.expected_calibration_error(Y, [0.2, 0.8, 0.3, 0.7], n_bins=2.5),
        TypeError,
        "n_bins",
    ),
    "ece unknown mode": (
        lambda: sm.expected_calibration_error(Y, [0.2, 0.8, 0.3, 0.7], mode="all"),
        ValueError,
        "mode",
    ),
    "ece nan probability": (
        lambda: sm.expected_calibration_error(Y, [0.2, np.nan, 0.3, 0.7]),
        ValueError,
        "y_prob contains NaN",
    ),
    "ece positive mode multiclass": (
        lambda: sm.expected_calibration_error([0, 1, 2], np.full((3, 3), 1 / 3), mode="positive"),
        ValueError,
        "binary",
    ),
    "performance non-integer labels": (
        lambda: sm.performance_report([0, 0.5, 1, 1], [0.2, 0.8, 0.3, 0.7]),
        ValueError,
        "y_true",
    ),
    "performance string labels": (
        lambda: sm.performance_report(["a", "b"], [0.2, 0.8]),
        TypeError,
        "y_true",
    ),
    "performance labels exceed columns": (
        lambda: sm.performance_report([0, 3, 1], np.full((3, 2), 0.5)),
        ValueError,
        "columns",
    ),
    "performance probabilities above one": (
        lambda: sm.performance_report(Y, [0.2, 1.8, 0.3, 0.7]),
        ValueError,
        "y_prob",
    ),
    "sensitivity specificity out of range": (
        lambda: sm.sensitivity_at_specificity(Y, [0.2, 0.8, 0.3, 0.7], specificity=1.5),
        ValueError,
        "specificity",
    ),
    "sensitivity non-numeric scores": (
        lambda: sm.sensitivity_at_specificity(Y, ["a", "b", "c", "d"]),
        TypeError,
        "y_score",
    ),
    "sensitivity multiclass labels": (
        lambda: sm.sensitivity_at_specificity([0, 1, 2], [0.1, 0.2, 0.3]),
        ValueError,
        "binary",
    ),
    "alignment shape mismatch": (
        lambda: sm.alignment_cosine(np.ones((3, 4)), np.ones((3, 5))),
        ValueError,
        "same shape",
    ),
    "alignment zero vector": (
        lambda: sm.recall_at_1(np.zeros((2, 2)), np.ones((2, 2))),
        ValueError,
        "visual has rows of zero norm",
    ),
    "cas unknown tie method": (
        lambda: sm.compositional_attribute_scarcity([[0], [1]], tie_method="random"),
        ValueError,
        "tie_method",
    ),
    "cas missing attribute": (
        lambda: sm.compositional_attribute_scarcity(pd.DataFrame({"a": [0, None]})),
        ValueError,
        "attributes contains missing",
    ),
    "cas weights negative power": (
        lambda: sm.cas_sampling_weights([1.0, 2.0], power=-1),
        ValueError,
        "power",
    ),
    "cas subsets bad fractions": (
        lambda: sm.cas_subsets([1.0, 2.0], fractions=(0.5, 0.6, 0.1)),
        ValueError,
        "fractions",
    ),
    "semantic scale 1-D features": (
        lambda: sm.semantic_scale([1.0, 2.0]),
        ValueError,
        "features must be 2-D",
    ),
    "disparity non-binary predictions": (
        lambda: sm.tpr_disparity([0, 1], [0, 2], ["a", "b"]),
        ValueError,
        "y_pred",
    ),
    "tail missing coverage column": (
        lambda: sm.tail_groups(pd.DataFrame({"class": [0]})),
        ValueError,
        "coverage_table lacks columns",
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_input_raises_naming_the_argument(case):
    call, error, fragment = CASES[case]
    with pytest.raises(error, match=fragment.replace("(", r"\(")):
        call()


def test_there_are_at_least_thirty_cases():
    assert len(CASES) >= 30


@pytest.mark.parametrize(
    "call",
    [
        lambda: sm.sensitivity_at_specificity([1, 1, 1], [0.2, 0.4, 0.9]),
        lambda: sm.performance_report([0, 0, 0], [0.1, 0.2, 0.3])["auc"],
        lambda: sm.tpr_disparity([1, 0], [1, 0], ["a", "b"]),
        lambda: sm.semantic_scale([[1.0, 2.0]]),
        lambda: sm.coverage_disparity_index([0.1, 0.2], [0.2, 0.3]),
    ],
    ids=["s95 one class", "auc one class", "disparity one group", "scale one sample", "cdi two"],
)
def test_undefined_metrics_are_nan_with_warning(call):
    with pytest.warns(sm.UndefinedMetricWarning):
        assert np.isnan(call())
