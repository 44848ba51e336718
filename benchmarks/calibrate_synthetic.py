"""Calibrate the synthetic benchmark: a plain CNN trained for a few CPU minutes.

Reports test AUC and the dermoscopic CDI at the default imbalance and at imbalance 0, so the
planted imbalance is shown to be measurable. Run:
``uv run python benchmarks/calibrate_synthetic.py --lesions 6000 --epochs 8``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image
from torch import nn

from semcov_data.milk10k import MILK10K_DESCRIPTORS
from semcov_data.synthetic import SyntheticConfig, write_synthetic
from semcov_metrics import performance_report, semantic_fairness_report


def load(root: Path, modality: str) -> tuple[np.ndarray, pd.DataFrame]:
    metadata = pd.read_csv(root / "MILK10k_Training_Metadata.csv")
    truth = pd.read_csv(root / "MILK10k_Training_GroundTruth.csv")
    image_type = "dermoscopic" if modality == "dermoscopic" else "clinical: close-up"
    rows = metadata[metadata["image_type"] == image_type].merge(truth[["lesion_id", "MEL"]])
    rows["site"] = rows["site"].fillna("unknown")
    images = np.stack(
        [
            np.asarray(
                Image.open(root / "MILK10k_Training_Input" / r.lesion_id / f"{r.isic_id}.jpg")
            )
            for r in rows.itertuples()
        ]
    )
    return images, rows.reset_index(drop=True)


def plain_cnn() -> nn.Module:
    def block(cin: int, cout: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )

    return nn.Sequential(
        block(3, 32), block(32, 64), block(64, 96), block(96, 128),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 2),
    )  # fmt: skip


def train_and_evaluate(images: np.ndarray, rows: pd.DataFrame, epochs: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    order = rng.permutation(len(rows))
    cut = int(0.7 * len(rows))
    train, test = order[:cut], order[cut:]
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div(255.0)
    x = (x - x.mean(dim=(0, 2, 3), keepdim=True)) / x.std(dim=(0, 2, 3), keepdim=True)
    y = torch.from_numpy(rows["MEL"].to_numpy().astype(np.int64))
    model = plain_cnn()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    # Balanced class weights: both classes err at comparable rates, as at a BAcc operating point.
    positives = float(y[train].sum())
    weight = torch.tensor([1.0, (len(train) - positives) / positives])
    for _ in range(epochs):
        model.train()
        for batch in np.array_split(rng.permutation(train), max(1, len(train) // 64)):
            inputs = x[batch]
            flip = torch.rand(len(batch)) < 0.5
            inputs[flip] = inputs[flip].flip(-1)
            loss = nn.functional.cross_entropy(model(inputs), y[batch], weight=weight)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        probabilities = torch.cat([model(x[b]).softmax(1) for b in np.array_split(test, 20)])
    p = probabilities[:, 1].numpy()
    y_test = y[test].numpy()
    performance = performance_report(y_test, p)
    descriptors = rows[list(MILK10K_DESCRIPTORS)].to_numpy()
    report = semantic_fairness_report(
        train_descriptors=descriptors[train],
        train_labels=rows["MEL"].to_numpy()[train],
        train_subgroups=rows["site"].to_numpy()[train],
        test_descriptors=descriptors[test],
        test_labels=y_test,
        test_predictions=(p >= 0.5).astype(int),
        test_subgroups=rows["site"].to_numpy()[test],
        n_boot=200,
        classes=[0, 1],
    )
    return {
        "auc": performance["auc"],
        "cdi": report.cdi,
        "cdi_low": report.intervals["cdi"][0],
        "cdi_high": report.intervals["cdi"][1],
        "tpr_worst": report.tpr_worst,
        "n_valid": report.n_valid,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lesions", type=int, default=6000)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--imbalance", type=float, nargs="+", default=[1.0, 0.0])
    args = parser.parse_args()
    torch.set_num_threads(2)
    print("| imbalance | seed | AUC | CDI (95 % CI) | TPR_w | SCGs | seconds |")
    print("|---|---|---|---|---|---|---|")
    for strength in args.imbalance:
        for seed in args.seeds:
            with tempfile.TemporaryDirectory() as folder:
                start = time.perf_counter()
                config = SyntheticConfig(n_lesions=args.lesions, imbalance=strength, seed=seed)
                root = write_synthetic(folder, config)
                images, rows = load(root, "dermoscopic")
                result = train_and_evaluate(images, rows, args.epochs, seed)
                seconds = time.perf_counter() - start
            print(
                f"| {strength} | {seed} | {result['auc']:.3f} | {result['cdi']:.3f} "
                f"({result['cdi_low']:.3f}–{result['cdi_high']:.3f}) | {result['tpr_worst']:.3f} "
                f"| {result['n_valid']} | {seconds:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
