"""Pieces every training script shares: the JSON-lines log (and a table view of it for
notebooks), ``--set FIELD=JSON`` overrides, seeding, the device, the LR schedule.

A training script prints one JSON object per line (``{"event": "start" | "step" | "eval" |
"saved", ...}``), so a notebook, the app or a shell pipe can follow it.
"""
from __future__ import annotations

import contextlib
import io
import json
import math
import random
from pathlib import Path
from typing import Any, Callable, Generator, Iterable, Iterator, Sequence, TextIO

import numpy as np
import torch

from ..errors import InvalidInput


_SINKS: list[TextIO] = []  # files every event is also appended to (see event_file)
_QUIET = [False]  # True on the ranks of a distributed run other than rank 0


def log_event(event: str, **fields: Any) -> dict[str, Any]:
    """Print ``{"event": event, **fields}`` as one JSON line (and append it to the open
    ``event_file`` sinks) and return it. Silent on non-zero ranks (``set_quiet``)."""
    rec = {"event": event, **fields}
    if _QUIET[0]:
        return rec
    line = json.dumps(rec)
    print(line, flush=True)
    for fh in _SINKS:
        fh.write(line + "\n")
        fh.flush()
    return rec


def set_quiet(quiet: bool) -> None:
    """Silence log_event in this process (the ranks of a distributed run other than rank 0)."""
    _QUIET[0] = bool(quiet)


@contextlib.contextmanager
def event_file(path: str | Path | None) -> Iterator[None]:
    """While open, every log_event line is also appended to ``path`` (a run's events.jsonl;
    None: nothing). Appending keeps the lines of an earlier, resumed process."""
    if path is None:
        yield
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        _SINKS.append(fh)
        try:
            yield
        finally:
            _SINKS.remove(fh)


def json_events(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """The JSON objects among ``lines`` (a log's lines); other lines, and one cut short by a kill, are skipped."""
    for line in lines:
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if isinstance(e, dict):
            yield e


class StepTable(io.TextIOBase):
    """A text stream that shows a trainer's JSON-lines log as a table: the "start" event as one
    line (``describe(event)``) and a header, then one row per "step" event; other lines are
    dropped. For notebooks: ``with contextlib.redirect_stdout(StepTable(sys.stdout, ...)): train(cfg)``.
    ``columns``: (header, event key, format spec with its width, e.g. ">9.3f")."""

    def __init__(self, out: TextIO, describe: Callable[[dict[str, Any]], str],
                 columns: Sequence[tuple[str, str, str]]) -> None:
        self.out, self.describe, self.columns = out, describe, list(columns)

    def write(self, text: str) -> int:
        for e in json_events(text.splitlines()):
            if e.get("event") == "start":
                print(self.describe(e), file=self.out)
                print("".join(f"{h:>{_width(spec)}}" for h, _, spec in self.columns), file=self.out)
            elif e.get("event") == "step":
                print("".join(f"{e[k]:{spec}}" for _, k, spec in self.columns), file=self.out, flush=True)
        return len(text)


def _width(spec: str) -> int:
    digits = "".join(ch for ch in spec.lstrip("<>^=").split(".")[0] if ch.isdigit())
    return int(digits or 0)


def parse_set_overrides(items: Sequence[str]) -> dict[str, Any]:
    """``--set FIELD=JSON`` arguments as a dict: each value parsed as JSON (lists become tuples),
    or kept as the raw string when it is not JSON."""
    overrides: dict[str, Any] = {}
    for item in items:
        key, _, val = item.partition("=")
        try:
            overrides[key] = json.loads(val)
        except json.JSONDecodeError:
            overrides[key] = val
        if isinstance(overrides[key], list):
            overrides[key] = tuple(overrides[key])
    return overrides


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def pick_device(name: str) -> torch.device:
    """"auto" (CUDA when torch sees a GPU, else the CPU), "cpu", "cuda" or "cuda:N"."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name not in ("cuda", "cpu") and not name.startswith("cuda:"):
        raise InvalidInput(f"device must be auto, cuda or cpu, not {name!r}")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise InvalidInput("device cuda was asked for but torch sees no CUDA GPU; use --device cpu")
    return torch.device(name)


def lr_factor(step: int, progress: float, warmup_steps: int, min_lr_frac: float) -> float:
    """Linear warmup over ``warmup_steps``, then a cosine from 1 to ``min_lr_frac`` over
    ``progress`` in [0, 1] (the larger of steps done and wall-clock budget used)."""
    warm = min(1.0, (step + 1) / max(1, warmup_steps))
    cos = 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    return warm * (min_lr_frac + (1 - min_lr_frac) * cos)


def drain(events: Generator[Any, None, Any], on_event: Callable[[Any], None] | None = None) -> Any:
    """Run a generator of events to its end (calling ``on_event`` on each); return its return value."""
    while True:
        try:
            ev = next(events)
        except StopIteration as done:
            return done.value
        if on_event is not None:
            on_event(ev)


def duration_text(seconds: float | None) -> str:
    """12 s, 3 min 05 s, 1 h 02 min ("?" for None): ETAs and times trained, for people."""
    if seconds is None:
        return "?"
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def check_fields(config_cls: type, overrides: dict[str, Any], what: str) -> None:
    """InvalidInput naming the keys of ``overrides`` that are no field of dataclass ``config_cls``
    (``what`` names the model in the message, e.g. "flex1d" or "the codec")."""
    import dataclasses

    known = {f.name for f in dataclasses.fields(config_cls)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise InvalidInput(f"{what} has no config field {', '.join(unknown)}; its fields are {', '.join(sorted(known))}")


def adamw(model: torch.nn.Module, lr: float, betas: tuple[float, float], weight_decay: float,
          fused: bool | None = None) -> torch.optim.AdamW:
    """AdamW with weight decay on the weight matrices and none on biases, norms and other 1-D parameters."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}], lr=lr, betas=betas, fused=fused)


def warm_start_config(base: Any, overrides: dict[str, Any], allowed: Sequence[str], folder: Any) -> Any:
    """``base`` (a checkpoint's model config dataclass) with ``overrides`` applied, for ``--init``.

    Only the training-time fields in ``allowed`` may differ from the checkpoint; any other field that
    differs is refused with a message naming both lists. JSON lists are compared as the tuples a
    config keeps."""
    import dataclasses

    def like(current: Any, value: Any) -> Any:
        return tuple(value) if isinstance(current, tuple) and isinstance(value, list) else value

    changed = {k: like(getattr(base, k), v) for k, v in overrides.items()
               if getattr(base, k) != like(getattr(base, k), v)}
    fixed = sorted(k for k in changed if k not in allowed)
    if fixed:
        raise InvalidInput(f"--init {folder}: the architecture comes from that checkpoint, so {', '.join(fixed)} "
                           f"cannot change; only {', '.join(allowed)} can")
    return dataclasses.replace(base, **changed)


def float32_state(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A checkpoint's tensors with the floating ones as float32 (shipped weights may be float16)."""
    return {k: (v.float() if v.is_floating_point() else v) for k, v in tensors.items()}
