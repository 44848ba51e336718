"""The real-data entries of the datasets registry, on tiny folders in their published layouts."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from semcov_train import train


def _jpeg(path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(40, 40, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, quality=85)


@pytest.fixture
def celeba_root(tmp_path):
    """60 faces: every 6th smiling (1:5), the 7 descriptor attributes, Male."""
    names = ["Heavy_Makeup", "Bangs", "Eyeglasses", "Mustache", "Black_Hair", "Pale_Skin"]
    names += ["High_Cheekbones", "Male", "Smiling"]
    rng = np.random.default_rng(0)
    root = tmp_path / "celeba"
    lines, partition = ["60", " ".join(names)], []
    for i in range(60):
        image = f"{i + 1:06d}.jpg"
        values = rng.choice([-1, 1], size=len(names))
        values[-1] = 1 if i % 6 == 0 else -1
        lines.append(image + " " + " ".join(str(v) for v in values))
        partition.append(f"{image} {i % 3}")
        _jpeg(root / "img_align_celeba" / image, i)
    (root / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    (root / "list_eval_partition.txt").write_text("\n".join(partition) + "\n")
    return root


@pytest.fixture
def isic_root(tmp_path):
    """40 dermoscopic images in the two released CSVs, patients of 2 images, 2 MONET scores."""
    root = tmp_path / "isic"
    frames = []
    for part, start in (("train", 0), ("valid", 32)):
        rows = []
        for i in range(start, start + (32 if part == "train" else 8)):
            label = int(i % 3 == 0)
            image = f"ISIC2019_{i:07d}_{'mel' if label else 'nmel'}.jpg"
            rows.append(
                {
                    "image": image,
                    "isic_id": f"ISIC_{i:07d}",
                    "class": label,
                    "patient_id": f"IP_{i // 2:07d}",
                    "lesion_id": f"IL_{i:07d}",
                    "sex": "male" if i % 2 else "female",
                    "age_approx": 30 + i,
                    "anatom_site_general": ["head/neck", "anterior torso", "lower extremity"][
                        i % 3
                    ],
                }
            )
            _jpeg(root / f"{part}-set" / image, i)
        frame = pd.DataFrame(rows)
        frame.to_csv(root / f"{part}-set-metadata.csv", index=False)
        frames.append(frame)
    rng = np.random.default_rng(1)
    ids = pd.concat(frames)["isic_id"]
    scores = pd.DataFrame(
        {"isic_id": ids, "MONET_hair": rng.random(40), "MONET_erythema": rng.random(40)}
    )
    scores.to_csv(tmp_path / "scores.csv", index=False)
    return root


def test_celeba_trains_with_its_descriptors_and_subgroup(smoke, celeba_root):
    config = smoke(method="semcovnet", dataset="celeba", data_root=str(celeba_root))
    config = config.replace(celeba_images=60)
    result = train(config)
    assert result.run_dir.parts[-3] == "celeba-photo"
    resolved = json.loads((result.run_dir / "config.json").read_text())["resolved"]
    assert resolved["subgroup"] == "Male" and resolved["classes"] == ["not_Smiling", "Smiling"]
    assert len(resolved["descriptors"]) == 7
    assert resolved["n_train"] + resolved["n_val"] + resolved["n_test"] == 60


def test_isic_dicm17k_needs_and_uses_descriptor_scores(smoke, isic_root):
    config = smoke(method="erm", dataset="isic_dicm17k", data_root=str(isic_root))
    with pytest.raises(ValueError, match=r"^descriptors_csv: ISIC-DICM-17K has no descriptor"):
        train(config)
    scores = isic_root.parent / "scores.csv"
    result = train(config.replace(descriptors_csv=str(scores)))
    frame = pd.read_parquet(result.run_dir / "predictions.parquet")
    assert {"MONET_hair", "MONET_erythema"} <= set(frame.columns)
    resolved = json.loads((result.run_dir / "config.json").read_text())["resolved"]
    assert resolved["n_train"] + resolved["n_val"] + resolved["n_test"] == 40
