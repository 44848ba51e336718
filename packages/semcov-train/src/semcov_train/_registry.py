"""Registry look-ups with a "did you mean" for typos."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import TypeVar

__all__ = ["did_you_mean", "lookup"]

T = TypeVar("T")


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(str(name), list(choices), n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def lookup(registry: Mapping[str, T], name: str, kind: str) -> T:
    """``registry[name]``, or a ValueError naming `kind`, the choices and the closest match."""
    if name in registry:
        return registry[name]
    choices = ", ".join(sorted(registry))
    raise ValueError(
        f"unknown {kind} {name!r}{did_you_mean(name, registry)}; choose one of: {choices}"
    )
