"""What a run builds before its first step: the batch split, the loaders, the model and its
optimisation (objective, DDP wrapper, Adam, schedule, gradient scaler, batch augmentation and
mixing)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler

from semcov_data.cas import cas_weights
from semcov_data.mixing import BatchMixer

from ..config import TrainConfig
from ..inputs.augment import BatchAugmentation, batch_augmentation
from ..inputs.datasets import DataBundle
from ..methods.registry import Method
from ..runtime.distributed import (
    DistContext,
    ShardSampler,
    WeightedDistributedSampler,
    derive_seed,
    seed_everything,
    uniform_sampler,
)
from .run_lock import close_inherited_locks
from .schedule import cosine_schedule
from .train_step import TrainStep

__all__ = [
    "TrainLoaders",
    "TrainingParts",
    "build_loaders",
    "build_parts",
    "per_process_batch",
    "worker_init",
]


@dataclass(frozen=True)
class TrainLoaders:
    """The loaders of one process.

    Attributes:
        per_process_batch: the global batch divided by the number of processes.
        sampler: the training sampler (shuffled, or CAS-weighted draws); ``set_epoch`` reseeds it.
        generator: the training loader's generator (seeded at the start of each epoch).
        train: the training loader (incomplete last batches dropped).
        evaluation: ``{"val": ..., "test": ...}``, this process's shard of each split.
        steps_per_epoch: optimisation steps in one epoch.
    """

    per_process_batch: int
    sampler: WeightedDistributedSampler | DistributedSampler
    generator: torch.Generator
    train: DataLoader
    evaluation: dict[str, DataLoader]
    steps_per_epoch: int


@dataclass(frozen=True)
class TrainingParts:
    """The model and everything that optimises it.

    Attributes:
        model: the method's model.
        objective: the method's objective (may hold parameters and state, e.g. the DVA
            temperature, GroupDRO's group weights).
        step_module: model and objective as one
        :class:`~semcov_train.training.train_step.TrainStep`.
        step: `step_module`, wrapped in ``DistributedDataParallel`` under DDP.
        optimizer: Adam over the trainable parameters of `step_module`.
        scheduler: :func:`~semcov_train.training.schedule.cosine_schedule`, stepped per
        optimisation step.
        scaler: the AMP gradient scaler (enabled for fp16 on CUDA only).
        batch_augment: the on-device batch augmentation, or None.
        mixer: the method's batch mixer (``semcov_data.mixing.BatchMixer``), or None.
    """

    model: nn.Module
    objective: nn.Module
    step_module: TrainStep
    step: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    scaler: torch.amp.GradScaler
    batch_augment: BatchAugmentation | None
    mixer: Any


def per_process_batch(config: TrainConfig, data: DataBundle, world_size: int) -> int:
    """`config.batch_size` (the global batch) divided among `world_size` processes.

    Raises:
        ValueError: the batch does not divide, or is larger than the training split.
    """
    if config.batch_size % world_size:
        raise ValueError(
            f"batch_size={config.batch_size} (the global batch) must be divisible by the "
            f"{world_size} processes"
        )
    n_train = len(data.train)
    if config.batch_size > n_train:
        raise ValueError(
            f"batch_size={config.batch_size} is larger than the training split "
            f"({n_train} samples of {config.dataset}-{data.modality}); lower --batch-size"
        )
    return config.batch_size // world_size


def worker_init(worker_id: int) -> None:
    """DataLoader ``worker_init_fn``: python and numpy follow the worker's torch seed, which the
    loader derives from its generator (seeded per epoch and rank by the trainer); the worker
    drops its inherited copies of the run-directory lock (:func:`close_inherited_locks`)."""
    close_inherited_locks()
    seed = torch.initial_seed() % 2**32
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (the global generator augmentations may use)


def build_loaders(
    config: TrainConfig, data: DataBundle, method: Method, context: DistContext
) -> TrainLoaders:
    """The training loader (CAS-weighted draws for ``sampling="cas"`` methods, a shuffled
    split otherwise) and the evaluation loaders of this process.

    Raises:
        ValueError: the batch size does not fit (see :func:`per_process_batch`), or the
            training split gives no full batch per process.
    """
    batch = per_process_batch(config, data, context.world_size)
    cuda = context.device.type == "cuda"
    sampler: WeightedDistributedSampler | DistributedSampler
    if method.sampling == "cas":
        weights = cas_weights(
            data.train,
            "scores",
            power=config.cas_power,
            threshold=config.cas_threshold,
            balance_classes=config.cas_balance_classes,
        )
        sampler = WeightedDistributedSampler(
            weights,
            num_replicas=context.world_size,
            rank=context.rank,
            seed=derive_seed(config.seed, 1),
        )
    else:
        sampler = uniform_sampler(len(data.train), context, derive_seed(config.seed, 1))
    generator = torch.Generator()
    train = DataLoader(
        data.train,
        batch_size=batch,
        sampler=sampler,
        num_workers=config.num_workers,
        drop_last=True,
        pin_memory=cuda,
        worker_init_fn=worker_init,
        generator=generator,
    )
    eval_batch = config.eval_batch_size or 2 * batch
    evaluation = {
        part: DataLoader(
            getattr(data, part),
            batch_size=eval_batch,
            sampler=ShardSampler(len(getattr(data, part)), context),
            num_workers=config.num_workers,
            pin_memory=cuda,
            worker_init_fn=worker_init,
        )
        for part in ("val", "test")
    }
    if len(train) < 1:
        raise ValueError(
            f"batch_size={config.batch_size}: the training split gives no full batch per "
            f"process ({len(sampler)} samples per process); lower --batch-size"
        )
    return TrainLoaders(batch, sampler, generator, train, evaluation, len(train))


def build_parts(
    config: TrainConfig,
    data: DataBundle,
    method: Method,
    context: DistContext,
    *,
    amp: torch.dtype | None,
    channels_last: bool,
    steps_per_epoch: int,
) -> TrainingParts:
    """The method's model and objective on `context`'s device, with the same initial weights
    on every process, and their optimisation."""
    device = context.device
    seed_everything(derive_seed(config.seed, 0))  # DDP also broadcasts rank 0's weights
    model = method.build_model(config, data, method).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    if context.distributed and config.sync_bn and device.type == "cuda":
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    objective = method.build_objective(config, data, model).to(device)
    step_module = TrainStep(model, objective, context, amp)
    step: nn.Module = step_module
    if context.distributed:
        step = DistributedDataParallel(
            step_module, device_ids=[device.index] if device.type == "cuda" else None
        )
    trainable = [p for p in step_module.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(trainable, lr=config.lr, weight_decay=config.weight_decay)
    scheduler = cosine_schedule(optimizer, config, steps_per_epoch)
    scaler = torch.amp.GradScaler(
        device.type, enabled=amp == torch.float16 and device.type == "cuda"
    )
    batch_augment = batch_augmentation(config)
    if batch_augment is not None:
        batch_augment = batch_augment.to(device)
    mixer = None
    if method.mixing is not None:
        mixer = BatchMixer(method.mixing, alpha=config.mix_alpha, num_classes=data.num_classes)
    return TrainingParts(
        model, objective, step_module, step, optimizer, scheduler, scaler, batch_augment, mixer
    )
