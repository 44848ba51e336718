"""Image files as cameras and archives write them: EXIF orientation, CMYK, grayscale, palette
with transparency, 16-bit, truncated and unreadable files, all generated here with PIL."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from semcov_data import (
    BadImageError,
    SemCovDataset,
    build_image_cache,
    drop_bad_images,
    load_csv,
)
from semcov_data.images import check_image, load_fixed_size, read_image


def _gradient(width=24, height=16) -> np.ndarray:
    """An RGB image whose every pixel differs: a flip or rotation cannot go unnoticed."""
    x = np.linspace(0, 255, width)[None, :].repeat(height, 0)
    y = np.linspace(0, 255, height)[:, None].repeat(width, 1)
    return np.stack([x, y, 255 - x], axis=-1).round().astype(np.uint8)


def test_exif_orientation_is_applied(tmp_path):
    pixels = _gradient()
    path = tmp_path / "rotated.png"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: the viewer turns it 90° clockwise
    Image.fromarray(pixels).save(path, exif=exif)
    decoded = read_image(path).permute(1, 2, 0).numpy()
    expected = np.rot90(pixels, k=-1)  # 90° clockwise
    assert decoded.shape == expected.shape == (24, 16, 3)
    np.testing.assert_array_equal(decoded, expected)
    fixed = load_fixed_size(path, 16, fit="pad")
    assert fixed.shape == (16, 16, 3)
    # padded left and right: the upright image is taller than wide
    assert fixed[:, 0].max() == 0 and fixed[:, 8].max() > 0


def test_cmyk_grayscale_palette_and_16_bit_become_rgb(tmp_path):
    rgb = _gradient()
    files = {}
    files["cmyk.jpg"] = Image.fromarray(rgb).convert("CMYK")
    files["gray.png"] = Image.fromarray(rgb).convert("L")
    palette = Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    palette.info["transparency"] = 0
    files["palette.png"] = palette
    wide = (np.linspace(0, 65535, 24 * 16).reshape(16, 24)).astype(np.uint16)
    files["sixteen.png"] = Image.fromarray(wide)
    for name, image in files.items():
        kwargs = {"transparency": 0} if name == "palette.png" else {}
        image.save(tmp_path / name, **kwargs)
    assert Image.open(tmp_path / "cmyk.jpg").mode == "CMYK"
    assert Image.open(tmp_path / "sixteen.png").mode in ("I;16", "I")
    assert Image.open(tmp_path / "palette.png").info.get("transparency") == 0
    for name in files:
        decoded = read_image(tmp_path / name)
        assert decoded.shape == (3, 16, 24) and str(decoded.dtype) == "torch.uint8", name
        assert load_fixed_size(tmp_path / name, 16).shape == (16, 16, 3), name
    gray = read_image(tmp_path / "gray.png").numpy()
    np.testing.assert_array_equal(gray[0], gray[1])
    # 16-bit values are scaled to 8 bits, not clipped to white
    sixteen = read_image(tmp_path / "sixteen.png").numpy()[0]
    np.testing.assert_array_equal(sixteen, np.rint(wide / 257.0).astype(np.uint8))
    assert 0 < np.median(sixteen) < 255
    # CMYK JPEG: the colours survive the round trip (lossy, so within a tolerance)
    cmyk = read_image(tmp_path / "cmyk.jpg").permute(1, 2, 0).numpy().astype(int)
    assert np.abs(cmyk - rgb.astype(int)).mean() < 12
    # palette with transparency: the colours of the palette, no warning, no alpha
    expected = np.asarray(palette.convert("RGBA"))[..., :3]
    np.testing.assert_array_equal(read_image(tmp_path / "palette.png").permute(1, 2, 0), expected)


@pytest.fixture
def odd_csv(tmp_path):
    rows = []
    (tmp_path / "img").mkdir()
    for i in range(6):
        Image.fromarray(_gradient()).save(tmp_path / "img" / f"{i}.jpg", quality=95)
        rows.append({"image": f"img/{i}.jpg", "label": i % 2, "d": 0.5, "site": "arm"})
    data = (tmp_path / "img" / "2.jpg").read_bytes()
    (tmp_path / "img" / "2.jpg").write_bytes(data[: len(data) // 2])  # truncated
    (tmp_path / "img" / "4.jpg").write_bytes(b"\x00" * 64)  # not an image
    pd.DataFrame(rows).to_csv(tmp_path / "t.csv", index=False)
    return tmp_path / "t.csv"


def test_truncated_and_unreadable_files_are_excluded_at_load_time(odd_csv, tmp_path):
    assert check_image(tmp_path / "img" / "2.jpg").startswith("corrupt")
    assert check_image(tmp_path / "img" / "0.jpg") is None
    table = load_csv(odd_csv, descriptor_columns=["d"], subgroup_columns="site")
    for cache in (None, build_image_cache(table.image_paths(), tmp_path / "cache", size=16)):
        kept = drop_bad_images(table, cache=cache)
        assert list(kept.frame["image"]) == ["img/0.jpg", "img/1.jpg", "img/3.jpg", "img/5.jpg"]
        excluded = kept.report.excluded.set_index("sample_id")
        assert list(excluded.index) == ["img/2.jpg", "img/4.jpg"]
        assert set(excluded["reason"]) == {"corrupt image"}
        assert all("jpg" in detail for detail in excluded["detail"])
        assert "excluded 2 (2 corrupt image)" in kept.report.summary()
        with pytest.raises(BadImageError, match=r"2 sample\(s\) with a bad image.*2\.jpg"):
            drop_bad_images(table, cache=cache, on_bad_image="raise")
    # every remaining sample decodes: nothing can fail in the middle of an epoch
    dataset = SemCovDataset(table)
    assert len(dataset) == 4
    assert all(dataset[i]["image"].shape == (3, 16, 24) for i in range(len(dataset)))


def test_escaping_path_names_the_column_and_row(odd_csv):
    frame = pd.read_csv(odd_csv)
    frame.loc[3, "image"] = "img/../../secret.jpg"
    frame.to_csv(odd_csv, index=False)
    with pytest.raises(
        ValueError, match=r"row 4 \(id 'img/\.\./\.\./secret\.jpg'\): column 'image'"
    ):
        load_csv(odd_csv, descriptor_columns=["d"], subgroup_columns="site")
