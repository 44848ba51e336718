"""ISIC-DICM-17K loading, descriptor join, groups, and the audit command line."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from semcov_data import ISIC_DICM_CLASSES, SemCovDataset, eval_transform, load_isic_dicm17k
from semcov_data.cli import build_parser, main


def test_loads_both_parts_with_images_found(isic_dicm, tmp_path):
    table = load_isic_dicm17k(isic_dicm, descriptors=tmp_path / "isic_scores.csv")
    assert len(table) == 40
    assert table.classes == ISIC_DICM_CLASSES
    assert set(table.frame["part"]) == {"train", "valid"}
    assert table.descriptor_names == ("MONET_hair", "MONET_erythema")
    assert table.frame["path"].iloc[0] == "train-set/ISIC2019_0000000_nmel.jpg"
    # class 1 is the _mel file suffix.
    mel = table.frame["image"].str.endswith("_mel.jpg")
    assert (table.labels == mel.astype(int).to_numpy()).all()
    assert "unknown" in table.subgroup_values  # empty anatom_site_general
    sample = SemCovDataset(table, transform=eval_transform(16))[0]
    assert sample["descriptors"].shape == (2,)
    scores = pd.read_csv(tmp_path / "isic_scores.csv").set_index("isic_id")
    assert sample["descriptors"][0].item() == pytest.approx(scores.loc[sample["id"], "MONET_hair"])


def test_image_found_by_isic_id_in_images_folder(isic_dicm):
    (isic_dicm / "images").mkdir()
    for part in ("train", "valid"):
        for path in (isic_dicm / f"{part}-set").iterdir():
            number = path.name.split("_")[1]
            path.rename(isic_dicm / "images" / f"ISIC_{number}.jpg")
    table = load_isic_dicm17k(isic_dicm, missing_images="raise")
    assert table.frame["path"].iloc[0] == "images/ISIC_0000000.jpg"
    assert len(table) == 40


def test_one_released_part_and_subgroups(isic_dicm):
    valid = load_isic_dicm17k(isic_dicm, split="valid", subgroup=["sex", "age"])
    assert len(valid) == 10
    assert set(valid.frame["part"]) == {"valid"}
    assert all("|" in s for s in valid.subgroup_values)
    assert valid.descriptor_names == ()
    assert "no descriptors" in valid.report.summary()


def test_groups_link_patient_and_lesion(isic_dicm):
    by_patient = load_isic_dicm17k(isic_dicm, missing_images="ignore")
    by_lesion = load_isic_dicm17k(isic_dicm, group_by="lesion", missing_images="ignore")
    assert len(set(by_patient.groups)) < len(set(by_lesion.groups))
    frame = by_lesion.frame
    no_lesion = frame["lesion_id"].isna()
    # Without a lesion id each image is its own group.
    assert frame.loc[no_lesion, "group"].is_unique


def test_cli_audit_on_fixture(isic_dicm, capsys):
    status = main(["audit", "--dataset", "isic_dicm17k", "--data-root", str(isic_dicm)])
    out = json.loads(capsys.readouterr().out)
    assert status == 0
    assert out["lesion_overlap"] == ["IL_0000001"]
    assert "IP_0000001" in out["patient_overlap"]
    assert (
        main(["audit", "--dataset", "isic-dicm-17k", "--data-root", str(isic_dicm), "--strict"])
        == 1
    )


def test_cli_rejects_unknown_dataset_with_hint(isic_dicm):
    with pytest.raises(SystemExit, match="did you mean 'isic_dicm17k'"):
        main(["audit", "--dataset", "isic-dicm17k", "--data-root", str(isic_dicm)])


def test_cli_dataset_name_and_its_old_spelling(isic_dicm, capsys):
    outputs = []
    for name in ("isic_dicm17k", "isic-dicm-17k"):
        assert main(["audit", "--dataset", name, "--data-root", str(isic_dicm)]) == 0
        outputs.append(json.loads(capsys.readouterr().out))
    assert outputs[0] == outputs[1]
    assert outputs[0]["lesion_overlap"] == ["IL_0000001"]


def test_cli_help_has_no_markup():
    result = subprocess.run(
        [sys.executable, "-m", "semcov_data", "--help"],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    text = " ".join(result.stdout.split())  # argparse wraps lines
    assert "`" not in text and ":data:" not in text
    assert "commands are registered in COMMANDS." in text
    assert "isic_dicm17k, celeba (also accepted: isic-dicm-17k = isic_dicm17k)" in text


def test_cli_split_writes_leak_free_parts(isic_dicm, tmp_path, capsys):
    out = tmp_path / "split.csv"
    args = ["split", "--dataset", "isic-dicm-17k", "--data-root", str(isic_dicm), "--folds", "3"]
    assert main([*args, "--out", str(out)]) == 0
    split = pd.read_csv(out)
    assert set(split["part"]) == {"fold0", "fold1", "fold2"}
    assert split.groupby("group")["part"].nunique().max() == 1


def test_cli_has_subcommands_for_later_additions():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    assert {"audit", "split", "cache", "monet"} <= set(commands)


def test_real_audit_cli_reports_released_overlaps(isic_dicm_real):
    result = subprocess.run(
        [sys.executable, "-m", "semcov_data", "audit", "--dataset", "isic-dicm-17k",
         "--data-root", str(isic_dicm_real)],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    out = json.loads(result.stdout)
    assert len(out["lesion_overlap"]) == 488
    assert len(out["patient_overlap"]) == 433
    assert out["parts"] == ["train", "valid"]
