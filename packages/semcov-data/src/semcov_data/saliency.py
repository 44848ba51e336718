"""Spectral-residual saliency (Hou & Zhang 2007), the detector SaliencyMix centres its box on."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from semcov_data._tensor_checks import check_images

__all__ = ["spectral_residual_saliency"]

# Largest side of the grey copy spectral-residual saliency is computed on (OpenCV's detector).
_SALIENCY_SIZE = 64
_GRAY = (0.299, 0.587, 0.114)


def _gaussian_kernel(size: int, sigma: float, device: torch.device) -> torch.Tensor:
    offsets = torch.arange(size, dtype=torch.float32, device=device) - (size - 1) / 2
    line = torch.exp(-(offsets**2) / (2 * sigma**2))
    line = line / line.sum()
    return (line[:, None] * line[None, :])[None, None]


def spectral_residual_saliency(images: torch.Tensor) -> torch.Tensor:
    """Spectral-residual saliency (Hou & Zhang 2007), the detector SaliencyMix uses.

    On a grey copy: log amplitude minus its 3×3 local mean, back through the inverse FFT with
    the original phase, squared magnitude, Gaussian blur; resized to the image and scaled to a
    maximum of 1. Paper (SaliencyMix): OpenCV's ``StaticSaliencySpectralResidual``, which works
    on a 64×64 copy; here: the same steps in torch (5×5 Gaussian with σ = 8, reflected
    borders), so it runs on the images' device without OpenCV, and a side under 64 pixels is
    kept rather than upsampled (upsampling smooths the noise floor the method relies on, and
    the image border then outshines the content).

    Args:
        images: float or integer images (B, C, H, W); C = 3 is read as RGB, otherwise the
            channel mean is the grey image.

    Returns:
        Saliency maps in [0, 1], float32, shape (B, H, W).
    """
    check_images(images, "images")
    _, channels, height, width = images.shape
    x = images.float()
    if channels == 3:
        gray = torch.einsum("bchw,c->bhw", x, torch.tensor(_GRAY, device=x.device))
    else:
        gray = x.mean(dim=1)
    small = F.interpolate(
        gray[:, None],
        size=(min(height, _SALIENCY_SIZE), min(width, _SALIENCY_SIZE)),
        mode="bilinear",
        antialias=True,
    )
    spectrum = torch.fft.fft2(small)
    log_amplitude = torch.log(spectrum.abs().clamp_min(1e-8))
    # Reflected borders as OpenCV; images under 3 pixels a side cannot reflect a 2-pixel pad.
    border = "reflect" if min(small.shape[-2:]) > 2 else "replicate"
    local_mean = F.avg_pool2d(F.pad(log_amplitude, (1, 1, 1, 1), mode=border), 3, stride=1)
    residual = torch.polar(torch.exp(log_amplitude - local_mean), spectrum.angle())
    saliency = torch.fft.ifft2(residual).abs() ** 2
    saliency = F.conv2d(
        F.pad(saliency, (2, 2, 2, 2), mode=border), _gaussian_kernel(5, 8.0, x.device)
    )
    saliency = F.interpolate(saliency, size=(height, width), mode="bilinear")[:, 0]
    peak = saliency.flatten(1).amax(dim=1).clamp_min(torch.finfo(torch.float32).tiny)
    return saliency / peak[:, None, None]
