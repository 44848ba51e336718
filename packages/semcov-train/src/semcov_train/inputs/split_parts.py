"""The train / val / test tables of a run: the fold's split, the synthetic independent test
draw, and the shuffled-descriptor control.

With ``synthetic_test_lesions > 0`` (synthetic data only) the test split is an independent
benchmark draw of that many lesions (seed ``synthetic_seed + TEST_DRAW_SEED_OFFSET``), the same
for every fold and seed; the pool's own test tenths then train too (90:10 train:val, the
validation tenth rotating with the fold). Paper: 70:10:20 on MILK10k (5,240 lesions); here, on
synthetic data: rendering is cheap, so every run is scored on a test set large enough for
per-SCG error rates (a few thousand lesions) while training stays small.
"""

from __future__ import annotations

import numpy as np

from .._registry import lookup
from ..methods.registry import METHODS
from .csv_data import split_parts
from .shuffle import shuffle_within_cells
from .sources import load_table
from .synthetic_data import prepare_synthetic

__all__ = [
    "TEST_DRAW_SEED_OFFSET",
    "prepare_synthetic_parts",
    "split_tables",
    "test_draw_config",
    "test_draw_table",
]

#: Seed offset of the independent test draw. 1001 keeps the draw's lesion and image ids (which
#: carry ``seed % 1000`` and ``seed % 100``) apart from the pool's.
TEST_DRAW_SEED_OFFSET = 1001
PARTS = ("train", "val", "test")


def test_draw_config(config):
    """The config that generates the independent test draw of a synthetic run, or None."""
    if config.dataset != "synthetic" or config.synthetic_test_lesions == 0:
        return None
    return config.replace(
        synthetic_lesions=config.synthetic_test_lesions,
        synthetic_seed=config.synthetic_seed + TEST_DRAW_SEED_OFFSET,
        synthetic_test_lesions=0,
        data_root=None,
    )


def prepare_synthetic_parts(config) -> dict:
    """Render what a synthetic run reads, if not rendered yet: ``{"pool": folder, "test":
    folder}`` (the independent test draw's folder, or the pool's without one)."""
    pool = prepare_synthetic(config)
    draw = test_draw_config(config)
    return {"pool": pool, "test": prepare_synthetic(draw) if draw is not None else pool}


def test_draw_table(config, table, context=None):
    """The independent test draw's :class:`~semcov_data.SampleTable` of a synthetic run (rank 0
    generates it when missing), or None without one.

    Raises:
        ValueError: the test draw's SCG axes differ from the pool's.
    """
    draw = test_draw_config(config)
    if draw is None:
        return None
    test = load_table(draw, context)
    for axis in ("classes", "descriptor_names", "subgroup_values"):
        if getattr(test, axis) != getattr(table, axis):
            raise ValueError(f"synthetic_test_lesions: the test draw's {axis} differ")
    return test


def split_tables(config, table, context=None, *, test=None, parts=None) -> dict:
    """``{"train", "val", "test"}`` → :class:`~semcov_data.SampleTable` of the run.

    Args:
        config: the run's :class:`~semcov_train.TrainConfig`.
        table: the dataset's table (the pool, on synthetic data).
        context: the distributed context (rank 0 generates a missing test draw).
        test: the test draw's table when the caller loaded it already
            (:func:`test_draw_table`); loaded here otherwise.
        parts: the part of every row of `table` when the caller split it already
            (:func:`semcov_train.inputs.csv_data.split_parts`); split here otherwise.

    Raises:
        ValueError: a part is empty, or the test draw's SCG axes differ from the pool's.
    """
    if parts is None:
        parts, table = split_parts(table, config)
    if test is None:
        test = test_draw_table(config, table, context)
    tables = {}
    if test is not None:
        parts = np.where(parts == "test", "train", parts)
        tables["test"] = test
    for part in PARTS:
        if part not in tables:
            tables[part] = table.subset(parts == part)
        if len(tables[part]) == 0:
            raise ValueError(f"the {part} split of {table.name} is empty")
    if lookup(METHODS, config.method, "method").shuffle_descriptors:
        tables = {
            part: shuffle_within_cells(tables[part], config.seed, k) for k, part in enumerate(PARTS)
        }
    return {part: tables[part] for part in PARTS}
