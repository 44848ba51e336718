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
