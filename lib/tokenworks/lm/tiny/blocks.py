"""The transformer block every tiny model is made of (nanoGPT's, with one extra: a per-key
attention bias, which is how the delete gate softly removes positions while training).

    block = Block(cfg)
    y = block(x)                 # x (B, T, C) -> (B, T, C), causal
    y = block(x, key_bias=b)     # b (B, T): added to every query's attention logit for that key
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import TinyConfig


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: TinyConfig):
        super().__init__()
        self.n_head = cfg.n_head
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)
        self.dropout = cfg.dropout

    def forward(self, x: torch.Tensor, key_bias: torch.Tensor | None = None) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)  # 3 x (B, T, C)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))  # (B, H, T, C/H)
        drop = self.dropout if self.training else 0.0
        if key_bias is None:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=drop)  # (B, H, T, C/H)
        else:
            causal = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()  # (T, T)
            mask = key_bias[:, None, None, :].expand(B, 1, T, T).masked_fill(~causal, float("-inf"))  # (B, 1, T, T)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask.to(q.dtype), dropout_p=drop)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # (B, T, C)
        return F.dropout(self.proj(y), drop, self.training)


class MLP(nn.Module):
    def __init__(self, cfg: TinyConfig):
        super().__init__()
        self.up = nn.Linear(cfg.d_model, cfg.d_ff)
        self.down = nn.Linear(cfg.d_ff, cfg.d_model)
        self.dropout = cfg.dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.dropout(self.down(F.gelu(self.up(x))), self.dropout, self.training)  # (B, T, C)


class Block(nn.Module):
    """Pre-norm: x + attn(ln(x)), then + mlp(ln(x))."""

    def __init__(self, cfg: TinyConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.attn = CausalSelfAttention(cfg)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.mlp = MLP(cfg)

    def forward(self, x: torch.Tensor, key_bias: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.attn(self.ln1(x), key_bias)  # (B, T, C)
        return x + self.mlp(self.ln2(x))  # (B, T, C)


def stack(cfg: TinyConfig, n: int) -> nn.ModuleList:
    return nn.ModuleList(Block(cfg) for _ in range(n))


def run(blocks: nn.ModuleList, x: torch.Tensor, key_bias: torch.Tensor | None = None) -> torch.Tensor:
    for b in blocks:
        x = b(x, key_bias)
    return x  # (B, T, C)


__all__ = ["Block", "CausalSelfAttention", "MLP", "run", "stack"]
