"""Cutting id streams into the windows a tiny model scores, and summing their bits.

    x, y = stream_windows(ids, T, sep_id)     # (W, T) inputs and next ids (-1: not scored)
    bits = window_bits(model, x, y)           # (W,) bits of the scored ids of each window

A stream is documents each after a separator; windows are consecutive and start fresh, and the
separators themselves are never scored (a document's length is not text).
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .model import TinyLM


def stream_windows(ids: np.ndarray, T: int, sep_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Every id of ``ids`` after the first predicted once: (W, T) inputs and (W, T) targets."""
    n_win = max(1, math.ceil((len(ids) - 1) / T))
    x = np.full((n_win, T), sep_id, dtype=np.int64)
    y = np.full((n_win, T), -1, dtype=np.int64)
    for w in range(n_win):
        chunk = ids[w * T:w * T + T + 1]
        x[w, :len(chunk) - 1] = chunk[:-1]
        y[w, :len(chunk) - 1] = chunk[1:]
    y[y == sep_id] = -1
    return x, y


@torch.no_grad()
def window_bits(model: TinyLM, x: np.ndarray, y: np.ndarray, batch_size: int = 16, hard: bool = True,
                on_batch=None) -> np.ndarray:
    """(W,) bits of each window's scored ids; ``on_batch(out)`` sees every TinyOutput (kept, flops)."""
    was = model.training
    model.eval()
    device = next(model.parameters()).device
    out_bits = np.zeros(len(x))
    try:
        for i in range(0, len(x), batch_size):
            xb = torch.from_numpy(x[i:i + batch_size]).to(device)  # (B, T)
            yb = torch.from_numpy(y[i:i + batch_size]).to(device)  # (B, T)
            out = model(xb, hard=hard)
            nll = F.cross_entropy(out.logits.flatten(0, 1), yb.flatten(), ignore_index=-1, reduction="none")
            out_bits[i:i + len(xb)] = (nll.view(yb.shape).sum(1) / math.log(2)).cpu().numpy()
            if on_batch is not None:
                on_batch(out)
    finally:
        model.train(was)
    return out_bits


def text_bits(model: TinyLM, tokenizer, texts: list[str], sep_id: int, batch_size: int = 16) -> np.ndarray:
    """(N,) bits of each text read as a document of its own (windowed when longer than the model's)."""
    xs, ys, owner = [], [], []
    for k, t in enumerate(texts):
        ids = np.concatenate([[sep_id], np.asarray(tokenizer.encode(t).ids, dtype=np.int64)])
        x, y = stream_windows(ids, model.cfg.seq_len, sep_id)
        xs.append(x), ys.append(y), owner.extend([k] * len(x))
    bits = window_bits(model, np.concatenate(xs), np.concatenate(ys), batch_size)
    return np.bincount(np.asarray(owner), weights=bits, minlength=len(texts))


__all__ = ["stream_windows", "text_bits", "window_bits"]
