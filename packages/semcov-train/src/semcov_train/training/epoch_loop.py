"""One training epoch: the optimisation steps over the training loader, resumable at any step."""

from __future__ import annotations

import dataclasses
import time

import torch
import torch.distributed as dist
from tqdm.auto import tqdm

from ..config import TrainConfig
from ..runtime.checkpoint import set_rng_state
from ..runtime.distributed import DistContext, derive_seed, seed_everything
from .preemption import PreemptionGuard, TrainingPreempted, epoch_progress, stop_requested
from .run_checkpoints import RunCheckpoints
from .setup import TrainingParts, TrainLoaders
from .state import TrainingState

__all__ = ["EpochLoop"]


class EpochLoop:
    """Trains one epoch at a time; on a stop request (SIGTERM) it writes ``last.pt`` at the
    current step and raises :class:`~semcov_train.training.preemption.TrainingPreempted`.

    Args:
        config: the run's settings.
        context: this process.
        loaders: the process's loaders.
        parts: the model and its optimisation.
        checkpoints: where a stop inside an epoch is written.
        channels_last: images in the channels-last memory format.
        guard: the SIGTERM guard, or None.
    """

    def __init__(
        self,
        config: TrainConfig,
        context: DistContext,
        loaders: TrainLoaders,
        parts: TrainingParts,
        checkpoints: RunCheckpoints,
        *,
        channels_last: bool,
        guard: PreemptionGuard | None,
    ) -> None:
        self.config = config
        self.context = context
        self.device = context.device
        self.loaders = loaders
        self.parts = parts
        self.checkpoints = checkpoints
        self.channels_last = channels_last
        self.guard = guard

    def seed_epoch(self, epoch: int) -> torch.Generator:
        """Everything random in an epoch follows from (seed, epoch, rank): resuming at an epoch
        boundary replays the epoch exactly. Returns the batch-mixing generator of the epoch."""
        seed = derive_seed(self.config.seed, 2, epoch, self.context.rank)
        seed_everything(seed)
        self.loaders.sampler.set_epoch(epoch)
        self.loaders.generator.manual_seed(derive_seed(seed, 3))
        return torch.Generator(device="cpu").manual_seed(derive_seed(seed, 4))

    def run(self, state: TrainingState, lr: float) -> dict[str, float]:
        """Train epoch ``state.epoch`` (0-based), from ``state.progress`` when it stopped inside
        it; `lr` is the learning rate of the epoch's first step (kept for a stop inside it).

        Returns:
            ``train_<term>`` (the objective's terms averaged over the epoch's steps and the
            processes), ``train_images_per_s`` and ``epoch_seconds``.
        """
        config, context, parts, device = self.config, self.context, self.parts, self.device
        epoch = state.epoch
        mix_generator = self.seed_epoch(epoch)
        parts.step.train()
        sums: dict[str, torch.Tensor] = {}
        seen, start, elapsed_before = 0, 0, 0.0
        resume_rng = None  # the RNG states after the last trained step, when resuming
        progress = state.progress
        if progress:  # resumed inside this epoch
            start, seen, elapsed_before = progress["step"], progress["seen"], progress["elapsed"]
            resume_rng = progress["rng"][context.rank]
            sums = {k: v.to(device) for k, v in progress["sums"].items()}
            mix_generator.set_state(progress["mix"][context.rank])
        started = time.perf_counter() - elapsed_before
        batches = tqdm(
            self.loaders.train,
            desc=f"epoch {epoch + 1}/{config.epochs}",
            leave=False,
            disable=not (config.progress and context.is_main),
        )
        for index, batch in enumerate(batches):
            if index < start:
                # Replayed, not trained: the loader (and its workers) draw the same augmentations
                # as before the stop; the RNG states after the last trained step come back here.
                if index == start - 1 and resume_rng is not None:
                    set_rng_state(resume_rng)
                continue
            images = batch["image"].to(device, non_blocking=True)
            if parts.batch_augment is not None:
                images = parts.batch_augment(images)
            if self.channels_last:
                images = images.contiguous(memory_format=torch.channels_last)
            inputs = {
                "label": batch["label"].to(device, non_blocking=True),
                "descriptors": batch["descriptors"].to(device, non_blocking=True),
                "subgroup": batch["subgroup"].to(device, non_blocking=True),
            }
            mixed = False
            if parts.mixer is not None:
                draw = torch.rand((), generator=mix_generator).item()
                if mixed := draw < config.mix_prob:
                    images, soft, _ = parts.mixer(images, inputs["label"], generator=mix_generator)
                    inputs["soft_target"] = soft.to(device)
            losses = parts.step(images, inputs)
            if parts.mixer is not None:  # history's train_mixed: the fraction of mixed batches
                losses["mixed"] = torch.tensor(float(mixed), device=device)
            self._optimise(epoch, losses["loss"])
            for key, value in losses.items():
                sums[key] = sums.get(key, 0.0) + value.detach().float()
            seen += images.shape[0]
            if stop_requested(self.guard, context, device):
                elapsed = time.perf_counter() - started
                info = epoch_progress(index + 1, sums, seen, elapsed, mix_generator, context)
                info["lr"] = lr
                stopped = dataclasses.replace(state, progress=info)
                self.checkpoints.save_last(stopped, parts, self.loaders.sampler)
                raise TrainingPreempted(self.checkpoints.run_dir, epoch, index + 1)
        elapsed = time.perf_counter() - started
        return self._epoch_metrics(sums, seen, elapsed)

    def _optimise(self, epoch: int, loss: torch.Tensor) -> None:
        """One optimisation step on `loss` (scaled under fp16, clipped when ``grad_clip``)."""
        parts = self.parts
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"epoch {epoch + 1}: the loss is {loss.item()}; lower --lr or turn off --amp"
            )
        parts.optimizer.zero_grad(set_to_none=True)
        parts.scaler.scale(loss).backward()
        if self.config.grad_clip > 0:
            parts.scaler.unscale_(parts.optimizer)
            torch.nn.utils.clip_grad_norm_(parts.step_module.parameters(), self.config.grad_clip)
        parts.scaler.step(parts.optimizer)
        parts.scaler.update()
        parts.scheduler.step()

    def _epoch_metrics(self, sums: dict, seen: int, elapsed: float) -> dict[str, float]:
        context = self.context
        keys = sorted(sums)
        steps = self.loaders.steps_per_epoch
        totals = torch.stack([sums[k] for k in keys]).to(self.device) / steps
        if context.distributed:
            dist.all_reduce(totals)
            totals /= context.world_size
        metrics = {f"train_{k}": float(v) for k, v in zip(keys, totals.tolist(), strict=True)}
        metrics["train_images_per_s"] = seen * context.world_size / max(elapsed, 1e-9)
        metrics["epoch_seconds"] = elapsed
        return metrics
