"""Residual vector quantization (RVQ): K VQ stages, each quantizing what the previous left.

Zeghidour et al., "SoundStream: An End-to-End Neural Audio Codec", 2021 (also EnCodec, Défossez
et al. 2022). Stage k quantizes the residual r_k = z - (e_1 + ... + e_{k-1}); the output is the
sum of the K code vectors, so the first k levels alone already give a coarse reconstruction.
Quantizer dropout (SoundStream) trains that property: with probability ``dropout`` a training
batch uses only the first k ~ U{1..K} levels. ``forward(z, keep=k)`` and
``decode_codes(codes, keep=k)`` use the first k levels; codes are (B, N, k).

Each stage is a ``vq.VQ`` (EMA, k-means initialisation on its own residual, dead-code restart).
Gradients reach z straight through the whole sum: quantized = z + sg(sum_k e_k - z).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..errors import InvalidInput
from ..train.distributed import broadcast_tensor
from .base import Quantizer, QuantizerOutput
from .vq import VQ, VQConfig


@dataclass
class RVQConfig:
    dim: int = 64  # D: size of the input vectors (and of every stage's codes)
    codebook_size: int = 1024  # V: codes per level
    num_levels: int = 8  # K: residual stages
    dropout: float = 0.0  # chance per training batch of keeping only the first k ~ U{1..K} levels
    ema: bool = True  # per stage, as in VQConfig: EMA codebook (True) or learned codebook loss
    decay: float = 0.95  # EMA decay (see VQConfig)
    eps: float = 1e-5  # Laplace smoothing of the EMA counts
    commitment_weight: float = 0.25  # beta of every stage's commitment loss (the losses add up)
    codebook_weight: float = 1.0  # weight of the codebook loss when ema=False
    kmeans_init: bool = True  # k-means on the first batch that reaches each stage
    kmeans_iters: int = 10  # Lloyd iterations
    dead_code_steps: int = 20  # restart codes unused for this many steps; 0: never

    def stage_config(self) -> VQConfig:
        return VQConfig(
            dim=self.dim,
            codebook_size=self.codebook_size,
            ema=self.ema,
            decay=self.decay,
            eps=self.eps,
            commitment_weight=self.commitment_weight,
            codebook_weight=self.codebook_weight,
            kmeans_init=self.kmeans_init,
            kmeans_iters=self.kmeans_iters,
            dead_code_steps=self.dead_code_steps,
        )


class RVQ(Quantizer):
    def __init__(self, config: RVQConfig | None = None) -> None:
        super().__init__()
        self.config = c = config or RVQConfig()
        if c.num_levels < 1:
            raise InvalidInput(f"RVQ num_levels must be >= 1, got {c.num_levels}")
        if not 0.0 <= c.dropout <= 1.0:
            raise InvalidInput(f"RVQ dropout is a probability in [0, 1], got {c.dropout}")
        self.dim = c.dim  # D
        self.codebook_size = c.codebook_size  # V
        self.num_codebooks = c.num_levels  # K
        self.stages = nn.ModuleList(VQ(c.stage_config()) for _ in range(c.num_levels))

    def _levels(self, keep: int | None) -> int:
        K = self.num_codebooks
        if keep is None:
            return K
        if not 1 <= int(keep) <= K:
            raise InvalidInput(f"keep must be between 1 and {K} (the number of levels), got {keep}")
        return int(keep)

    def forward(self, z: torch.Tensor, keep: int | None = None) -> QuantizerOutput:
        self._check_input(z)
        k = self._levels(keep)
        if self.training and keep is None and self.config.dropout > 0:
            drop = torch.rand((), device=z.device) < self.config.dropout
            k_drop = torch.randint(1, self.num_codebooks + 1, (), device=z.device)
            k = int(broadcast_tensor(torch.where(drop, k_drop, torch.tensor(k, device=z.device))))  # same on all ranks
        residual = z.float()  # (B, N, D)
        total = torch.zeros_like(residual)  # (B, N, D) sum of code vectors so far
        loss = torch.zeros((), device=z.device)
        codes, stats = [], {}
        for i in range(k):
            out = self.stages[i](residual)
            e = out.quantized.detach()  # (B, N, D) the code vectors of this level
            total = total + e
            residual = residual - e  # gradients of later commitment losses still reach z
            loss = loss + out.loss
            codes.append(out.codes)
            for name in ("usage", "perplexity", "restarted"):
                stats[f"{name}/{i}"] = out.stats[name]
        quantized = z + (total.to(z.dtype) - z).detach()  # (B, N, D) straight-through
        codes_t = torch.stack(codes, dim=-1)  # (B, N, k)
        stats.update(
            levels=float(k),
            usage=sum(stats[f"usage/{i}"] for i in range(k)) / k,
            perplexity=sum(stats[f"perplexity/{i}"] for i in range(k)) / k,
            residual=float(residual.detach().pow(2).mean()),
        )
        return QuantizerOutput(quantized, codes_t, loss, stats)

    @torch.no_grad()
    def decode_codes(self, codes: torch.Tensor, keep: int | None = None) -> torch.Tensor:
        """codes (B, N, k) -> (B, N, D): the sum of the first min(k, keep) levels' vectors."""
        self._check_codes(codes, levels=self.num_codebooks)
        k = min(self._levels(keep), codes.shape[-1])
        out = self.stages[0].decode_codes(codes[..., 0])  # (B, N, D)
        for i in range(1, k):
            out = out + self.stages[i].decode_codes(codes[..., i])
        return out

    @torch.no_grad()
    def codebook(self) -> torch.Tensor:
        """The first level's (V, D) table; ``codebooks()`` gives all K."""
        return self.stages[0].codebook()

    @torch.no_grad()
    def codebooks(self) -> torch.Tensor:
        return torch.stack([s.codebook() for s in self.stages])  # (K, V, D)
