"""Batch-level CutMix, FMix and SaliencyMix whose pasted-in source images can be drawn by
compositional attribute scarcity (CAS), as a trainer's batch transform.

The masks live in :mod:`semcov_data.mix_masks` and the saliency detector in
:mod:`semcov_data.saliency`; their names are importable from here too, as in semcov-data 0.1.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from semcov_data._tensor_checks import (
    check_generator,
    check_images,
    check_mix_lambda,
    check_positive,
    check_size,
)
from semcov_data._validation import check_choice
from semcov_data.cas import cas_weights
from semcov_data.mix_masks import (
    cutmix_mask,
    fmix_mask,
    saliencymix_mask,
    sample_mix_lambda,
)
from semcov_data.saliency import spectral_residual_saliency

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
        n = check_size(n, "n")
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
        self.alpha = check_positive(alpha, "alpha")
        self.num_classes = None if num_classes is None else check_size(num_classes, "num_classes")
        if source is not None and not isinstance(source, CASMixSource):
            raise TypeError(f"source must be a CASMixSource or None, got {type(source).__name__}")
        self.source = source
        self.decay_power = check_positive(decay_power, "decay_power")
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
        check_images(images, "images")
        draw_device = check_generator(generator)
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
        check_images(source_images, "source_images")
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
            else check_mix_lambda(lam, batch)
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
