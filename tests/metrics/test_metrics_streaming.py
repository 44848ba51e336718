"""The torchmetrics CoverageDisparityIndex equals the batch report after several updates, on
one batch (forward) and after reset, and after a DDP-style reduction of two processes' states."""

from __future__ import annotations

import numpy as np
import pytest

import semcov_metrics as sm

torch = pytest.importorskip("torch")
pytest.importorskip("torchmetrics")
from torchmetrics.utilities import dim_zero_cat  # noqa: E402


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


def _report_cdi(coverage_data, test, membership="soft"):
    """CDI of the batch report on the test rows `test` (preds, labels, descriptors, subgroups)."""
    (p_tr, y_tr, s_tr), (pred, y_te, p_te, s_te) = coverage_data, test
    return sm.semantic_fairness_report(
        train_descriptors=p_tr,
        train_labels=y_tr,
        train_subgroups=s_tr,
        test_descriptors=p_te,
        test_labels=y_te,
        test_predictions=pred,
        test_subgroups=s_te,
        membership=membership,
    ).cdi


def _tensors(pred, y_te, p_te, s_te):
    return [torch.as_tensor(a) for a in (pred, y_te, p_te, s_te)]


def test_streaming_states_add_up_like_ddp():
    """Two processes' metrics, reduced by torchmetrics' own sync (with a stand-in all-gather)
    and by merge_state, give the CDI of the whole test set."""
    data = _data(1)
    (p_tr, y_tr, s_tr), (p_te, y_te, pred, s_te) = data["train"], data["test"]
    coverage = sm.scg_coverage(p_tr, y_tr, s_tr)
    half = len(y_te) // 2
    parts = [slice(0, half), slice(half, None)]
    expected = _report_cdi(data["train"], (pred, y_te, p_te, s_te))
    assert expected > 0

    # Rank 0 of a 2-process world: its all-gather returns its state beside rank 1's, so
    # compute() syncs (dist_reduce_fx), computes and restores its own sums, as under DDP. Each
    # gathered tensor is matched by value to rank 0's states (list states, the kept samples,
    # arrive concatenated).
    def all_gather(tensor, group=None):
        for name, value in rank0.metric_state.items():
            mine = dim_zero_cat(value)
            if mine.shape == tensor.shape and torch.equal(mine, tensor):
                return [tensor, dim_zero_cat(other.metric_state[name])]
        raise AssertionError("an unknown state was gathered")

    rank0 = sm.CoverageDisparityIndex(
        coverage, dist_sync_fn=all_gather, distributed_available_fn=lambda: True
    )
    other, alone = (sm.CoverageDisparityIndex(coverage) for _ in range(2))
    for metric, part in ((rank0, parts[0]), (alone, parts[0]), (other, parts[1])):
        metric.update(*_tensors(pred[part], y_te[part], p_te[part], s_te[part]))
    half_cdi = _report_cdi(data["train"], (pred[:half], y_te[:half], p_te[:half], s_te[:half]))
    assert float(alone.compute()) == pytest.approx(half_cdi, abs=1e-9)
    assert half_cdi != pytest.approx(expected, abs=1e-6)  # half the data gives another value

    assert float(rank0.compute()) == pytest.approx(expected, abs=1e-9)
    for name, value in rank0.metric_state.items():  # unsynced after compute
        assert torch.equal(dim_zero_cat(value), dim_zero_cat(alone.metric_state[name])), name

    merged = sm.CoverageDisparityIndex(coverage)  # the same reduction without processes
    merged.update(*_tensors(pred[:half], y_te[:half], p_te[:half], s_te[:half]))
    merged.merge_state(other)
    assert float(merged.compute()) == pytest.approx(expected, abs=1e-9)
    # The kept samples are gathered too: the synced test is that of the whole test set.
    whole = sm.CoverageDisparityIndex(coverage)
    whole.update(*_tensors(pred, y_te, p_te, s_te))
    synced = rank0.compute_test(n_permutations=99)
    for name, value in whole.compute_test(n_permutations=99).items():
        assert synced[name] == pytest.approx(value, abs=1e-12), name


@pytest.mark.parametrize("membership", ["soft", "hard"])
def test_streaming_forward_reset_and_clone(membership):
    """``metric(batch)`` gives the batch's own CDI while accumulating; ``reset`` forgets every
    batch (no SCG has support: nan with a warning); a metric refilled after reset equals a
    fresh one."""
    data = _data(2)
    (p_tr, y_tr, s_tr), (p_te, y_te, pred, s_te) = data["train"], data["test"]
    coverage = sm.scg_coverage(p_tr, y_tr, s_tr)
    metric = sm.CoverageDisparityIndex(coverage, membership=membership)
    chunks = np.array_split(np.arange(len(y_te)), 3)
    for chunk in chunks:
        batch = (pred[chunk], y_te[chunk], p_te[chunk], s_te[chunk])
        value = float(metric(*_tensors(*batch)))
        assert value == pytest.approx(_report_cdi(data["train"], batch, membership), abs=1e-9)
    whole = _report_cdi(data["train"], (pred, y_te, p_te, s_te), membership)
    assert float(metric.compute()) == pytest.approx(whole, abs=1e-9)

    metric.reset()
    with pytest.warns(sm.UndefinedMetricWarning):
        assert torch.isnan(metric.compute())
    first = chunks[0]
    metric.update(*_tensors(pred[first], y_te[first], p_te[first], s_te[first]))
    fresh = sm.CoverageDisparityIndex(coverage, membership=membership)
    fresh.update(*_tensors(pred[first], y_te[first], p_te[first], s_te[first]))
    assert float(metric.compute()) == pytest.approx(float(fresh.compute()), abs=1e-12)
    assert float(metric.compute()) != pytest.approx(whole, abs=1e-6)


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


@pytest.mark.parametrize("membership", ["soft", "hard"])
def test_streaming_test_equals_coverage_error_test(membership):
    """compute_test over batches gives the p-value, null quantiles and slope of
    coverage_error_test on the concatenated samples (same seed, same SCG rule)."""
    data = _data(2)
    (p_tr, y_tr, s_tr), (p_te, y_te, pred, s_te) = data["train"], data["test"]
    coverage = sm.scg_coverage(p_tr, y_tr, s_tr)
    # Hard supports are counts: "> 0.5" (the metric's rule) is ">= 1" (the report's).
    metric = sm.CoverageDisparityIndex(coverage, membership=membership, min_support=0.5)
    for part in np.array_split(np.arange(len(y_te)), 3):
        metric.update(*_tensors(pred[part], y_te[part], p_te[part], s_te[part]))
    expected = sm.coverage_error_test(
        coverage,
        test_descriptors=p_te,
        test_labels=y_te,
        test_predictions=pred,
        test_subgroups=s_te,
        membership=membership,
        min_support=1.0 if membership == "hard" else 0.5 + 1e-12,
        n_permutations=199,
        seed=3,
    )
    result = metric.compute_test(n_permutations=199, seed=3)
    assert result["cdi"] == pytest.approx(expected.cdi, abs=1e-12)
    assert result["cdi_p_value"] == pytest.approx(expected.p_value, abs=1e-12)
    assert result["cdi_null_q95"] == pytest.approx(expected.null_q95, abs=1e-12)
    assert result["coverage_error_slope"] == pytest.approx(expected.slope.slope, abs=1e-12)
    assert result["slope_p_value"] == pytest.approx(expected.slope.p_value, abs=1e-12)
    assert result["cdi"] == pytest.approx(float(metric.compute()), abs=1e-12)
    sums_only = sm.CoverageDisparityIndex(coverage, keep_samples=False)
    sums_only.update(*_tensors(pred, y_te, p_te, s_te))
    with pytest.raises(ValueError, match="keep_samples=True"):
        sums_only.compute_test()
