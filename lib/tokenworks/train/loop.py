"""One training loop for the neural tokenizers: a generator of events, resumable exactly.

    state = LoopState(model, optimizer, rng=np.random.default_rng(seed), config=asdict(cfg))
    for ev in run_steps(state, step_fn, batches, LoopConfig(steps=300, run_dir="runs/x.run")):
        ...  # StepEvent | PreviewEvent | CheckpointEvent | DoneEvent

The trainer supplies the model, the optimizer, ``batches(rng) -> batch`` (every random choice
of the data drawn from ``rng``, the numpy Generator of the state) and ``step_fn(batch, ctx) ->
StepOutput`` (forward, backward, optimizer step; it sets the learning rate from ``ctx``). The
loop counts steps and time, averages what step_fn reports over each log window, checks the
stop flag between steps, and writes (when ``run_dir`` is set)

    <run>/last/   every ``checkpoint_every`` steps and when the run ends: resume from here
    <run>/best/   the state with the best ``best_metric`` averaged over the last ``best_window`` steps

each atomically (``save_checkpoint``: a hidden temp folder, fsync, rename). A state checkpoint
holds the weights (model.safetensors), the optimizer and the torch RNG (state.safetensors), and
in config.json the trainer's config, the step, the seconds trained, the numpy and python RNG
states and the log window. ``load_last`` + ``restore`` continue where the run stopped: on the
CPU the resumed run draws the same batches and ends with the same weights as a run never
interrupted, as long as the run is bounded by steps (a ``minutes`` budget ties the LR schedule,
and where the run ends, to the clock).
"""
from __future__ import annotations

import dataclasses
import errno
import random
import shutil
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Literal

import numpy as np
import torch

from ..checkpoint import load_checkpoint, read_info, save_checkpoint, verify_files
from ..errors import CheckpointNotFound, CorruptCheckpoint, InvalidInput, StorageFull

STATE_KIND = "train/state"  # the `kind` of a last/ or best/ checkpoint
STATE_FILE = "state.safetensors"  # optimizer tensors and the torch RNG, beside model.safetensors
SLOTS = ("last", "best")


@dataclass
class LoopConfig:
    steps: int = 300  # optimizer steps at most
    minutes: float | None = None  # wall-clock budget, counted across resumes (None: no budget)
    log_every: int = 25  # a StepEvent every n steps (and after the first and the last step)
    preview_every: int = 0  # a PreviewEvent every n steps (0: never; needs preview_fn)
    checkpoint_every: int = 0  # write <run>/last every n steps (0: only when the run ends)
    run_dir: str | None = None  # the folder of last/ and best/ (None: no checkpoints)
    best_metric: str = "loss"  # a key of StepOutput.losses or .metrics that picks <run>/best
    best_mode: str = "min"  # min | max: which way is better
    best_window: int | None = None  # steps averaged for best_metric (None: log_every)


@dataclass
class StepContext:
    """What step_fn is told about the step it is to take."""

    step: int  # steps done before this one (0 for the first)
    steps: int  # the step budget
    progress: float  # in [0, 1]: the larger of steps done and wall-clock budget used


@dataclass
class StepOutput:
    """What step_fn reports; tensors are averaged over the log window without syncing the GPU."""

    losses: dict[str, Any]  # name -> 0-dim tensor or float, e.g. {"loss": ..., "mse": ...}
    metrics: dict[str, Any] = field(default_factory=dict)  # e.g. {"grad_norm": ...}
    codebook: dict[str, float] = field(default_factory=dict)  # quantizer stats: usage, perplexity, ...
    items: int = 0  # examples in the batch (for throughput)


@dataclass
class StepEvent:
    step: int  # optimizer steps done
    steps: int  # the step budget
    losses: dict[str, float]  # means over the log window
    metrics: dict[str, float]  # means over the log window
    codebook: dict[str, float]  # means over the log window
    lr: float  # learning rate of the last step (first param group)
    items_per_s: float  # throughput over the log window
    elapsed: float  # seconds trained, across resumes
    eta_seconds: float | None  # until the step or minute budget runs out (None: not known yet)
    window: int  # steps averaged


@dataclass
class PreviewEvent:
    step: int
    data: Any  # whatever preview_fn returned, e.g. reconstructions


@dataclass
class CheckpointEvent:
    path: Path
    kind: Literal["last", "best"]
    step: int
    metric: float | None  # the best_metric window mean at this step (None: no window yet)


@dataclass
class DoneEvent:
    reason: Literal["steps", "minutes", "stopped"]
    steps: int  # steps done in all
    seconds: float  # seconds trained in all


Event = StepEvent | PreviewEvent | CheckpointEvent | DoneEvent
StopFlag = threading.Event | Callable[[], bool] | None
PROCESS_STOP = threading.Event()  # set by a job runner (signal, STOP file): ends every run_steps of
# this process that was given no stop flag of its own, cleanly, at the next step


def request_stop() -> None:
    """Ask the runs of this process that have no stop flag of their own to end at the next step."""
    PROCESS_STOP.set()


@dataclass
class LoopState:
    """Everything a run carries from step to step; all of it is saved in <run>/last."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    rng: np.random.Generator  # draws every batch; its state is saved, so the data order resumes
    config: dict[str, Any] = field(default_factory=dict)  # the trainer's config, saved in checkpoints
    name: str = "run"  # saved as the checkpoint name
    trainer: str = ""  # the module that wrote it, e.g. "tokenworks.image.train" (checked on resume)
    data_hash: str | None = None  # of the training data, saved and checked on resume
    step: int = 0  # optimizer steps done
    elapsed: float = 0.0  # seconds trained before this process took over
    best: float | None = None  # the best window mean of best_metric so far
    best_step: int | None = None
    sums: dict[str, dict[str, Any]] = field(default_factory=dict)  # log window: group -> name -> sum
    window_steps: int = 0  # steps in the log window
    recent: list[float] = field(default_factory=list)  # best_metric of the last best_window steps


@dataclass
class SavedState:
    """A state checkpoint read back by ``load_last``."""

    folder: Path
    config: dict[str, Any]  # the trainer's config
    step: int
    elapsed: float
    data_hash: str | None
    info: dict[str, Any]  # the whole config.json
    model: dict[str, torch.Tensor]  # model.safetensors
    tensors: dict[str, torch.Tensor]  # state.safetensors


# ---- the loop ---------------------------------------------------------------------------------


def run_steps(
    state: LoopState,
    step_fn: Callable[[Any, StepContext], StepOutput],
    batches: Callable[[np.random.Generator], Any],
    cfg: LoopConfig,
    *,
    stop: StopFlag = None,
    preview_fn: Callable[[LoopState], Any] | None = None,
) -> Iterator[Event]:
    """Train from ``state.step`` until ``cfg.steps``, the minutes budget or the stop flag; yield events.

    ``stop`` (a threading.Event or a callable returning True) is checked before every step; the
    run then ends cleanly: <run>/last is written and DoneEvent(reason="stopped") comes last.
    Without ``stop``, the process-wide ``PROCESS_STOP`` (``request_stop``) is checked instead.
    A disk that fills up while a checkpoint is written raises ``StorageFull``; the checkpoint
    written before it stays whole.
    """
    _check(cfg)
    if stop is None:
        stop = PROCESS_STOP
    run_dir = Path(cfg.run_dir).expanduser().resolve() if cfg.run_dir else None
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        clean_stale(run_dir)
    window = cfg.best_window or cfg.log_every
    recent: deque[Any] = deque(state.recent, maxlen=window)
    budget = cfg.minutes * 60.0 if cfg.minutes else None
    t0 = time.perf_counter()
    t_log, items_log, steps_log = t0, 0, 0  # throughput window (restarts with the process)
    lr = float(state.optimizer.param_groups[0]["lr"])

    def elapsed() -> float:
        return state.elapsed + time.perf_counter() - t0

    def save(kind: Literal["last", "best"], metric: float | None) -> CheckpointEvent:
        assert run_dir is not None
        state.recent = [float(v) for v in recent]
        try:
            path = save_state(run_dir / kind, state, cfg, elapsed())
        except OSError as e:
            if e.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            kept = _complete(run_dir / kind)
            before = (f"the {kind}/ checkpoint of step {kept['train_state']['step']} is intact"
                      if kept else f"no earlier {kind}/ checkpoint was written")
            raise StorageFull(f"the disk is full: writing the {kind}/ checkpoint of step {state.step} to "
                              f"{run_dir} failed ({e.strerror}); {before}. Free some space, then resume "
                              "the run from its last checkpoint") from None
        return CheckpointEvent(path=path, kind=kind, step=state.step, metric=metric)

    def checkpoints() -> Iterator[CheckpointEvent]:
        if run_dir is None:
            return
        metric = sum(float(v) for v in recent) / len(recent) if len(recent) == window else None
        yield save("last", metric)
        if metric is not None and metric == metric and (
            state.best is None or (metric < state.best if cfg.best_mode == "min" else metric > state.best)
        ):
            state.best, state.best_step = metric, state.step
            yield save("best", metric)

    def window_event(now: float, eta: float | None) -> StepEvent:
        """The log window's means as a StepEvent (throughput over the steps of this process)."""
        means = {g: {k: float(v) / state.window_steps for k, v in d.items()} for g, d in state.sums.items()}
        return StepEvent(step=state.step, steps=cfg.steps, losses=means.get("losses", {}),
                         metrics=means.get("metrics", {}), codebook=means.get("codebook", {}), lr=lr,
                         items_per_s=items_log / max(now - t_log, 1e-9), elapsed=elapsed(), eta_seconds=eta,
                         window=state.window_steps)

    reason: Literal["steps", "minutes", "stopped"]
    while True:
        if state.step >= cfg.steps:
            reason = "steps"
            break
        if budget is not None and elapsed() >= budget:
            reason = "minutes"
            break
        if stop_requested(stop):
            reason = "stopped"
            break
        progress = max(state.step / cfg.steps, elapsed() / budget if budget else 0.0)
        batch = batches(state.rng)
        out = step_fn(batch, StepContext(step=state.step, steps=cfg.steps, progress=min(1.0, progress)))
        state.step += 1
        lr = float(state.optimizer.param_groups[0]["lr"])
        _accumulate(state, out)
        value = out.losses.get(cfg.best_metric, out.metrics.get(cfg.best_metric))
        if value is None:
            raise InvalidInput(f"best_metric {cfg.best_metric!r} is not reported by the step function; "
                               f"it reports {', '.join(sorted({*out.losses, *out.metrics}))}")
        recent.append(value.detach().double() if isinstance(value, torch.Tensor) else float(value))
        items_log += out.items
        steps_log += 1

        if state.step % cfg.log_every == 0 or state.step == 1 or state.step == cfg.steps:
            now = time.perf_counter()
            eta = (cfg.steps - state.step) * max(now - t_log, 1e-9) / steps_log
            if budget is not None:
                eta = min(eta, max(0.0, budget - elapsed()))
            yield window_event(now, eta)
            state.sums, state.window_steps = {}, 0
            t_log, items_log, steps_log = now, 0, 0
        if preview_fn is not None and cfg.preview_every and state.step % cfg.preview_every == 0:
            yield PreviewEvent(step=state.step, data=_preview(preview_fn, state))
        if cfg.checkpoint_every and state.step % cfg.checkpoint_every == 0 and state.step < cfg.steps:
            yield from checkpoints()

    if reason != "steps" and state.window_steps and steps_log:  # the curve ends where the run stopped
        yield window_event(time.perf_counter(), None)
        # the window is kept: a resumed run goes on averaging it, as a run never stopped would
    yield from checkpoints()
    yield DoneEvent(reason=reason, steps=state.step, seconds=elapsed())


def log_loop_event(ev: Event) -> None:
    """Print a CheckpointEvent or DoneEvent as the JSON line every trainer logs for it (step and
    preview lines are the trainer's own)."""
    from .common import log_event

    if isinstance(ev, CheckpointEvent):
        log_event("checkpoint", kind=ev.kind, step=ev.step, path=str(ev.path),
                  metric=None if ev.metric is None else round(ev.metric, 6))
    elif isinstance(ev, DoneEvent):
        log_event("done", reason=ev.reason, steps=ev.steps, seconds=round(ev.seconds, 1))


def _check(cfg: LoopConfig) -> None:
    if cfg.steps < 1:
        raise InvalidInput(f"steps must be at least 1, not {cfg.steps}")
    if cfg.log_every < 1:
        raise InvalidInput(f"log_every must be at least 1, not {cfg.log_every}")
    if cfg.checkpoint_every < 0 or cfg.preview_every < 0:
        raise InvalidInput("checkpoint_every and preview_every must be 0 (never) or a positive number of steps, "
                           f"not {cfg.checkpoint_every} and {cfg.preview_every}")
    if cfg.minutes is not None and cfg.minutes <= 0:
        raise InvalidInput(f"minutes must be positive or None (no budget), not {cfg.minutes}")
    if cfg.best_mode not in ("min", "max"):
        raise InvalidInput(f"best_mode must be min or max, not {cfg.best_mode!r}")
    if cfg.best_window is not None and cfg.best_window < 1:
        raise InvalidInput(f"best_window must be at least 1 or None (log_every), not {cfg.best_window}")


def stop_requested(stop: StopFlag) -> bool:
    """Whether ``stop`` (an Event, a callable, or None: the process-wide PROCESS_STOP) asks to stop."""
    if stop is None:
        stop = PROCESS_STOP
    if isinstance(stop, threading.Event):
        return stop.is_set()
    return bool(stop())


def _accumulate(state: LoopState, out: StepOutput) -> None:
    """Add this step's numbers to the log window (tensors stay on their device: no sync)."""
    for group, values in (("losses", out.losses), ("metrics", out.metrics), ("codebook", out.codebook)):
        sums = state.sums.setdefault(group, {})
        for k, v in values.items():
            v = v.detach().double() if isinstance(v, torch.Tensor) else float(v)
            sums[k] = sums.get(k, 0.0) + v
    state.window_steps += 1


def _preview(preview_fn: Callable[[LoopState], Any], state: LoopState) -> Any:
    """Call preview_fn without disturbing the run: the RNGs and train/eval mode are put back."""
    was_training = state.model.training
    devices = [torch.cuda.current_device()] if torch.cuda.is_available() else []
    py = random.getstate()
    np_state = state.rng.bit_generator.state
    with torch.random.fork_rng(devices=devices):
        try:
            return preview_fn(state)
        finally:
            state.model.train(was_training)
            random.setstate(py)
            state.rng.bit_generator.state = np_state


# ---- saving and restoring the state -----------------------------------------------------------


def save_state(folder: Path, state: LoopState, cfg: LoopConfig, elapsed: float) -> Path:
    """Write one state checkpoint atomically (a temp folder renamed into place)."""
    from safetensors.torch import save as st_save

    opt = state.optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {"rng.torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{i}"] = s
    opt_plain: dict[str, dict[str, Any]] = {}
    for pid, entry in opt["state"].items():
        for k, v in entry.items():
            if isinstance(v, torch.Tensor):
                tensors[f"opt.{pid}.{k}"] = v.detach().cpu().contiguous()
            else:
                opt_plain.setdefault(str(pid), {})[k] = v
    sums = {g: {k: float(v) for k, v in d.items()} for g, d in state.sums.items()}
    train_state = {
        "step": state.step, "elapsed": elapsed, "best": state.best, "best_step": state.best_step,
        "rng_numpy": state.rng.bit_generator.state,
        "rng_python": _py_state_to_json(random.getstate()),
        "optimizer": {"param_groups": opt["param_groups"], "state": opt_plain},
        "window": {"sums": sums, "steps": state.window_steps, "recent": state.recent},
    }
    model = {k: v.detach().cpu() for k, v in state.model.state_dict().items()}
    return save_checkpoint(folder, kind=STATE_KIND, name=state.name, config=state.config, tensors=model,
                           sidecars={STATE_FILE: st_save(tensors)}, data_hash=state.data_hash,
                           extra={"trainer": state.trainer, "loop": asdict(cfg), "train_state": train_state})


def _py_state_to_json(s: tuple) -> list:
    version, internal, gauss = s
    return [version, list(internal), gauss]


def _complete(folder: Path) -> dict[str, Any] | None:
    """config.json of a complete state checkpoint (every file present and matching its checksum), else None."""
    try:
        info = read_info(folder)
        verify_files(folder, info)
    except (CorruptCheckpoint, OSError):
        return None
    return info if info.get("kind") == STATE_KIND and "train_state" in info else None


def find_last(run_dir: str | Path, slot: str = "last") -> Path:
    """The folder of the newest complete checkpoint of ``slot`` (last | best) in ``run_dir``.

    ``<run>/<slot>`` when it is complete; if a crash came between moving the old one aside and
    renaming the new one into place, the old one (``.<slot>.old-*``) is used. Temp folders
    (``.<slot>.tmp-*``, written but never renamed) are never used.
    """
    if slot not in SLOTS:
        raise InvalidInput(f"slot must be one of {', '.join(SLOTS)}, not {slot!r}")
    run = Path(run_dir).expanduser().resolve()
    if not run.is_dir():
        raise CheckpointNotFound(f"no run folder {run}; give the folder that holds last/ and best/")
    if _complete(run / slot) is not None:
        return run / slot
    old = [(p, _complete(p)) for p in sorted(run.glob(f".{slot}.old-*"))]
    old = [(p, i) for p, i in old if i is not None]
    if old:
        return max(old, key=lambda pi: pi[1]["train_state"]["step"])[0]
    found = ", ".join(sorted(p.name for p in run.iterdir())) or "nothing"
    raise CheckpointNotFound(f"{run} holds no complete {slot!r} checkpoint to resume from (it holds: {found}); "
                             f"a run writes {slot}/ every checkpoint_every steps and when it ends")


def clean_stale(run_dir: Path) -> None:
    """Remove temp folders left by a killed writer, and old copies once their slot is complete."""
    for slot in SLOTS:
        for p in run_dir.glob(f".{slot}.tmp-*"):
            shutil.rmtree(p, ignore_errors=True)
        if _complete(run_dir / slot) is not None:
            for p in run_dir.glob(f".{slot}.old-*"):
                shutil.rmtree(p, ignore_errors=True)


def load_last(run_dir: str | Path, slot: str = "last") -> SavedState:
    """Read and verify the state checkpoint to resume from (see ``find_last``)."""
    from safetensors.torch import load_file

    folder = find_last(run_dir, slot)
    ck = load_checkpoint(folder, allow_outside=True)
    ts = ck.info["train_state"]
    return SavedState(folder=folder, config=ck.config, step=int(ts["step"]), elapsed=float(ts["elapsed"]),
                      data_hash=ck.info.get("data_hash"), info=ck.info, model=ck.tensors,
                      tensors=load_file(str(folder / STATE_FILE)))


# Trainers whose module was renamed: a run checkpoint records the module that wrote it (``trainer``),
# and runs written under the old name resume with the module of the new one. Do not remove an entry
# while such runs may exist (data/checkpoints, users' runs/ folders).
TRAINER_ALIASES = {
    "tokenworks.audio.codec_train": "tokenworks.audio.train",  # renamed in issue 19 (trainers named <modality>/train.py)
    "tokenworks.text.train_text": "tokenworks.text.train",
}


def load_for_resume(run_dir: str | Path, trainer: str, config_cls: type, overrides: dict[str, Any],
                    allowed: tuple[str, ...]) -> tuple[Any, SavedState]:
    """A trainer's saved config (with ``overrides`` of the ``allowed`` fields) and its last state.

    Refuses a run written by another trainer (``TRAINER_ALIASES`` name the same trainer), and a change of any other field (the saved config
    is what the run was, so that it continues as it was)."""
    from ..checkpoint import config_from_dict

    bad = sorted(k for k, v in overrides.items() if v is not None and k not in allowed)
    if bad:
        raise InvalidInput(f"a resumed run keeps its saved config; {', '.join(bad)} cannot change. "
                           f"Allowed with --resume: {', '.join(allowed)}")
    saved = load_last(run_dir)
    wrote = saved.info.get("trainer")
    if TRAINER_ALIASES.get(wrote, wrote) != trainer:
        raise InvalidInput(f"{saved.folder} was written by {wrote or 'an unknown trainer'}, not {trainer}; "
                           "resume it with the trainer that wrote it")
    cfg = config_from_dict(config_cls, saved.config)
    return dataclasses.replace(cfg, **{k: v for k, v in overrides.items() if v is not None}), saved


def run_paths(out: str | None, default_out: Path, run_dir: str | None, checkpoint_every: int) -> tuple[Path, Path | None]:
    """A trainer's final checkpoint folder and its run folder of last/ and best/: ``run_dir``, or
    ``<out>.run`` when checkpoints are asked for (None: no run checkpoints)."""
    final = (Path(out) if out else default_out).expanduser().resolve()
    if run_dir:
        return final, Path(run_dir).expanduser().resolve()
    return final, (final.parent / f"{final.name}.run" if checkpoint_every else None)


def restore(state: LoopState, saved: SavedState) -> LoopState:
    """Put a saved run back into ``state``: weights, optimizer, step, seconds, RNGs, log window."""
    if saved.data_hash is not None and state.data_hash is not None and saved.data_hash != state.data_hash:
        raise InvalidInput(f"the training data changed since {saved.folder} was written "
                           f"(data hash {state.data_hash}, the checkpoint has {saved.data_hash}); "
                           "resume with the same data set and train_limit")
    ts = saved.info["train_state"]
    state.model.load_state_dict(saved.model, strict=True)
    opt_state: dict[int, dict[str, Any]] = {}
    for name, t in saved.tensors.items():
        if name.startswith("opt."):
            _, pid, key = name.split(".", 2)
            opt_state.setdefault(int(pid), {})[key] = t
    for pid, plain in ts["optimizer"]["state"].items():
        opt_state.setdefault(int(pid), {}).update(plain)
    groups = [{k: (tuple(v) if isinstance(v, list) and k != "params" else v) for k, v in g.items()}
              for g in ts["optimizer"]["param_groups"]]
    state.optimizer.load_state_dict({"state": opt_state, "param_groups": groups})
    state.step, state.elapsed = saved.step, saved.elapsed
    state.best, state.best_step = ts["best"], ts["best_step"]
    state.rng.bit_generator.state = ts["rng_numpy"]
    version, internal, gauss = ts["rng_python"]
    random.setstate((version, tuple(internal), gauss))
    torch.set_rng_state(saved.tensors["rng.torch"])
    cuda = sorted((k for k in saved.tensors if k.startswith("rng.cuda.")), key=lambda k: int(k.rsplit(".", 1)[1]))
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([saved.tensors[k] for k in cuda])
    w = ts["window"]
    state.sums = {g: dict(d) for g, d in w["sums"].items()}
    state.window_steps = int(w["steps"])
    state.recent = [float(v) for v in w["recent"]]
    return state


__all__ = ["PROCESS_STOP", "request_stop", "stop_requested", "log_loop_event", "LoopConfig", "LoopState", "StepContext", "StepOutput", "StepEvent", "PreviewEvent",
           "CheckpointEvent", "DoneEvent", "Event", "StopFlag", "SavedState", "run_steps", "save_state",
           "load_last", "find_last", "restore", "clean_stale", "load_for_resume", "run_paths"]
