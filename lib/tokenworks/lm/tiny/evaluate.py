"""Held-out bits per byte of a tiny model: every token of every held-out document predicted once.

    r = evaluate(model, encoded_test)     # -> HeldOutScore

The held-out stream (documents, each after a separator) is cut into consecutive windows of
``seq_len`` predictions; each window starts fresh (its first prediction reads only the id before
it). The bits of predicting every document id, separators excluded, are summed and divided by the
documents' UTF-8 bytes, so the score does not depend on how a tokenizer cuts the text. Pooled
models are scored with their hard gate: the deletion is real, as at inference.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from .model import TinyLM
from .windows import stream_windows, window_bits


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


def evaluate(model: TinyLM, ids: np.ndarray, sep_id: int, n_bytes: int, batch_size: int = 16,
             hard: bool = True) -> HeldOutScore:
    """Score the held-out stream ``ids`` (int64, separators included) of ``n_bytes`` document bytes."""
    x, y = stream_windows(ids, model.cfg.seq_len, sep_id)
    seen = {"kept": 0, "positions": 0, "flops": 0}

    def tally(out) -> None:
        seen["flops"] += out.flops.total
        if out.kept is not None:
            seen["kept"] += int(out.kept.sum())
            seen["positions"] += out.kept.numel()

    t0 = time.perf_counter()
    bits = float(window_bits(model, x, y, batch_size, hard, on_batch=tally).sum())
    seconds = time.perf_counter() - t0
    n_tokens = int((y >= 0).sum())
    return HeldOutScore(bits_per_byte=bits / n_bytes, bits_per_token=bits / max(1, n_tokens),
                        tokens_per_byte=n_tokens / n_bytes, n_bytes=n_bytes, n_tokens=n_tokens,
                        kept_share=seen["kept"] / seen["positions"] if seen["positions"] else None,
                        forward_flops_per_byte=seen["flops"] / n_bytes, bytes_per_s=n_bytes / max(seconds, 1e-9),
                        seconds=seconds)


__all__ = ["HeldOutScore", "evaluate"]
