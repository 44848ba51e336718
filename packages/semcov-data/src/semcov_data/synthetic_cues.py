"""The class cue of a synthetic lesion as exported scene parameters, and how descriptors move it.

A melanoma's border is irregular and asymmetric and its colours are variegated; a benign
lesion's are round, smooth and uniform. Three descriptors change those parameters (the others
only draw over the lesion): erythema rounds the border off or roughens it, vessels and
pigmentation wash the colours out or variegate them. ``"fixed"`` effects act in the direction of
the descriptor's real prevalence gap between the classes (erythema and vessels, commoner in benign
lesions, hide the cue; pigmentation, commoner in melanoma, mimics it), so a descriptor rarely
seen with a class is genuinely harder for that class. ``"random"`` effects pick the direction at
random per lesion and descriptor: the control in which imbalance 0 does not make every
melanoma with erythema harder (see the semcov-data README, "Calibration").

The parameters are drawn in :func:`sample_cues` (one row per lesion, exported in
``synthetic_scenes.csv``) and turned into the rendered values by :func:`effective_cues`, the
same function the renderer calls, so the exported values are exactly what the image shows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "CUE_COLUMNS",
    "DESCRIPTOR_EFFECTS",
    "EFFECT_COLUMNS",
    "EFFECT_MODES",
    "effective_cues",
    "sample_cues",
]

#: The class-cue scene parameters as drawn from the class ranges (before descriptor effects).
CUE_COLUMNS = ("cue_irregularity", "cue_asymmetry", "cue_variegation")
#: Descriptors that change the cue parameters -> the parameters they act on.
DESCRIPTOR_EFFECTS = {
    "erythema": ("cue_irregularity", "cue_asymmetry"),
    "pigmented": ("cue_variegation",),
    "vessels": ("cue_variegation",),
}
#: Direction of each effect per lesion: -1 hides the cue, +1 mimics it.
EFFECT_COLUMNS = tuple(f"effect_{name}" for name in DESCRIPTOR_EFFECTS)
#: Draws that a mimicking effect raises a parameter to (at least).
MIMIC_COLUMNS = ("mimic_irregularity", "mimic_asymmetry", "mimic_variegation")
EFFECT_MODES = ("fixed", "random")
#: The fixed directions (MILK10k prevalence gaps: erythema and vessels commoner in benign
#: lesions, pigmentation in melanoma).
_FIXED = {"erythema": -1, "pigmented": 1, "vessels": -1}
#: Class ranges (uniform) of the cue parameters: (melanoma, benign).
_RANGES = {
    "cue_irregularity": ((0.1, 0.25), (0.0, 0.08)),
    "cue_asymmetry": ((0.12, 0.3), (0.0, 0.1)),
    "cue_variegation": ((0.55, 1.0), (0.0, 0.35)),
}
#: Hiding: the parameter is multiplied by this factor. Mimicking: raised to a draw from
#: the matching range (a melanoma-like value).
_HIDE = {"cue_irregularity": 0.5, "cue_asymmetry": 0.5, "cue_variegation": 0.6}
_MIMIC = {
    "mimic_irregularity": (0.1, 0.2),
    "mimic_asymmetry": (0.12, 0.25),
    "mimic_variegation": (0.4, 0.8),
}


def sample_cues(rng: np.random.Generator, is_mel: np.ndarray, effects: str) -> pd.DataFrame:
    """Cue parameters, effect directions and mimic draws of each lesion.

    Args:
        rng: the generator (the caller seeds it from the benchmark's seed).
        is_mel: (N,) bool, melanoma or not.
        effects: ``"fixed"`` or ``"random"`` directions (see the module docstring).

    Returns:
        (N, 9) frame: :data:`CUE_COLUMNS`, :data:`EFFECT_COLUMNS` (±1) and the mimic draws.
    """
    if effects not in EFFECT_MODES:
        raise ValueError(f"descriptor_effects must be one of {EFFECT_MODES}, got {effects!r}")
    n = len(is_mel)
    columns: dict[str, np.ndarray] = {}
    for column, ((mel_low, mel_high), (low, high)) in _RANGES.items():
        u = rng.random(n)
        columns[column] = np.where(
            is_mel, mel_low + u * (mel_high - mel_low), low + u * (high - low)
        )
    for column, (low, high) in _MIMIC.items():
        columns[column] = rng.uniform(low, high, n)
    flips = rng.random((n, len(_FIXED))) < 0.5
    for k, name in enumerate(DESCRIPTOR_EFFECTS):
        if effects == "fixed":
            columns[f"effect_{name}"] = np.full(n, _FIXED[name], dtype=np.int8)
        else:
            columns[f"effect_{name}"] = np.where(flips[:, k], 1, -1).astype(np.int8)
    return pd.DataFrame(columns)


def _move(value: Any, present: Any, direction: Any, mimic: Any, factor: float) -> Any:
    hidden = value * factor
    mimicked = np.maximum(value, mimic)
    moved = np.where(np.asarray(direction) > 0, mimicked, hidden)
    return np.where(np.asarray(present, dtype=bool), moved, value)


def effective_cues(scenes: pd.DataFrame | dict[str, Any]) -> dict[str, Any]:
    """The cue parameters the renderer draws, after the present descriptors' effects.

    Args:
        scenes: rows of :func:`~semcov_data.synthetic.sample_scenes` (a frame, vectorised) or
            one row as a dict (scalars).

    Returns:
        ``{"irregularity", "asymmetry", "variegation"}``: arrays (N,) or floats. Pigmentation
        acts on the variegation before the vessels do.
    """
    get = scenes.__getitem__
    irregularity = _move(
        get("cue_irregularity"),
        get("true_erythema"),
        get("effect_erythema"),
        get("mimic_irregularity"),
        _HIDE["cue_irregularity"],
    )
    asymmetry = _move(
        get("cue_asymmetry"),
        get("true_erythema"),
        get("effect_erythema"),
        get("mimic_asymmetry"),
        _HIDE["cue_asymmetry"],
    )
    variegation = get("cue_variegation")
    for name in ("pigmented", "vessels"):
        variegation = _move(
            variegation,
            get(f"true_{name}"),
            get(f"effect_{name}"),
            get("mimic_variegation"),
            _HIDE["cue_variegation"],
        )
    values = {"irregularity": irregularity, "asymmetry": asymmetry, "variegation": variegation}
    if isinstance(scenes, dict):
        return {key: float(value) for key, value in values.items()}
    return {key: np.asarray(value, dtype=np.float64) for key, value in values.items()}
