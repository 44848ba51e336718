"""The per-epoch history of a run: ``history.csv`` and, when installed, TensorBoard scalars."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

from ..rundir import HISTORY_FILE, TENSORBOARD_DIR
from ..runtime.checkpoint import atomic_write_bytes

__all__ = ["HistoryWriter"]


class HistoryWriter:
    """Writes ``history.csv`` (rewritten atomically each epoch) and TensorBoard scalars.

    Args:
        run_dir: the run directory.
        tensorboard: ``auto`` (scalars when tensorboard is installed), ``on`` (an ImportError
            without it) or ``off``.
        enabled: False on every process but the main one (nothing is written; no TensorBoard
            writer is opened).

    Raises:
        ImportError: ``tensorboard="on"`` without the tensorboard package.
    """

    def __init__(self, run_dir: Path, tensorboard: str, enabled: bool) -> None:
        self.path = run_dir / HISTORY_FILE
        self.enabled = enabled
        self.scalars: Any = None
        if enabled and tensorboard != "off":
            self.scalars = _summary_writer(run_dir, required=tensorboard == "on")

    def write(self, rows: list[dict]) -> None:
        """Rewrite ``history.csv`` with `rows` (one per epoch; the columns in order of first
        appearance, None as an empty cell) and log the last row's numbers to TensorBoard."""
        if not self.enabled:
            return
        columns: list[str] = []
        for row in rows:
            columns += [k for k in row if k not in columns]
        buffer = io.StringIO()
        table = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        table.writeheader()
        for row in rows:
            table.writerow({k: ("" if v is None else v) for k, v in row.items()})
        atomic_write_bytes(self.path, buffer.getvalue().encode())
        if self.scalars is not None and rows:
            row = rows[-1]
            for key, value in row.items():
                if key != "epoch" and isinstance(value, int | float) and math.isfinite(value):
                    self.scalars.add_scalar(key.replace("_", "/", 1), value, row["epoch"])
            self.scalars.flush()

    def close(self) -> None:
        if self.scalars is not None:
            self.scalars.close()


def _summary_writer(run_dir: Path, *, required: bool) -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as error:
        if required:
            raise ImportError(
                "tensorboard='on' needs tensorboard: pip install 'semcov-train[tensorboard]'"
            ) from error
        return None
    return SummaryWriter(log_dir=str(run_dir / TENSORBOARD_DIR))
