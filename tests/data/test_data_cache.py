"""The image cache: one decode per image, reuse, staleness, interruption, and DataLoader reading."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from semcov_data import SemCovDataset, build_image_cache, eval_transform, load_csv
from semcov_data import cache as cache_module
from semcov_data.images import load_fixed_size


@pytest.fixture
def table(generic_csv):
    return load_csv(generic_csv, descriptor_columns=["hair", "ink"], subgroup_columns="site")


def _count_decodes(monkeypatch):
    calls = []

    def counting(path, size, fit="crop"):
        calls.append(path)
        return load_fixed_size(path, size, fit)

    monkeypatch.setattr(cache_module, "load_fixed_size", counting)
    return calls


def test_cache_holds_every_image_resized(table, tmp_path):
    cache = build_image_cache(table.image_paths(), tmp_path / "c", size=24)
    assert cache.array.shape == (20, 24, 24, 3)
    assert cache.array.dtype == np.uint8
    assert not cache.failed
    path = table.image_paths()[3]
    np.testing.assert_array_equal(cache.image(path), load_fixed_size(path, 24))


def test_pad_fit_keeps_the_whole_image(tmp_path, image_writer):
    wide = image_writer(tmp_path / "wide.png", 0, size=(40, 20))
    padded = load_fixed_size(wide, 20, fit="pad")
    cropped = load_fixed_size(wide, 20, fit="crop")
    assert padded.shape == cropped.shape == (20, 20, 3)
    assert padded[:4].max() == 0 and padded[-4:].max() == 0  # black bands above and below
    assert cropped[:4].max() > 0


def test_fresh_cache_is_reused_without_decoding(table, tmp_path, monkeypatch):
    build_image_cache(table.image_paths(), tmp_path / "c", size=24)
    calls = _count_decodes(monkeypatch)
    again = build_image_cache(table.image_paths(), tmp_path / "c", size=24)
    assert calls == []
    assert again.is_fresh()


def test_changed_file_makes_the_cache_stale(table, tmp_path, monkeypatch, image_writer):
    first = build_image_cache(table.image_paths(), tmp_path / "c", size=24)
    changed = table.image_paths()[0]
    image_writer(changed, 99)
    os.utime(changed, ns=(1, 1))
    assert not first.is_fresh()
    calls = _count_decodes(monkeypatch)
    rebuilt = build_image_cache(table.image_paths(), tmp_path / "c", size=24)
    assert len(calls) == 20
    np.testing.assert_array_equal(rebuilt.image(changed), load_fixed_size(changed, 24))
    # Another size is another cache, not a rebuild of this one.
    other = build_image_cache(table.image_paths(), tmp_path / "c", size=16)
    assert other.array_path != rebuilt.array_path


def test_interrupted_build_leaves_the_previous_cache(table, tmp_path, monkeypatch):
    paths = table.image_paths()
    good = build_image_cache(paths, tmp_path / "c", size=24)
    before = good.array_path.read_bytes()
    os.utime(paths[0], ns=(5, 5))
    seen = []

    def interrupted(path, size, fit="crop"):
        seen.append(path)
        if len(seen) == 5:
            raise KeyboardInterrupt
        return load_fixed_size(path, size, fit)

    monkeypatch.setattr(cache_module, "load_fixed_size", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_image_cache(paths, tmp_path / "c", size=24, num_workers=1)
    assert good.array_path.read_bytes() == before
    assert not [p for p in os.listdir(tmp_path / "c") if ".tmp-" in p]
    monkeypatch.undo()
    rebuilt = build_image_cache(paths, tmp_path / "c", size=24)
    assert rebuilt.is_fresh()


def test_interrupted_first_build_leaves_no_cache(table, tmp_path, monkeypatch):
    def broken(path, size, fit="crop"):
        raise KeyboardInterrupt

    monkeypatch.setattr(cache_module, "load_fixed_size", broken)
    with pytest.raises(KeyboardInterrupt):
        build_image_cache(table.image_paths(), tmp_path / "c", size=24, num_workers=1)
    assert os.listdir(tmp_path / "c") == []


def test_dataset_reads_from_cache_without_decoding(table, tmp_path, monkeypatch):
    cache = build_image_cache(table.image_paths(), tmp_path / "c", size=24)
    from semcov_data import dataset as dataset_module

    def no_decode(path):
        raise AssertionError("decoded a file although a cache was given")

    monkeypatch.setattr(dataset_module, "read_image", no_decode)
    data = SemCovDataset(table, cache=cache)
    sample = data[4]
    assert sample["image"].dtype == torch.uint8
    assert sample["image"].shape == (3, 24, 24)
    expected = torch.from_numpy(cache.image(table.image_paths()[4]).copy()).permute(2, 0, 1)
    assert torch.equal(sample["image"], expected)


def test_cached_dataset_in_dataloader_workers(table, tmp_path):
    cache = build_image_cache(table.image_paths(), tmp_path / "c", size=24)
    data = SemCovDataset(table, cache=cache, transform=eval_transform(16))
    loader = DataLoader(data, batch_size=8, num_workers=2)
    batches = list(loader)
    assert sum(len(b["id"]) for b in batches) == 20
    assert batches[0]["image"].shape == (8, 3, 16, 16)
    assert batches[0]["descriptors"].shape == (8, 2)
    assert batches[0]["id"][:2] == ["images/img_00.png", "images/img_01.png"]


def test_cache_must_hold_the_table(table, tmp_path):
    cache = build_image_cache(table.image_paths()[:5], tmp_path / "c", size=24)
    with pytest.raises(ValueError, match="not in the cache"):
        SemCovDataset(table, cache=cache)
    with pytest.raises(ValueError, match="size"):
        build_image_cache(table.image_paths(), tmp_path / "c", size=2)
    with pytest.raises(ValueError, match="fit"):
        build_image_cache(table.image_paths(), tmp_path / "c", fit="stretch")
