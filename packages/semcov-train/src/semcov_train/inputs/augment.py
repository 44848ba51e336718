"""The SIIM-ISIC 2020 winning augmentation recipe with kornia, on the batch on the run's device.

Paper §4.1: augmentation "in the style of the SIIM-ISIC 2020 winning solution" (Ha et al.,
albumentations there); here: the same list of operations with kornia's maintained
implementations, applied to whole batches after they reach the device (the GPU under CUDA,
so the distortions and CLAHE cost no loader-worker time). ``augment_recipe="siim2020"`` (the
``paper`` preset) uses it; ``"light"`` (``smoke`` and ``quick``) keeps the per-sample
torchvision recipe of :func:`semcov_data.train_transform` in the loader workers, which omits the
optical / grid / elastic distortions, CLAHE and motion / median blur: on a CPU the thin-plate
spline, CLAHE and median blur dominate a small model's step (see the package README for the
measured cost), and the CPU presets train stand-in models on procedural images anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from semcov_data import eval_transform, train_transform
from semcov_data.transforms import FLIPS_ONLY, IMAGENET_MEAN, IMAGENET_STD

__all__ = [
    "SIIM2020_OPERATIONS",
    "BatchAugmentation",
    "OneOf",
    "Siim2020Config",
    "batch_augmentation",
    "siim2020",
    "train_loader_transform",
]

#: The recipe's operations in order, each with the kornia class that implements it.
SIIM2020_OPERATIONS = (
    ("transpose", "RandomRotation90"),
    ("vertical_flip", "RandomVerticalFlip"),
    ("horizontal_flip", "RandomHorizontalFlip"),
    ("brightness", "RandomBrightness"),
    ("contrast", "RandomContrast"),
    ("motion_blur", "RandomMotionBlur"),
    ("median_blur", "RandomMedianBlur"),
    ("gaussian_blur", "RandomGaussianBlur"),
    ("gaussian_noise", "RandomGaussianNoise"),
    ("optical_distortion", "RandomFisheye"),
    ("grid_distortion", "RandomThinPlateSpline"),
    ("elastic", "RandomElasticTransform"),
    ("clahe", "RandomClahe"),
    ("hsv", "ColorJitter"),
    ("shift_scale_rotate", "RandomAffine"),
    ("cutout", "RandomErasing"),
)


@dataclass(frozen=True)
class Siim2020Config:
    """Strengths and probabilities, after the winning solution's albumentations settings.

    Where albumentations and kornia parametrise an operation differently the nearest kornia
    setting is used: HSV shifts (hue ±10 of OpenCV's 180, saturation ±20 and value ±10 of 255)
    become ColorJitter's hue ±10/180 of the colour circle, saturation ×(1 ± 0.2) and brightness
    ±0.1; the optical distortion is kornia's fisheye warp, the grid distortion its thin-plate
    spline warp; Gaussian noise has the fixed standard deviation 0.02 (the recipe draws its
    variance in [5, 30] of 255², i.e. a std of 0.009–0.021).
    """

    flip_p: float = 0.5
    transpose_p: float = 0.5
    brightness: float = 0.2
    contrast: float = 0.2
    brightness_contrast_p: float = 0.75
    blur_noise_p: float = 0.7
    blur_kernel: int = 5
    noise_std: float = 0.02
    distortion_p: float = 0.7
    clahe_clip: float = 4.0
    clahe_p: float = 0.7
    hue: float = 10 / 180
    saturation: float = 0.2
    value: float = 0.1
    hsv_p: float = 0.5
    shift: float = 0.1
    scale: float = 0.1
    rotate: float = 15.0
    affine_p: float = 0.85
    cutout_side: float = 0.375
    cutout_p: float = 0.7

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if name.endswith("_p") and not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value!r}")
        if self.blur_kernel < 3 or self.blur_kernel % 2 == 0:
            raise ValueError(f"blur_kernel must be an odd integer >= 3, got {self.blur_kernel!r}")
        if not 0.0 < self.cutout_side <= 1.0:
            raise ValueError(f"cutout_side must be in (0, 1], got {self.cutout_side!r}")


class OneOf(nn.Module):
    """With probability `p` per sample, one of `operations` drawn uniformly per sample
    (albumentations' ``OneOf``; kornia's ``random_apply`` draws one choice per batch).

    Args:
        operations: kornia augmentations, each applied with its own ``p=1``.
        p: probability that a sample gets one of them.
    """

    def __init__(self, operations: Sequence[nn.Module], p: float) -> None:
        super().__init__()
        if not operations:
            raise ValueError("operations must not be empty")
        self.operations = nn.ModuleList(operations)
        self.p = p

    def forward(self, images: Tensor) -> Tensor:
        batch = images.shape[0]
        apply = torch.rand(batch, device=images.device) < self.p
        choice = torch.randint(len(self.operations), (batch,), device=images.device)
        result = images.clone()
        for k, operation in enumerate(self.operations):
            rows = torch.nonzero(apply & (choice == k)).flatten()
            if rows.numel():
                result[rows] = operation(images[rows]).to(images.dtype)
        return result


class BatchAugmentation(nn.Module):
    """A batch augmentation between the loader and the model: uint8 (or [0, 1] float) images
    (B, 3, H, W) in, ImageNet-normalised float32 (B, 3, H, W) out, on the images' device.

    Args:
        steps: modules mapping [0, 1] float images to [0, 1] float images of the same shape.
        mean: normalisation mean.
        std: normalisation std.
    """

    mean: Tensor
    std: Tensor

    def __init__(
        self,
        steps: Sequence[nn.Module],
        *,
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
    ) -> None:
        super().__init__()

        self.steps = nn.Sequential(*steps)
        mean = IMAGENET_MEAN if mean is None else mean
        std = IMAGENET_STD if std is None else std
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)

    @torch.no_grad()
    def augment(self, images: Tensor) -> Tensor:
        """The augmented images in [0, 1], float32 (B, 3, H, W), not normalised."""
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"images must have shape (B, 3, H, W), got {tuple(images.shape)}")
        if images.dtype == torch.uint8:
            images = images.float().div_(255.0)
        elif not images.is_floating_point():
            raise TypeError(f"images must be uint8 or float, got {images.dtype}")
        return self.steps(images.float()).clamp_(0.0, 1.0)

    def forward(self, images: Tensor) -> Tensor:
        augmented = self.augment(images)
        return (augmented - self.mean.to(augmented.device)) / self.std.to(augmented.device)


def siim2020(config: Siim2020Config | None = None, *, image_size: int = 224) -> BatchAugmentation:
    """The full SIIM-ISIC 2020 recipe as a :class:`BatchAugmentation`, in the recipe's order.

    Transpose, vertical flip and horizontal flip (p = 0.5 each; the transpose is a 90° rotation,
    which with the two flips gives the same uniform draw over the 8 symmetries of the square);
    brightness and contrast ±0.2 (p = 0.75 each); one of motion / median / Gaussian blur or
    Gaussian noise (p = 0.7); one of optical / grid / elastic distortion (p = 0.7); CLAHE with
    clip limit in [1, 4] (p = 0.7); HSV (p = 0.5); shift ±10 % / scale ±10 % / rotate ±15°
    with zero padding (p = 0.85); cutout of one square hole of 37.5 % of the side filled with
    black (p = 0.7). Random draws use torch's generator of the images' device: seeding torch
    (the trainer seeds every epoch) makes it reproducible.

    Args:
        config: strengths and probabilities; default :class:`Siim2020Config`.
        image_size: side of the images (sizes the elastic kernel and the cutout hole).
    """
    import kornia.augmentation as K

    c = config or Siim2020Config()
    k = c.blur_kernel
    elastic_kernel = max(3, (image_size // 4) | 1)
    hole = (c.cutout_side**2, c.cutout_side**2)
    centre = torch.tensor([-0.3, 0.3])
    steps = [
        K.RandomRotation90(times=(1, 1), resample="nearest", p=c.transpose_p),
        K.RandomVerticalFlip(p=c.flip_p),
        K.RandomHorizontalFlip(p=c.flip_p),
        K.RandomBrightness((1 - c.brightness, 1 + c.brightness), p=c.brightness_contrast_p),
        K.RandomContrast((1 - c.contrast, 1 + c.contrast), p=c.brightness_contrast_p),
        OneOf(
            [
                K.RandomMotionBlur((3, k), angle=(-90.0, 90.0), direction=(-1.0, 1.0), p=1.0),
                K.RandomMedianBlur((k, k), p=1.0),
                K.RandomGaussianBlur((k, k), sigma=(0.1, 2.0), p=1.0),
                K.RandomGaussianNoise(std=c.noise_std, p=1.0),
            ],
            p=c.blur_noise_p,
        ),
        OneOf(
            [
                K.RandomFisheye(centre, centre, torch.tensor([0.9, 1.1]), p=1.0),
                K.RandomThinPlateSpline(scale=0.2, p=1.0),
                K.RandomElasticTransform(
                    kernel_size=(elastic_kernel, elastic_kernel),
                    sigma=(image_size / 7, image_size / 7),
                    alpha=(1.0, 1.0),
                    p=1.0,
                ),
            ],
            p=c.distortion_p,
        ),
        # kornia's RandomClahe equalises the whole batch whatever its p; OneOf computes only
        # the drawn samples.
        OneOf([K.RandomClahe(clip_limit=(1.0, c.clahe_clip), p=1.0)], p=c.clahe_p),
        K.ColorJitter(brightness=c.value, saturation=c.saturation, hue=c.hue, p=c.hsv_p),
        K.RandomAffine(
            degrees=c.rotate,
            translate=(c.shift, c.shift),
            scale=(1 - c.scale, 1 + c.scale),
            padding_mode="zeros",
            p=c.affine_p,
        ),
        K.RandomErasing(scale=hole, ratio=(1.0, 1.0), value=0.0, p=c.cutout_p),
    ]
    return BatchAugmentation(steps)


def train_loader_transform(config):
    """The per-sample transform of the training split's loader for a
    :class:`~semcov_train.TrainConfig`: the ``light`` recipe (normalised float32 out), the
    ``flips`` recipe (its transpose and flips alone), the
    evaluation transform without augmentation, or for ``siim2020`` a resize to uint8 (the
    batch is augmented and normalised on the device by :func:`batch_augmentation`)."""
    size = config.image_size
    if not config.augment:
        return eval_transform(size)
    if config.augment_recipe == "siim2020":
        return eval_transform(size, normalize=False)
    if config.augment_recipe == "flips":
        return train_transform(size, FLIPS_ONLY)
    return train_transform(size)


def batch_augmentation(config) -> BatchAugmentation | None:
    """The on-device batch augmentation of a :class:`~semcov_train.TrainConfig`, or None when
    the loader does all of it (``light``, or no augmentation)."""
    if config.augment and config.augment_recipe == "siim2020":
        return siim2020(image_size=config.image_size)
    return None
