"""apps/figure5_coverage.py on a tiny MILK10k-layout fixture, the smoke synthetic benchmark, the
ISIC-DICM-17K layout, and the real MILK10k metadata when it sits beside the checkout."""

from __future__ import annotations

from pathlib import Path

import figure5_coverage
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from semcov_train import make_config
from semcov_train.inputs.synthetic_data import prepare_synthetic

MILK10K = Path(__file__).resolve().parents[3] / "shared" / "data" / "milk10k"
DIAGNOSES = ("AKIEC", "BCC", "BEN_OTH", "BKL", "DF", "INF", "MAL_OTH", "MEL", "NV", "SCCKA", "VASC")
MONET = (
    "MONET_ulceration_crust",
    "MONET_hair",
    "MONET_vasculature_vessels",
    "MONET_erythema",
    "MONET_pigmented",
    "MONET_gel_water_drop_fluid_dermoscopy_liquid",
    "MONET_skin_markings_pen_ink_purple_pen",
)
IMAGE_TYPES = {"dermoscopic": "dermoscopic", "clinical": "clinical: close-up"}
#: MEL only at trunk and at no other site; "rest" at three sites; empty site cells read "unknown".
SITES = ("trunk", "head_neck_face", "hand", None)


def write_tiny_milk10k(root: Path, n_lesions: int = 16) -> Path:
    """A MILK10k challenge-layout metadata folder (no images): 16 lesions, 32 images."""
    rng = np.random.default_rng(1)
    rows, truth = [], []
    for i in range(n_lesions):
        lesion = f"IL_{i:07d}"
        diagnosis = "MEL" if i % 4 == 0 else "NV"
        site = "trunk" if diagnosis == "MEL" else SITES[i % len(SITES)]
        truth.append({"lesion_id": lesion, **{d: float(d == diagnosis) for d in DIAGNOSES}})
        for j, image_type in enumerate(IMAGE_TYPES.values()):
            rows.append(
                {
                    "lesion_id": lesion,
                    "image_type": image_type,
                    "isic_id": f"ISIC_{2000 + 2 * i + j:07d}",
                    "site": site,
                    **{m: float(rng.uniform(0.0, 1.0)) for m in MONET},
                }
            )
    root.mkdir(parents=True)
    pd.DataFrame(rows).to_csv(root / "MILK10k_Training_Metadata.csv", index=False)
    pd.DataFrame(truth).to_csv(root / "MILK10k_Training_GroundTruth.csv", index=False)
    return root


def expected_coverage(metadata: pd.DataFrame, truth: pd.DataFrame, modality: str) -> pd.DataFrame:
    """Coverage by hand: the pandas mean of each MONET column per (class, site)."""
    images = metadata[metadata["image_type"] == IMAGE_TYPES[modality]]
    frame = images.merge(truth[["lesion_id", "MEL"]], on="lesion_id", validate="m:1")
    frame["class"] = np.where(frame["MEL"] == 1.0, "MEL", "rest")
    frame["subgroup"] = frame["site"].fillna("unknown")
    return (
        frame.groupby(["class", "subgroup"])[list(MONET)]
        .mean()
        .stack()
        .rename_axis(["class", "subgroup", "descriptor"])
        .rename("expected")
        .reset_index()
    )


def check_against_pandas(coverage: pd.DataFrame, root: Path) -> None:
    metadata = pd.read_csv(root / "MILK10k_Training_Metadata.csv")
    truth = pd.read_csv(root / "MILK10k_Training_GroundTruth.csv")
    for modality, part in coverage.groupby("modality"):
        merged = part.merge(
            expected_coverage(metadata, truth, modality),
            on=["class", "subgroup", "descriptor"],
            how="left",
        )
        populated = merged["n_train"] > 0
        assert merged.loc[populated, "expected"].notna().all()
        assert merged.loc[~populated, "expected"].isna().all()
        np.testing.assert_allclose(
            merged.loc[populated, "coverage"], merged.loc[populated, "expected"], rtol=1e-6
        )
        assert (merged.loc[~populated, "coverage"] == 0.0).all()


def test_tiny_milk10k_coverage_matches_pandas(tmp_path, capsys):
    root = write_tiny_milk10k(tmp_path / "milk10k")
    out = tmp_path / "out"
    assert figure5_coverage.main(["--data-root", str(root), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    # The terminal gets the table in lines of at most 100 characters; the files keep it whole.
    assert all(len(line) <= 100 for line in printed.splitlines() if line.startswith("|"))
    coverage = pd.read_csv(out / "scg_coverage.csv")
    assert list(coverage.columns) == [
        *("dataset", "modality", "class", "descriptor", "subgroup", "n_train", "coverage"),
    ]
    assert set(coverage["dataset"]) == {"milk10k"}
    # 2 classes x 7 descriptors x 8 sites per modality; MEL only at trunk, rest at 3 sites
    for modality in ("dermoscopic", "clinical"):
        part = coverage[coverage["modality"] == modality]
        assert len(part) == 112
        assert int((part["n_train"] > 0).sum()) == 7 * (1 + 3)
    check_against_pandas(coverage, root)

    summary = pd.read_csv(out / "figure5_summary.csv")
    derm = summary[summary["modality"] == "dermoscopic"].set_index("classes")
    assert derm.loc["all", "scgs"] == 112 and derm.loc["all", "populated"] == 28
    assert derm.loc["MEL", "scgs"] == 56 and derm.loc["MEL", "empty"] == 49
    mel = coverage[
        (coverage["modality"] == "dermoscopic")
        & (coverage["class"] == "MEL")
        & (coverage["n_train"] > 0)
    ]["coverage"]
    assert derm.loc["MEL", "share_below_0.2"] == pytest.approx((mel < 0.2).mean(), abs=1e-4)
    assert derm.loc["MEL", "median_coverage"] == pytest.approx(mel.median(), abs=1e-4)
    assert "| dermoscopic | MEL | 56 | 7 | 49 |" in (out / "figure5_summary.md").read_text()
    for suffix in (".md", ".csv", ".tex"):
        assert (out / f"figure5_summary{suffix}").is_file()
    with Image.open(out / "figure5.png") as image:
        width, height = image.size
    assert width > 1000 and height > 800  # two rows of panels at 150 dpi


def test_one_modality_and_class_option(tmp_path, capsys):
    root = write_tiny_milk10k(tmp_path / "milk10k")
    out = tmp_path / "out"
    argv = ["--data-root", str(root), "--out", str(out), "--modalities", "clinical"]
    assert figure5_coverage.main([*argv, "--class", "rest", "--low", "0.5"]) == 0
    capsys.readouterr()
    coverage = pd.read_csv(out / "scg_coverage.csv")
    assert set(coverage["modality"]) == {"clinical"}
    summary = pd.read_csv(out / "figure5_summary.csv").set_index("classes")
    rest = coverage[(coverage["class"] == "rest") & (coverage["n_train"] > 0)]["coverage"]
    assert summary.loc["rest", "populated"] == 21
    assert summary.loc["rest", "share_below_0.5"] == pytest.approx((rest < 0.5).mean(), abs=1e-4)


def test_synthetic_smoke_benchmark(tmp_path, capsys, semcov_cache):
    out = tmp_path / "out"
    argv = ["--preset", "smoke", "--cache-dir", str(semcov_cache), "--out", str(out)]
    assert figure5_coverage.main(argv) == 0
    capsys.readouterr()
    coverage = pd.read_csv(out / "scg_coverage.csv")
    assert set(coverage["dataset"]) == {"synthetic"}
    assert coverage.groupby("modality").size().to_dict() == {"clinical": 112, "dermoscopic": 112}
    # the trainer's benchmark of the smoke preset (already generated: this finds its folder)
    root = prepare_synthetic(make_config("smoke", cache_dir=str(semcov_cache)))
    truth = pd.read_csv(root / "MILK10k_Training_GroundTruth.csv")
    cells = coverage.drop_duplicates(["modality", "class", "subgroup"])
    assert cells.groupby("modality")["n_train"].sum().to_dict() == {
        "clinical": len(truth),
        "dermoscopic": len(truth),
    }
    mel = cells[cells["class"] == "MEL"].groupby("modality")["n_train"].sum()
    assert set(mel) == {int(truth["MEL"].sum())}
    check_against_pandas(coverage, root)
    assert (out / "figure5.png").stat().st_size > 10_000


def test_isic_dicm17k_with_descriptor_scores(tmp_path, capsys):
    root = tmp_path / "isic"
    root.mkdir()
    rng = np.random.default_rng(2)
    for part, n in (("train", 10), ("valid", 4)):
        offset = 0 if part == "train" else 100
        ids = [f"ISIC_{offset + i:07d}" for i in range(n)]
        frame = pd.DataFrame(
            {
                "image": [f"{i}.jpg" for i in ids],
                "isic_id": ids,
                "class": [i % 2 for i in range(n)],
                "anatom_site_general": ["torso" if i % 3 else "head/neck" for i in range(n)],
            }
        )
        frame.to_csv(root / f"{part}-set-metadata.csv", index=False)
    scores = pd.concat([pd.read_csv(root / f"{p}-set-metadata.csv") for p in ("train", "valid")])[
        ["isic_id", "class", "anatom_site_general"]
    ]
    scores["MONET_hair"] = rng.uniform(0, 1, len(scores))
    scores["MONET_erythema"] = rng.uniform(0, 1, len(scores))
    scores[["isic_id", "MONET_hair", "MONET_erythema"]].to_csv(tmp_path / "d.csv", index=False)

    out = tmp_path / "out"
    argv = ["--dataset", "isic_dicm17k", "--data-root", str(root), "--out", str(out)]
    assert figure5_coverage.main([*argv, "--descriptors-csv", str(tmp_path / "d.csv")]) == 0
    capsys.readouterr()
    coverage = pd.read_csv(out / "scg_coverage.csv")
    assert len(coverage) == 2 * 2 * 2  # classes non_mel / mel x 2 descriptors x 2 sites
    expected = (
        scores.assign(cls=np.where(scores["class"] == 1, "mel", "non_mel"))
        .groupby(["cls", "anatom_site_general"])["MONET_hair"]
        .mean()
    )
    hair = coverage[coverage["descriptor"] == "MONET_hair"].set_index(["class", "subgroup"])
    for (cls, site), value in expected.items():
        assert hair.loc[(cls, site), "coverage"] == pytest.approx(value, rel=1e-6)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--dataset", "isic_dicm17k", "--data-root", "."], "--descriptors-csv is required"),
        (["--dataset", "celeba"], "--dataset must be one of"),
        (["--dataset", "milk10k"], "needs --data-root"),
        (["--modalities", "photo"], "--modalities"),
        (["--subgroup", "hospital"], "--subgroup must be one of"),
        (["--low", "0"], "--low"),
        (["--preset", "fast"], "--preset must be one of"),
        (["--descriptors-csv", "x.csv"], "--descriptors-csv applies"),
    ],
)
def test_bad_options_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as raised:
        figure5_coverage.main(argv)
    assert raised.value.code == 2
    assert message in capsys.readouterr().err


def test_unknown_class_and_bad_root_are_errors(tmp_path, capsys):
    root = write_tiny_milk10k(tmp_path / "milk10k")
    out = str(tmp_path / "out")
    assert figure5_coverage.main(["--data-root", str(root), "--class", "NV", "--out", out]) == 2
    assert "--class 'NV' is not a class of milk10k" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert figure5_coverage.main(["--data-root", str(empty), "--out", out]) == 2
    assert "figure5_coverage: error: data_root" in capsys.readouterr().err


@pytest.mark.skipif(
    not (MILK10K / "MILK10k_Training_Metadata.csv").is_file(),
    reason="real MILK10k metadata not present beside the checkout",
)
def test_real_milk10k_metadata(tmp_path, capsys):
    out = tmp_path / "out"
    assert figure5_coverage.main(["--data-root", str(MILK10K), "--out", str(out)]) == 0
    capsys.readouterr()
    coverage = pd.read_csv(out / "scg_coverage.csv")
    for modality in ("dermoscopic", "clinical"):
        part = coverage[coverage["modality"] == modality]
        assert len(part) == 112
        assert int((part["n_train"] > 0).sum()) == 91
        empty = part[part["n_train"] == 0]
        assert set(empty["class"]) == {"MEL"}
        assert set(empty["subgroup"]) == {"foot", "genital", "hand"}
    check_against_pandas(coverage, MILK10K)
