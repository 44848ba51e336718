"""Cost of SemCovNet on EfficientNet-B0 against the bare EfficientNet-B0 (semcov-layers README).

Both models are built in the same process from timm (no pretrained weights needed) and timed
alternately, so machine noise hits both alike. Reports the median train-step time (forward, loss,
backward, Adam step), the median inference time (eval mode, no grad), parameter counts and
forward FLOPs (torch.utils.flop_counter), and their ratios.

    uv run python benchmarks/bench_layers.py --batch-size 32 --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import time

import timm
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from semcov_layers import SemCovLoss, create_semcovnet

NUM_CLASSES = 2
NUM_DESCRIPTORS = 7
NUM_SUBGROUPS = 8


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _forward_flops(run) -> int:
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        run()
    return counter.get_total_flops()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--repeats", type=int, default=5, help="timed iterations per model")
    parser.add_argument("--warmup", type=int, default=1, help="untimed iterations per model")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="wall: elapsed time; cpu: CPU time of this thread (with --threads 1 it ignores time\n"
        "spent waiting for other processes on a shared machine)",
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.clock == "cpu" and torch.get_num_threads() != 1:
        parser.error("--clock cpu measures one thread: use it with --threads 1")
    clock = time.perf_counter if args.clock == "wall" else time.thread_time
    device = torch.device(args.device)
    torch.manual_seed(0)

    bare = timm.create_model("efficientnet_b0", pretrained=False, num_classes=NUM_CLASSES).to(
        device
    )
    semcov = create_semcovnet(
        "efficientnet_b0",
        num_classes=NUM_CLASSES,
        num_descriptors=NUM_DESCRIPTORS,
        pretrained=False,
        dim=args.dim,
        depth=args.depth,
    ).to(device)
    criterion = SemCovLoss(torch.rand(NUM_CLASSES, NUM_DESCRIPTORS, NUM_SUBGROUPS)).to(device)

    b = args.batch_size
    images = torch.randn(b, 3, args.image_size, args.image_size, device=device)
    descriptors = torch.rand(b, NUM_DESCRIPTORS, device=device)
    targets = torch.randint(0, NUM_CLASSES, (b,), device=device)
    subgroups = torch.randint(0, NUM_SUBGROUPS, (b,), device=device)

    bare_opt = torch.optim.Adam(bare.parameters(), lr=1e-4)
    semcov_opt = torch.optim.Adam([*semcov.parameters(), *criterion.parameters()], lr=1e-4)

    def bare_train() -> None:
        bare_opt.zero_grad(set_to_none=True)
        F.cross_entropy(bare(images), targets).backward()
        bare_opt.step()

    def semcov_train() -> None:
        semcov_opt.zero_grad(set_to_none=True)
        out = semcov(images, descriptors)
        criterion(out, targets, descriptors, subgroups).total.backward()
        semcov_opt.step()

    def bare_infer() -> None:
        bare(images)

    def semcov_infer() -> None:
        semcov(images, descriptors)

    def timed(fn) -> float:
        _sync(device)
        start = clock()
        fn()
        _sync(device)
        return clock() - start

    def measure(first, second) -> tuple[list[float], list[float]]:
        for _ in range(args.warmup):
            first()
            second()
        a, c = [], []
        for i in range(args.repeats):
            # Alternate which model goes first so drift in machine load is shared evenly.
            if i % 2 == 0:
                a.append(timed(first))
                c.append(timed(second))
            else:
                c.append(timed(second))
                a.append(timed(first))
        return a, c

    bare.train()
    semcov.train()
    criterion.train()
    bare_train_t, semcov_train_t = measure(bare_train, semcov_train)
    bare.eval()
    semcov.eval()
    with torch.inference_mode():
        bare_infer_t, semcov_infer_t = measure(bare_infer, semcov_infer)

    bare_flops = _forward_flops(bare_infer)
    semcov_flops = _forward_flops(semcov_infer)
    bare_params = _count_parameters(bare)
    semcov_params = _count_parameters(semcov)

    med = statistics.median
    rows = [
        ("train step [s]", med(bare_train_t), med(semcov_train_t), 1.15),
        ("inference [s]", med(bare_infer_t), med(semcov_infer_t), 1.10),
        ("parameters", bare_params, semcov_params, 1.25),
        ("forward GFLOPs", bare_flops / 1e9, semcov_flops / 1e9, None),
    ]
    print(
        f"device={device} torch={torch.__version__} threads={torch.get_num_threads()} "
        f"batch={b} image={args.image_size} dim={args.dim} depth={args.depth} "
        f"repeats={args.repeats} warmup={args.warmup} clock={args.clock}"
    )
    print(f"{'metric':<16}{'EfficientNet-B0':>18}{'SemCovNet':>14}{'ratio':>9}{'target':>9}")
    for name, base, ours, target in rows:
        ratio = ours / base
        fmt = "{:>18.4f}{:>14.4f}" if isinstance(base, float) else "{:>18,}{:>14,}"
        verdict = (
            "" if target is None else (f"<= {target}" + (" ok" if ratio <= target else " MISS"))
        )
        print(f"{name:<16}" + fmt.format(base, ours) + f"{ratio:>9.3f}  {verdict}")
    # Other processes on a shared machine inflate single repeats; the best-of-N ratio is the
    # least noisy estimate of the intrinsic cost, the ratio of medians the typical one.
    print(
        f"best-of-{args.repeats} ratios: train {min(semcov_train_t) / min(bare_train_t):.3f}, "
        f"inference {min(semcov_infer_t) / min(bare_infer_t):.3f}"
    )
    print("train times bare   :", " ".join(f"{t:.3f}" for t in bare_train_t))
    print("train times semcov :", " ".join(f"{t:.3f}" for t in semcov_train_t))
    print("infer times bare   :", " ".join(f"{t:.3f}" for t in bare_infer_t))
    print("infer times semcov :", " ".join(f"{t:.3f}" for t in semcov_infer_t))


if __name__ == "__main__":
    main()
