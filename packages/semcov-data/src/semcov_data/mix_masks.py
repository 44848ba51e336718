"""Mixing coefficients and keep-masks of CutMix (boxes), FMix (Fourier masks) and SaliencyMix
(boxes on the most salient pixel)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from semcov_data._tensor_checks import (
    check_generator,
    check_images,
    check_mix_lambda,
    check_positive,
    check_size,
)
from semcov_data.saliency import spectral_residual_saliency

__all__ = ["cutmix_mask", "fmix_mask", "saliencymix_mask", "sample_mix_lambda"]


def sample_mix_lambda(
    alpha: float = 0.2, size: int = 1, *, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Draw mixing coefficients λ ~ Beta(α, α), one per pair (Algorithm 1, line 14).

    torch's Beta sampler takes no generator, so a seed is drawn from ``generator`` and numpy's
    Beta sampler does the rest: the draws are a function of the generator's state.

    Args:
        alpha: α > 0 (paper: 0.2 for CutMix, FMix and SaliencyMix).
        size: number of coefficients B.
        generator: source of randomness; ``None`` uses torch's global generator.

    Returns:
        λ as float64 on the CPU, shape (B,).

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> lam = sample_mix_lambda(0.2, 4, generator=g)
        >>> lam.shape, bool(((lam >= 0) & (lam <= 1)).all())
        (torch.Size([4]), True)
    """
    alpha = check_positive(alpha, "alpha")
    size = check_size(size, "size")
    device = check_generator(generator)
    seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=device).item())
    return torch.from_numpy(np.random.default_rng(seed).beta(alpha, alpha, size))


def _box_keep_mask(
    lam: torch.Tensor,
    rows: torch.Tensor,
    cols: torch.Tensor,
    height: int,
    width: int,
    device: torch.device,
) -> torch.Tensor:
    """Keep-mask (B, H, W) with a box of side ``⌊side·√(1−λ)⌋`` centred on (rows, cols) cut
    out, the box clipped to the image (CutMix's convention)."""
    ratio = torch.sqrt(1.0 - lam)
    cut_h = torch.floor(height * ratio).long()
    cut_w = torch.floor(width * ratio).long()
    top = rows.long() - cut_h // 2
    left = cols.long() - cut_w // 2
    y1, y2 = top.clamp(0, height), (top + cut_h).clamp(0, height)
    x1, x2 = left.clamp(0, width), (left + cut_w).clamp(0, width)
    y = torch.arange(height, device=device)
    x = torch.arange(width, device=device)
    y1, y2, x1, x2 = (v.to(device)[:, None] for v in (y1, y2, x1, x2))
    in_rows = (y >= y1) & (y < y2)
    in_cols = (x >= x1) & (x < x2)
    return ~(in_rows[:, :, None] & in_cols[:, None, :])


def cutmix_mask(
    lam: Any,
    height: int,
    width: int,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """CutMix keep-masks (Yun et al. 2019): a box of relative area ``1−λ`` at a uniformly
    random centre is cut out (clipped at the border, so the area may come out smaller).

    Args:
        lam: requested λ per image, shape (B,).
        height, width: image size H, W.
        generator: source of the box centres.
        device: device of the mask; default the CPU.

    Returns:
        Boolean mask (B, H, W), ``True`` where the target image is kept.
    """
    lam = check_mix_lambda(lam)
    height, width = check_size(height, "height"), check_size(width, "width")
    draw_device = check_generator(generator)
    rows = torch.randint(0, height, (len(lam),), generator=generator, device=draw_device).cpu()
    cols = torch.randint(0, width, (len(lam),), generator=generator, device=draw_device).cpu()
    return _box_keep_mask(lam, rows, cols, height, width, torch.device(device or "cpu"))


def fmix_mask(
    lam: Any,
    height: int,
    width: int,
    *,
    decay_power: float = 3.0,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """FMix keep-masks (Harris et al. 2020) with exactly ``round(λ·H·W)`` kept pixels.

    A complex Gaussian spectrum is scaled by ``1 / f^δ`` (f the radial frequency, floored at
    ``1 / max(H, W)``), transformed back to a smooth real field, and its ``round(λ·H·W)``
    highest-valued pixels form the kept region. Paper (FMix): ``ceil`` or ``floor`` at random;
    here: nearest, ties of the field broken by position, so the area is exact.

    Args:
        lam: requested λ per image, shape (B,).
        height, width: image size H, W.
        decay_power: δ > 0 (FMix: 3); larger gives smoother, blobbier masks.
        generator: source of the spectrum noise.
        device: device of the mask; default the CPU.

    Returns:
        Boolean mask (B, H, W), ``True`` where the target image is kept.
    """
    lam = check_mix_lambda(lam)
    height, width = check_size(height, "height"), check_size(width, "width")
    decay_power = check_positive(decay_power, "decay_power")
    draw_device = check_generator(generator)
    device = torch.device(device or "cpu")
    n = len(lam)
    freq_y = torch.fft.fftfreq(height, dtype=torch.float64, device=device)[:, None]
    freq_x = torch.fft.rfftfreq(width, dtype=torch.float64, device=device)[None, :]
    radius = torch.sqrt(freq_y**2 + freq_x**2).clamp_min(1.0 / max(height, width))
    scale = radius ** (-decay_power)
    noise = torch.randn(
        (n, 2, height, width // 2 + 1), generator=generator, device=draw_device, dtype=torch.float64
    ).to(device)
    spectrum = torch.complex(noise[:, 0], noise[:, 1]) * scale
    field = torch.fft.irfft2(spectrum, s=(height, width)).reshape(n, height * width)
    order = torch.argsort(field, dim=1, descending=True, stable=True)
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(height * width, device=device).expand(n, -1))
    keep = torch.round(lam * height * width).long().to(device)
    return (rank < keep[:, None]).reshape(n, height, width)


def saliencymix_mask(lam: Any, source_images: torch.Tensor) -> torch.Tensor:
    """SaliencyMix keep-masks (Uddin et al. 2021): the box of relative area ``1−λ`` centred on
    each source image's most salient pixel is cut out of the target (and filled from the source
    at the same place). The box is clipped at the border, as in SaliencyMix's code.

    Args:
        lam: requested λ per image, shape (B,).
        source_images: the images pasted in, (B, C, H, W).

    Returns:
        Boolean mask (B, H, W) on the source images' device, ``True`` where the target is kept.
    """
    check_images(source_images, "source_images")
    lam = check_mix_lambda(lam, len(source_images))
    _, _, height, width = source_images.shape
    peak = spectral_residual_saliency(source_images).flatten(1).argmax(dim=1).cpu()
    return _box_keep_mask(lam, peak // width, peak % width, height, width, source_images.device)
