"""One process at a time in a run directory: an advisory lock that names its holder.

The lock is ``<run_dir>/.lock``, held with ``fcntl.flock`` for the life of the training
process. The operating system releases a ``flock`` when its holder dies however it dies
(SIGKILL, out of memory, a lost node), so a lock that can be taken is never stale in the
sense of being held; the file's content (pid, host, start time) is only a record. A record
left behind without a holder is how a crashed run is recognised: the new holder logs a
warning naming the dead process and takes over. Where ``fcntl`` is missing (Windows) or the
file system refuses ``flock``, the record alone decides: a record from this host whose
process is gone is stale; any other record is treated as held.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import time
from pathlib import Path

from semcov_data.processes import pid_alive

from ..rundir import LOCK_FILE
from ..runtime.distributed import all_gather_objects

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["LOCK_FILE", "RunDirectoryLocked", "RunLock", "close_inherited_locks"]

logger = logging.getLogger("semcov_train")
#: Descriptors of the locks this process holds (a forked child inherits them).
_HELD: set[int] = set()


def close_inherited_locks() -> None:
    """In a forked child (a DataLoader worker): close its copies of the parent's lock
    descriptors. A ``flock`` lasts while any copy of its descriptor is open, so a loader worker
    that outlives a killed trainer for a moment would otherwise keep the run directory locked
    against the ``--resume`` that follows; closing a copy leaves the parent's lock held."""
    for fd in list(_HELD):
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD.clear()


class RunDirectoryLocked(ValueError):
    """Another process holds the run directory; the message names its pid and host."""


def _read_record(path: Path) -> dict | None:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if not text:
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return {"pid": None, "host": None, "raw": text[:80]}
    return record if isinstance(record, dict) else None


def _describe(record: dict | None) -> str:
    if not record:
        return "an unknown process"
    return f"pid {record.get('pid')} on host {record.get('host')}"


class RunLock:
    """Exclusive lock of a run directory for one process (a context manager).

    Args:
        run_dir: the run directory; created when missing.

    Raises (on enter):
        RunDirectoryLocked: another live process holds it (its pid and host are named).

    Example:
        >>> import tempfile
        >>> folder = tempfile.mkdtemp()
        >>> with RunLock(folder):
        ...     RunLock(folder).acquire()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        semcov_train.training.run_lock.RunDirectoryLocked: run directory ... is in use by pid ...
    """

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_FILE
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> RunLock:
        """Take the lock, or raise :class:`RunDirectoryLocked` naming the holder."""
        if self._fd is not None:
            return self
        self.run_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if not self._lock(fd):
                raise RunDirectoryLocked(
                    f"run directory {str(self.run_dir)!r} is in use by "
                    f"{_describe(_read_record(self.path))} (lock {self.path}); wait for it to "
                    "finish or stop it, or choose another --out / --experiment"
                )
            previous = _read_record(self.path)
            if previous:
                logger.warning(
                    "run directory %s: taking over the lock left by %s, which is no longer "
                    "running (an interrupted run)",
                    self.run_dir,
                    _describe(previous),
                )
            record = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(record).encode(), 0)
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        _HELD.add(fd)
        return self

    def _lock(self, fd: int) -> bool:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                return False
            except OSError:
                pass  # a file system without flock: fall back on the record
        record = _read_record(self.path)
        if not record or record.get("pid") is None:
            return True
        same_host = record.get("host") == socket.gethostname()
        return same_host and not pid_alive(int(record["pid"]))

    def release(self) -> None:
        """Empty the record (a clean end leaves nothing to take over) and unlock."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        _HELD.discard(fd)
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        if fcntl is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


@contextlib.contextmanager
def lock_run_directory(run_dir: str | Path, context):
    """Hold :class:`RunLock` on ``run_dir`` for a run of one or several processes.

    Rank 0 takes the lock; every rank learns the outcome, so under ``torchrun`` all processes
    stop with the same :class:`RunDirectoryLocked` instead of waiting at a barrier.
    """
    lock = RunLock(run_dir)
    error = None
    if context.is_main:
        try:
            lock.acquire()
        except RunDirectoryLocked as caught:
            error = str(caught)
    error = all_gather_objects(error, context)[0]
    if error is not None:
        raise RunDirectoryLocked(error)
    try:
        yield lock
    finally:
        lock.release()
