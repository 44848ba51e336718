"""The argument parser every semcov_train command line builds on: an error is one line on
stderr and exit status 2, with no usage block (scripts and schedulers log the reason only)."""

from __future__ import annotations

import argparse

__all__ = ["OneLineParser"]


class OneLineParser(argparse.ArgumentParser):
    """:class:`argparse.ArgumentParser` whose errors print ``PROG: error: MESSAGE`` and exit 2.

    Example:
        >>> parser = OneLineParser(prog="demo")
        >>> _ = parser.add_argument("--n", type=int)
        >>> parser.parse_args(["--n", "3"]).n
        3
    """

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")
