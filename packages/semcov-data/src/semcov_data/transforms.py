"""Training augmentation in the style of the SIIM-ISIC 2020 winning solution; eval transform."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torchvision.transforms import v2

__all__ = [
    "FLIPS_ONLY",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "AugmentConfig",
    "RandomTranspose",
    "ResizeTo",
    "eval_transform",
    "normalize_batch",
    "train_transform",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class AugmentConfig:
    """Strengths and probabilities of the training augmentation.

    Defaults follow the SIIM-ISIC 2020 first-place recipe (albumentations there, torchvision
    v2 here): transpose, vertical and horizontal flips, brightness/contrast ±0.2, one of
    blur / Gaussian noise (p=0.7), shift ±10 % / scale ±10 % / rotate ±15° (p=0.85), HSV
    (hue ±10/180, saturation ±0.2, value via brightness), cutout of one hole of 37.5 % of the side
    (p=0.7). Not reproduced: the optical/grid/elastic distortions and CLAHE (their torchvision
    counterparts are slow or missing); paper: silent on these details.
    """

    flip_p: float = 0.5
    transpose_p: float = 0.5
    brightness: float = 0.2
    contrast: float = 0.2
    color_p: float = 0.75
    hue: float = 10 / 180
    saturation: float = 0.2
    blur_noise_p: float = 0.7
    blur_kernel: int = 5
    noise_sigma: float = 0.03
    shift: float = 0.1
    scale: float = 0.1
    rotate: float = 15.0
    affine_p: float = 0.85
    cutout_p: float = 0.7
    cutout_side: float = 0.375

    def __post_init__(self) -> None:
        for name in (
            "flip_p",
            "transpose_p",
            "color_p",
            "blur_noise_p",
            "affine_p",
            "cutout_p",
            "cutout_side",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value!r}")
        if self.blur_kernel < 1 or self.blur_kernel % 2 == 0:
            raise ValueError(
                f"blur_kernel must be an odd positive integer, got {self.blur_kernel!r}"
            )


class RandomTranspose(v2.Transform):
    """Swap height and width (a transpose of the image) with probability ``p``."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = p

    def make_params(self, flat_inputs: list) -> dict:
        return {"apply": bool(torch.rand(()) < self.p)}

    def transform(self, inpt: torch.Tensor, params: dict) -> torch.Tensor:
        return inpt.transpose(-1, -2) if params["apply"] else inpt


class ResizeTo(v2.Transform):
    """Resize to ``size × size`` (antialiased); an image already that size passes untouched.

    Cached images usually have the training size already, and skipping the no-op resize is
    a large share of the per-image cost of reading from the cache.
    """

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        self._resize = v2.Resize((size, size), antialias=True)

    def forward(self, *inputs: Any) -> Any:
        image = inputs[0] if len(inputs) == 1 else inputs
        if isinstance(image, torch.Tensor) and tuple(image.shape[-2:]) == (self.size, self.size):
            return image
        return self._resize(*inputs)


def normalize_batch(
    images: torch.Tensor,
    mean: tuple[float, float, float] = IMAGENET_MEAN,
    std: tuple[float, float, float] = IMAGENET_STD,
) -> torch.Tensor:
    """uint8 batch (B, 3, H, W) → normalised float32, on the batch's device.

    With ``eval_transform(size, normalize=False)`` the workers ship uint8 (4× less to copy) and
    this runs once per batch on the GPU.
    """
    if images.dtype != torch.uint8 or images.ndim < 3 or images.shape[-3] != 3:
        raise TypeError(
            f"images must be uint8 (..., 3, H, W), got {images.dtype} {tuple(images.shape)}"
        )
    m = torch.tensor(mean, device=images.device).view(3, 1, 1)
    s = torch.tensor(std, device=images.device).view(3, 1, 1)
    return (images.float().div_(255.0) - m) / s


def _check_size(size: int) -> None:
    if not isinstance(size, int) or size < 8:
        raise ValueError(f"size must be an integer >= 8, got {size!r}")


def train_transform(
    size: int = 224,
    config: AugmentConfig | None = None,
    *,
    mean: tuple[float, float, float] = IMAGENET_MEAN,
    std: tuple[float, float, float] = IMAGENET_STD,
) -> v2.Compose:
    """Random training augmentation: uint8 (3, H, W) in, normalised float32 (3, size, size) out.

    Args:
        size: output side.
        config: strengths and probabilities; default :class:`AugmentConfig`.
        mean: normalisation mean.
        std: normalisation std.
    """
    _check_size(size)
    c = config or AugmentConfig()
    side = max(1, round(c.cutout_side * size))
    area = (side * side) / (size * size)
    return v2.Compose(
        [
            ResizeTo(size),
            RandomTranspose(c.transpose_p),
            v2.RandomVerticalFlip(c.flip_p),
            v2.RandomHorizontalFlip(c.flip_p),
            v2.RandomApply(
                [
                    v2.ColorJitter(
                        brightness=c.brightness,
                        contrast=c.contrast,
                        saturation=c.saturation,
                        hue=c.hue,
                    )
                ],
                p=c.color_p,
            ),
            v2.RandomApply(
                [
                    v2.RandomAffine(
                        degrees=c.rotate,
                        translate=(c.shift, c.shift),
                        scale=(1 - c.scale, 1 + c.scale),
                    )
                ],
                p=c.affine_p,
            ),
            v2.ToDtype(torch.float32, scale=True),
            v2.RandomApply(
                [
                    v2.RandomChoice(
                        [
                            v2.GaussianBlur(c.blur_kernel, sigma=(0.1, 2.0)),
                            v2.GaussianNoise(sigma=c.noise_sigma),
                        ]
                    )
                ],
                p=c.blur_noise_p,
            ),
            v2.Normalize(mean, std),
            # One square hole, filled with 0 after normalisation (the mean colour).
            v2.RandomErasing(p=c.cutout_p, scale=(area, area), ratio=(1.0, 1.0), value=0.0),
        ]
    )


#: Only the lesion's symmetries (transpose, vertical and horizontal flips): every other
#: operation off. The ``flips`` recipe of semcov-train's CPU preset; the class cue of a lesion
#: (border, asymmetry, colours) is unchanged by them.
FLIPS_ONLY = AugmentConfig(color_p=0.0, blur_noise_p=0.0, affine_p=0.0, cutout_p=0.0)


def eval_transform(
    size: int = 224,
    *,
    normalize: bool = True,
    mean: tuple[float, float, float] = IMAGENET_MEAN,
    std: tuple[float, float, float] = IMAGENET_STD,
) -> v2.Compose:
    """Deterministic evaluation transform: resize to size × size, scale to [0, 1], normalise.

    Args:
        size: output side.
        normalize: False keeps uint8 (resize only); normalise the batch with
            :func:`normalize_batch` on the device instead.
        mean: normalisation mean.
        std: normalisation std.
    """
    _check_size(size)
    steps: list[Any] = [ResizeTo(size)]
    if normalize:
        steps += [v2.ToDtype(torch.float32, scale=True), v2.Normalize(mean, std)]
    return v2.Compose(steps)
