"""One-time decoded, resized copy of every image in one uint8 memory-mapped array, with an index."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from semcov_data._validation import check_choice
from semcov_data.images import FITS, ImageDecodeError, load_fixed_size
from semcov_data.processes import pid_alive
from semcov_data.report import logger

__all__ = ["CACHE_FORMAT", "ImageCache", "build_image_cache"]

#: Bumped whenever the cache content for the same files would differ; old caches are rebuilt.
CACHE_FORMAT = 2


def _signature(paths: Sequence[str]) -> list[list[object]]:
    out: list[list[object]] = []
    for path in paths:
        try:
            stat = os.stat(path)
            out.append([path, stat.st_size, stat.st_mtime_ns])
        except OSError:
            out.append([path, -1, -1])
    return out


def _key(paths: Sequence[str], size: int, fit: str) -> str:
    payload = json.dumps([CACHE_FORMAT, size, fit, _signature(paths)], separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


class ImageCache:
    """Images decoded once to ``(N, size, size, 3)`` uint8, read through a memory map.

    The array lives in ``<name>.npy`` beside an index ``<name>.json`` (source paths in row order,
    the key, and the files that could not be decoded). The key hashes every source file's
    path, byte size and modification time with the output size and fit: any change makes the
    cache stale and :func:`build_image_cache` rebuilds it. Rows of failed files are zeros.

    The memory map is opened lazily in each process, so a cache can be handed to DataLoader
    workers (it pickles as paths only).
    """

    def __init__(self, array_path: Path, index: dict) -> None:
        self.array_path = Path(array_path)
        self.paths: list[str] = list(index["paths"])
        self.size: int = int(index["size"])
        self.fit: str = str(index["fit"])
        self.key: str = str(index["key"])
        self.failed: dict[str, str] = dict(index["failed"])
        self.rows: dict[str, int] = {p: i for i, p in enumerate(self.paths)}
        self._array: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.paths)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_array"] = None
        return state

    @property
    def array(self) -> np.ndarray:
        """The read-only ``(N, size, size, 3)`` uint8 memory map."""
        if self._array is None:
            self._array = np.load(self.array_path, mmap_mode="r")
        return self._array

    def row(self, path: str | Path) -> int:
        """Row of a source file; ``KeyError`` when the cache does not hold it."""
        return self.rows[os.path.abspath(os.fspath(path))]

    def image(self, path: str | Path) -> np.ndarray:
        """The cached ``(size, size, 3)`` uint8 image of a source file (a view, not a copy)."""
        return self.array[self.row(path)]

    def is_fresh(self) -> bool:
        """True when no source file changed since the cache was built."""
        return _key(self.paths, self.size, self.fit) == self.key


def _default_name(paths: Sequence[str], size: int, fit: str) -> str:
    digest = hashlib.sha256("\n".join(paths).encode()).hexdigest()[:12]
    return f"images-{size}-{fit}-{digest}"


def _load_index(index_path: Path) -> dict | None:
    try:
        with open(index_path, encoding="utf-8") as handle:
            index = json.load(handle)
    except (OSError, ValueError):
        return None
    return index if isinstance(index, dict) and index.get("format") == CACHE_FORMAT else None


def _atomic_json(path: Path, payload: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(payload, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _remove_orphans(cache_dir: Path, name: str) -> None:
    """Temporary files of an interrupted build whose process is gone."""
    for tmp in cache_dir.glob(f".{name}.*.tmp-*"):
        pid = tmp.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or not pid_alive(int(pid)):
            with contextlib.suppress(OSError):
                tmp.unlink()


def _decode_all(
    tmp: Path, sources: list[str], size: int, fit: str, workers: int | None
) -> dict[str, str]:
    """Decode every source into a new .npy at ``tmp``; returns the files that failed."""
    array = np.lib.format.open_memmap(
        tmp, mode="w+", dtype=np.uint8, shape=(len(sources), size, size, 3)
    )
    failed: dict[str, str] = {}

    def fill(row: int) -> None:
        try:
            array[row] = load_fixed_size(sources[row], size, fit)
        except ImageDecodeError as error:
            missing = not os.path.isfile(sources[row])
            failed[sources[row]] = "missing" if missing else str(error)

    # PIL releases the GIL while decoding, so threads use every core without pickling.
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        for _ in pool.map(fill, range(len(sources))):
            pass
    array.flush()
    return failed


def build_image_cache(
    paths: Iterable[str | Path],
    cache_dir: str | Path,
    *,
    size: int = 256,
    fit: str = "crop",
    name: str | None = None,
    num_workers: int | None = None,
    rebuild: bool = False,
) -> ImageCache:
    """Decode and resize every image once into a memory-mapped cache, or reuse a fresh one.

    Args:
        paths: source image files (their order is the row order; duplicates are kept once).
        cache_dir: folder for ``<name>.npy`` and ``<name>.json``; created if needed.
        size: output side: images are ``size × size`` after resizing (see ``fit``).
        fit: ``"crop"`` (shorter side to ``size``, centre crop; default) or ``"pad"`` (longer
            side to ``size``, centred on black, keeps the whole field of view).
        name: file stem; default from the size, fit and a hash of the path list, so caches of
            different datasets share a folder without clashing.
        num_workers: decoding threads; default ``os.cpu_count()``.
        rebuild: build even when a fresh cache exists.

    Returns:
        The :class:`ImageCache`; files that failed to decode are listed in ``cache.failed``.

    The build writes temporary files and renames them into place (``os.replace``), the index
    last: an interrupted build leaves the previous cache (or none) and never a half-written
    one that looks complete.
    """
    check_choice(fit, "fit", FITS)
    if not isinstance(size, int) or size < 8:
        raise ValueError(f"size must be an integer >= 8, got {size!r}")
    sources = list(dict.fromkeys(os.path.abspath(os.fspath(p)) for p in paths))
    if not sources:
        raise ValueError("paths: no image to cache")
    folder = Path(cache_dir).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    stem = name or _default_name(sources, size, fit)
    array_path, index_path = folder / f"{stem}.npy", folder / f"{stem}.json"
    key = _key(sources, size, fit)
    index = _load_index(index_path)
    if not rebuild and index and index.get("key") == key and array_path.is_file():
        cache = ImageCache(array_path, index)
        if cache.array.shape == (len(sources), size, size, 3):
            return cache
    _remove_orphans(folder, stem)
    logger.info("building image cache %s: %d images at %d px", array_path, len(sources), size)
    tmp = folder / f".{stem}.npy.tmp-{os.getpid()}"
    try:
        failed = _decode_all(tmp, sources, size, fit, num_workers)
        os.replace(tmp, array_path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    index = {
        "format": CACHE_FORMAT, "size": size, "fit": fit, "key": key,
        "paths": sources, "failed": failed,
    }  # fmt: skip
    _atomic_json(index_path, index)
    if failed:
        logger.warning("image cache %s: %d image(s) could not be decoded", array_path, len(failed))
    return ImageCache(array_path, index)
