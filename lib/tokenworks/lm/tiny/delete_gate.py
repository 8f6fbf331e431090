"""MrT5-style deletion (Kallini et al. 2024, "MrT5: Dynamic Token Merging for Efficient Byte-level
Language Models"), for a causal model: after the byte encoder a gate scores every position; the
middle blocks see only the positions it keeps.

A position is kept when its score is above a threshold. The threshold follows a quantile of the
scores of recent training batches (a running mean, saved with the weights and fixed at
inference): the deleted share starts at 0 and rises to ``delete_target`` over the first
``delete_ramp`` of training (``set_progress``), so the byte model learns first and the gate then
learns which positions it can spare, so the deletion rate stays near the target without a
regulariser that would move every gate at once, and the decision at a position reads only that
position's score: the model stays causal.

The gate is a straight-through estimator: the forward pass always uses the hard decision, so what
training computes is what inference computes, and the backward pass takes the gradient of
sigmoid(score - threshold). A kept position enters the middle blocks with attention bias 0, a
deleted one with ``gate_floor`` (invisible). While training, the middle blocks still run on every
position (the gradient needs them); at inference the deletion is real: they run on the kept
positions only. The trainer clips the gate's gradient apart from the rest
(``TinyLM.clip_groups``): the straight-through gradient is an order of magnitude larger and
would otherwise shrink every other update.

    gate = DeleteGate(cfg)
    g = gate(h, x)          # h (B, T, C) encoder states -> GateValues (log keep / log drop, (B, T))
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from ...train.distributed import all_reduce_mean
from .config import TinyConfig

MOMENTUM = 0.5  # of the threshold's running mean over training batches (it tracks scores that drift)


@dataclass
class GateValues:
    """Keep decisions in log space (exactly 0 or gate_floor forward); position 0 is always kept."""

    log_keep: torch.Tensor  # (B, T) attention bias of each position as a key in the middle blocks
    log_drop: torch.Tensor  # (B, T) log of "not kept", for the last-kept mixture
    hard: torch.Tensor  # (B, T) bool: kept
    reg: torch.Tensor  # () an auxiliary loss (0 here)


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
        self.register_buffer("threshold", torch.zeros(()))  # the running quantile of the scores
        self.target = cfg.delete_target  # the share deleted now (set_progress ramps it up while training)
        self.init_weights()

    def set_progress(self, progress: float) -> None:
        """The deleted share for a run ``progress`` in [0, 1] through: linear up to delete_target."""
        ramp = self.cfg.delete_ramp
        self.target = self.cfg.delete_target * (min(1.0, progress / ramp) if ramp > 0 else 1.0)

    def init_weights(self) -> None:
        """A small random score (TinyLM calls this after its generic init)."""
        nn.init.normal_(self.score.weight, std=0.02)
        nn.init.zeros_(self.score.bias)

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        return self.score(h).squeeze(-1)  # (B, T)

    def forward(self, h: torch.Tensor, x: torch.Tensor) -> GateValues:
        a = self.logits(h)  # (B, T)
        if self.training:
            q = torch.quantile(a[:, 1:].detach().float().flatten(), self.target)
            q = all_reduce_mean(q)  # under DDP every rank keeps the same threshold (the mean of their quantiles)
            self.threshold.mul_(MOMENTUM).add_((1 - MOMENTUM) * q)
        z = a - self.threshold  # (B, T)
        hard = z > 0
        soft = torch.sigmoid(z)
        st = soft - soft.detach()  # 0 forward; the sigmoid's gradient backward
        floor = self.cfg.gate_floor
        log_keep = torch.where(hard, 0.0, floor) + st  # (B, T)
        log_drop = torch.where(hard, floor, 0.0) - st
        log_keep, log_drop, hard = force_first(log_keep, log_drop, hard, floor)
        return GateValues(log_keep, log_drop, hard, a.new_zeros(()))


__all__ = ["DeleteGate", "GateValues", "force_first"]
