"""What a loader kept and what it left out, and why: nothing is dropped silently."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import pandas as pd

__all__ = ["EXCLUDED_COLUMNS", "LoadReport", "logger"]

logger = logging.getLogger("semcov_data")

#: Columns of :attr:`LoadReport.excluded`.
EXCLUDED_COLUMNS = ("sample_id", "reason", "detail")


def _empty_excluded() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in EXCLUDED_COLUMNS})


@dataclass(frozen=True)
class LoadReport:
    """Counts and the list of rows a loader or dataset left out.

    Attributes:
        source: what was loaded (dataset name and root).
        n_read: rows read before anything was excluded.
        excluded: one row per excluded sample with ``sample_id, reason, detail``
            (reasons: ``"missing image"``, ``"corrupt image"``, ``"other modality"``, ...).
        notes: other facts worth knowing (filled or clipped descriptor values, layout found).
    """

    source: str
    n_read: int
    excluded: pd.DataFrame = field(default_factory=_empty_excluded)
    notes: tuple[str, ...] = ()

    @property
    def n_excluded(self) -> int:
        """Number of excluded rows."""
        return len(self.excluded)

    @property
    def n_kept(self) -> int:
        """Rows kept: ``n_read - n_excluded``."""
        return self.n_read - self.n_excluded

    def counts(self) -> dict[str, int]:
        """Excluded rows per reason."""
        return {str(k): int(v) for k, v in self.excluded["reason"].value_counts().items()}

    def exclude(self, ids: Iterable[object], reason: str, details: Iterable[str] | None = None):
        """A new report with more excluded rows (``ids`` that are already listed are kept once)."""
        ids = [str(i) for i in ids]
        if not ids:
            return self
        detail = [str(d) for d in details] if details is not None else [""] * len(ids)
        added = pd.DataFrame({"sample_id": ids, "reason": reason, "detail": detail})
        frame = pd.concat([self.excluded, added], ignore_index=True) if self.n_excluded else added
        return replace(self, excluded=frame.astype(object))

    def note(self, text: str) -> LoadReport:
        """A new report with one more note."""
        return replace(self, notes=(*self.notes, text))

    def summary(self) -> str:
        """One line: kept, read, and excluded per reason."""
        parts = [f"{self.source}: kept {self.n_kept} of {self.n_read} rows"]
        if self.n_excluded:
            reasons = ", ".join(f"{n} {r}" for r, n in self.counts().items())
            parts.append(f"excluded {self.n_excluded} ({reasons})")
        parts.extend(self.notes)
        return "; ".join(parts)

    def log(self) -> LoadReport:
        """Log :meth:`summary` (a warning when rows were excluded) and return ``self``."""
        level = logging.WARNING if self.n_excluded else logging.INFO
        logger.log(level, "%s", self.summary())
        return self

    def to_dict(self) -> Mapping[str, object]:
        """JSON-ready form."""
        return {
            "source": self.source,
            "n_read": self.n_read,
            "n_kept": self.n_kept,
            "excluded": self.excluded.to_dict(orient="records"),
            "notes": list(self.notes),
        }
