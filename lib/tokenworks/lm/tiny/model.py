"""A tiny decoder-only language model over tokens or bytes (nanoGPT's shape: learned positions,
pre-norm blocks, tied output layer), for the tokenizer tournament.

    model = TinyLM(TinyConfig(input="bytes", vocab_size=257))
    out = model(x, targets)       # x, targets (B, T) ids -> TinyOutput
    out.loss.backward()           # mean next-id cross-entropy (nats)

``input`` picks what sits between the embedding and the output layer (see ``config``): plain
blocks for tokens and bytes, ``PooledBody`` for delete and words.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import blocks as B_
from .config import POOLED, TinyConfig, check_config
from .flops import FlopCount, head_flops, non_embedding_params, plain_forward
from .pooled import PooledBody


@dataclass
class TinyOutput:
    logits: torch.Tensor  # (B, T, V) scores of the next id
    nll: torch.Tensor | None  # () mean cross-entropy in nats over the targets (None without targets)
    loss: torch.Tensor | None  # what training minimises: nll (+ a gate's auxiliary loss, 0 for the ones here)
    kept: torch.Tensor | None  # (B, T) bool positions the middle blocks saw (pooled models), else None
    flops: FlopCount  # forward FLOPs of this call


class TinyLM(nn.Module):
    def __init__(self, cfg: TinyConfig):
        super().__init__()
        check_config(cfg)
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.wpe = nn.Embedding(cfg.seq_len, cfg.d_model)
        self.body = PooledBody(cfg) if cfg.input in POOLED else None
        self.blocks = B_.stack(cfg, cfg.n_layer) if self.body is None else nn.ModuleList()
        self.ln_f = nn.LayerNorm(cfg.d_model)
        # training FLOPs spent on these weights so far, counted by the trainer (saved with them, so a resumed run adds on)
        self.register_buffer("train_flops", torch.zeros((), dtype=torch.float64))
        self.apply(self._init)
        for name, p in self.named_parameters():  # residual projections scaled down with depth (GPT-2)
            if name.endswith(("attn.proj.weight", "mlp.down.weight")):
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * cfg.n_layer))
        for m in self.modules():  # parts with an init of their own (the delete gate)
            if m is not self and hasattr(m, "init_weights"):
                m.init_weights()

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def non_embedding_params(self) -> int:
        """Counted on the module (the tournament holds it equal); equals flops.non_embedding_params."""
        return sum(p.numel() for n, p in self.named_parameters() if not n.startswith(("wte.", "wpe.")))

    def set_progress(self, progress: float) -> None:
        """Tell the parts that follow a schedule (the delete gate's deleted share) how far training is, in [0, 1]."""
        for m in self.modules():
            if m is not self and hasattr(m, "set_progress"):
                m.set_progress(progress)

    def clip_groups(self) -> list[list[nn.Parameter]]:
        """Parameter groups whose gradients are clipped apart: the delete gate's, and all the others."""
        gate = list(self.body.gate.parameters()) if self.body is not None else []
        ids = {id(p) for p in gate}
        return [g for g in ([p for p in self.parameters() if id(p) not in ids], gate) if g]

    def default_hard(self) -> bool:
        """Words: always hard (the rule is 0/1). Delete: soft while training, real deletion otherwise."""
        return self.cfg.input == "words" or (self.cfg.input == "delete" and not self.training)

    def forward(self, x: torch.Tensor, targets: torch.Tensor | None = None, hard: bool | None = None) -> TinyOutput:
        B, T = x.shape
        if T > self.cfg.seq_len:
            raise ValueError(f"a window of {T} positions is longer than seq_len {self.cfg.seq_len}")
        h = self.wte(x) + self.wpe(torch.arange(T, device=x.device))  # (B, T, C)
        kept, reg = None, None
        if self.body is None:
            h = B_.run(self.blocks, h)  # (B, T, C)
            flops = plain_forward(self.cfg, B, T)
        else:
            o = self.body(h, x, self.default_hard() if hard is None else hard)
            h, kept, reg = o.h, o.gate.hard, o.gate.reg
            flops = o.flops + FlopCount(head=B * head_flops(self.cfg, T))
        logits = self.ln_f(h) @ self.wte.weight.T  # (B, T, V)
        nll = loss = None
        if targets is not None:
            nll = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-1)
            loss = nll if reg is None else nll + reg
        return TinyOutput(logits, nll, loss, kept, flops)


def check_params(model: TinyLM) -> None:
    """The module's count and the formula in flops.py agree (the FLOPs count trusts the formula)."""
    a, b = model.non_embedding_params(), non_embedding_params(model.cfg)
    if a != b:
        raise AssertionError(f"non-embedding parameters: module {a}, formula {b}")


__all__ = ["TinyLM", "TinyOutput", "check_params"]
