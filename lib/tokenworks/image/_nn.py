"""Small building blocks shared by the image models (grid.py, flex1d.py).

Pixels enter and leave the models as float tensors ``(B, 3, H, W)`` in [-1, 1]; ``to_pixels``
and ``to_uint8`` convert between those and ``(B, H, W, 3)`` uint8 arrays.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


# ---- pixels -----------------------------------------------------------------------------------


def to_pixels(images: np.ndarray | torch.Tensor, device: torch.device | str | None = None) -> torch.Tensor:
    """(B, H, W, 3) uint8 -> (B, 3, H, W) float32 in [-1, 1]."""
    if isinstance(images, np.ndarray) and not images.flags.writeable:
        images = np.array(images)  # torch wants writable memory (data sets are read-only)
    t = torch.as_tensor(images, device=device)  # (B, H, W, 3) uint8
    return t.permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)  # (B, 3, H, W)


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """(B, 3, H, W) float in [-1, 1] -> (B, H, W, 3) uint8 numpy (rounded, clipped)."""
    y = ((x.detach().float() + 1.0) * 127.5).round_().clamp_(0, 255).to(torch.uint8)  # (B, 3, H, W)
    return y.permute(0, 2, 3, 1).contiguous().cpu().numpy()  # (B, H, W, 3)


def patchify(x: torch.Tensor, p: int) -> torch.Tensor:
    """(B, C, H, W) -> (B, H/p * W/p, C*p*p), patches in raster order."""
    B, C, H, W = x.shape
    x = x.reshape(B, C, H // p, p, W // p, p)  # (B, C, h, p, w, p)
    return x.permute(0, 2, 4, 1, 3, 5).reshape(B, (H // p) * (W // p), C * p * p)  # (B, P, C*p*p)


def unpatchify(x: torch.Tensor, p: int, h: int, w: int, c: int = 3) -> torch.Tensor:
    """(B, h*w, c*p*p) -> (B, c, h*p, w*p), the inverse of ``patchify``."""
    B = x.shape[0]
    x = x.reshape(B, h, w, c, p, p)  # (B, h, w, c, p, p)
    return x.permute(0, 3, 1, 4, 2, 5).reshape(B, c, h * p, w * p)  # (B, c, H, W)


# ---- transformer ----------------------------------------------------------------------------


class Attention(nn.Module):
    """Multi-head self-attention through ``scaled_dot_product_attention``.

    ``mask`` is boolean, True where a query may look at a key, broadcastable to (B, heads, T, T).
    With ``need_weights=True`` the weights are computed explicitly (same maths, slower) and
    returned averaged over heads, (B, T, T).
    """

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"width {dim} must be divisible by heads {heads}")
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None,
                need_weights: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        B, T, D = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.heads, D // self.heads).permute(2, 0, 3, 1, 4)  # 3 x (B, h, T, d)
        weights = None
        if need_weights:
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])  # (B, h, T, T)
            if mask is not None:
                scores = scores.masked_fill(~mask, float("-inf"))
            attn = scores.softmax(dim=-1)  # (B, h, T, T)
            out = attn @ v  # (B, h, T, d)
            weights = attn.mean(dim=1)  # (B, T, T)
        else:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # (B, h, T, d)
        out = out.transpose(1, 2).reshape(B, T, D)  # (B, T, D)
        return self.proj(out), weights


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(LN(x)); x + MLP(LN(x))."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float) -> None:
        super().__init__()
        hidden = int(round(dim * mlp_ratio))
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None,
                need_weights: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        a, w = self.attn(self.norm1(x), mask, need_weights)
        x = x + a  # (B, T, D)
        x = x + self.mlp(self.norm2(x))  # (B, T, D)
        return x, w


# ---- convolutions ---------------------------------------------------------------------------


def group_norm(channels: int, groups: int) -> nn.GroupNorm:
    """GroupNorm with the largest group count <= ``groups`` that divides ``channels``."""
    g = max(d for d in range(1, min(groups, channels) + 1) if channels % d == 0)
    return nn.GroupNorm(g, channels)


class ResBlock(nn.Module):
    """GN-SiLU-conv3x3-GN-SiLU-conv3x3 plus a skip (1x1 conv when the channels change)."""

    def __init__(self, cin: int, cout: int, groups: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            group_norm(cin, groups), nn.SiLU(), nn.Conv2d(cin, cout, 3, padding=1),
            group_norm(cout, groups), nn.SiLU(), nn.Conv2d(cout, cout, 3, padding=1),
        )
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.skip(x) + self.body(x)  # (B, cout, H, W)


# ---- helpers ----------------------------------------------------------------------------------


def num_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


@dataclass
class ModelOutput:
    """What an image model's training forward gives back."""

    recon: torch.Tensor  # (B, 3, H, W) reconstruction in [-1, 1] (not clipped)
    codes: torch.Tensor  # (B, T) or (B, H, W) int64 token ids
    aux_loss: torch.Tensor  # scalar: the quantizer's loss (commitment ...), 0 for FSQ
    stats: dict[str, float] = field(default_factory=dict)  # the quantizer's batch statistics
    keep: torch.Tensor | None = None  # (B,) prefix lengths decoded (flex1d); with pairs (2B,)


def init_weights(m: nn.Module) -> None:
    """ViT-style init: linear weights N(0, 0.02), zero biases."""
    if isinstance(m, nn.Linear):
        nn.init.normal_(m.weight, std=0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
