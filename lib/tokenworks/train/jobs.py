"""Training jobs: one process per run, one run per device at a time, the others queued.

A job is ``python -m tokenworks.train job RUN_ID`` (the app starts it in the background; the CLI
runs the same code in the foreground). It

1. waits for the device's lock (``<registry>/.device-<name>.lock``, an flock the kernel drops
   when the process ends, however it ends), showing "queued" meanwhile; torch is not imported
   until the lock is held, so a waiting job costs little memory;
2. marks the run "running" and calls the modality's trainer (``tokenworks.image.train``,
   ``tokenworks.audio.train``, ``tokenworks.text.train``, ``tokenworks.lm.finetune``) with the run's arguments plus
   where to write: ``<run>/model`` for the tokenizer, ``<run>`` for last/ and best/, and every
   JSON-lines event appended to ``<run>/events.jsonl``;
3. stops cleanly at the next step when the run's STOP file appears or on SIGTERM / SIGINT;
4. writes the end into run.json: done, stopped or failed with a message a person can act on
   (a full disk, a config too large for the memory, bad data), never a half-written checkpoint.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ..errors import InvalidInput, StorageFull, TokenworksError
from . import runs as R

TRAINERS = {  # modality -> the module whose main(argv) trains it
    "image": "tokenworks.image.train",
    "audio": "tokenworks.audio.train",
    "text": "tokenworks.text.train",
    "lm-embeddings": "tokenworks.lm.finetune",  # a transplanted model's new embedding rows (issue 21)
    "lm": "tokenworks.lm.tiny.train",  # a tiny language model from scratch (the tokenizer tournament)
}
RESUMABLE = ("image", "audio", "lm-embeddings", "lm")  # text training is one pass over the corpus: it is rerun, not resumed
MAX_QUEUED = 8  # runs waiting for one device; more are refused with a message
TRAIN_NICE = 10  # a job trains at this CPU niceness (env TOKENWORKS_TRAIN_NICE; 0: full priority), so that on a
# shared machine the app's requests come first and the run takes the CPU they leave (it never stops)
CHECKPOINT_EVERY = 200  # default steps between <run>/last checkpoints of a registered run
STOP_POLL_S = 0.25


@dataclass
class LockHolder:
    run_id: str | None
    pid: int | None


def device_name(argv: list[str], modality: str) -> str:
    """The device a job will train on ("cpu", "cuda"): its lock name. Text trains on the CPU."""
    if modality == "text":
        return "cpu"
    dev = _option(argv, "--device") or "auto"
    if dev == "auto":
        return "cuda" if _cuda_visible() else "cpu"
    return dev.split(":")[0] if dev.startswith("cuda") else dev


def _cuda_visible() -> bool:
    """Whether a GPU is there, without importing torch (a job waiting in the queue stays light)."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    return Path("/dev/nvidiactl").exists() or Path("/proc/driver/nvidia/version").exists()


def _option(argv: list[str], name: str) -> str | None:
    for i, a in enumerate(argv):
        if a == name and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return None


class DeviceLock:
    """An exclusive flock per device in the registry folder; the holder's run id is written in it."""

    def __init__(self, device: str, root: str | Path | None = None) -> None:
        self.path = R.registry_root(root) / f".device-{device}.lock"
        self.device = device
        self.fh: Any = None

    def try_acquire(self, run_id: str) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            fh.close()
            if e.errno in (errno.EAGAIN, errno.EACCES):
                return False
            raise
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({"run_id": run_id, "pid": os.getpid()}))
        fh.flush()
        self.fh = fh
        return True

    def holder(self) -> LockHolder | None:
        """Who holds the lock now (None: nobody)."""
        if not self.path.exists():
            return None
        with open(self.path, "a+", encoding="utf-8") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                fh.seek(0)
                try:
                    d = json.loads(fh.read() or "{}")
                except ValueError:
                    d = {}
                return LockHolder(run_id=d.get("run_id"), pid=d.get("pid"))
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            return None

    def release(self) -> None:
        if self.fh is not None:
            fcntl.flock(self.fh.fileno(), fcntl.LOCK_UN)
            self.fh.close()
            self.fh = None


# ---- starting jobs (the app, the CLI) ----------------------------------------------------------


def _own_start_time() -> float | None:
    try:
        import psutil

        return psutil.Process(os.getpid()).create_time()
    except Exception:  # noqa: BLE001
        return None


def queued_on(device: str, root: str | Path | None = None) -> list[R.RunInfo]:
    return [r for r in R.list_runs(root) if r.status == "queued" and r.device == device]


def submit(modality: str, argv: list[str], summary: dict[str, Any], *, root: str | Path | None = None) -> R.RunInfo:
    """Register a run and start its job in the background; it waits its turn for the device."""
    if modality not in TRAINERS:
        raise InvalidInput(f"modality must be one of {', '.join(TRAINERS)}, not {modality!r}")
    device = device_name(argv, modality)
    waiting = queued_on(device, root)
    if len(waiting) >= MAX_QUEUED:
        raise InvalidInput(f"{len(waiting)} training runs are already waiting for the {device}; "
                           f"at most {MAX_QUEUED} may wait. Try again when one has finished, or stop one")
    info = R.new_run(modality, argv, summary, root=root, device=device)
    spawn(info.folder, "job", root=root)
    return info


def check_resumable(info: R.RunInfo) -> None:
    """Raise with the reason when ``info`` cannot be resumed."""
    if info.modality not in RESUMABLE:
        raise InvalidInput(f"{info.modality} runs are not resumable (only {', '.join(RESUMABLE)}); start a new run")
    if not info.resumable:
        why = ("it is still " + info.status) if info.status in R.ACTIVE else (
            "it finished" if info.status == "done" else "it wrote no last/ checkpoint")
        raise InvalidInput(f"run {info.id} cannot be resumed: {why}")


def resume_run(run_id: str, *, root: str | Path | None = None, steps: int | None = None) -> R.RunInfo:
    """Continue a stopped, failed or interrupted run from its last checkpoint, in the background."""
    folder = R.run_folder(run_id, root)
    check_resumable(R.read_run(folder))
    (folder / R.STOP_FILE).unlink(missing_ok=True)
    R.update_run(folder, status="queued", error=None, pid=None, pid_started=None)  # the job takes it from here
    spawn(folder, "resume", root=root, extra=(["--steps", str(int(steps))] if steps else []))
    return R.read_run(folder)


def spawn(folder: Path, command: str, *, root: str | Path | None = None, extra: list[str] | None = None) -> subprocess.Popen:
    """Start ``python -m tokenworks.train <command> <run id>`` detached, stderr into the run folder."""
    env = dict(os.environ)
    lib = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = lib + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONUNBUFFERED"] = "1"
    if root is not None:  # the job finds the registry as <TOKENWORKS_RUNS>/train
        if R.registry_root(root).name != "train":
            raise InvalidInput(f"a run registry folder must be named 'train', not {R.registry_root(root)}")
        env["TOKENWORKS_RUNS"] = str(R.registry_root(root).parent)
    cmd = [sys.executable, "-m", "tokenworks.train", command, folder.name, *(extra or [])]
    with open(folder / "stderr.log", "ab") as err:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                             env=env, start_new_session=True, close_fds=True)
    _CHILDREN.append(p)
    _reap()
    return p


_CHILDREN: list[subprocess.Popen] = []


def _reap() -> None:
    """Collect finished children so that none stays a zombie in a long-running app."""
    for p in list(_CHILDREN):
        if p.poll() is not None:
            _CHILDREN.remove(p)


# ---- the job itself ------------------------------------------------------------------------------


def trainer_argv(info: R.RunInfo, *, resume: bool, extra: list[str] | None = None) -> list[str]:
    """The trainer's arguments for this run: the user's, plus where the run writes."""
    folder = info.folder
    if resume:
        return ["--resume", str(folder), *(extra or [])]
    argv = list(info.argv)
    for reserved in ("--out", "--run-dir", "--resume"):
        if _option(argv, reserved) is not None:
            raise InvalidInput(f"{reserved} is set by the run registry (the run writes into {folder}); leave it out")
    argv += ["--out", str(folder / R.MODEL_DIR)]
    if info.modality in RESUMABLE:
        argv += ["--run-dir", str(folder)]
        if _option(argv, "--checkpoint-every") is None:
            argv += ["--checkpoint-every", str(CHECKPOINT_EVERY)]
        if info.modality == "image" and _option(argv, "--preview-every") is None:
            argv += ["--preview-every", _option(argv, "--checkpoint-every")]  # a picture per checkpoint
    return argv


def run_job(folder: Path, *, resume: bool = False, extra: list[str] | None = None, wait: bool = True,
            lock_root: str | Path | None = None) -> int:
    """Train the registered run in ``folder`` in this process; returns the exit status (0: done or
    stopped, 1: failed, 3: the device was busy and ``wait`` was False)."""
    info = R.read_run(folder, check_alive=False)
    lower_priority()
    started = _own_start_time()
    info = R.update_run(folder, pid=os.getpid(), pid_started=started, status="queued")
    lock = DeviceLock(info.device or "cpu", lock_root if lock_root is not None else folder.parent)
    stop_file = folder / R.STOP_FILE
    while not lock.try_acquire(info.id):
        if not wait:
            h = lock.holder()
            R.update_run(folder, status="failed", error=f"the {lock.device} is busy with run "
                         f"{h.run_id if h else '?'}; start again when it has finished (or queue it)")
            return 3
        if stop_file.exists():
            R.update_run(folder, status="stopped", error=None)
            return 0
        time.sleep(STOP_POLL_S)
    try:
        return _train_holding_lock(folder, resume=resume, extra=extra)
    finally:
        lock.release()


def lower_priority(nice: int | None = None) -> int:
    """Raise this process's CPU niceness to ``nice`` (default: env TOKENWORKS_TRAIN_NICE, else
    TRAIN_NICE) before any thread starts, so every training thread inherits it; returns the niceness."""
    want = nice if nice is not None else int(os.environ.get("TOKENWORKS_TRAIN_NICE", TRAIN_NICE))
    now = os.nice(0)
    if want > now:
        now = os.nice(want - now)
    return now


def _train_holding_lock(folder: Path, *, resume: bool, extra: list[str] | None) -> int:
    info = R.update_run(folder, status="running", error=None)
    if (folder / R.STOP_FILE).exists():
        R.update_run(folder, status="stopped")
        return 0
    import importlib

    from .common import event_file
    from .loop import PROCESS_STOP, request_stop

    PROCESS_STOP.clear()
    done = threading.Event()
    watcher = threading.Thread(target=_watch_stop, args=(folder / R.STOP_FILE, done), daemon=True)
    watcher.start()
    old = {s: signal.signal(s, lambda *_: request_stop()) for s in (signal.SIGTERM, signal.SIGINT)}
    status, error = "failed", None
    tee = _Tail(sys.stderr)
    try:
        argv = trainer_argv(info, resume=resume, extra=extra)
        module = importlib.import_module(TRAINERS[info.modality])
        with event_file(folder / R.EVENTS_FILE), contextlib.redirect_stderr(tee):
            rc = module.main(argv)
        status = "stopped" if _last_done_reason(folder) == "stopped" else ("done" if rc == 0 else "failed")
        if rc != 0:
            error = tee.error() or f"the trainer exited with status {rc}"
    except StorageFull as e:
        error = str(e)
    except TokenworksError as e:
        error = str(e)
    except MemoryError:
        error = ("the machine ran out of memory while training; lower batch_size or the model size "
                 "(the last checkpoint is intact and can be resumed)")
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            error = f"the disk is full ({e.strerror}); free some space and resume the run from its last checkpoint"
        else:
            error = f"{type(e).__name__}: {e}"
        traceback.print_exc()
    except SystemExit as e:  # argparse rejected the arguments (it said why on stderr)
        error = tee.error() or f"the trainer's arguments were refused (exit {e.code})"
    except Exception as e:  # noqa: BLE001 - recorded for the person, traceback in stderr.log
        msg = str(e)
        if "out of memory" in msg.lower() or "can't allocate memory" in msg.lower():
            error = ("the device ran out of memory while training; lower batch_size or the model size "
                     "(the last checkpoint is intact and can be resumed)")
        else:
            error = f"{type(e).__name__}: {msg[:500]}"
        traceback.print_exc()
    finally:
        done.set()
        for s, h in old.items():
            signal.signal(s, h)
    _finish(folder, status, error)
    return 0 if status in ("done", "stopped") else 1


class _Tail(io.TextIOBase):
    """stderr passed through, its last lines kept: a trainer says why it gave up as "error: ..."."""

    def __init__(self, out: TextIO) -> None:
        self.out, self.buf = out, ""

    def write(self, text: str) -> int:
        self.out.write(text)
        self.buf = (self.buf + text)[-4000:]
        return len(text)

    def flush(self) -> None:
        self.out.flush()

    def error(self) -> str | None:
        lines = [t.strip() for t in self.buf.splitlines() if t.strip()]
        said = [t[len("error: "):] for t in lines if t.startswith("error: ")]
        return said[-1] if said else (lines[-1][-600:] if lines else None)


def _finish(folder: Path, status: str, error: str | None) -> None:
    events = R.read_events(folder)
    steps = [e for e in events if e.get("event") == "step"]
    evals = [e for e in events if e.get("event") == "eval"]
    fields: dict[str, Any] = {"status": status, "error": error}
    if steps:
        fields["step"] = int(steps[-1].get("step", 0))
        fields["steps"] = steps[-1].get("steps")
    if evals:
        fields["metrics"] = {k: v for k, v in evals[-1].items() if k != "event"}
    R.update_run(folder, **fields)


def _last_done_reason(folder: Path) -> str | None:
    done = [e for e in R.read_events(folder) if e.get("event") == "done"]
    return done[-1].get("reason") if done else None


def _watch_stop(path: Path, done: threading.Event) -> None:
    from .loop import request_stop

    while not done.wait(STOP_POLL_S):
        if path.exists():
            request_stop()
            return


def wait_for(run_id: str, statuses: tuple[str, ...], *, root: str | Path | None = None,
             timeout: float = 120.0) -> R.RunInfo:
    """Poll a run until its status is one of ``statuses`` (for tests and scripts)."""
    t0 = time.monotonic()
    while True:
        info = R.read_run(R.run_folder(run_id, root))
        if info.status in statuses:
            return info
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"run {run_id} is still {info.status} after {timeout:.0f} s")
        time.sleep(0.2)


__all__ = ["TRAINERS", "MAX_QUEUED", "DeviceLock", "LockHolder", "device_name", "submit", "resume_run", "spawn",
           "run_job", "trainer_argv", "check_resumable", "queued_on", "wait_for"]
