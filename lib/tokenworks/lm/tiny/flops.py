"""Training compute of the tiny models, counted from the shapes each forward pass ran on.

A multiply-add is 2 FLOPs. Per position and block (width C, MLP width F, attention span T):

    q, k, v and output projections   2 * 4 C^2
    MLP up and down                  2 * 2 C F
    attention logits and mixing      2 * 2 T C      (the full span: the causal half is not discounted)

The output layer costs 2 C V per position (V: the vocabulary). The pooled models add, per byte
position, the delete gate (2 C) and, while the gate is soft, the last-kept mixture (2 T C). Norms, biases, softmax and GELU are left out
(under 1% here). A training step costs 3 forward passes (the backward pass counts twice), as in
Kaplan et al. 2020, "Scaling Laws for Neural Language Models", section 2.1.
"""
from __future__ import annotations

from dataclasses import dataclass

from .config import TinyConfig

TRAIN_FACTOR = 3  # forward + backward (twice the forward)


def block_flops(cfg: TinyConfig, positions: int, span: int) -> int:
    """Forward FLOPs of one block over ``positions`` positions each attending over ``span``."""
    C, F = cfg.d_model, cfg.d_ff
    return positions * (8 * C * C + 4 * C * F + 4 * span * C)


def head_flops(cfg: TinyConfig, positions: int) -> int:
    return positions * 2 * cfg.d_model * cfg.vocab_size


@dataclass
class FlopCount:
    """Forward FLOPs of one call, by part."""

    blocks: int = 0
    head: int = 0
    pooling: int = 0  # gate and mixture of the pooled models

    @property
    def total(self) -> int:
        return self.blocks + self.head + self.pooling

    def __add__(self, other: "FlopCount") -> "FlopCount":
        return FlopCount(self.blocks + other.blocks, self.head + other.head, self.pooling + other.pooling)


def plain_forward(cfg: TinyConfig, batch: int, T: int) -> FlopCount:
    """tokens / bytes: n_layer blocks over T positions, then the output layer."""
    return FlopCount(blocks=batch * cfg.n_layer * block_flops(cfg, T, T), head=batch * head_flops(cfg, T))


def pooled_forward(cfg: TinyConfig, batch: int, T: int, middle: int, soft: bool) -> FlopCount:
    """delete / words: encoder and decoder blocks over T bytes, the middle blocks over ``middle``
    positions a row (T while the gate is soft, the longest row's kept count when it is hard)."""
    C = cfg.d_model
    blocks = (cfg.enc_layers + cfg.dec_layers) * block_flops(cfg, T, T) + cfg.middle_layers * block_flops(cfg, middle, middle)
    pooling = (T * 2 * C if cfg.input == "delete" else 0) + (T * 2 * T * C if soft else 0)
    return FlopCount(blocks=batch * blocks, head=batch * head_flops(cfg, T), pooling=batch * pooling)


def non_embedding_params(cfg: TinyConfig) -> int:
    """Parameters of the blocks (and the delete gate's C + 1): what the tournament holds equal."""
    C, F = cfg.d_model, cfg.d_ff
    block = (3 * C * C + 3 * C) + (C * C + C) + (C * F + F) + (F * C + C) + 4 * C  # attention, MLP, two norms
    gate = (C + 1) if cfg.input == "delete" else 0
    return cfg.n_layer * block + gate + 2 * C  # + the final norm


__all__ = ["FlopCount", "TRAIN_FACTOR", "block_flops", "head_flops", "non_embedding_params", "plain_forward",
           "pooled_forward"]
