"""Paper Figure 5: the SCG coverage heatmap of one class and the ranked long tail of coverage.

Usage (metadata only, no training; no arguments: the synthetic benchmark at the ``quick``
size; see apps/README.md)::

    uv run apps/figure5_coverage.py
    uv run apps/figure5_coverage.py --data-root ~/data/milk10k
    uv run apps/figure5_coverage.py --dataset isic_dicm17k --data-root ~/data/isic-dicm-17k \
        --descriptors-csv monet_scores.csv

Paper: "training coverage", fold not named; here: every sample of the released training
metadata (a run's own 70 % training split is in its ``scg.csv``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from semcov_train.experiments.command_line import emit

__all__ = [
    "DATASETS",
    "build_parser",
    "coverage_table",
    "draw_figure",
    "load_modality",
    "main",
    "parse_args",
    "run",
    "summary_table",
]

#: ``--dataset`` → (modalities, subgroups, positive class); the first modality/subgroup is the
#: default. The synthetic benchmark has MILK10k's layout, classes and descriptors.
DATASETS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "synthetic": (("dermoscopic", "clinical"), ("site", "skin_tone", "sex", "age"), "MEL"),
    "milk10k": (("dermoscopic", "clinical"), ("site", "skin_tone", "sex", "age"), "MEL"),
    "isic_dicm17k": (("dermoscopic",), ("site", "sex", "age"), "mel"),
}
TITLES = {"synthetic": "synthetic benchmark", "milk10k": "MILK10k", "isic_dicm17k": "ISIC-DICM-17K"}
#: Default ``--low`` thresholds: the summary gives the share of populated SCGs below each.
LOW_COVERAGE = (0.1, 0.2)


def build_parser() -> argparse.ArgumentParser:
    """The command line (metadata only: no training options)."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--dataset",
        default=None,
        help="synthetic (default), milk10k (default with --data-root) or isic_dicm17k",
    )
    parser.add_argument("--data-root", type=Path, default=None, help="the dataset's folder")
    parser.add_argument(
        "--descriptors-csv",
        type=Path,
        default=None,
        help="isic_dicm17k: CSV of isic_id and descriptor scores (it has none of its own)",
    )
    parser.add_argument(
        "--modalities", nargs="+", default=None, help="default: every modality of the dataset"
    )
    parser.add_argument("--subgroup", default="site", help="subgroup axis (default site)")
    parser.add_argument(
        "--class",
        dest="class_name",
        default=None,
        help="class of the heatmap and long tail (default the positive class, MEL / mel)",
    )
    parser.add_argument(
        "--low",
        type=float,
        nargs="+",
        default=list(LOW_COVERAGE),
        help="coverage thresholds of the summary's 'share below' columns (default 0.1 0.2)",
    )
    parser.add_argument(
        "--preset", default="quick", help="synthetic benchmark size: smoke, quick or paper"
    )
    parser.add_argument("--cache-dir", type=Path, default=None, help="semcov cache folder")
    parser.add_argument(
        "--out", type=Path, default=Path("results/figure5_coverage"), help="figure and tables"
    )
    return parser


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse and check the command line; a bad value is a usage error naming its option."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.dataset is None:
        args.dataset = "milk10k" if args.data_root is not None else "synthetic"
    if args.dataset not in DATASETS:
        parser.error(f"--dataset must be one of {', '.join(DATASETS)}, got {args.dataset!r}")
    modalities, subgroups, positive = DATASETS[args.dataset]
    if args.dataset != "synthetic" and args.data_root is None:
        parser.error(f"--dataset {args.dataset} needs --data-root PATH (its folder)")
    if args.dataset == "synthetic" and args.data_root is not None:
        parser.error("--data-root: the synthetic benchmark is generated; give --dataset too")
    if args.dataset == "isic_dicm17k" and args.descriptors_csv is None:
        parser.error(
            "--descriptors-csv is required for --dataset isic_dicm17k: ISIC-DICM-17K has no "
            "descriptor scores of its own; give a CSV with isic_id and MONET_* columns (e.g. "
            "from `python -m semcov_data monet`)"
        )
    if args.descriptors_csv is not None and args.dataset != "isic_dicm17k":
        parser.error("--descriptors-csv applies to --dataset isic_dicm17k only")
    args.modalities = args.modalities or list(modalities)
    unknown = [m for m in args.modalities if m not in modalities]
    if unknown:
        parser.error(f"--modalities: {unknown} are not among {', '.join(modalities)}")
    if args.subgroup not in subgroups:
        parser.error(f"--subgroup must be one of {', '.join(subgroups)}, got {args.subgroup!r}")
    args.class_name = args.class_name or positive
    from semcov_train.config import PRESETS

    if args.preset not in PRESETS:
        parser.error(f"--preset must be one of {', '.join(PRESETS)}, got {args.preset!r}")
    if not all(0.0 < t <= 1.0 for t in args.low):
        parser.error(f"--low: thresholds must lie in (0, 1], got {args.low}")
    return args


def _synthetic_root(args: argparse.Namespace) -> Path:
    """The trainer's synthetic benchmark for ``--preset`` (generated once into the cache)."""
    from semcov_train import make_config
    from semcov_train.inputs.synthetic_data import prepare_synthetic

    overrides = {"cache_dir": str(args.cache_dir)} if args.cache_dir is not None else {}
    return prepare_synthetic(make_config(args.preset, **overrides))


def load_modality(args: argparse.Namespace, modality: str, root: Path | None = None):
    """The :class:`~semcov_data.SampleTable` of one modality, metadata only (images unread)."""
    from semcov_data import load_isic_dicm17k, load_milk10k

    if args.dataset == "isic_dicm17k":
        return load_isic_dicm17k(
            args.data_root,
            descriptors=args.descriptors_csv,
            subgroup=args.subgroup,
            missing_images="ignore",
        )
    return load_milk10k(
        root or args.data_root, modality=modality, subgroup=args.subgroup, missing_images="ignore"
    )


def coverage_table(table, dataset: str, modality: str) -> pd.DataFrame:
    """Soft coverage of every SCG of `table` (the full grid, empty cells kept with coverage 0).

    Columns: ``dataset, modality, class, descriptor, subgroup, n_train, coverage``.
    """
    from semcov_metrics import scg_coverage

    frame = table.frame
    names = list(table.descriptor_names)
    coverage = scg_coverage(
        frame[names],
        frame["class_name"],
        frame["subgroup"],
        descriptor_names=names,
        classes=list(table.classes),
        subgroup_values=list(table.subgroup_values),
    )
    coverage.insert(0, "modality", modality)
    coverage.insert(0, "dataset", dataset)
    return coverage


def summary_table(coverage: pd.DataFrame, class_name: str, low: Sequence[float]) -> pd.DataFrame:
    """Per modality, for all SCGs and for `class_name`'s: counts, median coverage of the populated
    SCGs and the share of them below each `low` threshold."""
    rows = []
    for modality, part in coverage.groupby("modality", sort=False):
        for scope, cells in (("all", part), (class_name, part[part["class"] == class_name])):
            populated = cells[cells["n_train"] > 0]["coverage"]
            row = {
                "modality": modality,
                "classes": scope,
                "scgs": len(cells),
                "populated": len(populated),
                "empty": int((cells["n_train"] == 0).sum()),
                "median_coverage": f"{populated.median():.4f}" if len(populated) else "n/a",
                "max_coverage": f"{populated.max():.4f}" if len(populated) else "n/a",
            }
            for threshold in low:
                share = (populated < threshold).mean() if len(populated) else float("nan")
                row[f"share_below_{threshold:g}"] = f"{share:.4f}"
            rows.append(row)
    return pd.DataFrame(rows)


def _pretty(name: str) -> str:
    """``MONET_vasculature_vessels`` → ``vasculature vessels`` for axis labels."""
    return name.removeprefix("MONET_").replace("_", " ")


def _grey_out_empty(ax, cells: pd.DataFrame) -> None:
    """Grey the heatmap cells without training samples: their coverage 0 means "not
    represented at all", which the colour scale alone would show as "descriptor absent"."""
    from matplotlib.patches import Rectangle

    descriptors = list(dict.fromkeys(cells["descriptor"]))
    subgroups = list(dict.fromkeys(cells["subgroup"]))
    for record in cells[cells["n_train"] == 0].to_dict("records"):
        i, j = descriptors.index(record["descriptor"]), subgroups.index(record["subgroup"])
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1.0, 1.0, facecolor="0.82", edgecolor="none"))
    for text in ax.texts:
        if text.get_text() == "–":
            text.set_color("black")


def draw_figure(
    coverage: pd.DataFrame, class_name: str, title: str, low: float, path: Path
) -> Path:
    """One row per modality: the class's heatmap (left) and its ranked coverage (right)."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    from semcov_metrics.plotting import plot_coverage_heatmap, plot_coverage_long_tail

    modalities = list(dict.fromkeys(coverage["modality"]))
    n_descriptors = coverage["descriptor"].nunique()
    n_subgroups = coverage["subgroup"].nunique()
    row_height = max(3.6, 1.6 + 0.42 * n_descriptors)
    heat_width = max(6.0, 2.8 + 0.75 * n_subgroups)
    figure, axes = plt.subplots(
        len(modalities),
        2,
        figsize=(heat_width + 6.0, row_height * len(modalities) + 0.6),
        gridspec_kw={"width_ratios": [heat_width, 6.0]},
        squeeze=False,
    )
    for row, modality in enumerate(modalities):
        part = coverage[coverage["modality"] == modality].assign(
            descriptor=lambda f: f["descriptor"].map(_pretty)
        )
        cells = part[part["class"] == class_name]
        n_empty = int((cells["n_train"] == 0).sum())
        heat, tail = axes[row]
        plot_coverage_heatmap(part, class_name, ax=heat)
        _grey_out_empty(heat, cells)
        heat.set_title(f"({chr(97 + 2 * row)}) {modality}: SCG coverage, class {class_name}")
        empty_note = " (grey: no training samples of this class)" if n_empty else ""
        heat.set_xlabel(f"subgroup{empty_note}")
        heat.set_ylabel("descriptor")
        plot_coverage_long_tail(cells, ax=tail)
        if n_empty:
            # Empty SCGs sort last with coverage 0; their bars have no height, so mark the span.
            start = len(cells) - n_empty - 0.5
            tail.axvspan(start, len(cells) - 0.5, color="0.85", zorder=0)
            tail.text(
                start + n_empty / 2,
                0.5,
                f"{n_empty} SCGs\nwithout\nsamples",
                transform=tail.get_xaxis_transform(),
                ha="center",
                va="center",
                fontsize=8,
            )
        tail.axhline(
            low, color="tab:red", linestyle="--", linewidth=1, zorder=3, label=f"coverage {low:g}"
        )
        tail.set_xlim(-0.5, len(cells) - 0.5)
        tail.set_ylim(0.0, max(1e-9, float(cells["coverage"].max())) * 1.08)
        populated = cells[cells["n_train"] > 0]["coverage"]
        share = (populated < low).mean() if len(populated) else float("nan")
        tail.set_title(
            f"({chr(98 + 2 * row)}) {modality}: ranked coverage of {len(cells)} {class_name} SCGs\n"
            f"{len(populated)} populated, {share:.0%} of them below {low:g}",
            fontsize=10,
        )
        tail.legend(loc="upper right", fontsize=8)
    figure.suptitle(f"Semantic Coverage Imbalance, {title}", fontsize=12)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=150)
    plt.close(figure)
    return path


def run(args: argparse.Namespace) -> pd.DataFrame:
    """Coverage tables of every selected modality, the figure and the summary; the coverage."""
    root = _synthetic_root(args) if args.dataset == "synthetic" else None
    parts = []
    for modality in args.modalities:
        table = load_modality(args, modality, root)
        if args.class_name not in table.classes:
            raise ValueError(
                f"--class {args.class_name!r} is not a class of {args.dataset}; classes: "
                f"{', '.join(table.classes)}"
            )
        print(f"{args.dataset} {modality}: {len(table)} samples", file=sys.stderr)
        parts.append(coverage_table(table, args.dataset, modality))
    coverage = pd.concat(parts, ignore_index=True)
    args.out.mkdir(parents=True, exist_ok=True)
    csv = args.out / "scg_coverage.csv"
    coverage.to_csv(csv, index=False)
    print(f"wrote {csv}", file=sys.stderr)
    title = f"{TITLES[args.dataset]} (subgroup: {args.subgroup})"
    figure = draw_figure(coverage, args.class_name, title, min(args.low), args.out / "figure5.png")
    print(f"wrote {figure}", file=sys.stderr)
    summary = summary_table(coverage, args.class_name, args.low)
    emit(summary, args.out, "figure5_summary", claim_notes(summary, args.class_name, min(args.low)))
    return coverage


#: The paper's reading of Figure 5 (§7), checked against the measured shares.
PAPER_CLAIM = "most SCGs fall within the extreme low-coverage range"


def claim_notes(summary: pd.DataFrame, class_name: str, threshold: float) -> list[str]:
    """One sentence per modality: the paper's claim beside the measured share of `class_name`'s
    populated SCGs below `threshold`, and whether the claim holds ("most" read as over half)."""
    notes = []
    column = f"share_below_{threshold:g}"
    for row in summary[summary["classes"] == class_name].to_dict("records"):
        share = float(row[column])
        verdict = "holds" if share > 0.5 else "does not hold"
        notes.append(
            f"Paper: {PAPER_CLAIM}. Here ({row['modality']}, {class_name}): {share:.0%} of the "
            f"{row['populated']} populated SCGs lie below coverage {threshold:g}, median coverage "
            f"{row['median_coverage']}: the claim {verdict} on these data."
        )
    return notes


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        run(args)
    except ValueError as error:
        print(f"figure5_coverage: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
