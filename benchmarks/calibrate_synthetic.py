"""Calibrate the synthetic benchmark: a plain CNN trained for a few CPU minutes.

Trains on one benchmark draw and evaluates on an independent, larger draw; reports test AUC and
the dermoscopic CDI (soft and hard membership, SCGs with test support above ``--min-support``)
at the default imbalance and at imbalance 0, so the planted imbalance is shown to be measurable;
``--descriptor-effects random`` runs the control whose imbalance 0 keeps the task's difficulty.
Run: ``uv run python benchmarks/calibrate_synthetic.py``.
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


def to_tensor(images: np.ndarray, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    return (torch.from_numpy(images).permute(0, 3, 1, 2).float().div(255.0) - mean) / std


def train_and_evaluate(
    train_images: np.ndarray,
    train_rows: pd.DataFrame,
    test_images: np.ndarray,
    test_rows: pd.DataFrame,
    epochs: int,
    seed: int,
    min_support: float,
) -> dict:
    """Train on one benchmark draw; evaluate on an independent, larger draw (less noisy CDI)."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    raw = torch.from_numpy(train_images).float().div(255.0)
    mean = raw.mean(dim=(0, 1, 2)).view(1, 3, 1, 1)
    std = raw.std(dim=(0, 1, 2)).view(1, 3, 1, 1)
    x = to_tensor(train_images, mean, std)
    y = torch.from_numpy(train_rows["MEL"].to_numpy().astype(np.int64))
    model = plain_cnn()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    # Balanced class weights: both classes err at comparable rates, as at a BAcc operating point.
    positives = float(y.sum())
    weight = torch.tensor([1.0, (len(y) - positives) / positives])
    for _ in range(epochs):
        model.train()
        for batch in np.array_split(rng.permutation(len(y)), max(1, len(y) // 64)):
            inputs = x[batch]
            flip = torch.rand(len(batch)) < 0.5
            inputs[flip] = inputs[flip].flip(-1)
            loss = nn.functional.cross_entropy(model(inputs), y[batch], weight=weight)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    x_test = to_tensor(test_images, mean, std)
    with torch.no_grad():
        p = torch.cat([model(chunk).softmax(1)[:, 1] for chunk in x_test.split(256)]).numpy()
        p_train = torch.cat([model(chunk).softmax(1)[:, 1] for chunk in x.split(256)]).numpy()
    # Operating point with equal sensitivity and specificity on the training data, so that
    # the class-level error gap does not swamp the per-SCG differences the CDI measures.
    y_train = y.numpy()
    candidates = np.quantile(p_train, np.linspace(0.01, 0.99, 197))
    gaps = [
        abs((p_train[y_train == 1] >= t).mean() - (p_train[y_train == 0] < t).mean())
        for t in candidates
    ]
    threshold = float(candidates[int(np.argmin(gaps))])
    y_test = test_rows["MEL"].to_numpy().astype(int)
    performance = performance_report(y_test, p)
    columns = list(MILK10K_DESCRIPTORS)
    results = {"auc": performance["auc"]}
    for membership in ("soft", "hard"):
        report = semantic_fairness_report(
            train_descriptors=train_rows[columns],
            train_labels=train_rows["MEL"].astype(int),
            train_subgroups=train_rows["site"],
            test_descriptors=test_rows[columns],
            test_labels=y_test,
            test_predictions=(p >= threshold).astype(int),
            test_subgroups=test_rows["site"],
            membership=membership,
            min_support=min_support,
            n_boot=200,
            classes=[0, 1],
        )
        results[membership] = report
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train-lesions", type=int, default=4000)
    parser.add_argument("--test-lesions", type=int, default=8000)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--imbalance", type=float, nargs="+", default=[1.0, 0.0])
    parser.add_argument(
        "--descriptor-effects",
        choices=["fixed", "random"],
        default="fixed",
        help="random: the control whose imbalance 0 keeps the task's difficulty",
    )
    parser.add_argument("--tables", type=Path, default=None, help="write per-SCG tables here")
    parser.add_argument(
        "--min-support",
        type=float,
        default=10.0,
        help="SCGs need this much test support (tiny cells only add noise to the CDI)",
    )
    args = parser.parse_args()
    torch.set_num_threads(2)
    print("| imbalance | seed | AUC | CDI soft (95 % CI) | CDI hard (95 % CI) | SCGs | seconds |")
    print("|---|---|---|---|---|---|---|")
    for strength in args.imbalance:
        for seed in args.seeds:
            with tempfile.TemporaryDirectory() as folder:
                start = time.perf_counter()
                draws = {}
                for part, n, offset in (
                    ("train", args.train_lesions, 0),
                    ("test", args.test_lesions, 1000),
                ):
                    config = SyntheticConfig(
                        n_lesions=n,
                        imbalance=strength,
                        seed=seed + offset,
                        descriptor_effects=args.descriptor_effects,
                    )
                    draws[part] = load(write_synthetic(Path(folder) / part, config), "dermoscopic")
                result = train_and_evaluate(
                    *draws["train"], *draws["test"], args.epochs, seed, args.min_support
                )
                seconds = time.perf_counter() - start
            soft, hard = result["soft"], result["hard"]
            print(
                f"| {strength} | {seed} | {result['auc']:.3f} "
                f"| {soft.cdi:.3f} ({soft.intervals['cdi'][0]:.3f}–{soft.intervals['cdi'][1]:.3f}) "
                f"| {hard.cdi:.3f} ({hard.intervals['cdi'][0]:.3f}–{hard.intervals['cdi'][1]:.3f}) "
                f"| {soft.n_valid} | {seconds:.0f} |",
                flush=True,
            )
            if args.tables is not None:
                args.tables.mkdir(parents=True, exist_ok=True)
                soft.table.to_csv(
                    args.tables / f"scg-imbalance{strength}-seed{seed}.csv", index=False
                )


if __name__ == "__main__":
    main()
