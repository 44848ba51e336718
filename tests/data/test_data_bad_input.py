"""Every kind of bad input gets a clear error or a report, never a crash later or a silent drop."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from semcov_data import (
    LoadReport,
    SemCovDataset,
    build_image_cache,
    eval_transform,
    load_csv,
    load_isic_dicm17k,
    load_milk10k,
)

DESCRIPTORS = ["hair", "ink"]


def _csv(path, rows):
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _rows(tmp_path, image_writer, n=4):
    rows = []
    for i in range(n):
        image_writer(tmp_path / "images" / f"{i}.jpg", i)
        rows.append(
            {"image": f"images/{i}.jpg", "label": i % 2, "hair": 0.5, "ink": 0.0, "site": "a"}
        )
    return rows


def _load(path, **kwargs):
    return load_csv(path, descriptor_columns=DESCRIPTORS, subgroup_columns="site", **kwargs)


def test_parent_directory_path_is_rejected(tmp_path, image_writer):
    rows = _rows(tmp_path, image_writer)
    rows[1]["image"] = "images/../../outside.jpg"
    with pytest.raises(ValueError, match=r"column 'image'.*\.\."):
        _load(_csv(tmp_path / "t.csv", rows))


def test_absolute_path_is_rejected(tmp_path, image_writer):
    rows = _rows(tmp_path, image_writer)
    rows[0]["image"] = str(tmp_path / "images" / "0.jpg")
    with pytest.raises(ValueError, match="absolute image path"):
        _load(_csv(tmp_path / "t.csv", rows))


def test_symlink_leaving_the_root_is_rejected(tmp_path, image_writer):
    outside = image_writer(tmp_path / "outside" / "secret.jpg", 9)
    root = tmp_path / "root"
    rows = _rows(root, image_writer)
    os.symlink(outside, root / "images" / "link.jpg")
    rows[0]["image"] = "images/link.jpg"
    with pytest.raises(ValueError, match="links outside the data root"):
        _load(_csv(root / "t.csv", rows))


def test_missing_image_is_excluded_and_reported(tmp_path, image_writer):
    rows = _rows(tmp_path, image_writer)
    (tmp_path / "images" / "2.jpg").unlink()
    table = _load(_csv(tmp_path / "t.csv", rows))
    assert len(table) == 3
    assert table.report.n_read == 4
    assert table.report.counts() == {"missing image": 1}
    assert table.report.excluded["sample_id"].tolist() == ["images/2.jpg"]
    assert "excluded 1 (1 missing image)" in table.report.summary()


def test_missing_image_raises_by_flag(tmp_path, image_writer):
    rows = _rows(tmp_path, image_writer)
    (tmp_path / "images" / "2.jpg").unlink()
    with pytest.raises(ValueError, match=r"1 image file\(s\) not found.*2\.jpg"):
        _load(_csv(tmp_path / "t.csv", rows), missing_images="raise")


def test_no_image_at_all_is_an_error(tmp_path, image_writer):
    rows = _rows(tmp_path, image_writer)
    for i in range(4):
        (tmp_path / "images" / f"{i}.jpg").unlink()
    with pytest.raises(ValueError, match="none of the 4 image"):
        _load(_csv(tmp_path / "t.csv", rows))


def test_missing_image_is_logged(tmp_path, image_writer, caplog):
    rows = _rows(tmp_path, image_writer)
    (tmp_path / "images" / "0.jpg").unlink()
    with caplog.at_level("WARNING", logger="semcov_data"):
        _load(_csv(tmp_path / "t.csv", rows))
    assert "1 missing image" in caplog.text


def _corrupt(tmp_path, image_writer):
    rows = _rows(tmp_path, image_writer)
    data = (tmp_path / "images" / "1.jpg").read_bytes()
    (tmp_path / "images" / "1.jpg").write_bytes(data[: len(data) // 3])
    (tmp_path / "images" / "3.jpg").write_bytes(b"not an image at all")
    return _load(_csv(tmp_path / "t.csv", rows))


def test_corrupt_images_are_excluded_before_any_worker(tmp_path, image_writer):
    table = _corrupt(tmp_path, image_writer)
    dataset = SemCovDataset(table, transform=eval_transform(16))
    assert len(dataset) == 2
    assert dataset.report.counts() == {"corrupt image": 2}
    assert set(dataset.report.excluded["sample_id"]) == {"images/1.jpg", "images/3.jpg"}
    # Every remaining sample loads.
    assert all(dataset[i]["image"].shape == (3, 16, 16) for i in range(len(dataset)))


def test_corrupt_images_raise_by_flag(tmp_path, image_writer):
    table = _corrupt(tmp_path, image_writer)
    with pytest.raises(ValueError, match=r"2 sample\(s\) with a bad image"):
        SemCovDataset(table, on_bad_image="raise")


def test_corrupt_images_found_by_the_cache(tmp_path, image_writer):
    table = _corrupt(tmp_path, image_writer)
    cache = build_image_cache(table.image_paths(), tmp_path / "cache", size=16)
    assert len(cache.failed) == 2
    dataset = SemCovDataset(table, cache=cache)
    assert len(dataset) == 2
    assert dataset.report.counts() == {"corrupt image": 2}


def test_missing_column_names_it_and_lists_found(tmp_path, image_writer):
    rows = _rows(tmp_path, image_writer)
    path = _csv(tmp_path / "t.csv", [{k: v for k, v in r.items() if k != "ink"} for r in rows])
    with pytest.raises(
        ValueError, match=r"missing column\(s\) \['ink'\]; columns found: \['image'"
    ):
        _load(path)


def test_missing_milk10k_column(milk10k_challenge):
    path = milk10k_challenge / "MILK10k_Training_Metadata.csv"
    pd.read_csv(path).drop(columns=["MONET_hair"]).to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"\['MONET_hair'\]; columns found"):
        load_milk10k(milk10k_challenge)


@pytest.mark.parametrize(("value", "what"), [(float("nan"), "1 NaN"), (1.5, "1 outside")])
def test_invalid_descriptor_is_an_error(tmp_path, image_writer, value, what):
    rows = _rows(tmp_path, image_writer)
    rows[2]["hair"] = value
    with pytest.raises(ValueError, match=rf"column 'hair'.*{what}.*descriptor_fill"):
        _load(_csv(tmp_path / "t.csv", rows))


def test_descriptor_fill_policy(tmp_path, image_writer):
    rows = _rows(tmp_path, image_writer)
    rows[0]["hair"], rows[1]["hair"], rows[2]["ink"] = float("nan"), -0.2, 3.0
    table = _load(_csv(tmp_path / "t.csv", rows), descriptor_fill="median")
    hair = table.frame["hair"].tolist()
    assert hair[0] == pytest.approx(0.5)  # median of the column
    assert hair[1] == 0.0
    assert table.frame["ink"].iloc[2] == 1.0
    assert "1 filled, 2 clipped" in table.report.summary()
    constant = _load(_csv(tmp_path / "t.csv", rows), descriptor_fill=0.25)
    assert constant.frame["hair"].iloc[0] == 0.25
    with pytest.raises(ValueError, match="descriptor_fill"):
        _load(_csv(tmp_path / "t.csv", rows), descriptor_fill="mean")


def test_duplicate_ids_are_an_error(tmp_path, image_writer):
    rows = _rows(tmp_path, image_writer)
    rows[3]["image"] = rows[0]["image"]
    with pytest.raises(ValueError, match=r"duplicate id\(s\) in column 'image'.*images/0\.jpg"):
        _load(_csv(tmp_path / "t.csv", rows))


def test_duplicate_milk10k_image_ids(milk10k_challenge):
    path = milk10k_challenge / "MILK10k_Training_Metadata.csv"
    meta = pd.read_csv(path)
    meta.loc[1, "isic_id"] = meta.loc[0, "isic_id"]
    meta.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"duplicate id.*isic_id"):
        load_milk10k(milk10k_challenge)


def test_ground_truth_not_one_hot(milk10k_challenge):
    path = milk10k_challenge / "MILK10k_Training_GroundTruth.csv"
    truth = pd.read_csv(path)
    truth.loc[2, "BCC"] = 1.0
    truth.loc[2, "NV"] = 1.0
    truth.to_csv(path, index=False)
    with pytest.raises(ValueError, match="not one-hot"):
        load_milk10k(milk10k_challenge)


def test_unexpected_image_type_and_missing_truth_are_reported(milk10k_challenge):
    meta_path = milk10k_challenge / "MILK10k_Training_Metadata.csv"
    meta = pd.read_csv(meta_path)
    meta.loc[0, "image_type"] = "clinical: overview"
    meta.to_csv(meta_path, index=False)
    truth_path = milk10k_challenge / "MILK10k_Training_GroundTruth.csv"
    pd.read_csv(truth_path).iloc[1:].to_csv(truth_path, index=False)  # drops lesion 0
    table = load_milk10k(milk10k_challenge, modality="clinical")
    # Lesion 0's clinical image is the odd one, so no clinical image lacks ground truth.
    assert table.report.counts() == {"unexpected image_type": 1}
    paired = load_milk10k(milk10k_challenge, modality="paired")
    assert paired.report.counts() == {
        "unexpected image_type": 1,
        "no ground truth": 1,
    }
    assert len(paired) == 11


def test_incomplete_pair_is_reported(milk10k_challenge):
    path = milk10k_challenge / "MILK10k_Training_Metadata.csv"
    pd.read_csv(path).drop(index=[5]).to_csv(path, index=False)
    paired = load_milk10k(milk10k_challenge, modality="paired")
    assert paired.report.counts() == {"incomplete pair": 1}
    assert len(paired) == 11


def test_bad_arguments_name_themselves(milk10k_challenge, tmp_path):
    with pytest.raises(ValueError, match="modality"):
        load_milk10k(milk10k_challenge, modality="x-ray")
    with pytest.raises(ValueError, match="target"):
        load_milk10k(milk10k_challenge, target="nevus")
    with pytest.raises(ValueError, match="subgroup"):
        load_milk10k(milk10k_challenge, subgroup="country")
    with pytest.raises(ValueError, match="missing_images"):
        load_milk10k(milk10k_challenge, missing_images="skip")
    with pytest.raises(ValueError, match="data_root"):
        load_milk10k(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="neither"):
        load_milk10k(tmp_path)
    with pytest.raises(TypeError, match="data_root"):
        load_milk10k(42)


def test_isic_descriptor_csv_problems(isic_dicm, tmp_path):
    scores = pd.read_csv(tmp_path / "isic_scores.csv")
    partial = scores.iloc[5:]
    table = load_isic_dicm17k(isic_dicm, descriptors=partial)
    assert table.report.counts() == {"no descriptor scores": 5}
    assert len(table) == 35
    twice = pd.concat([scores, scores.iloc[:1]])
    with pytest.raises(ValueError, match="duplicate id"):
        load_isic_dicm17k(isic_dicm, descriptors=twice)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['isic_id'\]"):
        load_isic_dicm17k(isic_dicm, descriptors=scores.drop(columns=["isic_id"]))
    with pytest.raises(TypeError, match="descriptors"):
        load_isic_dicm17k(isic_dicm, descriptors=3)


def test_report_accumulates():
    report = LoadReport("x", 5).exclude(["a"], "missing image").exclude(["b", "c"], "corrupt image")
    assert report.n_kept == 2
    assert report.counts() == {"corrupt image": 2, "missing image": 1}
    assert report.to_dict()["n_kept"] == 2
