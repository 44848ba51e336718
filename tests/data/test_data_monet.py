"""MONET scorer with a tiny randomly initialised CLIP saved to disk (no download)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

transformers = pytest.importorskip("transformers")

from semcov_data import MILK10K_DESCRIPTORS, load_milk10k  # noqa: E402
from semcov_data.monet import MonetConfig, MonetScorer, score_folder  # noqa: E402


def _byte_alphabet() -> list[str]:
    """The 256 printable stand-ins of bytes used by CLIP's byte-level BPE."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1)]
    printable += range(ord("®"), ord("ÿ") + 1)
    chars, extra = {b: chr(b) for b in printable}, 0
    for b in range(256):
        if b not in chars:
            chars[b] = chr(256 + extra)
            extra += 1
    return [chars[b] for b in range(256)]


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    """A tiny CLIP model, tokenizer (character vocabulary, no merges) and processor on disk."""
    folder = tmp_path_factory.mktemp("tiny-clip")
    alphabet = _byte_alphabet()
    tokens = [*alphabet, *(c + "</w>" for c in alphabet), "<|startoftext|>", "<|endoftext|>"]
    vocab = {t: i for i, t in enumerate(tokens)}
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = transformers.CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"))
    start, end = vocab["<|startoftext|>"], vocab["<|endoftext|>"]
    small = {"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1}
    small["num_attention_heads"] = 2
    text = {**small, "vocab_size": len(vocab), "max_position_embeddings": 77}
    text.update(bos_token_id=start, eos_token_id=end, pad_token_id=end)
    vision = {**small, "image_size": 32, "patch_size": 8}
    config = transformers.CLIPConfig(text_config=text, vision_config=vision, projection_dim=8)
    torch.manual_seed(0)
    transformers.CLIPModel(config).save_pretrained(folder)
    images = transformers.CLIPImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    )
    transformers.CLIPProcessor(image_processor=images, tokenizer=tokenizer).save_pretrained(folder)
    return folder


def _image(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (40, 50, 3), dtype=np.uint8))


def test_scores_follow_the_monet_recipe(tiny_clip):
    scorer = MonetScorer(tiny_clip, {"hair": ["hair", "hairs"], "ink": ["pen ink"]})
    images = [_image(0), _image(1)]
    scores = scorer.score_images(images)
    assert scorer.columns == ["MONET_hair", "MONET_ink"]
    assert scores.shape == (2, 2)
    assert ((scores > 0) & (scores < 1)).all()
    # The same number by hand: mean over templates of sigmoid((s_t - r_t) / T).
    model, processor = scorer.model, scorer.processor

    def embed(**inputs):
        out = (
            model.get_text_features(**inputs)
            if "input_ids" in inputs
            else model.get_image_features(**inputs)
        )
        out = out if isinstance(out, torch.Tensor) else out.pooler_output
        return torch.nn.functional.normalize(out, dim=-1)

    with torch.no_grad():
        image = embed(**processor(images=images[:1], return_tensors="pt"))[0]
        reference = embed(
            **processor(text=["This is skin image"], return_tensors="pt", padding=True)
        )[0]
        values = []
        for template in MonetConfig().templates:
            prompts = [template.format(s) for s in ("hair", "hairs")]
            synonyms = embed(**processor(text=prompts, return_tensors="pt", padding=True))
            s_t = (synonyms @ image).mean()
            r_t = reference @ image
            values.append(torch.sigmoid((s_t - r_t) / math.exp(-4.5944)))
    assert scores[0, 0] == pytest.approx(torch.stack(values).mean().item(), abs=1e-5)


def test_score_folder_writes_the_csv_the_loader_joins(tiny_clip, milk10k_doi):
    supplement = milk10k_doi / "supplements" / "monet_scores.csv"
    supplement.unlink()
    (milk10k_doi / "images" / "broken.jpg").write_bytes(b"not a jpeg")
    config = MonetConfig(batch_size=5)
    _, report = score_folder(
        tiny_clip, milk10k_doi / "images", output_csv=supplement, config=config
    )
    assert report.counts() == {"corrupt image": 1}
    assert report.excluded["sample_id"].tolist() == ["broken"]
    written = pd.read_csv(supplement)
    assert list(written.columns) == ["isic_id", *MILK10K_DESCRIPTORS]
    assert len(written) == 24
    (milk10k_doi / "images" / "broken.jpg").unlink()
    table = load_milk10k(milk10k_doi)
    assert len(table) == 12
    joined = written.set_index("isic_id").loc[table.frame["isic_id"], list(MILK10K_DESCRIPTORS)]
    np.testing.assert_allclose(table.descriptors, joined.to_numpy(), rtol=1e-5)


def test_scorer_input_errors(tiny_clip, tmp_path):
    with pytest.raises(ValueError, match="model_path"):
        MonetScorer(tmp_path / "none")
    with pytest.raises(ValueError, match="templates"):
        MonetConfig(templates=("no placeholder",))
    with pytest.raises(TypeError, match="concepts"):
        MonetScorer(tiny_clip, "hair")
