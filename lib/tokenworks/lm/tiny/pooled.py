"""The body of the pooled byte models (delete, words): byte encoder -> kept positions -> middle
blocks -> byte decoder.

    body = PooledBody(cfg)
    out = body(h, x, hard=True)   # h (B, T, C) embedded bytes, x (B, T) ids -> PooledOut

Every byte i is decoded from its own encoder state plus the middle state of the last kept
position j <= i (added: no extra parameters, so every contestant has the same blocks). With a hard gate the middle blocks run on the kept
positions only (gathered, each row padded to the longest: causal attention never looks at the
padding, which comes last). With a soft gate they run on every position with the attention bias
log k_j, and "the last kept position" becomes a mixture: weight k_j * prod_{j<m<=i} (1 - k_m) on
position j. When every k is 0 or 1 the two ways give the same result (tests check this).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from . import blocks as B_
from .config import TinyConfig
from .delete_gate import DeleteGate, GateValues
from .flops import FlopCount, pooled_forward
from .word_pool import WordRule


@dataclass
class PooledOut:
    h: torch.Tensor  # (B, T, C) decoder states, before the final norm
    gate: GateValues
    flops: FlopCount  # forward FLOPs of the blocks and the pooling (the output layer is the caller's)


def last_kept_mixture(log_keep: torch.Tensor, log_drop: torch.Tensor) -> torch.Tensor:
    """(B, T) logs -> (B, T, T) weights w[i, j] = k_j prod_{j<m<=i} (1 - k_m) for j <= i, else 0.
    Computed in float64: the cumulative sums reach gate_floor * T."""
    c = log_drop.double().cumsum(1)  # (B, T)
    logw = log_keep.double()[:, None, :] + c[:, :, None] - c[:, None, :]  # (B, T_i, T_j)
    T = log_keep.shape[1]
    upper = torch.ones(T, T, dtype=torch.bool, device=log_keep.device).triu(1)  # j > i
    return logw.masked_fill(upper, float("-inf")).exp().to(log_keep.dtype)


class PooledBody(nn.Module):
    def __init__(self, cfg: TinyConfig):
        super().__init__()
        self.cfg = cfg
        self.enc = B_.stack(cfg, cfg.enc_layers)
        self.mid = B_.stack(cfg, cfg.middle_layers)
        self.dec = B_.stack(cfg, cfg.dec_layers)
        self.gate = DeleteGate(cfg) if cfg.input == "delete" else WordRule(cfg)

    def forward(self, h: torch.Tensor, x: torch.Tensor, hard: bool) -> PooledOut:
        B, T, C = h.shape
        h = B_.run(self.enc, h)  # (B, T, C)
        g = self.gate(h, x)
        if hard:
            keep = g.hard  # (B, T) bool
            K = int(keep.sum(1).max())
            order = torch.argsort((~keep).to(torch.int8), dim=1, stable=True)[:, :K]  # (B, K) kept first, in order
            z = B_.run(self.mid, torch.gather(h, 1, order[..., None].expand(B, K, C)))  # (B, K, C)
            last = keep.long().cumsum(1) - 1  # (B, T) index of the last kept position among the kept
            zt = torch.gather(z, 1, last[..., None].expand(B, T, C))  # (B, T, C)
            middle = K
        else:
            z = B_.run(self.mid, h, key_bias=g.log_keep)  # (B, T, C)
            zt = last_kept_mixture(g.log_keep, g.log_drop) @ z  # (B, T, C)
            middle = T
        y = B_.run(self.dec, h + zt)  # (B, T, C)
        f = pooled_forward(self.cfg, B, T, middle, soft=not hard)
        return PooledOut(y, g, FlopCount(blocks=f.blocks, pooling=f.pooling))


__all__ = ["PooledBody", "PooledOut", "last_kept_mixture"]
