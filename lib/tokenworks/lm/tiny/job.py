"""A tournament running in the background, for the app's one-click start: a child process with
its log and pid in the tournament folder.

    j = start_job("runs/lm/tournament-cpu-tiny", preset="cpu-tiny")   # -> JobStatus
    job_status("runs/lm/tournament-cpu-tiny").lines                    # the log so far

At most one runs per folder: starting one where another is alive is refused with a message.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import InvalidInput
from .train_config import PRESETS

JOB_FILE = "job.json"
LOG_FILE = "tournament.log"


@dataclass
class JobStatus:
    folder: Path
    state: str  # none | running | done | failed
    pid: int | None = None
    started: float | None = None  # time.time() at the start
    lines: list[str] = field(default_factory=list)  # the log's last lines

    @property
    def running(self) -> bool:
        return self.state == "running"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:  # a finished child not yet reaped is a zombie: not running
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


def job_status(folder: str | Path, tail: int = 12) -> JobStatus:
    folder = Path(folder)
    job = folder / JOB_FILE
    if not job.is_file():
        return JobStatus(folder, "none")
    info = json.loads(job.read_text())
    log = folder / LOG_FILE
    lines = log.read_text(errors="replace").splitlines()[-tail:] if log.is_file() else []
    pid = info.get("pid")
    if pid and _alive(int(pid)):
        state = "running"
    else:
        board = folder / "leaderboard.json"
        state = "done" if board.is_file() and board.stat().st_mtime >= info.get("started", 0) else "failed"
    return JobStatus(folder, state, pid, info.get("started"), lines)


def start_job(folder: str | Path, preset: str = "cpu-tiny", extra: list[str] | None = None) -> JobStatus:
    """Start ``tokenworks lm tournament --preset <preset> --out <folder>`` in a child process."""
    if preset not in PRESETS:
        raise InvalidInput(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    folder = Path(folder).expanduser().resolve()
    now = job_status(folder)
    if now.running:
        raise InvalidInput(f"a tournament is already running in {folder} (pid {now.pid}); wait for it to finish")
    folder.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "tokenworks.cli", "lm", "tournament", "--preset", preset, "--out", str(folder),
           *(extra or [])]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = open(folder / LOG_FILE, "w", encoding="utf-8")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    log.close()
    (folder / JOB_FILE).write_text(json.dumps({"pid": proc.pid, "started": time.time(), "cmd": cmd}))
    return JobStatus(folder, "running", proc.pid, time.time(), [])


__all__ = ["JobStatus", "job_status", "start_job"]
