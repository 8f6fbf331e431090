"""Bytes pooled into words by a fixed rule (hierarchical byte -> word -> byte models: Neitemeier
et al. 2025, "Hierarchical Autoregressive Transformers"; Thawani et al. 2023, "Learn Your Tokens").

Position i is kept (it carries a word into the middle blocks) when its byte is whitespace or the
document separator, or when ``max_word`` bytes have passed since the last kept position, so text
without spaces (Chinese) still pools. The rule reads byte i and what came before it only, so the
model stays causal: the state kept at a space has read the whole word before it, and the byte
decoder predicts the next word's bytes from it.

    rule = WordRule(cfg)
    g = rule(h, x)          # x (B, T) byte ids -> GateValues, exactly 0 / 1
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from .config import TinyConfig
from .delete_gate import GateValues, force_first

SEPARATOR = 256  # the document separator id of the byte models
BOUNDARY = np.zeros(257, dtype=bool)
BOUNDARY[[9, 10, 13, 32, SEPARATOR]] = True  # tab, newline, carriage return, space, separator


def word_starts(x: np.ndarray, max_word: int) -> np.ndarray:
    """(B, T) ids -> (B, T) bool kept positions (position 0 always)."""
    B, T = x.shape
    keep = BOUNDARY[x]  # (B, T)
    keep[:, 0] = True
    since = np.zeros(B, dtype=np.int64)
    for t in range(1, T):  # the length cap depends on the last kept position: a short causal scan
        since += 1
        keep[:, t] |= since >= max_word
        since[keep[:, t]] = 0
    return keep


class WordRule(nn.Module):
    def __init__(self, cfg: TinyConfig):
        super().__init__()
        self.cfg = cfg

    def forward(self, h: torch.Tensor, x: torch.Tensor) -> GateValues:
        hard = torch.from_numpy(word_starts(x.cpu().numpy(), self.cfg.max_word)).to(x.device)  # (B, T)
        floor = self.cfg.gate_floor
        zero = torch.zeros(hard.shape, device=h.device, dtype=h.dtype)
        log_keep = zero.masked_fill(~hard, floor)  # (B, T)
        log_drop = zero.masked_fill(hard, floor)
        log_keep, log_drop, hard = force_first(log_keep, log_drop, hard, floor)
        return GateValues(log_keep, log_drop, hard, zero.sum())


__all__ = ["BOUNDARY", "SEPARATOR", "WordRule", "word_starts"]
