"""``--dataset csv`` on a real dermatology CSV nobody here wrote: the ISIC-DICM-17K training
metadata (``../shared/data/isic-dicm-17k``; skipped when absent). Its rows keep their real
``image`` file names, ``diagnosis`` (seven most frequent classes), ``anatom_site_general`` and
``lesion_id`` (many empty); the images themselves are not here, so each named JPEG is written
by the test, and three attribute-score columns stand for the MONET scores a user adds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from semcov_train import train
from semcov_train.evaluation.predict import predict_csv

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "isic-dicm-17k"
pytestmark = pytest.mark.skipif(
    not (REAL / "train-set-metadata.csv").is_file(),
    reason="real ISIC-DICM-17K metadata (../shared/data/isic-dicm-17k) not present",
)
SCORES = ("score_a", "score_b", "score_c")


@pytest.fixture(scope="module")
def real_csv(tmp_path_factory) -> Path:
    """12 real rows of each of the seven most frequent diagnoses, their JPEGs written."""
    folder = tmp_path_factory.mktemp("isic-real")
    metadata = pd.read_csv(REAL / "train-set-metadata.csv")
    top = metadata["diagnosis"].value_counts().index[:7]
    chosen = metadata[metadata["diagnosis"].isin(top)]
    rows = chosen.groupby("diagnosis").head(12).reset_index(drop=True)
    rng = np.random.default_rng(0)
    for k, column in enumerate(SCORES):
        rows[column] = rng.uniform(0, 1, len(rows)).round(4) if k else 0.0
    (folder / "images").mkdir()
    for row in rows.itertuples():
        shade = 30 * list(top).index(row.diagnosis)
        pixels = np.clip(rng.integers(0, 60, (36, 36, 3)) + shade + 40, 0, 255)
        Image.fromarray(pixels.astype(np.uint8)).save(folder / "images" / row.image)
    rows["image"] = "images/" + rows["image"]
    path = folder / "train-set-metadata.csv"
    rows.to_csv(path, index=False)
    return path


def _options(path: Path, **extra) -> dict:
    return {
        "dataset": "csv",
        "csv_path": str(path),
        "image_column": "image",
        "label_column": "diagnosis",
        "id_column": "isic_id",
        "descriptor_columns": ",".join(SCORES),
        "subgroup_columns": "anatom_site_general",
        "group_columns": "lesion_id",
        **extra,
    }


def test_a_real_csv_trains_binary_and_all_class_and_predicts_each_image(real_csv, smoke):
    metadata = pd.read_csv(real_csv)
    binary = train(smoke(**_options(real_csv, positive_class="melanoma"), method="semcovnet"))
    assert binary.results["n_test"] > 0 and 0.0 <= binary.results["auc"] <= 1.0
    every = train(smoke(**_options(real_csv), method="erm"))
    classes = sorted(metadata["diagnosis"].unique())
    probabilities = pd.read_parquet(every.run_dir / "predictions.parquet").filter(like="prob_")
    assert sorted(c.removeprefix("prob_") for c in probabilities.columns) == classes
    output = predict_csv(binary.run_dir, real_csv)
    assert len(output.predictions) == len(metadata)
    assert list(output.predictions["id"]) == list(metadata["isic_id"])
    truth = np.where(metadata["diagnosis"] == "melanoma", "melanoma", "not_melanoma")
    np.testing.assert_array_equal(output.predictions["label"], truth)
