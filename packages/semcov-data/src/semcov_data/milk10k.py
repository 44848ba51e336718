"""MILK10k (challenge or ISIC DOI layout) as a :class:`SampleTable`: modality, target, subgroup."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from semcov_data._io import data_root, read_table
from semcov_data._validation import (
    DescriptorFill,
    check_choice,
    check_descriptors,
    check_unique,
    require_columns,
)
from semcov_data.report import LoadReport
from semcov_data.scg import AGE_BINS, age_bin_labels, subgroup_labels
from semcov_data.splits import leakage_groups
from semcov_data.table import SampleTable, assemble_table

__all__ = [
    "ISIC_SITE_NAMES",
    "MILK10K_DESCRIPTORS",
    "MILK10K_DIAGNOSES",
    "MILK10K_IMAGE_TYPES",
    "MILK10K_SITES",
    "MILK10K_SUBGROUPS",
    "detect_milk10k_layout",
    "load_milk10k",
]

MILK10K_DIAGNOSES = (
    "AKIEC", "BCC", "BEN_OTH", "BKL", "DF", "INF", "MAL_OTH", "MEL", "NV", "SCCKA", "VASC",
)  # fmt: skip
MILK10K_DESCRIPTORS = (
    "MONET_ulceration_crust",
    "MONET_hair",
    "MONET_vasculature_vessels",
    "MONET_erythema",
    "MONET_pigmented",
    "MONET_gel_water_drop_fluid_dermoscopy_liquid",
    "MONET_skin_markings_pen_ink_purple_pen",
)
#: The 7 sites of the challenge metadata plus ``unknown`` for empty cells: 8 subgroups.
MILK10K_SITES = (
    "foot", "genital", "hand", "head_neck_face", "lower_extremity", "trunk", "unknown",
    "upper_extremity",
)  # fmt: skip
#: ``image_type`` values, exactly as written in the metadata.
MILK10K_IMAGE_TYPES = {"dermoscopic": "dermoscopic", "clinical": "clinical: close-up"}
#: Subgroup name → metadata column.
MILK10K_SUBGROUPS = {
    "site": "site",
    "skin_tone": "skin_tone_class",
    "sex": "sex",
    "age": "age_approx",
}
#: ISIC archive ``anatom_site_general`` values → challenge ``site`` values (DOI layout).
ISIC_SITE_NAMES = {
    "head/neck": "head_neck_face",
    "anterior torso": "trunk",
    "posterior torso": "trunk",
    "lateral torso": "trunk",
    "torso": "trunk",
    "upper extremity": "upper_extremity",
    "lower extremity": "lower_extremity",
    "oral/genital": "genital",
    "palms/soles": "palms_soles",
}

_CHALLENGE = {
    "metadata": "MILK10k_Training_Metadata.csv",
    "ground_truth": "MILK10k_Training_GroundTruth.csv",
    "supplement": "MILK10k_Training_Supplement.csv",
    "images": "MILK10k_Training_Input",
}
_IDS = ("isic_id", "lesion_id", "patient_id")
_MODALITIES = ("dermoscopic", "clinical", "paired")
_TARGETS = ("mel", "diagnosis")
_PAIRED_DESCRIPTORS = ("mean", "dermoscopic", "clinical", "concat")
_LAYOUTS = ("auto", "challenge", "doi")


def detect_milk10k_layout(root: str | Path) -> str:
    """``"challenge"`` (challenge metadata CSV in ``root``) or ``"doi"`` (``metadata.csv``)."""
    path = data_root(root)
    if (path / _CHALLENGE["metadata"]).is_file():
        return "challenge"
    if (path / "metadata.csv").is_file():
        return "doi"
    raise ValueError(
        f"data_root {str(path)!r} holds neither {_CHALLENGE['metadata']} (challenge layout) nor "
        "metadata.csv (ISIC DOI layout); files found: "
        f"{sorted(p.name for p in path.iterdir())[:20]}"
    )


def _site_name(value: object) -> object:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip().lower()
    return ISIC_SITE_NAMES.get(text, text.replace(" ", "_").replace("/", "_")) or None


def _read_challenge(root: Path) -> tuple[pd.DataFrame, pd.DataFrame, str, list[str]]:
    notes = []
    meta = read_table(root / _CHALLENGE["metadata"], id_columns=_IDS)
    truth = read_table(root / _CHALLENGE["ground_truth"], id_columns=_IDS)
    supplement_path = root / _CHALLENGE["supplement"]
    if supplement_path.is_file():
        supplement = read_table(supplement_path, id_columns=_IDS)
        require_columns(supplement, ["isic_id"], supplement_path.name)
        check_unique(supplement, "isic_id", supplement_path.name)
        extra = [c for c in supplement.columns if c not in meta.columns]
        meta = meta.merge(supplement[["isic_id", *extra]], on="isic_id", how="left")
    else:
        notes.append(f"{_CHALLENGE['supplement']} not found: no diagnosis_full column")
    images = Path(_CHALLENGE["images"])
    # Unzipping the challenge archive often nests the folder in one of the same name.
    if (root / images / images.name).is_dir():
        images = images / images.name
    meta["_image"] = [
        f"{images.as_posix()}/{lesion}/{isic}.jpg"
        for lesion, isic in zip(meta["lesion_id"], meta["isic_id"], strict=True)
    ]
    return meta, truth, _CHALLENGE["metadata"], notes


def _read_doi(root: Path) -> tuple[pd.DataFrame, pd.DataFrame, str, list[str]]:
    notes = []
    meta = read_table(root / "metadata.csv", id_columns=_IDS)
    require_columns(meta, ["isic_id"], "metadata.csv")
    truth = None
    supplements = (
        sorted((root / "supplements").glob("*.csv")) if (root / "supplements").is_dir() else []
    )
    for path in supplements:
        table = read_table(path, id_columns=_IDS)
        if "lesion_id" in table.columns and set(MILK10K_DIAGNOSES) <= set(table.columns):
            truth = table
            notes.append(f"ground truth from supplements/{path.name}")
        elif "isic_id" in table.columns:
            # Per-image supplements (MONET scores, skin tone, ...) fill what metadata.csv lacks.
            check_unique(table, "isic_id", f"supplements/{path.name}")
            extra = [c for c in table.columns if c not in meta.columns]
            if extra:
                meta = meta.merge(table[["isic_id", *extra]], on="isic_id", how="left")
                notes.append(f"joined {len(extra)} column(s) from supplements/{path.name}")
    if truth is None:
        raise ValueError(
            f"data_root {str(root)!r} (ISIC DOI layout): no ground-truth CSV with lesion_id and "
            f"{list(MILK10K_DIAGNOSES)} in supplements/; "
            f"files found: {[p.name for p in supplements]}"
        )
    if "site" not in meta.columns and "anatom_site_general" in meta.columns:
        meta["site"] = meta["anatom_site_general"].map(_site_name)
    meta["_image"] = [f"images/{isic}.jpg" for isic in meta["isic_id"]]
    return meta, truth, "metadata.csv", notes


def _subgroup_axis(
    names: Sequence[str], values: pd.Series, age_bins: Sequence[float]
) -> tuple[str, ...]:
    present = set(values.unique())
    if len(names) > 1:
        return tuple(sorted(present))
    known = {
        "site": set(MILK10K_SITES),
        "skin_tone": {str(i) for i in range(6)},
        "sex": {"female", "male"},
        "age": set(age_bin_labels(age_bins)),
    }[names[0]]
    return tuple(sorted(known | present))


def load_milk10k(
    root: str | Path,
    *,
    modality: str = "dermoscopic",
    target: str = "mel",
    subgroup: str | Sequence[str] = "site",
    layout: str = "auto",
    descriptor_columns: Sequence[str] = MILK10K_DESCRIPTORS,
    descriptor_fill: DescriptorFill = None,
    paired_descriptors: str = "mean",
    age_bins: Sequence[float] = AGE_BINS,
    missing_images: str = "exclude",
) -> SampleTable:
    """Load MILK10k training data as a :class:`SampleTable`.

    Layouts: the challenge layout (``MILK10k_Training_Metadata.csv``,
    ``MILK10k_Training_GroundTruth.csv``, ``MILK10k_Training_Supplement.csv`` and
    ``MILK10k_Training_Input/<lesion_id>/<isic_id>.jpg``) and the ISIC DOI layout
    (``metadata.csv``, ``images/<isic_id>.jpg``, ``supplements/*.csv`` holding the ground truth
    and any per-image columns missing from ``metadata.csv``, such as the MONET scores).

    Args:
        root: the data root.
        modality: ``"dermoscopic"``, ``"clinical"`` (one sample per image) or ``"paired"`` (one
            sample per lesion with both images, dermoscopic first).
        target: ``"mel"`` (MEL vs rest; classes ``("rest", "MEL")``) or ``"diagnosis"`` (the 11
            challenge diagnoses).
        subgroup: ``"site"``, ``"skin_tone"``, ``"sex"``, ``"age"`` or several to combine.
        layout: ``"auto"``, ``"challenge"`` or ``"doi"``.
        descriptor_columns: descriptor columns; default the 7 MONET scores.
        descriptor_fill: policy for NaN / out-of-range descriptors (default: error).
        paired_descriptors: paper: silent; here: ``"mean"`` of the two images' scores (default),
            one image's scores (``"dermoscopic"``, ``"clinical"``) or ``"concat"`` (2K columns
            ``dermoscopic:<name>``, ``clinical:<name>``).
        age_bins: bin edges for ``subgroup="age"``.
        missing_images: ``"exclude"`` (reported), ``"raise"`` or ``"ignore"`` (metadata only).

    Returns:
        The samples; ``group`` is the lesion (and patient, where the metadata has one).
    """
    check_choice(modality, "modality", _MODALITIES)
    check_choice(target, "target", _TARGETS)
    check_choice(layout, "layout", _LAYOUTS)
    check_choice(paired_descriptors, "paired_descriptors", _PAIRED_DESCRIPTORS)
    names = [subgroup] if isinstance(subgroup, str) else list(subgroup)
    for name in names:
        check_choice(name, "subgroup", tuple(MILK10K_SUBGROUPS))
    path = data_root(root)
    layout = detect_milk10k_layout(path) if layout == "auto" else layout
    meta, truth, source, notes = (_read_challenge if layout == "challenge" else _read_doi)(path)

    columns = ["isic_id", "lesion_id", "image_type", *descriptor_columns]
    columns += [MILK10K_SUBGROUPS[n] for n in names]
    require_columns(meta, dict.fromkeys(columns), source)
    check_unique(meta, "isic_id", source)
    require_columns(truth, ["lesion_id", *MILK10K_DIAGNOSES], "ground truth")
    check_unique(truth, "lesion_id", "ground truth")
    onehot = truth[list(MILK10K_DIAGNOSES)].apply(pd.to_numeric, errors="coerce")
    values = onehot.to_numpy(np.float64)
    ones = np.isclose(values, 1.0)
    bad = ~((ones | np.isclose(values, 0.0)).all(axis=1) & (ones.sum(axis=1) == 1))
    if bad.any():
        raise ValueError(
            f"ground truth: {int(bad.sum())} lesion(s) are not one-hot over "
            f"{list(MILK10K_DIAGNOSES)}, "
            f"e.g. {truth.loc[bad, 'lesion_id'].head(5).tolist()}"
        )
    truth = truth.assign(_diagnosis=values.argmax(axis=1))

    meta, counts = check_descriptors(
        meta, descriptor_columns, source, fill=descriptor_fill, id_column="isic_id"
    )
    if counts["filled"] or counts["clipped"]:
        notes.append(
            f"descriptors: {counts['filled']} value(s) filled, {counts['clipped']} clipped"
        )
    known_types = meta["image_type"].isin(MILK10K_IMAGE_TYPES.values())
    odd = meta.loc[~known_types]
    meta = meta.loc[known_types]
    if modality != "paired":
        # Images of the other modality are not left-out data, only not this table's samples.
        meta = meta.loc[meta["image_type"] == MILK10K_IMAGE_TYPES[modality]]
    unit = "lesion_id" if modality == "paired" else "isic_id"
    n_read = meta[unit].nunique() + len(odd)
    report = LoadReport(f"MILK10k {modality} ({layout} layout, {path})", n_read, notes=tuple(notes))
    report = report.exclude(
        odd["isic_id"], "unexpected image_type", [f"image_type={t!r}" for t in odd["image_type"]]
    )
    no_truth = ~meta["lesion_id"].isin(truth["lesion_id"])
    lost = meta.loc[no_truth].drop_duplicates(unit)
    report = report.exclude(lost[unit], "no ground truth", "lesion " + lost["lesion_id"])
    meta = meta.loc[~no_truth].merge(truth[["lesion_id", "_diagnosis"]], on="lesion_id", how="left")
    meta["subgroup"] = subgroup_labels(
        meta, [MILK10K_SUBGROUPS[n] for n in names], bins={"age_approx": age_bins}
    ).to_numpy()

    if modality == "paired":
        frame, report, descriptor_names = _pair(
            meta, descriptor_columns, paired_descriptors, report
        )
        image_columns: tuple[str, ...] = ("path_dermoscopic", "path_clinical")
    else:
        frame = meta.rename(columns={"_image": "path"})
        frame["sample_id"] = frame["isic_id"]
        descriptor_names = tuple(descriptor_columns)
        image_columns = ("path",)

    if target == "mel":
        classes: tuple[str, ...] = ("rest", "MEL")
        frame["label"] = (frame["_diagnosis"] == MILK10K_DIAGNOSES.index("MEL")).astype(np.int64)
    else:
        classes = MILK10K_DIAGNOSES
        frame["label"] = frame["_diagnosis"].astype(np.int64)
    frame["diagnosis"] = [MILK10K_DIAGNOSES[i] for i in frame["_diagnosis"]]
    links = [c for c in ("patient_id", "lesion_id") if c in frame.columns]
    frame["group"] = leakage_groups(frame, links, id_column="sample_id")
    frame = frame.drop(columns=["_diagnosis"])
    return assemble_table(
        "milk10k",
        frame,
        root=path,
        image_columns=image_columns,
        classes=classes,
        descriptor_names=descriptor_names,
        subgroup_values=_subgroup_axis(names, meta["subgroup"], age_bins),
        report=report,
        missing_images=missing_images,
        path_sources=dict.fromkeys(image_columns, "lesion_id/isic_id"),
    )


def _pair(
    meta: pd.DataFrame, descriptors: Sequence[str], mode: str, report: LoadReport
) -> tuple[pd.DataFrame, LoadReport, tuple[str, ...]]:
    """One row per lesion with its dermoscopic and clinical image."""
    derm_type, clin_type = MILK10K_IMAGE_TYPES["dermoscopic"], MILK10K_IMAGE_TYPES["clinical"]
    twice = meta.duplicated(["lesion_id", "image_type"], keep=False)
    if twice.any():
        raise ValueError(
            "paired modality: lesion(s) with two images of one image_type, e.g. "
            f"{sorted(set(meta.loc[twice, 'lesion_id']))[:5]}"
        )
    derm = meta.loc[meta["image_type"] == derm_type].set_index("lesion_id")
    clin = meta.loc[meta["image_type"] == clin_type].set_index("lesion_id")
    lesions = list(dict.fromkeys(meta["lesion_id"]))
    complete = [lesion for lesion in lesions if lesion in derm.index and lesion in clin.index]
    kept = set(complete)
    incomplete = [lesion for lesion in lesions if lesion not in kept]
    report = report.exclude(incomplete, "incomplete pair")
    frame = derm.loc[complete].reset_index()
    frame["sample_id"] = frame["lesion_id"]
    frame["isic_id_dermoscopic"] = frame.pop("isic_id")
    frame["isic_id_clinical"] = clin.loc[complete, "isic_id"].to_numpy()
    frame["path_dermoscopic"] = frame.pop("_image")
    frame["path_clinical"] = clin.loc[complete, "_image"].to_numpy()
    d = derm.loc[complete, list(descriptors)].to_numpy(np.float64)
    c = clin.loc[complete, list(descriptors)].to_numpy(np.float64)
    if mode == "concat":
        names = tuple(f"dermoscopic:{n}" for n in descriptors) + tuple(
            f"clinical:{n}" for n in descriptors
        )
        frame = frame.drop(columns=list(descriptors))
        for j, name in enumerate(names):
            frame[name] = np.concatenate([d, c], axis=1)[:, j]
        return frame, report, names
    values = {"mean": (d + c) / 2.0, "dermoscopic": d, "clinical": c}[mode]
    frame[list(descriptors)] = values
    return frame, report, tuple(descriptors)
