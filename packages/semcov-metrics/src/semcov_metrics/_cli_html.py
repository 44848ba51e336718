"""``report --html PATH [--card CARD.yaml]``: the HTML page and the model card of the command
line, checked before any work (folder, writability, card fields) and written after it."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["HtmlOutput"]


@dataclass(frozen=True)
class HtmlOutput:
    """What ``--html`` and ``--card`` asked for; inert (imports nothing) when neither is given."""

    path: Path | None
    card: Any

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> HtmlOutput:
        """Check ``--html``'s target and read ``--card`` before the report is computed."""
        path, card = None, None
        if args.html is not None:
            from semcov_metrics.html_report import check_html_path, require_html_extra

            require_html_extra()
            if args.html.parent.resolve() == args.out.resolve():
                args.out.mkdir(parents=True, exist_ok=True)  # the page may go beside report.json
            path = check_html_path(args.html)
        if args.card is not None:
            from semcov_metrics.model_card import load_card

            card = load_card(args.card)
        return cls(path, card)

    @staticmethod
    def context(payload: dict[str, Any]) -> dict[str, str]:
        """What was audited, from ``report.json``'s settings and row counts."""
        settings = payload["settings"]
        source = next(
            f"{key.replace('_', ' ')} {settings[key]!r} of the test file"
            for key in ("prediction_column", "score_columns", "score_column")
            if key in settings
        )
        return {
            "model": f"predictions from {source}",
            "train": f"{settings['train']} ({payload['n_train']:,} rows)",
            "test": f"{settings['test']} ({payload['n_test']:,} rows)",
        }

    def add_card(self, payload: dict[str, Any], report: Any) -> None:
        """Put the resolved model card into ``payload`` (``model_card``) when one is shown."""
        if self.path is None and self.card is None:
            return
        from semcov_metrics.html_report import card_defaults
        from semcov_metrics.model_card import card_to_dict, resolve_card

        defaults = card_defaults(report, self.context(payload))
        payload["model_card"] = card_to_dict(resolve_card(self.card, defaults))

    def write(self, report: Any, payload: dict[str, Any]) -> Path | None:
        """Write the HTML page (if asked for); returns its path."""
        if self.path is None:
            return None
        return report.to_html(self.path, card=self.card, context=self.context(payload))
