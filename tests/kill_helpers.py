"""Helpers of the SIGKILL + resume tests: kill a trainer subprocess once its first checkpoint is
on disk, and read a trainer's JSON-lines log. (tests/test_train_loop.py's kill test inlines the
same wait-and-kill; it can call ``kill_after_first_checkpoint`` instead.)"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tokenworks.train.common import json_events


def kill_after_first_checkpoint(proc: subprocess.Popen, run_dir: Path, log: Path, timeout: float = 120) -> None:
    """Wait until ``run_dir/last`` exists, then SIGKILL ``proc``; fail with the log's tail if the
    trainer exits first or writes no checkpoint within ``timeout`` seconds."""
    last = Path(run_dir) / "last"
    deadline = time.time() + timeout
    while not last.exists():  # last/ appears by a rename, so once it exists it is complete
        assert proc.poll() is None, log.read_text()[-3000:]
        assert time.time() < deadline, f"no checkpoint within {timeout:.0f} s"
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def read_events(text: str) -> list[dict]:
    """The JSON objects of a trainer's log, one a line; other lines are skipped."""
    return list(json_events(text.splitlines()))
