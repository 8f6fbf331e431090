"""Held-out bits per byte of a tiny model: every token of every held-out document predicted once.

    r = evaluate(model, encoded_test)     # -> HeldOutScore

The held-out stream (documents, each after a separator) is cut into consecutive windows of
``seq_len`` predictions; each window starts fresh (its first prediction reads only the id before
it). The bits of predicting every document id, separators excluded, are summed and divided by the
documents' UTF-8 bytes, so the score does not depend on how a tokenizer cuts the text. Pooled
models are scored with their hard gate: the deletion is real, as at inference.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .model import TinyLM


@dataclass
class HeldOutScore:
    bits_per_byte: float  # the score
    bits_per_token: float
    tokens_per_byte: float  # ids the model read per byte of text (separators excluded)
    n_bytes: int
    n_tokens: int
    kept_share: float | None  # pooled models: the share of positions the middle blocks saw
    forward_flops_per_byte: float  # inference FLOPs per byte (with the hard gate)
    bytes_per_s: float  # inference throughput
    seconds: float


@torch.no_grad()
def evaluate(model: TinyLM, ids: np.ndarray, sep_id: int, n_bytes: int, batch_size: int = 16,
             hard: bool = True) -> HeldOutScore:
    """Score the held-out stream ``ids`` (int64, separators included) of ``n_bytes`` document bytes."""
    was = model.training
    model.eval()
    device = next(model.parameters()).device
    T = model.cfg.seq_len
    n_win = max(1, math.ceil((len(ids) - 1) / T))
    x = np.full((n_win, T), sep_id, dtype=np.int64)
    y = np.full((n_win, T), -1, dtype=np.int64)  # -1: not scored (padding, separators)
    for w in range(n_win):
        s = w * T
        chunk = ids[s:s + T + 1]
        x[w, :len(chunk) - 1] = chunk[:-1]
        y[w, :len(chunk) - 1] = chunk[1:]
    y[y == sep_id] = -1
    bits, kept, positions, flops = 0.0, 0, 0, 0
    t0 = time.perf_counter()
    for i in range(0, n_win, batch_size):
        xb = torch.from_numpy(x[i:i + batch_size]).to(device)  # (B, T)
        yb = torch.from_numpy(y[i:i + batch_size]).to(device)
        out = model(xb, hard=hard)
        nll = F.cross_entropy(out.logits.flatten(0, 1), yb.flatten(), ignore_index=-1, reduction="sum")
        bits += float(nll) / math.log(2)
        flops += out.flops.total
        if out.kept is not None:
            kept += int(out.kept.sum())
            positions += out.kept.numel()
    seconds = time.perf_counter() - t0
    model.train(was)
    n_tokens = int((y >= 0).sum())
    return HeldOutScore(bits_per_byte=bits / n_bytes, bits_per_token=bits / max(1, n_tokens),
                        tokens_per_byte=n_tokens / n_bytes, n_bytes=n_bytes, n_tokens=n_tokens,
                        kept_share=kept / positions if positions else None,
                        forward_flops_per_byte=flops / n_bytes, bytes_per_s=n_bytes / max(seconds, 1e-9),
                        seconds=seconds)


__all__ = ["HeldOutScore", "evaluate"]
