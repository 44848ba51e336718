"""Finding the samples whose image is missing or does not decode, before any epoch starts."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np

from semcov_data._validation import check_choice
from semcov_data.cache import ImageCache
from semcov_data.images import check_image
from semcov_data.table import SampleTable

__all__ = ["BAD_IMAGE_POLICIES", "BadImageError", "drop_bad_images", "find_bad_images"]

#: What to do with images that are missing or do not decode: ``"exclude"`` or ``"raise"``.
BAD_IMAGE_POLICIES = ("exclude", "raise")
_SHOW = 10


class BadImageError(ValueError):
    """Samples have an image that is missing or does not decode; the message names the files."""


def _files(table: SampleTable) -> list[list[str]]:
    return [
        [os.path.abspath(table.root / rel) for rel in table.frame[column].tolist()]
        for column in table.image_columns
    ]


def find_bad_images(
    table: SampleTable,
    *,
    cache: ImageCache | None = None,
    num_workers: int | None = None,
) -> dict[int, tuple[str, str]]:
    """Row position → ``(file, reason)`` for every sample with an image that is missing or bad.

    With a cache, the files it failed to decode (no file is opened again); without one, a
    reduced-scale decode of every file (:func:`~semcov_data.images.check_image`), which catches
    truncated and unreadable files.

    Raises:
        ValueError: the cache does not hold every image of the table.
    """
    files = _files(table)
    problems: dict[int, tuple[str, str]] = {}
    if cache is not None:
        absent = [f for col in files for f in col if f not in cache.rows]
        if absent:
            raise ValueError(
                f"cache: {len(absent)} image(s) of the table are not in the cache "
                f"(e.g. {absent[:3]}); build it from table.image_paths()"
            )
        for col in files:
            for i, f in enumerate(col):
                if f in cache.failed:
                    problems.setdefault(i, (f, cache.failed[f]))
        return problems
    with ThreadPoolExecutor(max_workers=num_workers or os.cpu_count() or 1) as pool:
        for col in files:
            for i, reason in enumerate(pool.map(check_image, col)):
                if reason is not None:
                    problems.setdefault(i, (col[i], reason))
    return problems


def drop_bad_images(
    table: SampleTable,
    *,
    cache: ImageCache | None = None,
    on_bad_image: str = "exclude",
    num_workers: int | None = None,
) -> SampleTable:
    """The table without the samples whose image is missing or does not decode.

    Each excluded sample is listed in the returned table's ``report`` with its id, the reason
    (``"missing image"`` or ``"corrupt image"``) and the decoder's message, so a truncated
    JPEG is found here, at load time, and never in the middle of an epoch.

    Args:
        table: the samples.
        cache: image cache of the table (its failed files are used; nothing is decoded again).
        on_bad_image: ``"exclude"`` (default) or ``"raise"`` (:class:`BadImageError` naming
            the files).
        num_workers: threads of the check without a cache; default ``os.cpu_count()``.
    """
    check_choice(on_bad_image, "on_bad_image", BAD_IMAGE_POLICIES)
    problems = find_bad_images(table, cache=cache, num_workers=num_workers)
    if not problems:
        return table
    bad = sorted(problems)
    if on_bad_image == "raise":
        listed = [f"{problems[i][0]} ({problems[i][1]})" for i in bad[:_SHOW]]
        raise BadImageError(
            f"{table.name}: {len(bad)} sample(s) with a bad image (missing or unreadable): "
            + "; ".join(listed)
        )
    report = table.report
    ids = table.frame["sample_id"].iloc[bad].tolist()
    reasons = ["missing image" if problems[i][1] == "missing" else "corrupt image" for i in bad]
    for reason in sorted(set(reasons)):
        picked = [j for j, r in enumerate(reasons) if r == reason]
        details = [f"{problems[bad[j]][0]}: {problems[bad[j]][1]}" for j in picked]
        report = report.exclude([ids[j] for j in picked], reason, details)
    keep = np.ones(len(table), dtype=bool)
    keep[bad] = False
    return replace(table.subset(keep), report=report.log())
