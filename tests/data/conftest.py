"""Fixtures of semcov-data tests: tiny datasets in every supported layout, with generated images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Real public metadata beside the checkout (never committed); tests using it skip without it.
SHARED_DATA = REPO_ROOT / ".." / "shared" / "data"
MILK10K_REAL = SHARED_DATA / "milk10k"
ISIC_DICM_REAL = SHARED_DATA / "isic-dicm-17k"


@pytest.fixture(scope="session")
def milk10k_real() -> Path:
    """The real MILK10k metadata folder; the test skips when it is absent."""
    if not (MILK10K_REAL / "MILK10k_Training_Metadata.csv").is_file():
        pytest.skip("real MILK10k metadata (../shared/data/milk10k) not present")
    return MILK10K_REAL


@pytest.fixture(scope="session")
def isic_dicm_real() -> Path:
    """The real ISIC-DICM-17K metadata folder; the test skips when it is absent."""
    if not (ISIC_DICM_REAL / "train-set-metadata.csv").is_file():
        pytest.skip("real ISIC-DICM-17K metadata (../shared/data/isic-dicm-17k) not present")
    return ISIC_DICM_REAL


@pytest.fixture
def image_writer():
    """``write_image(path, seed, size=(w, h))``: a small random JPEG or PNG."""
    return write_image


MONET = [
    "MONET_ulceration_crust",
    "MONET_hair",
    "MONET_vasculature_vessels",
    "MONET_erythema",
    "MONET_pigmented",
    "MONET_gel_water_drop_fluid_dermoscopy_liquid",
    "MONET_skin_markings_pen_ink_purple_pen",
]
DIAGNOSES = ["AKIEC", "BCC", "BEN_OTH", "BKL", "DF", "INF", "MAL_OTH", "MEL", "NV", "SCCKA", "VASC"]
SITES = ["trunk", "head_neck_face", "lower_extremity", "upper_extremity", "hand", None]


def write_image(path: Path, seed: int, size: tuple[int, int] = (48, 36)) -> Path:
    """A small random JPEG (or PNG by suffix) whose mean colour depends on the seed."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, size=3)
    noise = rng.integers(-20, 21, size=(size[1], size[0], 3))
    pixels = np.clip(base + noise, 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, quality=90)
    return path


def milk10k_tables(n_lesions: int = 12) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Metadata (2 images per lesion), one-hot ground truth and supplement of a tiny MILK10k."""
    rng = np.random.default_rng(0)
    rows, truth = [], []
    for i in range(n_lesions):
        lesion = f"IL_{i:07d}"
        others = [d for d in DIAGNOSES if d != "MEL"]
        diagnosis = "MEL" if i % 4 == 0 else others[i % len(others)]
        truth.append({"lesion_id": lesion, **{d: float(d == diagnosis) for d in DIAGNOSES}})
        site = SITES[i % len(SITES)]
        for j, image_type in enumerate(["clinical: close-up", "dermoscopic"]):
            rows.append(
                {
                    "lesion_id": lesion,
                    "image_type": image_type,
                    "isic_id": f"ISIC_{1000 + 2 * i + j:07d}",
                    "attribution": "test",
                    "copyright_license": "CC-0",
                    "image_manipulation": "instrument only",
                    "age_approx": None if i == 3 else 20 + 5 * i,
                    "sex": "male" if i % 2 else "female",
                    "skin_tone_class": i % 6,
                    "site": site,
                    **{m: float(rng.uniform(0.01, 0.99)) for m in MONET},
                }
            )
    meta = pd.DataFrame(rows)
    supplement = pd.DataFrame(
        {
            "isic_id": meta["isic_id"],
            "diagnosis_full": "test diagnosis",
            "diagnosis_confirm_type": "histopathology",
            "invasion_thickness_interval": None,
        }
    )
    return meta, pd.DataFrame(truth), supplement


@pytest.fixture
def milk10k_challenge(tmp_path: Path) -> Path:
    """A tiny MILK10k in the challenge layout (12 lesions, 24 images, 3 MEL, one empty site)."""
    root = tmp_path / "milk10k"
    meta, truth, supplement = milk10k_tables()
    root.mkdir()
    meta.to_csv(root / "MILK10k_Training_Metadata.csv", index=False)
    truth.to_csv(root / "MILK10k_Training_GroundTruth.csv", index=False)
    supplement.to_csv(root / "MILK10k_Training_Supplement.csv", index=False)
    for k, row in enumerate(meta.itertuples()):
        write_image(root / "MILK10k_Training_Input" / row.lesion_id / f"{row.isic_id}.jpg", k)
    return root


@pytest.fixture
def milk10k_doi(tmp_path: Path) -> Path:
    """The same tiny MILK10k in the ISIC DOI layout (metadata.csv, images/, supplements/)."""
    root = tmp_path / "milk10k-doi"
    meta, truth, _ = milk10k_tables()
    isic_names = {
        "trunk": "anterior torso",
        "head_neck_face": "head/neck",
        "lower_extremity": "lower extremity",
        "upper_extremity": "upper extremity",
        "hand": "hand",
    }
    doi = meta.drop(columns=["site", *MONET]).assign(
        anatom_site_general=meta["site"].map(isic_names)
    )
    (root / "supplements").mkdir(parents=True)
    doi.to_csv(root / "metadata.csv", index=False)
    truth.to_csv(root / "supplements" / "MILK10k_Training_GroundTruth.csv", index=False)
    meta[["isic_id", *MONET]].to_csv(root / "supplements" / "monet_scores.csv", index=False)
    for k, isic in enumerate(meta["isic_id"]):
        write_image(root / "images" / f"{isic}.jpg", k)
    return root


ISIC_COLUMNS = ["image", "isic_id", "year", "class", "patient_id", "lesion_id", "sex"]
ISIC_COLUMNS += ["age_approx", "anatom_site_general", "benign_malignant", "diagnosis", "image_type"]


def isic_dicm_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train and valid metadata of a tiny ISIC-DICM-17K with empty ids and one leak of each kind."""

    def rows(part: str, start: int, n: int) -> list[dict]:
        out = []
        for i in range(start, start + n):
            label = i % 2
            out.append(
                {
                    "image": f"ISIC2019_{i:07d}_{'mel' if label else 'nmel'}.jpg",
                    "isic_id": f"ISIC_{i:07d}",
                    "year": 2019,
                    "class": label,
                    "patient_id": f"IP_{i // 3:07d}" if i % 4 else None,
                    "lesion_id": f"IL_{i // 2:07d}" if i % 5 else None,
                    "sex": "male" if i % 3 else "female",
                    "age_approx": 30 + i,
                    "anatom_site_general": ["head/neck", "anterior torso", None][i % 3],
                    "benign_malignant": "malignant" if label else "benign",
                    "diagnosis": "melanoma" if label else "nevus",
                    "image_type": "dermoscopic",
                }
            )
        return out

    train = pd.DataFrame(rows("train", 0, 30))
    valid = pd.DataFrame(rows("valid", 30, 10))
    # A released-split leak: one valid image shares a lesion and a patient with train.
    valid.loc[0, ["lesion_id", "patient_id"]] = ["IL_0000001", "IP_0000001"]
    return train, valid


@pytest.fixture
def isic_dicm(tmp_path: Path) -> Path:
    """A tiny ISIC-DICM-17K: two CSVs, images in train-set/ and valid-set/, and a descriptor CSV."""
    root = tmp_path / "isic-dicm-17k"
    root.mkdir()
    train, valid = isic_dicm_tables()
    train.to_csv(root / "train-set-metadata.csv", index=False)
    valid.to_csv(root / "valid-set-metadata.csv", index=False)
    for part, frame in (("train", train), ("valid", valid)):
        for k, name in enumerate(frame["image"]):
            write_image(root / f"{part}-set" / name, k)
    rng = np.random.default_rng(1)
    scores = pd.concat([train, valid])[["isic_id"]].assign(
        MONET_hair=rng.uniform(0, 1, 40), MONET_erythema=rng.uniform(0, 1, 40)
    )
    scores.to_csv(tmp_path / "isic_scores.csv", index=False)
    return root


CELEBA_ATTRIBUTES = ["Bangs", "Black_Hair", "Eyeglasses", "Heavy_Makeup", "High_Cheekbones"]
CELEBA_ATTRIBUTES += ["Male", "Mustache", "Pale_Skin", "Smiling", "Young"]


@pytest.fixture
def celeba(tmp_path: Path) -> Path:
    """A tiny CelebA in the torchvision layout: 60 images, 15 smiling, identities of 3 images."""
    root = tmp_path / "celeba"
    rng = np.random.default_rng(2)
    names = [f"{i:06d}.jpg" for i in range(1, 61)]
    values = rng.choice([-1, 1], size=(60, len(CELEBA_ATTRIBUTES)))
    values[:, CELEBA_ATTRIBUTES.index("Smiling")] = [1 if i % 4 == 0 else -1 for i in range(60)]
    lines = ["60", " ".join(CELEBA_ATTRIBUTES)]
    for name, row in zip(names, values, strict=True):
        lines.append(f"{name} " + " ".join(f"{v:2d}" for v in row))
    root.mkdir()
    (root / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    parts = [0 if i < 40 else (1 if i < 50 else 2) for i in range(60)]
    (root / "list_eval_partition.txt").write_text(
        "\n".join(f"{n} {p}" for n, p in zip(names, parts, strict=True)) + "\n"
    )
    (root / "identity_CelebA.txt").write_text(
        "\n".join(f"{n} {i // 3}" for i, n in enumerate(names)) + "\n"
    )
    for k, name in enumerate(names):
        write_image(root / "img_align_celeba" / name, k, size=(36, 44))
    return root


@pytest.fixture
def generic_csv(tmp_path: Path) -> Path:
    """Any dataset: images/ and labels.csv with image, label, two descriptors, site and patient."""
    rng = np.random.default_rng(3)
    rows = []
    for i in range(20):
        name = f"images/img_{i:02d}.png"
        write_image(tmp_path / name, i)
        rows.append(
            {
                "image": name,
                "label": ["benign", "malignant"][i % 2],
                "hair": float(rng.uniform()),
                "ink": float(i % 3 == 0),
                "site": ["arm", "leg", ""][i % 3],
                "patient": f"P{i // 4}",
            }
        )
    pd.DataFrame(rows).to_csv(tmp_path / "labels.csv", index=False)
    return tmp_path / "labels.csv"
