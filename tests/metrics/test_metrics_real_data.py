"""Coverage on the real MILK10k metadata (skipped when ../shared/data is absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from semcov_metrics import scg_coverage

MILK10K = Path(__file__).resolve().parents[3] / "shared" / "data" / "milk10k"
pytestmark = pytest.mark.skipif(
    not (MILK10K / "MILK10k_Training_Metadata.csv").exists(),
    reason="real MILK10k metadata not present beside the checkout",
)


@pytest.fixture(scope="module")
def dermoscopic() -> pd.DataFrame:
    metadata = pd.read_csv(MILK10K / "MILK10k_Training_Metadata.csv")
    truth = pd.read_csv(MILK10K / "MILK10k_Training_GroundTruth.csv")
    images = metadata[metadata["image_type"] == "dermoscopic"]
    frame = images.merge(truth[["lesion_id", "MEL"]], on="lesion_id", how="left", validate="1:1")
    assert frame["MEL"].notna().all()
    frame["label"] = np.where(frame["MEL"] == 1.0, "MEL", "rest")
    frame["site"] = frame["site"].fillna("unknown")
    return frame


def test_milk10k_dermoscopic_grid(dermoscopic):
    monet = [c for c in dermoscopic.columns if c.startswith("MONET_")]
    assert len(monet) == 7
    table = scg_coverage(dermoscopic[monet], dermoscopic["label"], dermoscopic["site"])
    assert len(table) == 112
    assert int((table["n_train"] > 0).sum()) == 91
    # MEL never occurs at three sites, each missing for all 7 descriptors.
    empty = table[table["n_train"] == 0]
    assert set(empty["class"]) == {"MEL"}
    assert empty["subgroup"].nunique() == 3


def test_milk10k_coverage_equals_groupby_mean(dermoscopic):
    monet = [c for c in dermoscopic.columns if c.startswith("MONET_")]
    table = scg_coverage(dermoscopic[monet], dermoscopic["label"], dermoscopic["site"])
    expected = (
        dermoscopic.groupby(["label", "site"])[monet]
        .mean()
        .stack()
        .rename_axis(["class", "subgroup", "descriptor"])
        .rename("expected")
        .reset_index()
    )
    merged = table.merge(expected, on=["class", "subgroup", "descriptor"], how="left")
    populated = merged["n_train"] > 0
    assert merged.loc[populated, "expected"].notna().all()
    np.testing.assert_allclose(
        merged.loc[populated, "coverage"], merged.loc[populated, "expected"], rtol=1e-12
    )
    counts = dermoscopic.groupby(["label", "site"]).size().rename("count").reset_index()
    with_counts = merged[populated].merge(
        counts, left_on=["class", "subgroup"], right_on=["label", "site"]
    )
    assert len(with_counts) == 91
    assert (with_counts["n_train"] == with_counts["count"]).all()
