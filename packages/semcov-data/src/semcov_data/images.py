"""Decoding one image: to a tensor for training, to a fixed-size array for the cache, or a check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = ["FITS", "ImageDecodeError", "check_image", "load_fixed_size", "read_image"]

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


class ImageDecodeError(ValueError):
    """An image file could not be read or decoded; the message names the file."""


def read_image(path: str | Path) -> torch.Tensor:
    """Decode an image file to a uint8 tensor of shape (3, H, W) (RGB, EXIF orientation applied)."""
    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image.convert("RGB"))
            array = np.asarray(image, dtype=np.uint8)
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
            image = ImageOps.exif_transpose(image.convert("RGB"))
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
