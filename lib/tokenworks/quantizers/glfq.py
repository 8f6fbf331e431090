"""Group-wise lookup-free quantization (GQ / GLFQ), as in WeTok.

Zhuang et al., "WeTok: Powerful Discrete Tokenization for High-Fidelity Visual Reconstruction",
2025 (arXiv:2508.05599).

LFQ (``lfq.py``, MAGVIT-v2) needs an entropy loss over all 2^d codes, whose memory grows
exponentially with d. WeTok splits the d = G * b latent dimensions into G groups of b bits and
runs LFQ in each group, with its own entropy term over only 2^b codes, so large total codebooks
(2^(G b)) stay cheap to regularise. Codes are (B, N, G), each in [0, 2^b): K = G, V = 2^b.
``codebook()`` returns the table shared by every group, (V, b) (not (V, D): a code fills only
its group's b dimensions; with a projection there is no per-group vector in D).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InvalidInput
from .base import Quantizer, QuantizerOutput, code_stats
from .lfq import code_to_signs, lfq_entropies


@dataclass
class GLFQConfig:
    groups: int = 4  # G: groups, each its own LFQ (K = G codes per vector)
    bits_per_group: int = 8  # b: bits per group; V = 2**b codes per group
    dim: int | None = None  # D of the input; None: groups * bits_per_group (no projection)
    scale: float = 1.0  # code values are +-scale
    commitment_weight: float = 0.25  # weight of ||z - sg(q)||^2
    entropy_weight: float = 0.1  # weight of the entropy terms (summed over groups)
    sample_entropy_weight: float = 1.0  # weight of the per-sample entropy (minimised)
    codebook_entropy_weight: float = 1.0  # weight of each group's batch entropy (maximised)
    temperature: float = 1.0  # softness of p(code | z)


class GLFQ(Quantizer):
    def __init__(self, config: GLFQConfig | None = None) -> None:
        super().__init__()
        self.config = c = config or GLFQConfig()
        if c.groups < 1 or not 1 <= c.bits_per_group <= 16:
            raise InvalidInput(
                f"GLFQ needs groups >= 1 and bits_per_group in 1..16, got {c.groups}, {c.bits_per_group}"
            )
        self.groups, self.bits = c.groups, c.bits_per_group  # G, b
        d = c.groups * c.bits_per_group
        self.codebook_size = 2**c.bits_per_group  # V per group
        self.num_codebooks = c.groups  # K = G
        self.dim = c.dim or d  # D
        self.project_in = nn.Linear(self.dim, d) if self.dim != d else nn.Identity()
        self.project_out = nn.Linear(d, self.dim) if self.dim != d else nn.Identity()
        self.register_buffer("_powers", 2 ** torch.arange(c.bits_per_group), persistent=False)  # (b,)

    def forward(self, z: torch.Tensor) -> QuantizerOutput:
        self._check_input(z)
        c = self.config
        B, N, _ = z.shape
        h = self.project_in(z).float().view(B, N, self.groups, self.bits)  # (B, N, G, b)
        bit = h > 0  # (B, N, G, b)
        q_hard = torch.where(bit, c.scale, -c.scale)  # (B, N, G, b)
        q = h + (q_hard - h).detach()  # (B, N, G, b) straight-through
        codes = (bit.long() * self._powers).sum(-1)  # (B, N, G)
        commit = F.mse_loss(h, q_hard)
        loss = c.commitment_weight * commit
        sample_h = batch_h = torch.zeros((), device=z.device)
        if c.entropy_weight > 0 and self.training:
            sample_h, batch_h = lfq_entropies(
                h.reshape(B * N, self.groups, self.bits), c.scale, c.temperature, exact_bits=16
            )
            loss = loss + c.entropy_weight * (
                c.sample_entropy_weight * sample_h - c.codebook_entropy_weight * batch_h
            )
        quantized = self.project_out(q.reshape(B, N, -1)).to(z.dtype)  # (B, N, D)
        per_group = [code_stats(codes[..., g], self.codebook_size) for g in range(self.groups)]
        stats = {k: sum(s[k] for s in per_group) / self.groups for k in per_group[0]}
        stats.update(
            commit=float(commit.detach()),
            sample_entropy=float(sample_h.detach()),
            batch_entropy=float(batch_h.detach()),
        )
        return QuantizerOutput(quantized, codes, loss, stats)

    @torch.no_grad()
    def decode_codes(self, codes: torch.Tensor) -> torch.Tensor:
        """codes (B, N, G) -> (B, N, D)."""
        self._check_codes(codes)
        if codes.dim() < 1 or codes.shape[-1] != self.groups:
            raise InvalidInput(f"GLFQ codes must end in G={self.groups} groups, got {tuple(codes.shape)}")
        q = code_to_signs(codes, self.bits, self.config.scale)  # (..., G, b)
        return self.project_out(q.flatten(-2))  # (..., D)

    @torch.no_grad()
    def codebook(self) -> torch.Tensor:
        """The (V, b) table every group shares: row c is the +-scale bits of c."""
        ids = torch.arange(self.codebook_size, device=self._powers.device)  # (V,)
        bit = (ids.unsqueeze(-1) >> torch.arange(self.bits, device=ids.device)) & 1  # (V, b)
        return (bit.float() * 2 - 1) * self.config.scale
