"""A run directory belongs to one process: a second one is refused naming the holder, and a
lock left by a process that died is taken over with a warning."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys

import pytest

from semcov_train import run_directory, train
from semcov_train.training.run_lock import LOCK_FILE, RunDirectoryLocked, RunLock


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_lock_names_its_holder_and_is_released(tmp_path):
    folder = tmp_path / "run"
    with RunLock(folder) as lock:
        assert lock.held
        record = json.loads((folder / LOCK_FILE).read_text())
        assert record["pid"] > 0 and record["host"] == socket.gethostname()
        with pytest.raises(RunDirectoryLocked, match=rf"in use by pid {record['pid']} on host"):
            RunLock(folder).acquire()
    assert (folder / LOCK_FILE).read_text() == ""  # a clean end leaves nothing to take over
    with RunLock(folder):
        pass


def test_stale_lock_of_a_dead_process_is_taken_over_with_a_warning(smoke, caplog):
    config = smoke(method="erm")
    run_dir = run_directory(config)
    run_dir.mkdir(parents=True)
    dead = _dead_pid()
    (run_dir / LOCK_FILE).write_text(json.dumps({"pid": dead, "host": socket.gethostname()}))
    with caplog.at_level(logging.WARNING, logger="semcov_train"):
        result = train(config)
    assert result.results["epochs_completed"] == 1
    assert any(f"pid {dead}" in r.getMessage() and "taking over" in r.getMessage()
               for r in caplog.records)  # fmt: skip
    assert (run_dir / LOCK_FILE).read_text() == ""


def test_busy_run_directory_is_refused_with_exit_2_naming_the_pid(smoke):
    config = smoke(method="erm")
    run_dir = run_directory(config)
    with RunLock(run_dir) as lock:
        holder = json.loads(lock.path.read_text())["pid"]
        line = [sys.executable, "-m", "semcov_train", "--method", "erm", "--dataset", "synthetic"]
        line += ["--preset", "smoke", "--out", config.out, "--cache-dir", config.cache_dir]
        busy = subprocess.run([*line, "--resume"], capture_output=True, text=True, timeout=300)
        with pytest.raises(RunDirectoryLocked, match=f"pid {holder}"):
            train(config, resume=True)
    assert busy.returncode == 2
    lines = busy.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert f"is in use by pid {holder} on host {socket.gethostname()}" in lines[0]
    assert not (run_dir / "DONE").exists()
    assert not (run_dir / "checkpoints").exists()  # nothing was written by the refused runs
