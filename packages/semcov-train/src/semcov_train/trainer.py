"""The trainer: one loop for every method, writing the run directory, resumable, DDP-aware."""

from __future__ import annotations

import csv
import dataclasses
import io
import logging
import math
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler

from .augment import batch_augmentation
from .checkpoint import (
    atomic_write,
    atomic_write_bytes,
    atomic_write_json,
    get_rng_state,
    load_checkpoint,
    save_checkpoint,
    set_rng_state,
)
from .config import TrainConfig
from .data import DataBundle, check_data_root, prepare_data
from .distributed import (
    DistContext,
    ShardSampler,
    WeightedDistributedSampler,
    all_gather_objects,
    barrier,
    derive_seed,
    sampling_summary,
    seed_everything,
    setup_distributed,
    teardown_distributed,
    uniform_sampler,
    worker_init,
)
from .evaluate import (
    PERFORMANCE_KEYS,
    evaluate_test,
    json_ready,
    predict,
    predictions_frame,
    validation_metrics,
    validation_threshold,
)
from .methods import Method, check_available, resolve_backbone, resolve_weights
from .preemption import (
    PreemptionGuard,
    TrainingPreempted,
    check_progress,
    epoch_progress,
    stop_requested,
)
from .resolve import resolve_config
from .run_lock import lock_run_directory
from .rundir import (
    BEST_CHECKPOINT,
    CHECKPOINT_DIR,
    CONFIG_FILE,
    DONE_FILE,
    HISTORY_FILE,
    LAST_CHECKPOINT,
    PREDICTIONS_FILE,
    RESULTS_FILE,
    SCG_FILE,
    TENSORBOARD_DIR,
    changed_settings,
    finished_results,
    provenance,
    read_history_rows,
    run_directory,
)

__all__ = [
    "RunResult",
    "TrainStep",
    "changed_settings",
    "finished_results",
    "run_directory",
    "train",
]

logger = logging.getLogger("semcov_train")

CHECKPOINT_FORMAT = 1


@dataclass(frozen=True)
class RunResult:
    """What :func:`train` returns.

    Attributes:
        run_dir: the run directory.
        results: the content of ``results.json``.
        history: one dict per epoch (the rows of ``history.csv``).
    """

    run_dir: Path
    results: dict
    history: list[dict]


def train(config: TrainConfig, *, resume: bool = False) -> RunResult:
    """Train `config.method` on `config.dataset` and write its run directory.

    Under ``torchrun`` every process calls this; the process group is joined from the
    environment (gloo on CPU, NCCL on CUDA). With ``resume=True`` an interrupted run continues
    from ``checkpoints/last.pt`` and a finished one is returned as it is.

    Raises:
        ValueError: unknown method/dataset (with a did-you-mean), missing data root, a batch
            larger than the training split, a run directory that already holds a run (without
            ``resume``), or a resumed run whose settings differ.
        RunDirectoryLocked: another process is training the same run directory (a ValueError).
        MissingWeightsError: CLIP / MONET weights are not on this machine.
        MethodNotAvailableError: a CAS method before semcov_data provides batch mixing.
    """
    method = check_available(config)
    check_data_root(config)
    config = resolve_config(config)
    context = setup_distributed(config.device)
    threads = torch.get_num_threads()
    try:
        if config.num_threads > 0:
            torch.set_num_threads(config.num_threads)
        with lock_run_directory(run_directory(config), context), PreemptionGuard() as guard:
            return _Trainer(config, method, context, resume, guard).run()
    finally:
        torch.set_num_threads(threads)
        teardown_distributed(context)


def _amp_dtype(config: TrainConfig, device: torch.device) -> torch.dtype | None:
    if config.amp == "off":
        return None
    if device.type != "cuda":
        if config.amp != "auto":
            raise ValueError(f"amp={config.amp!r} needs a CUDA device; use --amp auto or off")
        return None
    if config.amp == "fp16":
        return torch.float16
    if config.amp == "bf16" or torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16


def _channels_last(config: TrainConfig, device: torch.device) -> bool:
    if config.channels_last == "off":
        return False
    if device.type != "cuda":
        if config.channels_last == "on":
            raise ValueError("channels_last='on' needs a CUDA device; use auto or off")
        return False
    return True


def float_output(output: Any) -> Any:
    """A copy of a model output dataclass with its low-precision tensors in float32, so the
    objectives (cross-entropy, DVA, CDI statistics) never run in bf16 / fp16."""
    changes = {
        field.name: value.float()
        for field in dataclasses.fields(output)
        if isinstance(value := getattr(output, field.name), torch.Tensor)
        and value.dtype in (torch.float16, torch.bfloat16)
    }
    return dataclasses.replace(output, **changes) if changes else output


class TrainStep(nn.Module):
    """Model and objective as one module: ``step(images, batch)`` returns the objective's terms.

    One module so that DDP synchronises the objective's parameters (the DVA temperature)
    together with the model's; the forward pass runs under autocast when `amp` is a dtype.

    Args:
        model: called as ``model(images, batch["descriptors"])``.
        objective: called as ``objective(output, batch, context)``.
        context: the process's :class:`~semcov_train.distributed.DistContext`.
        amp: autocast dtype, or None.
    """

    def __init__(self, model: nn.Module, objective: nn.Module, context: DistContext, amp):
        super().__init__()
        self.model = model
        self.objective = objective
        self.context = context
        self.amp = amp

    def forward(self, images: torch.Tensor, batch: dict) -> dict[str, torch.Tensor]:
        autocast = (
            torch.autocast(device_type=images.device.type, dtype=self.amp)
            if self.amp is not None
            else nullcontext()
        )
        with autocast:
            output = self.model(images, batch["descriptors"])
        if self.amp is not None:
            output = float_output(output)
        return self.objective(output, batch, self.context)


class _History:
    """history.csv (rewritten atomically each epoch) and TensorBoard scalars when available."""

    def __init__(self, run_dir: Path, mode: str, enabled: bool) -> None:
        self.path = run_dir / HISTORY_FILE
        self.writer = None
        if not enabled or mode == "off":
            return
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as error:
            if mode == "on":
                raise ImportError(
                    "tensorboard='on' needs tensorboard: pip install 'semcov-train[tensorboard]'"
                ) from error
            return
        self.writer = SummaryWriter(log_dir=str(run_dir / TENSORBOARD_DIR))

    def write(self, rows: list[dict]) -> None:
        columns: list[str] = []
        for row in rows:
            columns += [k for k in row if k not in columns]
        buffer = io.StringIO()
        table = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        table.writeheader()
        for row in rows:
            table.writerow({k: ("" if v is None else v) for k, v in row.items()})
        atomic_write_bytes(self.path, buffer.getvalue().encode())
        if self.writer is not None and rows:
            row = rows[-1]
            for key, value in row.items():
                if key != "epoch" and isinstance(value, int | float) and math.isfinite(value):
                    self.writer.add_scalar(key.replace("_", "/", 1), value, row["epoch"])
            self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class _Trainer:
    def __init__(
        self, config: TrainConfig, method: Method, context: DistContext, resume: bool, guard=None
    ):
        self.guard = guard
        self.config = config
        self.method = method
        self.context = context
        self.resume = resume
        self.device = context.device
        self.amp = _amp_dtype(config, self.device)
        self.channels_last = _channels_last(config, self.device)
        self.run_dir = run_directory(config)
        self.checkpoints = self.run_dir / CHECKPOINT_DIR
        self.main = context.is_main

    # ------------------------------------------------------------------ setup
    def _check_run_dir(self) -> dict | None:
        """Existing results when resuming a finished run; errors for runs not to be overwritten."""
        done = self.run_dir / DONE_FILE
        last = self.checkpoints / LAST_CHECKPOINT
        if done.is_file():
            if not self.resume:
                raise ValueError(
                    f"out: {str(self.run_dir)!r} already holds a finished run; pass --resume to "
                    "return it, or choose another --out / --experiment"
                )
            return finished_results(self.config)
        if last.is_file() and not self.resume:
            raise ValueError(
                f"out: {str(self.run_dir)!r} holds an unfinished run; pass --resume to continue "
                "it, or choose another --out / --experiment"
            )
        return None

    def _resolved_config(self, data: DataBundle) -> dict:
        config = self.config
        resolved = {
            "backbone": resolve_backbone(config, self.method),
            "modality": data.modality,
            "subgroup": data.subgroup,
            "target": data.target,
            "data_root": str(data.root),
            "weights": (
                str(resolve_weights(config, self.method))
                if self.method.weights_folder is not None
                else None
            ),
            "world_size": self.context.world_size,
            "per_process_batch_size": self.per_rank_batch,
            "device": str(self.device),
            "amp": str(self.amp).replace("torch.", "") if self.amp is not None else "off",
            "channels_last": self.channels_last,
            "table_row": self.method.table_row,
            "classes": list(data.classes),
            "descriptors": list(data.descriptor_names),
            "subgroup_values": list(data.subgroup_values),
            "n_train": len(data.train),
            "n_val": len(data.val),
            "n_test": len(data.test),
            "data_report": data.report,
            "sampling": sampling_summary(self.sampler, self.method.sampling),
            "mixing": None
            if self.mixer is None
            else {"mode": self.mixer.mode, "alpha": self.mixer.alpha, "prob": config.mix_prob},
        }
        return {
            "config": config.to_dict(),
            "resolved": resolved,
            **provenance(),
            "run_dir": str(self.run_dir),
        }

    def _check_batch(self, data: DataBundle) -> None:
        config, world = self.config, self.context.world_size
        if config.batch_size % world:
            raise ValueError(
                f"batch_size={config.batch_size} (the global batch) must be divisible by the "
                f"{world} processes"
            )
        self.per_rank_batch = config.batch_size // world
        n_train = len(data.train)
        if config.batch_size > n_train:
            raise ValueError(
                f"batch_size={config.batch_size} is larger than the training split "
                f"({n_train} samples of {config.dataset}-{data.modality}); lower --batch-size"
            )

    def _loaders(self, data: DataBundle) -> None:
        config, context = self.config, self.context
        cuda = self.device.type == "cuda"
        if self.method.sampling == "cas":
            from semcov_data.cas import cas_weights

            weights = cas_weights(
                data.train,
                "scores",
                power=config.cas_power,
                threshold=config.cas_threshold,
                balance_classes=config.cas_balance_classes,
            )
            self.sampler: WeightedDistributedSampler | DistributedSampler = (
                WeightedDistributedSampler(
                    weights,
                    num_replicas=context.world_size,
                    rank=context.rank,
                    seed=derive_seed(config.seed, 1),
                )
            )
        else:
            self.sampler = uniform_sampler(len(data.train), context, derive_seed(config.seed, 1))
        self.loader_generator = torch.Generator()
        self.train_loader = DataLoader(
            data.train,
            batch_size=self.per_rank_batch,
            sampler=self.sampler,
            num_workers=config.num_workers,
            drop_last=True,
            pin_memory=cuda,
            worker_init_fn=worker_init,
            generator=self.loader_generator,
        )
        eval_batch = config.eval_batch_size or 2 * self.per_rank_batch
        self.eval_loaders = {
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
        self.steps_per_epoch = len(self.train_loader)
        if self.steps_per_epoch < 1:
            raise ValueError(
                f"batch_size={config.batch_size}: the training split gives no full batch per "
                f"process ({len(self.sampler)} samples per process); lower --batch-size"
            )

    def _build(self, data: DataBundle) -> None:
        config = self.config
        # Same initial weights on every rank (DDP also broadcasts rank 0's).
        seed_everything(derive_seed(config.seed, 0))
        model = self.method.build_model(config, data, self.method).to(self.device)
        if self.channels_last:
            model = model.to(memory_format=torch.channels_last)
        if self.context.distributed and config.sync_bn and self.device.type == "cuda":
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        objective = self.method.build_objective(config, data, model).to(self.device)
        self.model, self.objective = model, objective
        self.step_module = TrainStep(model, objective, self.context, self.amp)
        if self.context.distributed:
            self.step: nn.Module = DistributedDataParallel(
                self.step_module,
                device_ids=[self.device.index] if self.device.type == "cuda" else None,
            )
        else:
            self.step = self.step_module
        trainable = [p for p in self.step_module.parameters() if p.requires_grad]
        self.optimizer = torch.optim.Adam(trainable, lr=config.lr, weight_decay=config.weight_decay)
        warmup = config.warmup_epochs * self.steps_per_epoch
        total = config.epochs * self.steps_per_epoch

        def factor(step: int) -> float:
            # paper §4.1: one warm-up epoch at lr/10, then a cosine cycle from lr.
            if step < warmup:
                return config.warmup_factor
            progress = min(1.0, (step - warmup) / max(1, total - warmup))
            floor = config.min_lr_ratio
            return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, factor)
        self.scaler = torch.amp.GradScaler(
            self.device.type, enabled=self.amp == torch.float16 and self.device.type == "cuda"
        )
        self.batch_augment = batch_augmentation(config)
        if self.batch_augment is not None:
            self.batch_augment = self.batch_augment.to(self.device)
        self.mixer = None
        if self.method.mixing is not None:
            from semcov_data.mixing import BatchMixer

            self.mixer = BatchMixer(
                self.method.mixing, alpha=config.mix_alpha, num_classes=data.num_classes
            )

    # ------------------------------------------------------------------ state
    def _initial_state(self) -> dict:
        return {
            "epoch": 0,
            "history": [],
            "best_auc": None,
            "best_epoch": None,
            "bad_epochs": 0,
            "stopped_early": False,
            "progress": None,  # inside an epoch: see preemption.epoch_progress
        }

    def _checkpoint(self, state: dict) -> dict:
        return {
            "format": CHECKPOINT_FORMAT,
            **state,
            "model": self.model.state_dict(),
            "objective": self.objective.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "sampler": {"epoch": state["epoch"], "seed": self.sampler.seed},
            "rng": get_rng_state(),
            "config": self.config.to_dict(),
            "world_size": self.context.world_size,
        }

    def _restore(self, checkpoint: dict) -> dict:
        if checkpoint.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"checkpoint format {checkpoint.get('format')!r} is not supported")
        changed = changed_settings(checkpoint["config"], self.config)
        if changed:
            raise ValueError(
                "the run being resumed was started with other settings ("
                + "; ".join(changed)
                + "); resume with the same options or start a new run"
            )
        self.model.load_state_dict(checkpoint["model"])
        self.objective.load_state_dict(checkpoint["objective"])
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        self.scheduler.load_state_dict(checkpoint["scheduler"])
        self.scaler.load_state_dict(checkpoint["scaler"])
        self.sampler.set_epoch(checkpoint["sampler"]["epoch"])
        set_rng_state(checkpoint["rng"])
        check_progress(
            checkpoint.get("progress"), self.context.world_size, checkpoint["world_size"]
        )
        return {k: checkpoint.get(k, v) for k, v in self._initial_state().items()}

    # ------------------------------------------------------------------ loop
    def _seed_epoch(self, epoch: int) -> torch.Generator:
        """Everything random in an epoch follows from (seed, epoch, rank): resuming at an epoch
        boundary replays the epoch exactly."""
        seed = derive_seed(self.config.seed, 2, epoch, self.context.rank)
        seed_everything(seed)
        self.sampler.set_epoch(epoch)
        self.loader_generator.manual_seed(derive_seed(seed, 3))
        return torch.Generator(device="cpu").manual_seed(derive_seed(seed, 4))

    def _train_epoch(self, epoch: int, state: dict) -> dict[str, float]:
        from tqdm.auto import tqdm

        config = self.config
        mix_generator = self._seed_epoch(epoch)
        self.step.train()
        sums: dict[str, torch.Tensor] = {}
        seen, start, elapsed_before = 0, 0, 0.0
        resume_rng = None  # the RNG states after the last trained step, when resuming
        progress = state.get("progress")
        if progress:  # resumed inside this epoch
            start, seen, elapsed_before = progress["step"], progress["seen"], progress["elapsed"]
            resume_rng = progress["rng"][self.context.rank]
            sums = {k: v.to(self.device) for k, v in progress["sums"].items()}
            mix_generator.set_state(progress["mix"][self.context.rank])
        started = time.perf_counter() - elapsed_before
        batches = tqdm(
            self.train_loader,
            desc=f"epoch {epoch + 1}/{config.epochs}",
            leave=False,
            disable=not (config.progress and self.main),
        )
        for index, batch in enumerate(batches):
            if index < start:
                # Replayed, not trained: the loader (and its workers) draw the same augmentations
                # as before the stop; the RNG states after the last trained step come back here.
                if index == start - 1 and resume_rng is not None:
                    set_rng_state(resume_rng)
                continue
            images = batch["image"].to(self.device, non_blocking=True)
            if self.batch_augment is not None:
                images = self.batch_augment(images)
            if self.channels_last:
                images = images.contiguous(memory_format=torch.channels_last)
            inputs = {
                "label": batch["label"].to(self.device, non_blocking=True),
                "descriptors": batch["descriptors"].to(self.device, non_blocking=True),
                "subgroup": batch["subgroup"].to(self.device, non_blocking=True),
            }
            mixed = False
            if self.mixer is not None:
                draw = torch.rand((), generator=mix_generator).item()
                if mixed := draw < config.mix_prob:
                    images, soft, _ = self.mixer(images, inputs["label"], generator=mix_generator)
                    inputs["soft_target"] = soft.to(self.device)
            losses = self.step(images, inputs)
            if self.mixer is not None:  # history's train_mixed: the fraction of mixed batches
                losses["mixed"] = torch.tensor(float(mixed), device=self.device)
            loss = losses["loss"]
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"epoch {epoch + 1}: the loss is {loss.item()}; lower --lr or turn off --amp"
                )
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            if config.grad_clip > 0:
                self.scaler.unscale_(self.optimizer)
                torch.nn.utils.clip_grad_norm_(self.step_module.parameters(), config.grad_clip)
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self.scheduler.step()
            for key, value in losses.items():
                sums[key] = sums.get(key, 0.0) + value.detach().float()
            seen += images.shape[0]
            if stop_requested(self.guard, self.context, self.device):
                elapsed = time.perf_counter() - started
                info = epoch_progress(index + 1, sums, seen, elapsed, mix_generator, self.context)
                info["lr"] = self._epoch_lr
                self._save_last(dict(state, progress=info))
                raise TrainingPreempted(self.run_dir, epoch, index + 1)
        elapsed = time.perf_counter() - started
        keys = sorted(sums)
        totals = torch.stack([sums[k] for k in keys]).to(self.device) / self.steps_per_epoch
        if self.context.distributed:
            dist.all_reduce(totals)
            totals /= self.context.world_size
        metrics = {f"train_{k}": float(v) for k, v in zip(keys, totals.tolist(), strict=True)}
        metrics["train_images_per_s"] = seen * self.context.world_size / max(elapsed, 1e-9)
        metrics["epoch_seconds"] = elapsed
        return metrics

    def _evaluate(self, part: str, descriptors=None):
        return predict(
            self.model,
            self.eval_loaders[part],
            self.context,
            amp_dtype=self.amp,
            channels_last=self.channels_last,
            progress=self.config.progress,
            desc=part,
            descriptors=descriptors,
        )

    def run(self) -> RunResult:
        config, context = self.config, self.context
        finished = self._check_run_dir()
        if finished is not None:
            return RunResult(self.run_dir, finished, read_history_rows(self.run_dir))
        barrier(context)
        data = prepare_data(config, context)
        self._check_batch(data)
        self._loaders(data)
        self._build(data)
        self.data = data
        last = self.checkpoints / LAST_CHECKPOINT
        state = self._initial_state()
        if self.resume and last.is_file():
            state = self._restore(load_checkpoint(last, map_location=self.device))
            logger.info("resuming %s after epoch %d", self.run_dir, state["epoch"])
        if self.main:
            self.checkpoints.mkdir(parents=True, exist_ok=True)
            atomic_write_json(self.run_dir / CONFIG_FILE, json_ready(self._resolved_config(data)))
        history = _History(self.run_dir, config.tensorboard, self.main)
        try:
            while state["epoch"] < config.epochs and not state["stopped_early"]:
                state = self._one_epoch(state, history)
        finally:
            history.close()
        results = self._test(state)
        return RunResult(self.run_dir, results, state["history"])

    def _one_epoch(self, state: dict, history: _History) -> dict:
        config = self.config
        epoch = state["epoch"]
        # The lr of the epoch's first step, also when the epoch resumes in its middle.
        lr = (state["progress"] or {}).get("lr", self.optimizer.param_groups[0]["lr"])
        self._epoch_lr = lr
        row: dict[str, Any] = {"epoch": epoch + 1, "lr": lr}
        row.update(self._train_epoch(epoch, state))
        val = validation_metrics(self._evaluate("val"), self.data, config)
        row.update({f"val_{k}": v for k, v in val.items()})
        state = dict(
            state, epoch=epoch + 1, history=[*state["history"], json_ready(row)], progress=None
        )
        auc = val["auc"]
        improved = math.isfinite(auc) and (state["best_auc"] is None or auc > state["best_auc"])
        if improved or state["best_epoch"] is None:
            # paper: results at the best validation-AUC epoch; an undefined AUC (one class in
            # the validation split) keeps the first epoch until a defined one appears.
            state["best_auc"] = auc if math.isfinite(auc) else None
            state["best_epoch"] = epoch + 1
            state["bad_epochs"] = 0
            if self.main:
                save_checkpoint(
                    self.checkpoints / BEST_CHECKPOINT,
                    {
                        "format": CHECKPOINT_FORMAT,
                        "epoch": epoch + 1,
                        "model": self.model.state_dict(),
                        "objective": self.objective.state_dict(),
                        "val": json_ready(val),
                    },
                )
        else:
            state["bad_epochs"] += 1
            state["stopped_early"] = state["bad_epochs"] >= config.patience
        if self.main:
            history.write(state["history"])
        self._save_last(state)
        if stop_requested(self.guard, self.context, self.device):
            raise TrainingPreempted(self.run_dir, epoch + 1, 0)
        return state

    def _save_last(self, state: dict) -> None:
        if self.main:
            save_checkpoint(self.checkpoints / LAST_CHECKPOINT, self._checkpoint(state))
        barrier(self.context)

    def _test(self, state: dict) -> dict:
        best = load_checkpoint(self.checkpoints / BEST_CHECKPOINT, map_location=self.device)
        self.model.load_state_dict(best["model"])
        threshold = validation_threshold(self._evaluate("val"), self.data, self.config)
        predictions = self._evaluate("test")
        if predictions.descriptor_embedding is not None:
            from .alignment import mean_descriptors

            train_mean = mean_descriptors(self.data.split_arrays("train")["descriptors"])
            image_only = self._evaluate("test", descriptors=train_mean)
            predictions = dataclasses.replace(predictions, image_embedding=image_only.embedding)
        extra = {
            "method": self.config.method,
            "table_row": self.method.table_row,
            "dataset": self.config.dataset,
            "modality": self.data.modality,
            "subgroup": self.data.subgroup,
            "fold": self.config.fold,
            "seed": self.config.seed,
            "best_epoch": int(best["epoch"]),
            "epochs_completed": int(state["epoch"]),
            "stopped_early": bool(state["stopped_early"]),
            "val_auc": state["best_auc"],
            "n_train": len(self.data.train),
            "n_val": len(self.data.val),
        }
        # Rank 0 computes the metrics (the bootstrap is not free) and shares them.
        evaluation = (
            evaluate_test(predictions, self.data, self.config, extra=extra, threshold=threshold)
            if self.main
            else None
        )
        shared = evaluation.results if evaluation is not None else None
        results = all_gather_objects(shared, self.context)[0]
        if evaluation is not None:  # rank 0
            frame = predictions_frame(predictions, self.data, threshold=threshold)
            atomic_write(self.run_dir / PREDICTIONS_FILE, lambda f: frame.to_parquet(f))
            scg = evaluation.scg.to_csv(index=False, lineterminator="\n").encode()
            atomic_write_bytes(self.run_dir / SCG_FILE, scg)
            atomic_write_json(self.run_dir / RESULTS_FILE, results)
            summary = {k: results.get(k) for k in (*PERFORMANCE_KEYS, "cdi")}
            atomic_write_json(self.run_dir / DONE_FILE, {"finished": time.time(), **summary})
        barrier(self.context)
        return results
