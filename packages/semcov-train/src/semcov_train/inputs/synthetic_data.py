"""The synthetic benchmark of ``--dataset synthetic``: generated once into the cache folder."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import cast

from semcov_data import synthetic, synthetic_cues
from semcov_data.synthetic import SyntheticConfig, write_synthetic

from ..config import TrainConfig
from ..runtime.distributed import DistContext, barrier

__all__ = ["prepare_synthetic"]

logger = logging.getLogger("semcov_train")

#: Version of the synthetic cache layout; bump it when the folder contents change meaning.
_SYNTHETIC_FORMAT = 1


def _synthetic_config(config: TrainConfig):
    return SyntheticConfig(
        n_lesions=config.synthetic_lesions,
        image_size=config.synthetic_image_size,
        imbalance=config.synthetic_imbalance,
        positive_fraction=config.synthetic_positive_fraction,
        seed=config.synthetic_seed,
        descriptor_effects=config.synthetic_descriptor_effects,
    )


def _renderer_digest() -> str:
    """Hash of the synthetic renderer's source: a changed renderer makes a new benchmark."""
    # Both are plain source modules, whose __file__ is always set.
    files = [cast(str, m.__file__) for m in (synthetic, synthetic_cues)]
    source = b"".join(Path(f).read_bytes() for f in files)
    return hashlib.sha256(source).hexdigest()[:16]


def _synthetic_settings(config: TrainConfig) -> dict:
    return {
        "format": _SYNTHETIC_FORMAT,
        "renderer": _renderer_digest(),
        **asdict(_synthetic_config(config)),
    }


def _synthetic_key(settings: dict) -> str:
    text = json.dumps(settings, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


_MARKER = ".semcov_synthetic.json"
_METADATA = "MILK10k_Training_Metadata.csv"


def _is_complete(folder: Path, settings: dict) -> bool:
    marker = folder / _MARKER
    if not marker.is_file() or not (folder / "MILK10k_Training_Input").is_dir():
        return False
    try:
        stored = json.loads(marker.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return stored == settings


def prepare_synthetic(config: TrainConfig, context: DistContext | None = None) -> Path:
    """Generate the synthetic benchmark once and return its folder.

    The folder is ``--data-root`` if given, else ``<cache>/synthetic/<key>``, the key hashing the
    ``synthetic_*`` settings and the renderer's source (a changed renderer is a new benchmark).
    A ``--data-root`` that already holds a benchmark in the MILK10k layout (for instance one
    written by ``python -m semcov_data synth``) is used as it is.
    It is rendered into a temporary sibling and renamed into place, so an interrupted or
    concurrent generation never leaves a half-written benchmark that looks complete. Under DDP
    rank 0 generates while the others wait.
    """
    synthetic = _synthetic_config(config)
    settings = _synthetic_settings(config)
    if config.data_root is not None:
        folder = Path(config.data_root).expanduser()
    else:
        folder = config.cache_path / "synthetic" / f"synthetic-{_synthetic_key(settings)}"
    main = context is None or context.is_main
    given = config.data_root is not None
    if given and not _is_complete(folder, settings) and (folder / _METADATA).is_file():
        # A benchmark the user generated (e.g. `python -m semcov_data synth`): used as it is.
        logger.info("synthetic: using the benchmark in %s as it is (--synthetic-* ignored)", folder)
    elif main and not _is_complete(folder, settings):
        if folder.exists() and any(folder.iterdir()):
            raise ValueError(
                f"data_root: {str(folder)!r} is not empty and holds no synthetic benchmark "
                "(no MILK10k_Training_Metadata.csv); give an empty or new folder"
            )
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
        try:
            write_synthetic(staging, synthetic, workers=1 if synthetic.n_lesions < 512 else None)
            # Written last: its presence (with these exact settings) marks a complete folder.
            (staging / _MARKER).write_text(json.dumps(settings, sort_keys=True))
            if folder.exists():
                folder.rmdir()  # empty (checked above)
            try:
                os.replace(staging, folder)
            except OSError:
                if not _is_complete(folder, settings):  # a concurrent writer did not win either
                    raise
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    if context is not None:
        barrier(context)
    return folder
