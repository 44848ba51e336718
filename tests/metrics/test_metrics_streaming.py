"""The torchmetrics CoverageDisparityIndex equals the batch report and syncs by summation."""

from __future__ import annotations

import numpy as np
import pytest

import semcov_metrics as sm

torch = pytest.importorskip("torch")
pytest.importorskip("torchmetrics")


def _data(seed=0, n=800, k=4, s=3):
    rng = np.random.default_rng(seed)
    return dict(
        train=(rng.random((n, k)), rng.integers(0, 2, n), rng.integers(0, s, n)),
        test=(
            rng.random((n, k)),
            rng.integers(0, 2, n),
            rng.integers(0, 2, n),
            rng.integers(0, s, n),
        ),
    )


@pytest.mark.parametrize("membership", ["soft", "hard"])
def test_streaming_cdi_equals_report(membership):
    data = _data()
    (p_tr, y_tr, s_tr), (p_te, y_te, pred, s_te) = data["train"], data["test"]
    report = sm.semantic_fairness_report(
        train_descriptors=p_tr,
        train_labels=y_tr,
        train_subgroups=s_tr,
        test_descriptors=p_te,
        test_labels=y_te,
        test_predictions=pred,
        test_subgroups=s_te,
        membership=membership,
    )
    coverage = sm.scg_coverage(p_tr, y_tr, s_tr)
    metric = sm.CoverageDisparityIndex(coverage, membership=membership)
    for chunk in np.array_split(np.arange(len(y_te)), 7):
        metric.update(
            torch.as_tensor(pred[chunk]),
            torch.as_tensor(y_te[chunk]),
            torch.as_tensor(p_te[chunk], dtype=torch.float32),
            torch.as_tensor(s_te[chunk]),
        )
    assert float(metric.compute()) == pytest.approx(report.cdi, abs=1e-6)


def test_streaming_states_add_up_like_ddp():
    data = _data(1)
    (p_tr, y_tr, s_tr), (p_te, y_te, pred, s_te) = data["train"], data["test"]
    coverage = sm.scg_coverage(p_tr, y_tr, s_tr)
    whole, left, right = (sm.CoverageDisparityIndex(coverage) for _ in range(3))
    tensors = [torch.as_tensor(a) for a in (pred, y_te, p_te, s_te)]
    whole.update(*tensors)
    half = len(y_te) // 2
    left.update(*(t[:half] for t in tensors))
    right.update(*(t[half:] for t in tensors))
    # What dist_reduce_fx="sum" does across processes.
    left.support += right.support
    left.hits += right.hits
    assert float(left.compute()) == pytest.approx(float(whole.compute()), abs=1e-12)
    assert left._reductions["support"] is not None


def test_streaming_coverage_array_and_bad_input():
    coverage = np.full((2, 3, 4), 0.5)
    coverage[1, 0, 0] = 0.1
    metric = sm.CoverageDisparityIndex(coverage)
    assert (metric.num_classes, metric.num_descriptors, metric.num_subgroups) == (2, 3, 4)
    with pytest.raises(ValueError, match="descriptors must have shape"):
        metric.update(
            torch.zeros(2, dtype=torch.long),
            torch.zeros(2, dtype=torch.long),
            torch.zeros(2, 5),
            torch.zeros(2, dtype=torch.long),
        )
    with pytest.raises(ValueError, match="subgroups must hold indices"):
        metric.update(
            torch.zeros(2, dtype=torch.long),
            torch.zeros(2, dtype=torch.long),
            torch.zeros(2, 3),
            torch.full((2,), 9),
        )
    with pytest.raises(ValueError, match="coverage must have shape"):
        sm.CoverageDisparityIndex(np.zeros((2, 3)))
    with pytest.warns(sm.UndefinedMetricWarning):
        assert torch.isnan(metric.compute())
