"""Fixtures of the semcov-train tests: the synthetic benchmark generated once per session and
smoke configurations that write into a per-test folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from semcov_train import make_config, prepare_synthetic


@pytest.fixture(scope="session")
def train_cache(tmp_path_factory) -> Path:
    """Cache folder holding the smoke-size synthetic benchmark (48 lesions, 32 px) and its
    image cache, shared by every test of the session."""
    folder = tmp_path_factory.mktemp("semcov-cache")
    prepare_synthetic(make_config("smoke", cache_dir=str(folder)))
    return folder


@pytest.fixture
def smoke(train_cache, tmp_path):
    """``smoke(**overrides)``: the smoke preset writing under this test's folder, one thread."""

    def make(**overrides):
        values = {"cache_dir": str(train_cache), "out": str(tmp_path / "runs"), "num_threads": 1}
        values.update(overrides)
        return make_config("smoke", **values)

    return make


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory) -> Path:
    """A randomly initialised, tiny transformers CLIP model saved like the real ones."""
    transformers = pytest.importorskip("transformers")
    import torch

    folder = tmp_path_factory.mktemp("tiny-clip")
    torch.manual_seed(0)
    config = transformers.CLIPConfig(
        text_config={
            "hidden_size": 16,
            "intermediate_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "vocab_size": 64,
            "max_position_embeddings": 16,
            "bos_token_id": 0,
            "eos_token_id": 1,
            "pad_token_id": 1,
        },
        vision_config={
            "hidden_size": 16,
            "intermediate_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "image_size": 32,
            "patch_size": 8,
        },
        projection_dim=12,
    )
    transformers.utils.logging.disable_progress_bar()
    transformers.CLIPModel(config).save_pretrained(folder)
    transformers.utils.logging.enable_progress_bar()
    return folder


#: The seven diagnoses of a HAM10000-like dermatology CSV and its body sites.
DERM_CLASSES = ("AKIEC", "BCC", "BKL", "DF", "MEL", "NV", "VASC")
DERM_SITES = ("back", "face", "lower extremity", "trunk", "upper extremity")
DERM_DESCRIPTORS = ("pigment_network", "vessels", "hair")


def write_derm_csv(folder: Path, *, n_lesions: int = 70, seed: int = 0) -> Path:
    """A dermatology CSV with real JPEG files beside it.

    ``metadata.csv`` has ``image_id, lesion_id, dx`` (seven classes), ``age``, ``sex``,
    ``localization`` (body site), three attribute scores in [0, 1] and a ``split`` column; the
    JPEGs (40×32, colour tied to the diagnosis) lie under ``images/``, one or two per lesion.
    """
    import numpy as np
    import pandas as pd
    from PIL import Image

    rng = np.random.default_rng(seed)
    rows = []
    (folder / "images").mkdir(parents=True, exist_ok=True)
    for lesion in range(n_lesions):
        dx = DERM_CLASSES[lesion % len(DERM_CLASSES)]
        code = DERM_CLASSES.index(dx)
        site = DERM_SITES[int(rng.integers(len(DERM_SITES)))]
        part = "test" if lesion % 5 == 4 else ("val" if lesion % 5 == 3 else "train")
        for view in range(1 + lesion % 2):
            image_id = f"IMG_{lesion:04d}_{view}"
            base = np.array([40 + 30 * code, 200 - 25 * code, 90 + 10 * (code % 3)])
            pixels = np.clip(base + rng.integers(-25, 26, size=(32, 40, 3)), 0, 255)
            Image.fromarray(pixels.astype(np.uint8)).save(folder / "images" / f"{image_id}.jpg")
            rows.append(
                {
                    "image_id": image_id,
                    "lesion_id": f"HAM_{lesion:05d}",
                    "dx": dx,
                    "age": float(rng.integers(20, 85)) if lesion % 9 else None,
                    "sex": ["male", "female"][lesion % 2],
                    "localization": site,
                    "file": f"images/{image_id}.jpg",
                    "pigment_network": float(np.clip(0.1 * code + rng.uniform(0, 0.3), 0, 1)),
                    "vessels": float(rng.uniform()),
                    "hair": float(rng.integers(0, 2)),
                    "split": part,
                }
            )
    path = folder / "metadata.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _derm_options(csv_path: Path, **extra: str) -> dict:
    """TrainConfig fields of ``--dataset csv`` on :func:`write_derm_csv`'s CSV."""
    options = {
        "dataset": "csv",
        "csv_path": str(csv_path),
        "image_column": "file",
        "label_column": "dx",
        "id_column": "image_id",
        "descriptor_columns": ",".join(DERM_DESCRIPTORS),
        "subgroup_columns": "localization",
        "group_columns": "lesion_id",
    }
    options.update(extra)
    return options


@pytest.fixture
def derm_csv(tmp_path) -> Path:
    """A dermatology CSV with JPEGs (:func:`write_derm_csv`) in this test's folder."""
    return write_derm_csv(tmp_path / "derm")


@pytest.fixture
def write_derm():
    """``write_derm(folder, n_lesions=70, seed=0)``: :func:`write_derm_csv`."""
    return write_derm_csv


@pytest.fixture
def derm(smoke, derm_csv):
    """``derm(**overrides)``: a smoke config of ``--dataset csv`` on :func:`derm_csv`."""

    def make(**overrides):
        values = _derm_options(derm_csv)
        values.update(overrides)
        return smoke(**values)

    return make


@pytest.fixture
def derm_argv(derm_csv, train_cache, tmp_path):
    """``derm_argv(*more)``: the command line of a smoke ``--dataset csv`` run."""

    def argv(*more: str) -> list[str]:
        options = _derm_options(derm_csv)
        line = ["--method", "erm", "--preset", "smoke", "--cache-dir", str(train_cache)]
        line += ["--out", str(tmp_path / "runs"), "--num-threads", "1"]
        for key, value in options.items():
            line += [f"--{key.replace('_', '-')}", str(value)]
        return [*line, *more]

    return argv
