"""Provenance written into ``config.json``: package versions and the source tree's git commit."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

__all__ = ["provenance"]


def _git_commit() -> dict:
    try:
        root = Path(__file__).resolve().parent
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        )
        if commit.returncode != 0:
            return {"commit": None, "dirty": None}
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        )
        return {"commit": commit.stdout.strip(), "dirty": bool(status.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def _versions() -> dict:
    names: tuple[str, ...] = ("semcov-train", "semcov-layers", "semcov-data", "semcov-metrics")
    names += ("torch", "timm", "torchvision", "numpy", "pandas", "scikit-learn", "pyarrow")
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def provenance() -> dict:
    """``{"versions": {...}, "git": {"commit", "dirty"}}`` of this process: Python and package
    versions (None when not installed), and the git commit of the source tree (None outside a
    clone), as written into ``config.json``."""
    return {"versions": _versions(), "git": _git_commit()}
