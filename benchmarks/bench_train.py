"""Training throughput and peak memory of ERM vs SemCovNet through the semcov-train step.

Each method runs in its own child process (so peak memory is its own): the model and objective
come from ``semcov_train.METHODS`` exactly as the trainer builds them (EfficientNet-B0, no
pretrained weights needed), wrapped in ``semcov_train.TrainStep``; a step is forward, the
method's objective (cross-entropy for ERM; CE + descriptor BCE + DVA + CDI for SemCovNet),
backward and an Adam step on a fixed random batch, with the trainer's AMP and channels-last
choices on CUDA. The data pipeline is left out (see bench_data.py for it).

Reported per method: images/s (median step time over ``--steps`` timed steps after
``--warmup``; the fastest of ``--rounds`` child processes, run alternately) and peak memory
(CPU: peak resident set size of the child process, and its growth over the process after
building the model; CUDA: ``torch.cuda.max_memory_allocated``), and the MiB of activations
autograd saves for backward in one step (exact, allocator-independent).

    uv run python benchmarks/bench_train.py                                 # this CPU
    uv run python benchmarks/bench_train.py --device cuda --steps 50 --warmup 10   # a GPU
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from types import SimpleNamespace

import torch

NUM_CLASSES, NUM_DESCRIPTORS, NUM_SUBGROUPS = 2, 7, 8


def _rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _saved_activation_mib(forward) -> float:
    """MiB of the tensors autograd saves for backward in one forward pass (each storage once):
    the activation memory of a step, exact and independent of the allocator."""
    seen: dict[tuple, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        seen[(tensor.device.type, storage.data_ptr())] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        loss = forward()
    del loss
    return sum(seen.values()) / 2**20


def run_worker(method_name: str, args: argparse.Namespace) -> dict:
    from semcov_train import METHODS, TrainStep, make_config
    from semcov_train.runtime.device_policy import amp_dtype, use_channels_last
    from semcov_train.runtime.distributed import DistContext

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    config = make_config(
        "paper",
        method=method_name,
        pretrained=False,
        image_size=args.image_size,
        batch_size=args.batch_size,
        device=args.device,
    )
    amp, channels_last = amp_dtype(config, device), use_channels_last(config, device)
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(1)
    coverage = torch.rand(NUM_CLASSES, NUM_DESCRIPTORS, NUM_SUBGROUPS, generator=generator)
    data = SimpleNamespace(
        num_classes=NUM_CLASSES,
        num_descriptors=NUM_DESCRIPTORS,
        num_subgroups=NUM_SUBGROUPS,
        coverage=coverage,
    )
    method = METHODS[method_name]
    model = method.build_model(config, data, method).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    objective = method.build_objective(config, data, model).to(device)
    context = DistContext(device=device)
    step = TrainStep(model, objective, context, amp).train()
    optimizer = torch.optim.Adam(step.parameters(), lr=config.lr)
    scaler = torch.amp.GradScaler(device.type, enabled=amp == torch.float16)

    size, batch_size = args.image_size, args.batch_size
    images = torch.randn(batch_size, 3, size, size, generator=generator).to(device)
    if channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    batch = {
        "label": torch.randint(0, NUM_CLASSES, (batch_size,), generator=generator).to(device),
        "descriptors": torch.rand(batch_size, NUM_DESCRIPTORS, generator=generator).to(device),
        "subgroup": torch.randint(0, NUM_SUBGROUPS, (batch_size,), generator=generator).to(device),
    }
    built_rss = _rss_mib()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    def one_step() -> float:
        _sync(device)
        start = time.perf_counter()
        loss = step(images, batch)["loss"]
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        _sync(device)
        return time.perf_counter() - start

    for _ in range(args.warmup):
        one_step()
    times = [one_step() for _ in range(args.steps)]
    median = statistics.median(times)
    result = {
        "method": method_name,
        "device": str(device),
        "amp": str(amp).replace("torch.", "") if amp is not None else "off",
        "channels_last": channels_last,
        "threads": torch.get_num_threads(),
        "image_size": size,
        "batch_size": batch_size,
        "steps": args.steps,
        "step_seconds_median": median,
        "step_seconds": times,
        "images_per_s": batch_size / median,
        "parameters": sum(p.numel() for p in step.parameters()),
    }
    if device.type == "cuda":
        result["peak_memory_mib"] = torch.cuda.max_memory_allocated(device) / 2**20
    else:
        result["peak_memory_mib"] = _peak_rss_mib()
        result["peak_growth_mib"] = _peak_rss_mib() - built_rss
    # After the peaks are read: this extra forward pass must not count in them.
    result["saved_activations_mib"] = _saved_activation_mib(lambda: step(images, batch)["loss"])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--methods", nargs="+", default=["erm", "semcovnet"])
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=5, help="timed steps per method")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps per method")
    parser.add_argument(
        "--rounds", type=int, default=2, help="child processes per method; the fastest counts"
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: default)")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        print(json.dumps(run_worker(args.worker, args)))
        return
    forwarded = [a for a in sys.argv[1:] if a != "--json"]
    if args.json:
        forwarded.remove(args.json)
    best: dict[str, dict] = {}
    for _ in range(args.rounds):
        for method in args.methods:  # alternating, so load spikes hit every method alike
            command = [sys.executable, __file__, *forwarded, "--worker", method]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                sys.exit(f"{method} failed:\n{done.stderr[-3000:]}")
            row = json.loads(done.stdout.strip().splitlines()[-1])
            if method not in best or row["images_per_s"] > best[method]["images_per_s"]:
                best[method] = row
    results = [best[method] for method in args.methods]
    base = results[0]
    print(
        f"{'method':<12} {'images/s':>9} {'step (s)':>9} {'peak MiB':>9} {'growth MiB':>11} "
        f"{'saved act. MiB':>15} {'speed vs ' + base['method']:>13} {'params':>11}"
    )
    for row in results:
        growth = row.get("peak_growth_mib")
        print(
            f"{row['method']:<12} {row['images_per_s']:>9.2f} {row['step_seconds_median']:>9.3f} "
            f"{row['peak_memory_mib']:>9.0f} {'-' if growth is None else f'{growth:.0f}':>11} "
            f"{row['saved_activations_mib']:>15.0f} "
            f"{row['images_per_s'] / base['images_per_s']:>12.2f}x {row['parameters']:>11,}"
        )
    first = results[0]
    print(
        f"device {first['device']}, amp {first['amp']}, channels_last {first['channels_last']}, "
        f"{first['threads']} threads, {first['image_size']} px, batch {first['batch_size']}, "
        f"median of {first['steps']} steps, best of {args.rounds} rounds"
    )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
