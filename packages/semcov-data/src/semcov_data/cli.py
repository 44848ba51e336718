"""Command line ``python -m semcov_data <command>``; commands are registered in :data:`COMMANDS`."""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["COMMANDS", "DATASETS", "DATASET_ALIASES", "build_parser", "main"]


def _milk10k(root: str, args: argparse.Namespace):
    from semcov_data.milk10k import load_milk10k

    return load_milk10k(root, modality=args.modality, missing_images="ignore")


def _isic_dicm(root: str, args: argparse.Namespace):
    from semcov_data.isic_dicm import load_isic_dicm17k

    return load_isic_dicm17k(root, missing_images="ignore")


def _celeba(root: str, args: argparse.Namespace):
    from semcov_data.celeba import load_celeba

    return load_celeba(root, missing_images="ignore", seed=args.seed)


#: Dataset name → metadata-only loader ``(data_root, args) -> SampleTable``. The names are the
#: ones of ``semcov_train.DATASETS`` and the apps' ``--dataset``.
DATASETS: dict[str, Callable] = {
    "milk10k": _milk10k,
    "isic_dicm17k": _isic_dicm,
    "celeba": _celeba,
}
#: Spellings accepted for compatibility → the dataset name (0.1 called it ``isic-dicm-17k``).
DATASET_ALIASES: dict[str, str] = {"isic-dicm-17k": "isic_dicm17k"}


def _dataset_name(name: str) -> str:
    name = DATASET_ALIASES.get(name, name)
    if name in DATASETS:
        return name
    close = difflib.get_close_matches(name, [*DATASETS, *DATASET_ALIASES], n=1)
    hint = f"; did you mean {DATASET_ALIASES.get(close[0], close[0])!r}?" if close else ""
    raise SystemExit(f"error: unknown dataset {name!r} (choose from {list(DATASETS)}){hint}")


def _plain(text: str) -> str:
    """Docstring text as plain help text: Sphinx roles and literals lose their markup."""
    text = re.sub(r":[a-z]+:`~?(?:[\w.]+\.)?([^`]+)`", r"\1", text)
    return text.replace("``", "")


def _add_audit(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--dataset", help="a dataset with a released split: isic_dicm17k")
    source.add_argument("--csv", type=Path, help="any CSV with a part column and id columns")
    parser.add_argument("--data-root", help="dataset folder (with --dataset)")
    parser.add_argument("--part-column", default="part", help="column naming the part (with --csv)")
    parser.add_argument("--id-columns", nargs="+", default=["lesion_id", "patient_id"])
    parser.add_argument("--strict", action="store_true", help="exit with status 1 when ids overlap")


def _run_audit(args: argparse.Namespace) -> int:
    from semcov_data.splits import audit_leakage

    if args.dataset is not None:
        if _dataset_name(args.dataset) != "isic_dicm17k":
            raise SystemExit(f"error: {args.dataset} has no released split to audit; use --csv")
        if not args.data_root:
            raise SystemExit("error: --data-root is required with --dataset")
        from semcov_data.isic_dicm import read_isic_dicm17k_metadata

        table = read_isic_dicm17k_metadata(args.data_root)
    else:
        table = pd.read_csv(args.csv, dtype={c: "string" for c in args.id_columns})
    report = audit_leakage(table, part_column=args.part_column, id_columns=args.id_columns)
    print(json.dumps({"parts": list(report.parts), **report.to_dict()}, indent=2))
    return 1 if args.strict and not report.is_clean else 0


def _add_split(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True, help=f"one of {list(DATASETS)}")
    parser.add_argument("--data-root", required=True)
    parser.add_argument("--modality", default="dermoscopic", help="MILK10k modality")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--folds", type=int, default=0, help="K-fold instead of 70:10:20")
    parser.add_argument(
        "--out", type=Path, required=True, help="CSV: sample_id, group, label, part"
    )


def _run_split(args: argparse.Namespace) -> int:
    from semcov_data.splits import audit_leakage, grouped_kfold, grouped_split

    table = DATASETS[_dataset_name(args.dataset)](args.data_root, args)
    parts: Sequence[str] | np.ndarray
    if args.folds:
        folds = grouped_kfold(table.labels, table.groups, n_splits=args.folds, seed=args.seed)
        parts = [f"fold{k}" for k in folds]
    else:
        parts = grouped_split(table.labels, table.groups, seed=args.seed)
    out = table.frame[["sample_id", "group", "label"]].assign(part=parts)
    leaks = audit_leakage(out, part_column="part", id_columns=["group"])
    if not leaks.is_clean:  # pragma: no cover - grouped splits cannot leak
        raise SystemExit("error: split leaks groups")
    out.to_csv(args.out, index=False)
    print(json.dumps(out["part"].value_counts().sort_index().to_dict(), indent=2))
    return 0


def _add_cache(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True, help=f"one of {list(DATASETS)}")
    parser.add_argument("--data-root", required=True)
    parser.add_argument(
        "--modality", default="paired", help="MILK10k modality (paired: every image)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", type=Path, required=True)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--fit", default="crop", choices=["crop", "pad"])


def _run_cache(args: argparse.Namespace) -> int:
    from semcov_data.cache import build_image_cache

    table = DATASETS[_dataset_name(args.dataset)](args.data_root, args)
    cache = build_image_cache(table.image_paths(), args.cache_dir, size=args.size, fit=args.fit)
    print(
        json.dumps(
            {"array": str(cache.array_path), "images": len(cache), "failed": cache.failed}, indent=2
        )
    )
    return 0


def _add_monet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="local CLIP / MONET model folder")
    parser.add_argument("--images", required=True, help="folder of images")
    parser.add_argument(
        "--out", type=Path, required=True, help="CSV with isic_id and MONET_* columns"
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=32)


def _run_monet(args: argparse.Namespace) -> int:
    from semcov_data.monet import MonetConfig, score_folder

    config = MonetConfig(device=args.device, batch_size=args.batch_size)
    _, report = score_folder(args.model, args.images, output_csv=args.out, config=config)
    print(report.summary())
    return 0


def _add_synth(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, help="output folder (MILK10k layout)")
    parser.add_argument("--n", type=int, default=10_000, help="number of lesions (2 images each)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--imbalance", type=float, default=1.0, help="0 uniform, 1 like MILK10k")
    parser.add_argument(
        "--positive-fraction", type=float, default=1 / 11, help="melanoma share (0.5 for 1:1)"
    )
    parser.add_argument(
        "--descriptor-effects",
        choices=["fixed", "random"],
        default="fixed",
        help="random: erythema, vessels, pigmentation hide or mimic the cue at random (control)",
    )
    parser.add_argument("--workers", type=int, default=None, help="render processes")


def _run_synth(args: argparse.Namespace) -> int:
    from semcov_data.synthetic import SyntheticConfig, write_synthetic

    config = SyntheticConfig(
        n_lesions=args.n,
        image_size=args.image_size,
        imbalance=args.imbalance,
        positive_fraction=args.positive_fraction,
        seed=args.seed,
        descriptor_effects=args.descriptor_effects,
    )
    root = write_synthetic(args.out, config, workers=args.workers)
    print(json.dumps({"out": str(root), "lesions": args.n, "images": 2 * args.n}))
    return 0


#: Command → (argument builder, runner, help). A new command (e.g. ``synth``) is one more entry.
COMMANDS: dict[str, tuple[Callable, Callable, str]] = {
    "audit": (
        _add_audit,
        _run_audit,
        "list lesion / patient ids shared by parts of a split (JSON)",
    ),
    "split": (_add_split, _run_split, "write a leakage-free stratified split of a dataset"),
    "cache": (_add_cache, _run_cache, "decode and resize every image once into the image cache"),
    "monet": (_add_monet, _run_monet, "score MONET concepts for a folder of images"),
    "synth": (_add_synth, _run_synth, "render the synthetic skin-lesion benchmark"),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-parser per entry of :data:`COMMANDS`."""
    aliases = ", ".join(f"{old} = {new}" for old, new in DATASET_ALIASES.items())
    parser = argparse.ArgumentParser(
        prog="python -m semcov_data",
        description=_plain(__doc__),
        epilog=f"datasets: {', '.join(DATASETS)} (also accepted: {aliases})",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (add_arguments, _, help_text) in COMMANDS.items():
        add_arguments(commands.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command][1](args)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
