"""Pieces every training script shares: the JSON-lines log, seeding, the device, the LR schedule.

A training script prints one JSON object per line (``{"event": "start" | "step" | "eval" |
"saved", ...}``), so a notebook, the app or a shell pipe can follow it.
"""
from __future__ import annotations

import json
import math
import random
from typing import Any

import numpy as np
import torch

from ..errors import InvalidInput


def log_event(event: str, **fields: Any) -> dict[str, Any]:
    """Print ``{"event": event, **fields}`` as one JSON line and return it."""
    rec = {"event": event, **fields}
    print(json.dumps(rec), flush=True)
    return rec


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
