"""Decoding one image: to a tensor for training, to a fixed-size array for the cache, or a check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = ["FITS", "ImageDecodeError", "check_image", "load_fixed_size", "read_image", "to_rgb"]

#: How an image becomes size × size: ``"crop"`` (shorter side to size, centre crop) or ``"pad"``
#: (longer side to size, centred on black).
FITS = ("crop", "pad")
_DECODE_ERRORS = (
    OSError,
    UnidentifiedImageError,
    ValueError,
    RuntimeError,
    Image.DecompressionBombError,
)


#: Modes holding more than 8 bits per sample; they are scaled to 0..255, not clipped.
_WIDE_MODES = {"I;16": 65535, "I;16L": 65535, "I;16B": 65535, "I;16N": 65535, "I": 65535}


class ImageDecodeError(ValueError):
    """An image file could not be read or decoded; the message names the file."""


def to_rgb(image: Image.Image) -> Image.Image:
    """An 8-bit RGB copy of any PIL image, upright (EXIF orientation applied).

    CMYK, grayscale (``L``, ``LA``, ``1``), palette (``P``, with or without transparency) and
    RGBA are converted by PIL; 16-bit grayscale (``I;16``, and ``I`` as PIL opens 16-bit PNGs)
    is scaled by 255/65535, since PIL's own conversion clips everything above 255 to white.
    Transparent pixels keep their colour (the alpha channel is dropped, not composited).
    """
    image = ImageOps.exif_transpose(image)
    if image.mode in _WIDE_MODES:
        values = np.asarray(image, dtype=np.float64)
        scaled = np.clip(np.rint(values * (255.0 / _WIDE_MODES[image.mode])), 0, 255)
        return Image.fromarray(scaled.astype(np.uint8)).convert("RGB")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    return image if image.mode == "RGB" else image.convert("RGB")


def read_image(path: str | Path) -> torch.Tensor:
    """Decode an image file to a uint8 tensor of shape (3, H, W) (RGB, EXIF orientation applied)."""
    try:
        with Image.open(path) as image:
            array = np.asarray(to_rgb(image), dtype=np.uint8)
    except _DECODE_ERRORS as error:
        raise ImageDecodeError(f"cannot decode image {path}: {error}") from error
    return torch.from_numpy(array.copy()).permute(2, 0, 1)


def check_image(path: str | Path) -> str | None:
    """``None`` when the file decodes, else the reason (``"missing"``, ``"corrupt: ..."``).

    The check decodes the whole stream at reduced scale (JPEG draft mode), so a truncated
    file is caught at a fraction of the cost of a full decode.
    """
    path = Path(path)
    if not path.is_file():
        return "missing"
    try:
        with Image.open(path) as image:
            image.draft("RGB", (64, 64))
            image.load()
    except _DECODE_ERRORS as error:
        return f"corrupt: {error}"
    return None


def load_fixed_size(path: str | Path, size: int, fit: str = "crop") -> np.ndarray:
    """Decode and resize an image to a (size, size, 3) uint8 array (the cache's format).

    Args:
        path: image file.
        size: output side in pixels.
        fit: ``"crop"`` (shorter side to ``size``, centre crop) or ``"pad"``.

    Raises:
        ImageDecodeError: the file is missing, unreadable or truncated.
    """
    try:
        with Image.open(path) as image:
            # JPEG draft decoding scales in the DCT domain, never below the requested size.
            image.draft("RGB", (size, size))
            image = to_rgb(image)
            width, height = image.size
            scale = size / (min(width, height) if fit == "crop" else max(width, height))
            new = (max(1, round(width * scale)), max(1, round(height * scale)))
            image = image.resize(new, Image.Resampling.BILINEAR, reducing_gap=3.0)
            if fit == "crop":
                left, top = (new[0] - size) // 2, (new[1] - size) // 2
                return np.asarray(image.crop((left, top, left + size, top + size)), dtype=np.uint8)
            canvas = Image.new("RGB", (size, size))
            canvas.paste(image, ((size - new[0]) // 2, (size - new[1]) // 2))
            return np.asarray(canvas, dtype=np.uint8)
    except _DECODE_ERRORS as error:
        raise ImageDecodeError(f"cannot decode image {path}: {error}") from error
