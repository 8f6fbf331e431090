"""The run registry: a folder of training runs, each with its config, its log and its checkpoints.

    <runs>/train/<run id>/
        run.json        what was asked (modality, trainer arguments, summary) and where it stands
                        (status, pid, step, error); rewritten atomically by the job that trains it
        events.jsonl    the trainer's JSON-lines log (start, step, checkpoint, done, eval, saved)
        last/ best/     resumable state checkpoints (tokenworks.train.loop)
        model/          the finished tokenizer checkpoint, loadable by the Image/Audio/Text tabs
        STOP            present when someone asked the run to stop (the job ends at its next step)
        stderr.log      what the job printed to stderr (warnings, and the traceback of a crash)

Runs are addressed by id only (a folder name of ``[A-Za-z0-9._-]``, directly inside the
registry): a request can never name an arbitrary path. ``status`` is one of STATUSES; a run
whose job died without saying so (SIGKILL, a crash of the machine) reads as "interrupted" and
can be resumed from its last checkpoint.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CheckpointNotFound, InvalidInput, UnsafePath
from ..paths import runs_dir
from .common import json_events

RUN_FILE = "run.json"
EVENTS_FILE = "events.jsonl"
STOP_FILE = "STOP"
MODEL_DIR = "model"
MODALITIES = ("image", "audio", "text", "lm-embeddings", "lm")
STATUSES = ("queued", "running", "stopped", "done", "failed", "interrupted")
ACTIVE = ("queued", "running")
JOB_START_S = 60.0  # a queued run whose job has not yet written its pid reads as queued this long
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass
class RunInfo:
    id: str
    folder: Path
    modality: str  # image | audio | text | lm-embeddings | lm
    status: str  # one of STATUSES
    created: str  # ISO time, UTC
    updated: str
    argv: list[str]  # the trainer's arguments (what `python -m tokenworks.train <modality>` got)
    summary: dict[str, Any] = field(default_factory=dict)  # model, preset, data, ... for listings
    pid: int | None = None  # the job's process while it is queued or running
    pid_started: float | None = None  # that process's start time (a reused pid is not the job)
    step: int = 0  # optimizer steps done (from the last step event)
    steps: int | None = None  # the step budget
    error: str | None = None  # why it failed, for people
    metrics: dict[str, Any] = field(default_factory=dict)  # the final evaluation
    device: str | None = None  # the device lock it holds or waits for

    @property
    def has_model(self) -> bool:
        return (self.folder / MODEL_DIR / "config.json").is_file()

    @property
    def resumable(self) -> bool:
        return self.status in ("stopped", "failed", "interrupted") and (self.folder / "last" / "config.json").is_file()

    def to_json(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "folder"}
        return d


def registry_root(root: str | Path | None = None) -> Path:
    """The folder of registered runs: ``<runs>/train`` (``root`` overrides, for tests)."""
    return Path(root).expanduser().resolve() if root is not None else runs_dir() / "train"


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def check_run_id(run_id: str) -> str:
    if not isinstance(run_id, str) or not _ID.match(run_id) or run_id in (".", ".."):
        raise InvalidInput(f"{run_id!r} is not a run id; a run id is a folder name in the run registry "
                           "made of letters, digits, '.', '_' and '-' (see `python -m tokenworks.train list`)")
    return run_id


def run_folder(run_id: str, root: str | Path | None = None) -> Path:
    """The folder of a registered run, by id (never a path given in a request)."""
    base = registry_root(root)
    folder = base / check_run_id(run_id)
    if not folder.resolve().is_relative_to(base.resolve()):
        raise UnsafePath(f"refusing run {run_id!r}: its folder is a link to {folder.resolve()}, outside the run "
                         f"registry {base}; runs are read only from folders inside it")
    if not (folder / RUN_FILE).is_file():
        known = ", ".join(r.id for r in list_runs(root)[:8]) or "none yet"
        raise CheckpointNotFound(f"no run {run_id!r} in {base} (runs: {known})")
    return folder


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "-", text).strip("-")[:48] or "run"


def new_run(modality: str, argv: list[str], summary: dict[str, Any], *, root: str | Path | None = None,
            status: str = "queued", device: str | None = None) -> RunInfo:
    """Create a run folder with a fresh id (``<UTC time>-<modality>-<what>``) and its run.json."""
    if modality not in MODALITIES:
        raise InvalidInput(f"modality must be one of {', '.join(MODALITIES)}, not {modality!r}")
    base = registry_root(root)
    base.mkdir(parents=True, exist_ok=True)
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    what = _slug("-".join(str(summary[k]) for k in ("model", "data", "preset") if summary.get(k)))
    for n in range(1000):
        run_id = f"{stamp}-{modality}-{what}" + (f"-{n}" if n else "")
        try:
            (base / run_id).mkdir()
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - a thousand runs in one second
        raise InvalidInput("could not make a new run id; too many runs started this second")
    t = now()
    info = RunInfo(id=run_id, folder=base / run_id, modality=modality, status=status, created=t, updated=t,
                   argv=list(argv), summary=dict(summary), device=device)
    write_run(info)
    return info


def write_run(info: RunInfo) -> None:
    """Rewrite run.json atomically (a temp file renamed over it)."""
    info.updated = now()
    fd, tmp = tempfile.mkstemp(prefix=f".{RUN_FILE}.", dir=info.folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(info.to_json(), fh, indent=2)
            fh.write("\n")
        os.replace(tmp, info.folder / RUN_FILE)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def update_run(folder: Path, **fields: Any) -> RunInfo:
    info = read_run(folder, check_alive=False)
    for k, v in fields.items():
        if k not in RunInfo.__dataclass_fields__ or k in ("id", "folder"):
            raise InvalidInput(f"run.json has no field {k!r}")
        setattr(info, k, v)
    write_run(info)
    return info


def process_alive(pid: int | None, started: float | None) -> bool:
    """Whether ``pid`` is still the process that started at ``started`` (pids are reused)."""
    if not pid:
        return False
    try:
        import psutil

        p = psutil.Process(pid)
        if p.status() == psutil.STATUS_ZOMBIE:
            return False
        return started is None or abs(p.create_time() - started) < 1.0
    except Exception:  # noqa: BLE001 - no such process, or no access to it
        return False


def read_run(folder: str | Path, *, check_alive: bool = True) -> RunInfo:
    folder = Path(folder)
    try:
        d = json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise CheckpointNotFound(f"{folder} is not a readable run ({RUN_FILE}: {e})") from None
    known = set(RunInfo.__dataclass_fields__) - {"folder"}
    info = RunInfo(folder=folder, **{k: v for k, v in d.items() if k in known})
    if check_alive and info.status in ACTIVE and not process_alive(info.pid, info.pid_started):
        if not (info.pid is None and _age_s(info.updated) < JOB_START_S):  # a job just spawned, not started yet
            info.status = "interrupted"  # the job died without writing its end (killed, machine crash)
    return info


def _age_s(iso: str) -> float:
    try:
        return (_dt.datetime.now(_dt.timezone.utc) - _dt.datetime.fromisoformat(iso)).total_seconds()
    except ValueError:
        return float("inf")


def list_runs(root: str | Path | None = None, modality: str | None = None) -> list[RunInfo]:
    """Every registered run, newest first (``modality``: only that one)."""
    base = registry_root(root)
    if not base.is_dir():
        return []
    runs = []
    for p in base.iterdir():
        if p.is_dir() and _ID.match(p.name) and (p / RUN_FILE).is_file():
            try:
                r = read_run(p)
            except CheckpointNotFound:
                continue
            if modality is None or r.modality == modality:
                runs.append(r)
    return sorted(runs, key=lambda r: (r.created, r.id), reverse=True)


def read_events(folder: str | Path) -> list[dict[str, Any]]:
    """The run's log, in order. A resumed run's log holds the killed process's lines too: step
    lines after the step the run resumed from are dropped, so the curve is the one trained.
    A last line cut short by a kill is skipped."""
    path = Path(folder) / EVENTS_FILE
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    events: list[dict[str, Any]] = []
    for e in json_events(lines):
        if e.get("event") == "start" and e.get("resume_step"):
            s = int(e["resume_step"])
            events = [x for x in events if not (x.get("event") == "step" and int(x.get("step", 0)) > s)]
        events.append(e)
    return events


def step_history(folder: str | Path) -> list[dict[str, Any]]:
    """The "step" lines of the run's log (what the curves plot)."""
    return [e for e in read_events(folder) if e.get("event") == "step"]


def request_stop(run_id: str, root: str | Path | None = None) -> RunInfo:
    """Ask a queued or running run to stop (it ends cleanly at its next step, writing last/)."""
    folder = run_folder(run_id, root)
    info = read_run(folder)
    if info.status not in ACTIVE:
        raise InvalidInput(f"run {run_id} is {info.status}, not running; only a queued or running run can be stopped")
    (folder / STOP_FILE).touch()
    return info


def delete_run(run_id: str, root: str | Path | None = None) -> None:
    """Delete a run folder; a queued or running run must be stopped first."""
    folder = run_folder(run_id, root)
    info = read_run(folder)
    if info.status in ACTIVE:
        raise InvalidInput(f"run {run_id} is {info.status}; stop it before deleting it")
    trash = folder.with_name(f".{folder.name}.deleting")
    os.replace(folder, trash)  # gone from listings at once, even if the removal below is slow
    shutil.rmtree(trash, ignore_errors=True)


def model_folder(run_id: str, root: str | Path | None = None) -> Path:
    """The finished tokenizer checkpoint of a run (for the Image / Audio / Text tabs)."""
    folder = run_folder(run_id, root)
    model = folder / MODEL_DIR
    if not (model / "config.json").is_file():
        info = read_run(folder)
        raise CheckpointNotFound(f"run {run_id} has no finished model yet (it is {info.status}); a run saves "
                                 f"{MODEL_DIR}/ when it ends")
    return model


__all__ = ["RunInfo", "MODALITIES", "STATUSES", "registry_root", "check_run_id", "run_folder", "new_run",
           "write_run", "update_run", "read_run", "list_runs", "read_events", "step_history", "request_stop",
           "delete_run", "model_folder", "process_alive"]
