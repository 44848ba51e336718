"""Batch-level CutMix, FMix and SaliencyMix whose pasted-in source images can be drawn by
compositional attribute scarcity (CAS), as a trainer's batch transform."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from semcov_data._validation import check_choice
from semcov_data.cas import cas_weights

__all__ = [
    "MIX_MODES",
    "BatchMixer",
    "CASMixSource",
    "cutmix_mask",
    "fmix_mask",
    "saliencymix_mask",
    "sample_mix_lambda",
    "spectral_residual_saliency",
]

#: Mixing methods of :class:`BatchMixer`.
MIX_MODES = ("cutmix", "fmix", "saliencymix")
# Largest side of the grey copy spectral-residual saliency is computed on (OpenCV's detector).
_SALIENCY_SIZE = 64
_GRAY = (0.299, 0.587, 0.114)


def _check_generator(generator: Any) -> torch.device:
    if generator is None:
        return torch.device("cpu")
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {generator!r}")
    return generator.device


def _check_positive(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(float(value)) or float(value) <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
    return float(value)


def _check_size(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


def _as_lambda(lam: Any, size: int | None = None) -> torch.Tensor:
    """Requested mixing coefficients as a float64 CPU tensor of shape (B,)."""
    if isinstance(lam, bool) or lam is None:
        raise TypeError(f"lam must be a number or a 1-D tensor, got {lam!r}")
    if isinstance(lam, int | float | np.number):
        if size is None:
            raise TypeError("lam must be a 1-D tensor when no batch size is known")
        values = torch.full((size,), float(lam), dtype=torch.float64)
    elif isinstance(lam, torch.Tensor | np.ndarray | Sequence) and not isinstance(lam, str):
        values = torch.as_tensor(lam).detach().to("cpu", torch.float64)
        if values.ndim == 0 and size is not None:
            values = values.expand(size).clone()
    else:
        raise TypeError(f"lam must be a number or a 1-D tensor, got {type(lam).__name__}")
    if values.ndim != 1 or len(values) == 0 or (size is not None and len(values) != size):
        want = f"({size},)" if size is not None else "(B,) with B >= 1"
        raise ValueError(f"lam must have shape {want}, got {tuple(values.shape)}")
    if not torch.isfinite(values).all() or (values < 0).any() or (values > 1).any():
        raise ValueError(f"lam must lie in [0, 1], got {values.tolist()}")
    return values


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
    alpha = _check_positive(alpha, "alpha")
    size = _check_size(size, "size")
    device = _check_generator(generator)
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
    lam = _as_lambda(lam)
    height, width = _check_size(height, "height"), _check_size(width, "width")
    draw_device = _check_generator(generator)
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
    lam = _as_lambda(lam)
    height, width = _check_size(height, "height"), _check_size(width, "width")
    decay_power = _check_positive(decay_power, "decay_power")
    draw_device = _check_generator(generator)
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
    _check_images(images, "images")
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
    _check_images(source_images, "source_images")
    lam = _as_lambda(lam, len(source_images))
    _, _, height, width = source_images.shape
    peak = spectral_residual_saliency(source_images).flatten(1).argmax(dim=1).cpu()
    return _box_keep_mask(lam, peak // width, peak % width, height, width, source_images.device)


def _check_images(images: Any, name: str) -> None:
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(images).__name__}")
    if images.ndim != 4 or min(images.shape) < 1:
        raise ValueError(f"{name} must have shape (B, C, H, W), got {tuple(images.shape)}")
    if images.is_complex() or images.dtype == torch.bool:
        raise TypeError(f"{name} must be real-valued, got dtype {images.dtype}")


class CASMixSource:
    """Draws source batches ``(images, labels)`` from a dataset by CAS probability
    (Algorithm 1, steps 1–2, for the image pasted in).

    Items are fetched with ``dataset[i]`` in the calling process; a
    :class:`~semcov_data.SemCovDataset` with an image cache makes that cheap. The draws come
    from the source's own seeded generator, saved by :meth:`state_dict` so that a resumed run
    draws the same sources. Under DDP give every rank its own ``seed``.

    Args:
        dataset: map-style dataset whose items are dicts with ``image_key`` and ``label_key``
            (as :class:`~semcov_data.Sample`) or ``(image, label, ...)`` tuples.
        weights: sampling probability per item (N,); default
            :func:`~semcov_data.cas.cas_weights` of the dataset's ``table``.
        seed: seed of the draws.
        num_threads: threads fetching items (0: in the calling thread).
        image_key, label_key: keys of dict items.
        **cas_options: passed to :func:`~semcov_data.cas.cas_weights` when ``weights`` is None
            (``source``, ``power``, ``columns``, ``threshold``, ``balance_classes``).
    """

    def __init__(
        self,
        dataset: Any,
        weights: Any = None,
        *,
        seed: int = 0,
        num_threads: int = 0,
        image_key: str = "image",
        label_key: str = "label",
        **cas_options: Any,
    ) -> None:
        if not (hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")):
            raise TypeError(f"dataset must be a map-style dataset, got {type(dataset).__name__}")
        if len(dataset) == 0:
            raise ValueError("dataset is empty")
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
            raise TypeError(f"seed must be an int, got {seed!r}")
        if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 0:
            raise ValueError(f"num_threads must be an int >= 0, got {num_threads!r}")
        if weights is None:
            if getattr(dataset, "table", None) is None:
                raise ValueError(
                    "weights must be given for a dataset without a .table (see cas_weights)"
                )
            weights = cas_weights(dataset, **cas_options)
        elif cas_options:
            raise TypeError(
                f"{sorted(cas_options)} apply only when weights is None (they compute weights)"
            )
        w = torch.as_tensor(np.asarray(weights, dtype=np.float64))
        if w.shape != (len(dataset),):
            raise ValueError(f"weights must have shape ({len(dataset)},), got {tuple(w.shape)}")
        if not torch.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise ValueError("weights must be finite, >= 0 and not all zero")
        self.dataset = dataset
        self.weights = w / w.sum()
        self.num_threads = num_threads
        self.image_key, self.label_key = image_key, label_key
        self._generator = torch.Generator().manual_seed(int(seed))

    def indices(self, n: int) -> torch.Tensor:
        """Draw ``n`` dataset positions (with replacement) by weight, shape (n,)."""
        n = _check_size(n, "n")
        return torch.multinomial(self.weights, n, replacement=True, generator=self._generator)

    def _item(self, index: int) -> tuple[torch.Tensor, Any]:
        item = self.dataset[index]
        if isinstance(item, Mapping):
            return item[self.image_key], item[self.label_key]
        if isinstance(item, tuple | list) and len(item) >= 2:
            return item[0], item[1]
        raise TypeError(
            f"dataset items must be dicts with {self.image_key!r} and {self.label_key!r} or "
            f"(image, label) tuples, got {type(item).__name__}"
        )

    def draw(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw a source batch of ``n`` items by CAS probability.

        Returns:
            ``(images, labels)``: stacked images (n, C, H, W) and int64 labels (n,), on the CPU.
        """
        positions = self.indices(n).tolist()
        if self.num_threads:
            with ThreadPoolExecutor(self.num_threads) as pool:
                items = list(pool.map(self._item, positions))
        else:
            items = [self._item(i) for i in positions]
        images = torch.stack([torch.as_tensor(image) for image, _ in items])
        labels = torch.as_tensor([int(label) for _, label in items], dtype=torch.int64)
        return images, labels

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The generator state (for checkpoints)."""
        return {"generator": self._generator.get_state()}

    def load_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        """Restore the generator state saved by :meth:`state_dict`."""
        if not isinstance(state, Mapping) or "generator" not in state:
            raise ValueError("state must be a dict from CASMixSource.state_dict()")
        self._generator.set_state(state["generator"])


class BatchMixer:
    """CutMix / FMix / SaliencyMix on a batch, as a trainer's batch transform.

    Each image i is mixed with source image i under its own λ ~ Beta(α, α) (Algorithm 1,
    lines 13–18). Masks keep the *target* where they are ``True``; the λ returned is the
    fraction of target pixels actually kept, and the soft label is ``λ·y_t + (1−λ)·y_s``.
    Sources are, in order of precedence: the ``source_images`` passed to the call, a batch
    drawn from ``source`` (a :class:`CASMixSource`), or a random permutation of the batch.

    Paper (Compositional Attribute Imbalance): scarce samples should more often be the
    *source* pasted into another image, which ``source=CASMixSource(dataset)`` does with a
    plain loader for the targets. Algorithm 1 read literally instead draws the whole batch
    with :func:`~semcov_data.cas.cas_sampler` and pairs it with a permutation of itself: a
    loader with that sampler and a mixer without ``source``. A plain loader and no ``source``
    is the no-CAS baseline.

    Args:
        mode: one of :data:`MIX_MODES`.
        alpha: Beta parameter α > 0 (paper: 0.2).
        num_classes: number of classes; needed for integer targets.
        source: draws source batches (CAS-weighted); ``None`` permutes the batch.
        decay_power: FMix's spectral decay δ (3).
        prob: chance that a batch is mixed at all; paper: every iteration (1, the default);
            CutMix's ImageNet recipe uses 0.5. An unmixed batch comes back unchanged with
            one-hot targets and λ = 1.

    Example:
        >>> mixer = BatchMixer("cutmix", num_classes=3)
        >>> images, labels = torch.zeros(4, 3, 8, 8), torch.tensor([0, 1, 2, 0])
        >>> g = torch.Generator().manual_seed(0)
        >>> mixed, soft, lam = mixer(images, labels, generator=g)
        >>> mixed.shape, soft.shape, bool(torch.allclose(soft.sum(1), torch.ones(4)))
        (torch.Size([4, 3, 8, 8]), torch.Size([4, 3]), True)
    """

    def __init__(
        self,
        mode: str = "cutmix",
        *,
        alpha: float = 0.2,
        num_classes: int | None = None,
        source: CASMixSource | None = None,
        decay_power: float = 3.0,
        prob: float = 1.0,
    ) -> None:
        check_choice(mode, "mode", MIX_MODES)
        self.mode = mode
        self.alpha = _check_positive(alpha, "alpha")
        self.num_classes = None if num_classes is None else _check_size(num_classes, "num_classes")
        if source is not None and not isinstance(source, CASMixSource):
            raise TypeError(f"source must be a CASMixSource or None, got {type(source).__name__}")
        self.source = source
        self.decay_power = _check_positive(decay_power, "decay_power")
        if isinstance(prob, bool) or not isinstance(prob, int | float | np.number):
            raise TypeError(f"prob must be a number, got {prob!r}")
        if not 0.0 <= float(prob) <= 1.0:
            raise ValueError(f"prob must lie in [0, 1], got {prob}")
        self.prob = float(prob)

    def __repr__(self) -> str:
        return (
            f"BatchMixer(mode={self.mode!r}, alpha={self.alpha}, num_classes={self.num_classes}, "
            f"prob={self.prob}, source={'CAS' if self.source is not None else 'permutation'})"
        )

    def _soft(self, targets: Any, batch: int, name: str, device: torch.device) -> torch.Tensor:
        if not isinstance(targets, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(targets).__name__}")
        if targets.dtype == torch.bool or targets.is_complex():
            raise TypeError(f"{name} must hold integer labels or float soft targets")
        targets = targets.to(device)
        if not targets.is_floating_point():
            if targets.shape != (batch,):
                raise ValueError(
                    f"{name} (labels) must have shape ({batch},), got {tuple(targets.shape)}"
                )
            if self.num_classes is None:
                raise ValueError("num_classes must be given to mix integer labels")
            if len(targets) and (targets.min() < 0 or targets.max() >= self.num_classes):
                raise ValueError(
                    f"{name} must lie in [0, {self.num_classes}), got "
                    f"[{int(targets.min())}, {int(targets.max())}]"
                )
            return F.one_hot(targets.long(), self.num_classes).float()
        if targets.ndim != 2 or len(targets) != batch:
            raise ValueError(
                f"{name} (soft) must have shape ({batch}, K), got {tuple(targets.shape)}"
            )
        if self.num_classes is not None and targets.shape[1] != self.num_classes:
            raise ValueError(
                f"{name} has {targets.shape[1]} classes, num_classes is {self.num_classes}"
            )
        if not torch.isfinite(targets).all():
            raise ValueError(f"{name} must be finite")
        return targets.float()

    def __call__(
        self,
        images: torch.Tensor,
        targets: torch.Tensor,
        source_images: torch.Tensor | None = None,
        source_targets: torch.Tensor | None = None,
        *,
        generator: torch.Generator | None = None,
        lam: Any = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Mix a batch.

        Args:
            images: target images (B, C, H, W), any real dtype (uint8 stays uint8), any device.
            targets: integer labels (B,) or soft targets (B, K).
            source_images: images pasted in (B, C, H, W), same dtype; moved to the images'
                device. ``None``: drawn from ``source`` or a permutation of the batch.
            source_targets: labels or soft targets of the sources; given with source_images.
            generator: source of λ, box centres, FMix noise and the permutation; the same
                generator state gives the same result. ``None`` uses torch's global generator.
            lam: requested λ per image (B,) or one number, instead of drawing it.

        Returns:
            ``(mixed, soft_targets, lam)``: mixed images (B, C, H, W) in the images' dtype;
            soft targets (B, K) float32, ``lam·y_target + (1−lam)·y_source``; and ``lam``
            (B,) float32, the fraction of each image's pixels that come from the target.
        """
        _check_images(images, "images")
        draw_device = _check_generator(generator)
        batch, _, height, width = images.shape
        device = images.device
        soft_target = self._soft(targets, batch, "targets", device)
        # Drawn only when it matters, so prob = 1 leaves the generator's stream as without it.
        if (
            self.prob < 1.0
            and float(torch.rand((), generator=generator, device=draw_device)) >= self.prob
        ):
            return images, soft_target, torch.ones(batch, device=device)
        if source_images is None:
            if source_targets is not None:
                raise ValueError("source_targets given without source_images")
            if self.source is not None:
                source_images, source_targets = self.source.draw(batch)
            else:
                order = torch.randperm(batch, generator=generator, device=draw_device).to(device)
                source_images, source_targets = images[order], targets.to(device)[order]
        elif source_targets is None:
            raise ValueError("source_targets must be given with source_images")
        _check_images(source_images, "source_images")
        if source_images.shape != images.shape:
            raise ValueError(
                f"source_images must have the shape of images {tuple(images.shape)}, "
                f"got {tuple(source_images.shape)}"
            )
        if source_images.dtype != images.dtype:
            raise TypeError(
                f"source_images dtype {source_images.dtype} differs from images {images.dtype}"
            )
        source_images = source_images.to(device)
        soft_source = self._soft(source_targets, batch, "source_targets", device)
        if soft_source.shape != soft_target.shape:
            raise ValueError(
                f"source_targets give {soft_source.shape[1]} classes, "
                f"targets {soft_target.shape[1]}"
            )
        requested = (
            sample_mix_lambda(self.alpha, batch, generator=generator)
            if lam is None
            else _as_lambda(lam, batch)
        )
        if self.mode == "cutmix":
            keep = cutmix_mask(requested, height, width, generator=generator, device=device)
        elif self.mode == "fmix":
            keep = fmix_mask(
                requested,
                height,
                width,
                decay_power=self.decay_power,
                generator=generator,
                device=device,
            )
        else:
            keep = saliencymix_mask(requested, source_images)
        mixed = torch.where(keep[:, None], images, source_images)
        kept = (keep.flatten(1).sum(dim=1).double() / (height * width)).float()
        soft = kept[:, None] * soft_target + (1.0 - kept[:, None]) * soft_source
        return mixed, soft, kept
