"""A procedural skin-lesion benchmark with planted Semantic Coverage Imbalance.

Every lesion is drawn from scene parameters: the class cue (melanoma: irregular, asymmetric,
variegated; benign: round, smooth, uniform), anatomical site (background texture and colour,
lesion size), skin tone, and the 7 MILK10k descriptors rendered as what they are. Descriptor
prevalence per (class, site) follows the real MILK10k dermoscopic coverage, scaled by an
``imbalance`` knob. The output is a MILK10k challenge-layout folder, so
:func:`~semcov_data.load_milk10k` and everything built on it read it unchanged, with the true
descriptor presence beside the MONET-style scores.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageFilter

from semcov_data.milk10k import MILK10K_DESCRIPTORS, MILK10K_DIAGNOSES
from semcov_data.synthetic_cues import EFFECT_MODES, effective_cues, sample_cues

__all__ = [
    "SCENES_FILE",
    "SITE_PREVALENCE",
    "SyntheticConfig",
    "descriptor_prevalence",
    "render_lesion",
    "sample_scenes",
    "to_clinical",
    "write_synthetic",
]

#: Short names of the 7 descriptors, in MILK10K_DESCRIPTORS order.
DESCRIPTORS = ("ulceration_crust", "hair", "vessels", "erythema", "pigmented", "gel", "pen")
TRUE_COLUMNS = tuple(f"true_{name}" for name in DESCRIPTORS)
SITES = (
    "foot", "genital", "hand", "head_neck_face", "lower_extremity", "trunk", "unknown",
    "upper_extremity",
)  # fmt: skip

#: Mean dermoscopic MONET score per (class, site), real MILK10k training metadata (7 columns in
#: MILK10K_DESCRIPTORS order). MEL never occurs at foot, genital or hand.
SITE_PREVALENCE: dict[tuple[str, str], tuple[float, ...]] = {
    ("MEL", "head_neck_face"): (0.37, 0.38, 0.06, 0.20, 0.67, 0.21, 0.40),
    ("MEL", "lower_extremity"): (0.30, 0.35, 0.11, 0.21, 0.64, 0.25, 0.41),
    ("MEL", "trunk"): (0.29, 0.34, 0.07, 0.19, 0.71, 0.20, 0.42),
    ("MEL", "unknown"): (0.32, 0.39, 0.05, 0.19, 0.69, 0.25, 0.47),
    ("MEL", "upper_extremity"): (0.31, 0.38, 0.09, 0.17, 0.73, 0.21, 0.41),
    ("rest", "foot"): (0.53, 0.28, 0.17, 0.32, 0.22, 0.33, 0.17),
    ("rest", "genital"): (0.50, 0.48, 0.11, 0.39, 0.45, 0.40, 0.49),
    ("rest", "hand"): (0.55, 0.40, 0.20, 0.31, 0.18, 0.45, 0.17),
    ("rest", "head_neck_face"): (0.42, 0.40, 0.28, 0.37, 0.31, 0.37, 0.26),
    ("rest", "lower_extremity"): (0.38, 0.38, 0.18, 0.35, 0.33, 0.34, 0.31),
    ("rest", "trunk"): (0.31, 0.37, 0.24, 0.37, 0.36, 0.31, 0.30),
    ("rest", "unknown"): (0.33, 0.36, 0.09, 0.28, 0.58, 0.25, 0.41),
    ("rest", "upper_extremity"): (0.38, 0.40, 0.24, 0.38, 0.27, 0.34, 0.26),
}
#: Share of each site within a class (real MILK10k).
SITE_FREQUENCY = {
    "MEL": {"trunk": 0.464, "head_neck_face": 0.260, "lower_extremity": 0.173,
            "upper_extremity": 0.089, "unknown": 0.013},
    "rest": {"trunk": 0.358, "head_neck_face": 0.287, "lower_extremity": 0.197,
             "upper_extremity": 0.131, "hand": 0.015, "unknown": 0.005, "foot": 0.005,
             "genital": 0.002},
}  # fmt: skip
#: Share of Fitzpatrick-like skin tone classes 0–5 (real MILK10k).
SKIN_TONE_FREQUENCY = (0.001, 0.020, 0.097, 0.606, 0.203, 0.073)
SKIN_TONES_RGB = np.array(
    [
        [250, 222, 205],
        [236, 196, 170],
        [214, 168, 134],
        [184, 134, 98],
        [138, 94, 64],
        [92, 60, 40],
    ],
    dtype=np.float32,
)
#: Site → (lesion radius scale, background texture amplitude, redness shift).
SITE_LOOK = {
    "foot": (0.75, 14.0, 8.0), "genital": (0.8, 6.0, 18.0), "hand": (0.7, 12.0, 4.0),
    "head_neck_face": (0.85, 4.0, 14.0), "lower_extremity": (1.0, 9.0, 0.0),
    "trunk": (1.1, 6.0, -4.0), "unknown": (0.95, 8.0, 2.0), "upper_extremity": (1.0, 8.0, 6.0),
}  # fmt: skip
_NON_MEL = {"NV": 0.35, "BCC": 0.3, "BKL": 0.12, "AKIEC": 0.08, "SCCKA": 0.06, "BEN_OTH": 0.03,
            "DF": 0.02, "VASC": 0.02, "INF": 0.01, "MAL_OTH": 0.01}  # fmt: skip
MODALITIES = ("dermoscopic", "clinical")
#: One row per lesion with every scene parameter (class cue, descriptors, site, tone).
SCENES_FILE = "synthetic_scenes.csv"


@dataclass(frozen=True)
class SyntheticConfig:
    """Settings of the synthetic benchmark.

    Args:
        n_lesions: number of lesions; each has a dermoscopic and a clinical image.
        image_size: side of the square images in pixels.
        imbalance: strength of the planted coverage imbalance: 0 gives every (class, site,
            descriptor) the same prevalence, 1 the real MILK10k coverage, > 1 exaggerates it
            (interpolation in logit space around the overall mean).
        positive_fraction: share of melanoma (1/11 ≈ 1:10 like MILK10k; 0.5 for 1:1).
        clinical_miss_rate: chance that the clinical score of a present descriptor reads as
            absent (MONET misses descriptors on clinical photos).
        seed: everything is a function of this seed.
        descriptor_effects: ``"fixed"`` (default): erythema and vessels hide the class cue,
            pigmentation mimics it, everywhere; ``"random"``: each of them hides or mimics it
            at random per lesion (the control whose imbalance 0 keeps the task's difficulty;
            see :mod:`semcov_data.synthetic_cues`).
    """

    n_lesions: int = 10_000
    image_size: int = 64
    imbalance: float = 1.0
    positive_fraction: float = 1.0 / 11.0
    clinical_miss_rate: float = 0.3
    seed: int = 0
    descriptor_effects: str = "fixed"

    def __post_init__(self) -> None:
        if not isinstance(self.n_lesions, int) or self.n_lesions < 1:
            raise ValueError(f"n_lesions must be a positive integer, got {self.n_lesions!r}")
        if not isinstance(self.image_size, int) or self.image_size < 16:
            raise ValueError(f"image_size must be an integer >= 16, got {self.image_size!r}")
        if not 0.0 <= self.imbalance <= 3.0:
            raise ValueError(f"imbalance must lie in [0, 3], got {self.imbalance!r}")
        if not 0.0 < self.positive_fraction < 1.0:
            raise ValueError(
                f"positive_fraction must lie in (0, 1), got {self.positive_fraction!r}"
            )
        if not 0.0 <= self.clinical_miss_rate < 1.0:
            raise ValueError(
                f"clinical_miss_rate must lie in [0, 1), got {self.clinical_miss_rate!r}"
            )
        if self.descriptor_effects not in EFFECT_MODES:
            raise ValueError(
                f"descriptor_effects must be one of {', '.join(EFFECT_MODES)}, "
                f"got {self.descriptor_effects!r}"
            )


def descriptor_prevalence(imbalance: float) -> pd.DataFrame:
    """Presence probability per (class, site) and descriptor for an imbalance strength.

    MEL at foot, genital and hand (never seen in MILK10k) takes MEL's mean over its sites, so
    the table is complete; the site frequencies still make those cells empty in practice.
    """
    frame = pd.DataFrame.from_dict(SITE_PREVALENCE, orient="index", columns=list(DESCRIPTORS))
    frame.index = pd.MultiIndex.from_tuples(frame.index, names=["class", "site"])
    mel_mean = frame.loc["MEL"].mean()
    for site in SITES:
        if ("MEL", site) not in frame.index:
            frame.loc[("MEL", site), :] = mel_mean.to_numpy()
    logit = np.log(frame / (1 - frame))
    centre = float(np.log(frame.to_numpy().mean() / (1 - frame.to_numpy().mean())))
    scaled = 1.0 / (1.0 + np.exp(-(centre + imbalance * (logit - centre))))
    return scaled.clip(0.01, 0.99).sort_index()


def sample_scenes(config: SyntheticConfig) -> pd.DataFrame:
    """One row per lesion: class, site, skin tone, demographics, true descriptors, shape seeds,
    and the class-cue parameters with the descriptors' effect directions
    (:func:`~semcov_data.synthetic_cues.sample_cues`, drawn from their own stream, so the other
    columns do not depend on ``descriptor_effects``)."""
    rng = np.random.default_rng([config.seed, 0])
    n = config.n_lesions
    is_mel = rng.random(n) < config.positive_fraction
    classes = np.where(is_mel, "MEL", "rest")
    sites = np.empty(n, dtype=object)
    for name in ("MEL", "rest"):
        members = np.flatnonzero(classes == name)
        freq = SITE_FREQUENCY[name]
        p = np.array(list(freq.values()))
        sites[members] = rng.choice(list(freq), size=len(members), p=p / p.sum())
    prevalence = descriptor_prevalence(config.imbalance)
    p_present = prevalence.loc[list(zip(classes, sites, strict=True))].to_numpy()
    present = rng.random((n, len(DESCRIPTORS))) < p_present
    tone_p = np.array(SKIN_TONE_FREQUENCY)
    diagnoses = np.where(
        is_mel,
        "MEL",
        rng.choice(list(_NON_MEL), size=n, p=np.array(list(_NON_MEL.values())) / 1.0),
    )
    scenes = pd.DataFrame(
        {
            "lesion_id": [f"IL_{config.seed % 1000:03d}{i:07d}" for i in range(n)],
            "class_name": classes,
            "diagnosis": diagnoses,
            "site": sites,
            "skin_tone_class": rng.choice(6, size=n, p=tone_p / tone_p.sum()),
            "sex": rng.choice(["female", "male"], size=n),
            "age_approx": (5 * np.clip(np.round(rng.normal(62, 14, n) / 5), 3, 17)).astype(int),
            "shape_seed": rng.integers(0, 2**31 - 1, n),
        }
    )
    for k, column in enumerate(TRUE_COLUMNS):
        scenes[column] = present[:, k].astype(np.int8)
    cues = sample_cues(np.random.default_rng([config.seed, 3]), is_mel, config.descriptor_effects)
    return pd.concat([scenes, cues], axis=1)


def _scores(scenes: pd.DataFrame, modality: str, config: SyntheticConfig) -> np.ndarray:
    """MONET-like scores: sharp for dermoscopic, soft, noisy and sometimes missed for clinical."""
    truth = scenes[list(TRUE_COLUMNS)].to_numpy(np.float64)
    rng = np.random.default_rng([config.seed, 1 + MODALITIES.index(modality)])
    if modality == "dermoscopic":
        score = 0.04 + 0.82 * truth + rng.normal(0.0, 0.05, truth.shape)
    else:
        seen = truth * (rng.random(truth.shape) >= config.clinical_miss_rate)
        score = 0.2 + 0.35 * seen + rng.normal(0.0, 0.12, truth.shape)
    return np.clip(score, 0.001, 0.999)


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    axis = (np.arange(size, dtype=np.float32) + 0.5) / size * 2.0 - 1.0
    return np.meshgrid(axis, axis, indexing="xy")


def _smooth_noise(rng: np.random.Generator, x: np.ndarray, y: np.ndarray, waves: int, freq: float):
    """A sum of random plane waves: cheap smooth noise in [-1, 1].

    cos(a·x + b·y + c) is separable into 1-D cosines and sines of the grid axes, so each wave
    costs two outer products instead of a cosine per pixel.
    """
    xs, ys = x[0], y[:, 0]
    field = np.zeros_like(x)
    for _ in range(waves):
        angle = rng.uniform(0, 2 * np.pi)
        f = rng.uniform(0.5, 1.0) * freq * np.pi
        u = f * np.cos(angle) * xs
        v = f * np.sin(angle) * ys + rng.uniform(0, 6.3)
        field += np.outer(np.cos(v), np.cos(u)) - np.outer(np.sin(v), np.sin(u))
    return field / waves


def render_lesion(scene: dict[str, Any], modality: str, size: int) -> np.ndarray:
    """Draw one lesion image, (size, size, 3) uint8, from a row of :func:`sample_scenes`.

    The scene fixes every random choice (``shape_seed``), so the two modalities show the same
    lesion; ``clinical`` is blurred, lower in contrast and shows descriptors more faintly.
    """
    rng = np.random.default_rng(int(scene["shape_seed"]))
    x, y = _grid(size)
    radius_scale, texture, redness = SITE_LOOK[scene["site"]]

    skin = SKIN_TONES_RGB[int(scene["skin_tone_class"])] + np.array([redness, 0, -redness / 2])
    background = skin[None, None, :] * (
        1.0 + (texture / 255.0) * _smooth_noise(rng, x, y, 4, 9.0)[..., None]
    )

    present = {name: bool(scene[f"true_{name}"]) for name in DESCRIPTORS}
    # Class cue (semcov_data.synthetic_cues): the scene's parameters after the present
    # descriptors' effects; only the angles and the blotch pattern come from the shape seed.
    cues = effective_cues(scene)
    cx, cy = rng.normal(0.0, 0.08, 2)
    base_radius = radius_scale * rng.uniform(0.32, 0.46)
    theta = np.arctan2(y - cy, x - cx)
    r = np.hypot(x - cx, y - cy)
    boundary = np.ones_like(theta)
    for k in (2, 3, 5, 7):
        boundary += cues["irregularity"] / np.sqrt(k) * np.cos(k * theta + rng.uniform(0, 6.3))
    boundary += cues["asymmetry"] * np.cos(theta - rng.uniform(0, 6.3))
    edge = base_radius * boundary
    inside = np.clip((edge - r) / 0.04 + 0.5, 0.0, 1.0)

    tone_factor = 1.0 - 0.1 * int(scene["skin_tone_class"])
    lesion_colour = np.array([120.0, 78.0, 52.0]) * tone_factor
    lesion = np.broadcast_to(lesion_colour, background.shape).copy()
    variegation = cues["variegation"]
    blotches = _smooth_noise(rng, x, y, 3, 5.0)
    dark = np.clip((blotches - 0.1) * 3.0, 0.0, 1.0)[..., None] * variegation
    blue_grey = np.clip((-blotches - 0.3) * 3.0, 0.0, 1.0)[..., None] * variegation
    lesion = lesion * (1.0 - 0.6 * dark) + blue_grey * (np.array([90.0, 100.0, 125.0]) - lesion)
    image = background * (1.0 - inside[..., None]) + lesion * inside[..., None]

    if present["erythema"]:
        # A red halo that blurs the border: hides the irregularity cue.
        halo = np.exp(-(((r - edge) / (0.18 * base_radius + 0.05)) ** 2))
        image += (halo * (1.0 - 0.5 * inside))[..., None] * np.array([70.0, -25.0, -20.0])
    if present["pigmented"]:
        # Dark, multicoloured globules: mimic melanoma's variegation on any lesion.
        spots = _smooth_noise(rng, x, y, 5, 14.0)
        mask = (np.clip((spots - 0.35) * 4.0, 0.0, 1.0) * np.clip(inside * 1.3, 0, 1))[..., None]
        image = image * (1.0 - 0.75 * mask) + mask * np.array([30.0, 22.0, 28.0])

    canvas = Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(canvas)
    px = lambda u: (u + 1.0) * 0.5 * size  # noqa: E731 - unit square to pixels
    if present["ulceration_crust"]:
        for _ in range(rng.integers(1, 3)):
            ox, oy = cx + rng.normal(0, 0.5) * base_radius, cy + rng.normal(0, 0.5) * base_radius
            w, h = rng.uniform(0.2, 0.4, 2) * base_radius * 2  # covers part of the lesion
            draw.ellipse(
                [px(ox - w), px(oy - h), px(ox + w), px(oy + h)],
                fill=(int(rng.uniform(150, 190)), int(rng.uniform(110, 140)), 60),
            )
    if present["vessels"]:
        for _ in range(rng.integers(2, 5)):
            points = [
                (cx + rng.normal(0, 0.6) * base_radius, cy + rng.normal(0, 0.6) * base_radius)
            ]
            for _ in range(4):
                last = points[-1]
                points.append((last[0] + rng.normal(0, 0.12), last[1] + rng.normal(0, 0.12)))
            draw.line([(px(a), px(b)) for a, b in points], fill=(190, 40, 50), width=1)
    if present["gel"]:
        for _ in range(rng.integers(2, 6)):
            # Bubbles over the lesion: their bright fill hides part of it.
            ox, oy = cx + rng.normal(0, 0.6) * base_radius, cy + rng.normal(0, 0.6) * base_radius
            rad = rng.uniform(0.06, 0.16)
            box = [px(ox - rad), px(oy - rad), px(ox + rad), px(oy + rad)]
            draw.ellipse(box, fill=(205, 200, 200), outline=(245, 245, 250), width=1)
            draw.point((px(ox - rad / 3), px(oy - rad / 3)), fill=(255, 255, 255))
    if present["hair"]:
        for _ in range(rng.integers(3, 9)):
            start = rng.uniform(-1.1, 1.1, 2)
            angle = rng.uniform(0, np.pi)
            bend = rng.normal(0, 0.3)
            ts = np.linspace(0.0, rng.uniform(0.8, 1.8), 8)
            xs = start[0] + ts * np.cos(angle + bend * ts)
            ys = start[1] + ts * np.sin(angle + bend * ts)
            draw.line([(px(a), px(b)) for a, b in zip(xs, ys, strict=True)], fill=(25, 18, 15))
    if present["pen"]:
        # Ink hugging the border: a dark, uneven rim that looks like an irregular edge.
        offset = base_radius * 1.05
        arc = [px(cx - offset), px(cy - offset), px(cx + offset), px(cy + offset)]
        arc_start = float(rng.uniform(0, 360))
        draw.arc(
            arc, arc_start, arc_start + float(rng.uniform(120, 300)), fill=(95, 40, 125), width=2
        )

    pixels = np.asarray(canvas, dtype=np.uint8)
    return to_clinical(pixels) if modality == "clinical" else pixels


def to_clinical(pixels: np.ndarray) -> np.ndarray:
    """The clinical view of a dermoscopic rendering: blurred, lower contrast, a little brighter."""
    blurred = Image.fromarray(pixels).filter(ImageFilter.GaussianBlur(radius=pixels.shape[0] / 56))
    values = np.asarray(blurred, dtype=np.float32)
    mean = values.mean(axis=(0, 1), keepdims=True)
    return np.clip(mean + 0.6 * (values - mean) + 12.0, 0, 255).astype(np.uint8)


def _write_images(job: tuple[list[dict[str, Any]], str, int]) -> None:
    rows, root, size = job
    for row in rows:
        folder = Path(root) / "MILK10k_Training_Input" / row["lesion_id"]
        folder.mkdir(parents=True, exist_ok=True)
        dermoscopic = render_lesion(row, "dermoscopic", size)
        views = {"dermoscopic": dermoscopic, "clinical": to_clinical(dermoscopic)}
        for modality, pixels in views.items():
            Image.fromarray(pixels).save(folder / f"{row[f'isic_id_{modality}']}.jpg", quality=95)


def write_synthetic(
    out: str | Path, config: SyntheticConfig | None = None, *, workers: int | None = None
) -> Path:
    """Render the benchmark into ``out`` in the MILK10k challenge layout.

    Writes ``MILK10k_Training_Metadata.csv`` (one row per image: MONET-style scores and the true
    presence ``true_*``), ``MILK10k_Training_GroundTruth.csv``, ``MILK10k_Training_Supplement.csv``,
    ``MILK10k_Training_Input/<lesion_id>/<isic_id>.jpg``, ``synthetic_config.json`` and
    ``synthetic_scenes.csv`` (:data:`SCENES_FILE`: one row per lesion with every scene parameter,
    the rendered cue values ``irregularity``, ``asymmetry``, ``variegation`` included; the
    input of :func:`semcov_data.synthetic_oracle.oracle_auc`).
    The bytes depend only on the config: the worker count does not change them.

    Returns:
        ``out`` as a Path.
    """
    config = config or SyntheticConfig()
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    scenes = sample_scenes(config)
    n = len(scenes)
    for m, modality in enumerate(MODALITIES):
        scenes[f"isic_id_{modality}"] = [
            f"ISIC_{config.seed % 100:02d}{2 * i + m:08d}" for i in range(n)
        ]

    frames = []
    for modality in MODALITIES:
        frame = pd.DataFrame(
            {
                "lesion_id": scenes["lesion_id"],
                "image_type": "dermoscopic" if modality == "dermoscopic" else "clinical: close-up",
                "isic_id": scenes[f"isic_id_{modality}"],
                "attribution": "semcov synthetic benchmark",
                "copyright_license": "CC0",
                "image_manipulation": "synthetic",
                "age_approx": scenes["age_approx"],
                "sex": scenes["sex"],
                "skin_tone_class": scenes["skin_tone_class"],
                "site": scenes["site"].where(scenes["site"] != "unknown"),
            }
        )
        scores = _scores(scenes, modality, config)
        for k, column in enumerate(MILK10K_DESCRIPTORS):
            frame[column] = scores[:, k]
        for column in TRUE_COLUMNS:
            frame[column] = scenes[column]
        frames.append(frame)
    metadata = pd.concat(frames).sort_values(["lesion_id", "image_type"], kind="stable")
    metadata.to_csv(root / "MILK10k_Training_Metadata.csv", index=False)
    truth = pd.DataFrame({"lesion_id": scenes["lesion_id"]})
    for diagnosis in MILK10K_DIAGNOSES:
        truth[diagnosis] = (scenes["diagnosis"] == diagnosis).astype(float)
    truth.to_csv(root / "MILK10k_Training_GroundTruth.csv", index=False)
    pd.DataFrame(
        {
            "isic_id": metadata["isic_id"],
            "diagnosis_full": "synthetic",
            "diagnosis_confirm_type": "synthetic",
            "invasion_thickness_interval": "",
        }
    ).to_csv(root / "MILK10k_Training_Supplement.csv", index=False)
    pd.Series(asdict(config)).to_json(root / "synthetic_config.json", indent=2)
    exported = scenes.drop(columns=[f"isic_id_{modality}" for modality in MODALITIES])
    for name, values in effective_cues(scenes).items():
        exported[name] = values
    exported.to_csv(root / SCENES_FILE, index=False)

    rows = scenes.to_dict("records")
    workers = workers or min(os.cpu_count() or 1, 8)
    chunks = [rows[i : i + 256] for i in range(0, n, 256)]
    jobs = [(chunk, str(root), config.image_size) for chunk in chunks]
    if workers > 1 and len(chunks) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            list(pool.map(_write_images, jobs))
    else:
        for job in jobs:
            _write_images(job)
    return root
