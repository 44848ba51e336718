"""Strength of the running CDIRegularizer's gradient against the stateless R_CDI (layers README).

After ``--warmup`` batches of ``--batch-size`` samples drawn from one distribution (2 classes,
7 descriptors, 8 subgroups: the paper's 112 SCGs), the next batch goes through both
``CDIRegularizer`` (running per-SCG sums, ``--decay``) and ``cdi_regularizer`` (that batch
alone). Printed: the ratio of the norms of their gradients w.r.t. the logits, per seed, and the
same ratio for a memory that is only detached (the 0.1.0 behaviour, rebuilt here from the
``semcov_layers.losses.cdi`` functions ``scg_recall_sums`` and
``coverage_error_correlation``). An unbiased gradient gives a
ratio near 1; the detached memory gives about ``1 - decay``.

    uv run python benchmarks/bench_cdi_gradient.py --seeds 5

``--quality`` measures instead, at batches 32, 64 and 512, the gradient of R_CDI with respect to
a per-(class, subgroup) offset of the true-class margin (16 parameters) against the full-batch
gradient (the stateless R_CDI on 4 × 16,384 samples of the same distribution): over
``--replicates`` successive batches after the warm-up, the relative bias ``|E g - g*| / |g*|``,
the relative spread ``sqrt(E |g - E g|^2) / |g*|``, the relative RMSE and the mean cosine, for
the stateless batch estimate and the running regularizer with the gain bounded (the default
``max_gain = 1 / (1 - decay)``) and unbounded.

    uv run python benchmarks/bench_cdi_gradient.py --quality --seeds 3
"""

from __future__ import annotations

import argparse
import statistics

import torch

from semcov_layers import CDIRegularizer, cdi_regularizer
from semcov_layers.losses.cdi import (
    coverage_error_correlation,
    scg_recall_sums,
    true_class_probability,
)

NUM_CLASSES = 2
NUM_DESCRIPTORS = 7
NUM_SUBGROUPS = 8


class BatchSource:
    """Batches from one fixed distribution whose true-class probability depends on the SCG."""

    def __init__(self, seed: int) -> None:
        self.generator = torch.Generator().manual_seed(seed)
        shape = (NUM_CLASSES, NUM_DESCRIPTORS, NUM_SUBGROUPS)
        self.coverage = torch.rand(shape, generator=self.generator)
        self.descriptor_rate = torch.rand(NUM_DESCRIPTORS, generator=self.generator) * 0.6 + 0.2
        # A class-and-subgroup skill plus a descriptor effect tied to coverage, so that the
        # per-SCG errors vary and correlate with coverage.
        self.skill = torch.randn(NUM_CLASSES, NUM_SUBGROUPS, generator=self.generator)
        self.descriptor_effect = self.coverage.mean(dim=2) * 2.0 - 1.0

    def batch(self, size: int) -> tuple[torch.Tensor, ...]:
        """``(logits, targets, descriptors, subgroups)`` with shapes (B,), (B,), (B, K), (B,)."""
        g = self.generator
        targets = torch.randint(0, NUM_CLASSES, (size,), generator=g)
        subgroups = torch.randint(0, NUM_SUBGROUPS, (size,), generator=g)
        on = torch.rand(size, NUM_DESCRIPTORS, generator=g) < self.descriptor_rate
        spread = 0.4 * torch.rand(size, NUM_DESCRIPTORS, generator=g)
        descriptors = torch.where(on, 1.0 - spread, spread)  # soft MONET-like scores
        margin = (
            self.skill[targets, subgroups]
            + (descriptors * self.descriptor_effect[targets]).sum(dim=1) / NUM_DESCRIPTORS
        )
        margin = margin + torch.randn(size, generator=g)
        logits = torch.where(targets == 1, margin, -margin)
        return logits, targets, descriptors, subgroups


def _detached_memory_gradient(source, logits, rest, decay, running) -> torch.Tensor:
    support, hits = scg_recall_sums(
        true_class_probability(logits, rest[0]), *rest, NUM_CLASSES, NUM_SUBGROUPS
    )
    value = coverage_error_correlation(
        source.coverage, decay * running[0] + support, decay * running[1] + hits
    )
    return torch.autograd.grad(value, logits)[0]


def gradient_ratios(
    seed: int, *, warmup: int = 40, batch_size: int = 512, decay: float = 0.95
) -> tuple[float, float]:
    """Norm ratios ``|grad CDIRegularizer| / |grad cdi_regularizer|`` on the batch after warm-up.

    Returns:
        ``(running, detached)``: the ratio for :class:`CDIRegularizer` and for a memory that is
        merely detached (no gradient gain).
    """
    source = BatchSource(seed)
    regularizer = CDIRegularizer(source.coverage, decay=decay)
    for _ in range(warmup):
        regularizer(*source.batch(batch_size))
    logits, *rest = source.batch(batch_size)
    running = (regularizer.running_support.clone(), regularizer.running_hits.clone())

    stateless = logits.clone().requires_grad_()
    reference = torch.autograd.grad(cdi_regularizer(stateless, *rest, source.coverage), stateless)
    stateful = logits.clone().requires_grad_()
    ours = torch.autograd.grad(regularizer(stateful, *rest), stateful)
    detached = _detached_memory_gradient(
        source, logits.clone().requires_grad_(), rest, decay, running
    )
    norm = float(reference[0].norm())
    return float(ours[0].norm()) / norm, float(detached.norm()) / norm


def _offset_logits(logits, targets, subgroups, theta):
    """The batch's logits with ``theta[class, subgroup]`` added to the true-class margin."""
    sign = torch.where(targets == 1, 1.0, -1.0)
    return logits + sign * theta[targets, subgroups]


def _theta_gradient(loss, batch) -> torch.Tensor:
    logits, targets, descriptors, subgroups = batch
    theta = torch.zeros(NUM_CLASSES, NUM_SUBGROUPS, requires_grad=True)
    value = loss(_offset_logits(logits, targets, subgroups, theta), targets, descriptors, subgroups)
    return torch.autograd.grad(value, theta)[0].flatten()


def gradient_quality(
    seed: int, batch_size: int, *, warmup: int = 40, replicates: int = 200, decay: float = 0.95
) -> dict[str, tuple[float, float, float, float]]:
    """``{estimator: (bias, spread, rmse, cosine)}`` relative to the full-batch gradient."""
    source = BatchSource(seed)
    coverage = source.coverage

    def stateless(*batch):
        return cdi_regularizer(*batch, coverage)

    reference = torch.stack(
        [_theta_gradient(stateless, source.batch(16_384)) for _ in range(4)]
    ).mean(dim=0)
    steady = 1.0 / (1.0 - decay)
    estimators = {
        "stateless batch": stateless,
        "running, gain <= 1/(1-decay)": CDIRegularizer(coverage, decay=decay, max_gain=steady),
        "running, gain <= 5/(1-decay)": CDIRegularizer(coverage, decay=decay, max_gain=5 * steady),
        "running, unbounded gain": CDIRegularizer(coverage, decay=decay, max_gain=float("inf")),
    }
    out = {}
    for name, loss in estimators.items():
        for _ in range(warmup if isinstance(loss, CDIRegularizer) else 0):
            loss(*source.batch(batch_size))
        grads = torch.stack(
            [_theta_gradient(loss, source.batch(batch_size)) for _ in range(replicates)]
        )
        scale = float(reference.norm())
        mean = grads.mean(dim=0)
        bias = float((mean - reference).norm()) / scale
        spread = float(((grads - mean) ** 2).sum(dim=1).mean().sqrt()) / scale
        rmse = float(((grads - reference) ** 2).sum(dim=1).mean().sqrt()) / scale
        cosine = float(torch.nn.functional.cosine_similarity(grads, reference[None], dim=1).mean())
        out[name] = (bias, spread, rmse, cosine)
    return out


def quality_table(seeds: int, replicates: int, decay: float) -> None:
    print(
        f"relative to the full-batch gradient; {replicates} batches a cell, median of {seeds} seeds"
    )
    print("| batch | estimator | bias | spread | RMSE | cosine |")
    print("|---|---|---|---|---|---|")
    for batch_size in (32, 64, 512):
        runs = [
            gradient_quality(seed, batch_size, replicates=replicates, decay=decay)
            for seed in range(seeds)
        ]
        for name in runs[0]:
            values = [statistics.median(run[name][i] for run in runs) for i in range(4)]
            print(
                f"| {batch_size} | {name} | {values[0]:.3f} | {values[1]:.3f} | "
                f"{values[2]:.3f} | {values[3]:.3f} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (default 5)")
    parser.add_argument("--warmup", type=int, default=40, help="warm-up batches (default 40)")
    parser.add_argument("--batch-size", type=int, default=512, help="samples per batch")
    parser.add_argument("--decay", type=float, default=0.95, help="CDIRegularizer decay")
    parser.add_argument("--quality", action="store_true", help="bias and spread at batch 32/64/512")
    parser.add_argument("--replicates", type=int, default=200, help="batches per --quality cell")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.quality:
        quality_table(args.seeds, args.replicates, args.decay)
        return
    print(f"warm-up {args.warmup} x {args.batch_size} samples, decay {args.decay}")
    print("seed  running/stateless  detached-memory/stateless")
    results = []
    for seed in range(args.seeds):
        running, detached = gradient_ratios(
            seed, warmup=args.warmup, batch_size=args.batch_size, decay=args.decay
        )
        results.append((running, detached))
        print(f"{seed:>4}  {running:>17.3f}  {detached:>25.3f}")
    print(
        f"median  {statistics.median(r for r, _ in results):.3f} (running)  "
        f"{statistics.median(d for _, d in results):.3f} (detached memory)"
    )


if __name__ == "__main__":
    main()
