"""Generated stand-ins of the real datasets, for code blocks that read ``~/data/<dataset>``.

A block marked ``<!-- ci: fixture: NAME -->`` runs with ``HOME`` set to a temporary folder in
which NAME has been written at the path the READMEs use. The stand-ins have the real layout and
column names but a few dozen random or synthetic images, so loaders, splits, caches and smoke
training run on them in seconds; their numbers mean nothing.

- ``milk10k`` → ``~/data/milk10k``: the synthetic benchmark (MILK10k challenge layout, MONET
  columns), 48 lesions at 32 px;
- ``isic_dicm17k`` → ``~/data/isic-dicm-17k``: both released metadata CSVs, images in
  ``train-set/`` and ``valid-set/``, MONET scores in ``monet.csv``;
- ``fairness`` → ``~/data/fairness/{train,test}.csv``: descriptor scores (``MONET_hair``,
  ``MONET_pen``, ``MONET_vessels``), ``diagnosis``, ``site`` and, in test, a ``pred`` column;
- ``derm`` → ``~/data/derm``: a dermatology CSV (seven diagnoses, body site, lesion ids, three
  attribute scores, a split column) with JPEGs, the one the trainer's tests use.

CelebA has none: the trainer's curated subset needs 5,000 images (833 smiling), more than a
stand-in should write.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

__all__ = ["FIXTURES", "write_fixtures"]


def _image(path: Path, seed: int, size: tuple[int, int] = (40, 32)) -> None:
    rng = np.random.default_rng(seed)
    pixels = np.clip(rng.integers(0, 256, 3) + rng.integers(-30, 31, (size[1], size[0], 3)), 0, 255)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels.astype(np.uint8)).save(path, quality=90)


def write_milk10k(home: Path) -> Path:
    """The smoke-size synthetic benchmark, which the MILK10k loader reads unchanged."""
    from semcov_data import SyntheticConfig, write_synthetic

    config = SyntheticConfig(n_lesions=48, image_size=32, positive_fraction=1 / 3, seed=0)
    return write_synthetic(home / "data" / "milk10k", config, workers=1)


def write_isic_dicm17k(home: Path, n_train: int = 48, n_valid: int = 16) -> Path:
    """Train and valid metadata with a lesion shared across them, images and MONET scores."""
    from semcov_data import MILK10K_DESCRIPTORS

    root = home / "data" / "isic-dicm-17k"
    sites = ["head/neck", "anterior torso", "lower extremity", None]
    rows = []
    for i in range(n_train + n_valid):
        label = int(i % 3 == 0)
        rows.append(
            {
                "image": f"ISIC2019_{i:07d}_{'mel' if label else 'nmel'}.jpg",
                "isic_id": f"ISIC_{i:07d}",
                "year": 2019,
                "class": label,
                "patient_id": f"IP_{i // 2:07d}",
                "lesion_id": f"IL_{i:07d}",
                "sex": ["male", "female"][i % 2],
                "age_approx": 30 + i % 50,
                "anatom_site_general": sites[i % len(sites)],
                "benign_malignant": "malignant" if label else "benign",
                "diagnosis": "melanoma" if label else "nevus",
                "image_type": "dermoscopic",
            }
        )
    frame = pd.DataFrame(rows)
    train, valid = frame.iloc[:n_train].copy(), frame.iloc[n_train:].copy()
    valid.iloc[0, valid.columns.get_loc("lesion_id")] = train["lesion_id"].iloc[0]  # one leak
    root.mkdir(parents=True)
    for part, table in (("train", train), ("valid", valid)):
        table.to_csv(root / f"{part}-set-metadata.csv", index=False)
        for k, name in enumerate(table["image"]):
            _image(root / f"{part}-set" / name, k + (0 if part == "train" else n_train))
    rng = np.random.default_rng(1)
    scores = pd.DataFrame(rng.uniform(0, 1, (len(frame), len(MILK10K_DESCRIPTORS))))
    scores.columns = list(MILK10K_DESCRIPTORS)
    scores.insert(0, "isic_id", frame["isic_id"])
    scores.to_csv(root / "monet.csv", index=False)
    return root


def write_derm(home: Path) -> Path:
    """The dermatology CSV of the trainer's tests (``tests/train/conftest.py``), written once."""
    spec = importlib.util.spec_from_file_location(
        "semcov_train_test_conftest", Path(__file__).parents[1] / "train" / "conftest.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write_derm_csv(home / "data" / "derm")


def write_fairness(home: Path, n_train: int = 400, n_test: int = 300) -> Path:
    """Training and test CSVs of a fairness report: three descriptor scores, a diagnosis, a site,
    and the test split's predictions (right 80 % of the time)."""
    rng = np.random.default_rng(0)
    root = home / "data" / "fairness"
    root.mkdir(parents=True, exist_ok=True)
    for name, n in (("train", n_train), ("test", n_test)):
        frame = pd.DataFrame(
            {
                "MONET_hair": rng.uniform(size=n),
                "MONET_pen": rng.uniform(size=n),
                "MONET_vessels": rng.uniform(size=n),
                "diagnosis": rng.choice(["MEL", "NV"], size=n, p=[0.3, 0.7]),
                "site": rng.choice(["arm", "back", "face", "leg"], size=n),
            }
        )
        if name == "test":
            wrong = rng.uniform(size=n) < 0.2
            flipped = frame["diagnosis"].map({"MEL": "NV", "NV": "MEL"})
            frame["pred"] = frame["diagnosis"].where(~wrong, flipped)
        frame.to_csv(root / f"{name}.csv", index=False)
    return root


FIXTURES: dict[str, Callable[[Path], Path]] = {
    "fairness": write_fairness,
    "milk10k": write_milk10k,
    "isic_dicm17k": write_isic_dicm17k,
    "derm": write_derm,
}


def write_fixtures(names: list[str], home: Path) -> None:
    """Write each named fixture under ``home`` once (a folder already there is kept).

    Raises:
        ValueError: an unknown fixture name.
    """
    for name in names:
        if name not in FIXTURES:
            raise ValueError(f"unknown fixture {name!r} (choose from {sorted(FIXTURES)})")
        folder = {"isic_dicm17k": "isic-dicm-17k"}.get(name, name)
        if not (home / "data" / folder).exists():
            FIXTURES[name](home)
