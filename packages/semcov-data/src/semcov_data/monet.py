"""MONET concept scores for a folder of images with a local CLIP model (extra ``monet``)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image

from semcov_data.images import ImageDecodeError
from semcov_data.report import LoadReport

__all__ = [
    "MONET_CONCEPTS",
    "MONET_REFERENCE",
    "MONET_TEMPERATURE",
    "MONET_TEMPLATES",
    "MonetConfig",
    "MonetScorer",
    "score_folder",
]

#: The 7 MILK10k concepts: column → synonyms (one prompt each per template).
MONET_CONCEPTS: Mapping[str, tuple[str, ...]] = {
    "MONET_ulceration_crust": ("ulceration", "crust"),
    "MONET_hair": ("hair",),
    "MONET_vasculature_vessels": ("vasculature", "vessels"),
    "MONET_erythema": ("erythema",),
    "MONET_pigmented": ("pigmented",),
    "MONET_gel_water_drop_fluid_dermoscopy_liquid": (
        "gel",
        "water drop",
        "fluid",
        "dermoscopy liquid",
    ),
    "MONET_skin_markings_pen_ink_purple_pen": ("skin markings", "pen ink", "purple pen"),
}
#: MONET's prompt templates.
MONET_TEMPLATES = (
    "This is skin image of {}",
    "This is dermatology image of {}",
    "This is image of {}",
)
#: Reference prompt r_t (docs/paper-notes.md); ``MonetConfig(reference=...)`` also takes one
#: per template.
MONET_REFERENCE = "This is skin image"
#: T = exp(-4.5944).
MONET_TEMPERATURE = math.exp(-4.5944)
_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


@dataclass(frozen=True)
class MonetConfig:
    """Settings of :class:`MonetScorer`.

    Attributes:
        templates: prompt templates with one ``{}`` for the concept synonym.
        reference: the reference prompt of every template, or one per template (the MONET
            repository pairs "This is dermatology image of {}" with "This is dermatology image").
        temperature: T in ``sigmoid((s_t - r_t) / T)``.
        batch_size: images per forward pass.
        device: torch device.
    """

    templates: tuple[str, ...] = MONET_TEMPLATES
    reference: str | tuple[str, ...] = MONET_REFERENCE
    temperature: float = MONET_TEMPERATURE
    batch_size: int = 32
    device: str = "cpu"

    def __post_init__(self) -> None:
        if not self.templates or any(t.count("{}") != 1 for t in self.templates):
            raise ValueError(f"templates must each hold one '{{}}', got {self.templates!r}")
        if not isinstance(self.reference, str) and len(self.reference) != len(self.templates):
            raise ValueError("reference must be one prompt or one per template")
        if not self.temperature > 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature!r}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size!r}")

    @property
    def references(self) -> tuple[str, ...]:
        """One reference prompt per template."""
        if isinstance(self.reference, str):
            return (self.reference,) * len(self.templates)
        return tuple(self.reference)


def _column(name: str) -> str:
    if name.startswith("MONET_"):
        return name
    return "MONET_" + re.sub(r"[^0-9a-zA-Z]+", "_", name.strip()).strip("_").lower()


def _concepts(concepts: Mapping[str, Sequence[str]] | Sequence[str]) -> dict[str, tuple[str, ...]]:
    if isinstance(concepts, str):
        raise TypeError("concepts must be a list of concepts or a mapping, not a single string")
    items = concepts.items() if isinstance(concepts, Mapping) else ((c, (c,)) for c in concepts)
    out = {}
    for name, synonyms in items:
        synonyms = (synonyms,) if isinstance(synonyms, str) else tuple(synonyms)
        if not synonyms or not all(isinstance(s, str) and s.strip() for s in synonyms):
            raise ValueError(f"concept {name!r}: synonyms must be non-empty strings")
        out[_column(name)] = synonyms
    if not out:
        raise ValueError("concepts: give at least one concept")
    return out


def _features(output: object) -> torch.Tensor:
    # transformers < 5 returns the projected features; 5.x a model output whose pooler_output is.
    tensor = output if isinstance(output, torch.Tensor) else output.pooler_output  # type: ignore[attr-defined]
    return torch.nn.functional.normalize(tensor.float(), dim=-1)


class MonetScorer:
    """Concept presence scores of images with a MONET (CLIP) model, following Kim et al. 2024.

    For template t, s_t is the mean cosine between the image and the concept's synonym prompts,
    r_t the cosine to the reference prompt; the score is the mean over templates of
    ``sigmoid((s_t − r_t) / T)``, in [0, 1].

    Args:
        model_path: local folder of a transformers CLIP model and its processor
            (``save_pretrained`` output); nothing is downloaded.
        concepts: column → synonyms, or a list of concepts (column ``MONET_<concept>``).
        config: templates, reference, temperature, batch size, device.

    Raises:
        ImportError: transformers is not installed (``pip install semcov-data[monet]``).
    """

    def __init__(
        self,
        model_path: str | Path,
        concepts: Mapping[str, Sequence[str]] | Sequence[str] = MONET_CONCEPTS,
        config: MonetConfig | None = None,
    ) -> None:
        try:
            from transformers import CLIPModel, CLIPProcessor
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise ImportError(
                "MonetScorer needs transformers: pip install 'semcov-data[monet]'"
            ) from error
        path = Path(model_path)
        if not path.is_dir():
            raise ValueError(f"model_path: {str(path)!r} is not a directory with a CLIP model")
        self.config = config or MonetConfig()
        self.concepts = _concepts(concepts)
        # transformers declares `to` through functools.wraps(nn.Module.to), whose typeshed type
        # keeps the unbound `self` as first parameter, so the bound call looks mistyped.
        model = CLIPModel.from_pretrained(path, local_files_only=True)
        self.model = model.to(self.config.device).eval()  # type: ignore[arg-type]
        self.processor = CLIPProcessor.from_pretrained(path, local_files_only=True)
        self._concept_text, self._reference_text = self._text_embeddings()

    @property
    def columns(self) -> list[str]:
        """Output column names, in order."""
        return list(self.concepts)

    @torch.inference_mode()
    def _encode_text(self, prompts: list[str]) -> torch.Tensor:
        tokens = self.processor(text=prompts, return_tensors="pt", padding=True, truncation=True)
        tokens = {k: v.to(self.config.device) for k, v in tokens.items()}
        return _features(self.model.get_text_features(**tokens))

    def _text_embeddings(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(T, K, D) mean synonym embeddings per template and concept, and (T, D) references."""
        per_template = []
        for template in self.config.templates:
            rows = [
                self._encode_text([template.format(s) for s in syn]).mean(0)
                for syn in self.concepts.values()
            ]
            per_template.append(torch.stack(rows))
        return torch.stack(per_template), self._encode_text(list(self.config.references))

    @torch.inference_mode()
    def score_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Scores of PIL images, shape (N, K), in ``self.columns`` order."""
        out = []
        for start in range(0, len(images), self.config.batch_size):
            batch = [im.convert("RGB") for im in images[start : start + self.config.batch_size]]
            pixels = self.processor(images=batch, return_tensors="pt")["pixel_values"].to(
                self.config.device
            )
            image = _features(self.model.get_image_features(pixel_values=pixels))  # (B, D)
            # Mean cosine to the synonyms = cosine-sum against the mean of unit synonym vectors.
            s = torch.einsum("bd,tkd->btk", image, self._concept_text)
            r = torch.einsum("bd,td->bt", image, self._reference_text)[:, :, None]
            out.append(torch.sigmoid((s - r) / self.config.temperature).mean(1).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, len(self.concepts)))

    def score_files(self, paths: Sequence[str | Path]) -> np.ndarray:
        """Scores of image files, shape (N, K); raises :class:`ImageDecodeError` on a bad file."""
        out = []
        for start in range(0, len(paths), self.config.batch_size):
            images = []
            for path in paths[start : start + self.config.batch_size]:
                try:
                    with Image.open(path) as image:
                        images.append(image.convert("RGB"))
                except (OSError, ValueError) as error:
                    raise ImageDecodeError(f"cannot decode image {path}: {error}") from error
            out.append(self.score_images(images))
        return np.concatenate(out) if out else np.zeros((0, len(self.concepts)))


def score_folder(
    model_path: str | Path,
    folder: str | Path,
    *,
    concepts: Mapping[str, Sequence[str]] | Sequence[str] = MONET_CONCEPTS,
    output_csv: str | Path | None = None,
    config: MonetConfig | None = None,
    recursive: bool = True,
    id_column: str = "isic_id",
    id_from: Callable[[Path], str] | None = None,
) -> tuple[pd.DataFrame, LoadReport]:
    """Score every image of a folder and (optionally) write the CSV the loaders join.

    Args:
        model_path: local CLIP / MONET model folder.
        folder: images; the id of an image is its file stem (``ISIC_0012345.jpg`` →
            ``ISIC_0012345``).
        concepts: see :class:`MonetScorer`.
        output_csv: where to write ``id_column, MONET_*`` (written atomically).
        config: scorer settings.
        recursive: also score images in sub-folders.
        id_column: name of the id column.
        id_from: file → id; default the file stem. ISIC-DICM-17K files are named
            ``ISIC2019_0025105_mel.jpg``: ``lambda p: "ISIC_" + p.stem.split("_")[1]`` gives
            the ``isic_id`` its loader joins on.

    Returns:
        ``(scores, report)``: one row per image that decoded; unreadable files are listed in
        the report, never silently skipped.
    """
    root = Path(folder)
    if not root.is_dir():
        raise ValueError(f"folder: {str(root)!r} is not a directory")
    files = sorted(
        p
        for p in (root.rglob("*") if recursive else root.glob("*"))
        if p.is_file() and p.suffix.lower() in _EXTENSIONS
    )
    stems = [(id_from or (lambda p: p.stem))(p) for p in files]
    if len(set(stems)) != len(stems):
        twice = sorted({s for s in stems if stems.count(s) > 1})
        raise ValueError(f"folder: image ids appear twice: {twice[:5]}")
    scorer = MonetScorer(model_path, concepts, config)
    report = LoadReport(f"MONET scores of {root}", len(files))
    ids: list[str] = []
    scores: list[np.ndarray] = []
    batch: list[Image.Image] = []
    bad, reasons = [], []
    for i, (path, image_id) in enumerate(zip(files, stems, strict=True)):
        try:
            with Image.open(path) as image:
                batch.append(image.convert("RGB"))
            ids.append(image_id)
        except (OSError, ValueError) as error:
            bad.append(image_id)
            reasons.append(f"{path.name}: {error}")
        # Score in batches so a large folder never sits decoded in memory at once.
        if batch and (len(batch) == scorer.config.batch_size or i == len(files) - 1):
            scores.append(scorer.score_images(batch))
            batch = []
    report = report.exclude(bad, "corrupt image", reasons).log()
    matrix = np.concatenate(scores) if scores else np.zeros((0, len(scorer.columns)))
    frame = pd.DataFrame(matrix, columns=scorer.columns)
    frame.insert(0, id_column, ids)
    if output_csv is not None:
        target = Path(output_csv)
        tmp = target.with_name(f".{target.name}.tmp")
        frame.to_csv(tmp, index=False)
        tmp.replace(target)
    return frame, report
