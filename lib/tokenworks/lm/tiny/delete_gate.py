"""MrT5-style deletion (Kallini et al. 2024, "MrT5: Dynamic Token Merging for Efficient Byte-level
Language Models"): after the byte encoder, a gate scores every position; the middle blocks see
only the positions it keeps.

While training the gate is soft: keep = sigmoid((logit + logistic noise) / T). A kept share k_j
enters the middle blocks as an attention bias log k_j on key j (clamped at ``gate_floor``), so a
position with k_j near 0 is invisible, and the regulariser pulls the mean kept share to
1 - ``delete_target``. The noise makes a gate that hesitates costly, so the logits move away from
0 and the soft gate saturates. At inference the deletion is real: positions with logit <= 0 are
dropped and the middle blocks run on a shorter sequence.

    gate = DeleteGate(cfg)
    g = gate(h, x)          # h (B, T, C) encoder states -> GateValues (log keep / log drop, (B, T))
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import TinyConfig


@dataclass
class GateValues:
    """Soft and hard keep decisions; position 0 of every row is always kept."""

    log_keep: torch.Tensor  # (B, T) log of the kept share, <= 0
    log_drop: torch.Tensor  # (B, T) log of 1 - the kept share
    hard: torch.Tensor  # (B, T) bool: kept at inference
    reg: torch.Tensor  # () the regulariser (0 for a fixed rule)


def force_first(log_keep: torch.Tensor, log_drop: torch.Tensor, hard: torch.Tensor, floor: float):
    """Position 0 kept for certain, so that every byte has a kept position at or before it."""
    log_keep, log_drop, hard = log_keep.clone(), log_drop.clone(), hard.clone()
    log_keep[:, 0], log_drop[:, 0], hard[:, 0] = 0.0, floor, True
    return log_keep, log_drop, hard


class DeleteGate(nn.Module):
    def __init__(self, cfg: TinyConfig):
        super().__init__()
        self.cfg = cfg
        self.score = nn.Linear(cfg.d_model, 1)
        self.init_weights()

    def init_weights(self) -> None:
        """Start by keeping nearly everything (TinyLM calls this after its generic init)."""
        nn.init.normal_(self.score.weight, std=0.02)
        nn.init.constant_(self.score.bias, 2.0)

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        return self.score(h).squeeze(-1)  # (B, T)

    def forward(self, h: torch.Tensor, x: torch.Tensor) -> GateValues:
        a = self.logits(h)  # (B, T)
        if self.training:
            u = torch.rand_like(a).clamp(1e-6, 1 - 1e-6)
            a = a + torch.log(u) - torch.log1p(-u)  # logistic noise
        z = a / self.cfg.gate_temperature  # (B, T)
        floor = self.cfg.gate_floor
        log_keep, log_drop, hard = force_first(F.logsigmoid(z).clamp(min=floor), F.logsigmoid(-z).clamp(min=floor),
                                               z > 0, floor)
        kept = log_keep[:, 1:].exp().mean()
        reg = self.cfg.delete_weight * (kept - (1 - self.cfg.delete_target)).abs()
        return GateValues(log_keep, log_drop, hard, reg)


__all__ = ["DeleteGate", "GateValues", "force_first"]
