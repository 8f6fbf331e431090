"""Lookup-free quantization (LFQ): each dimension is quantized to its sign.

Yu et al., "Language Model Beats Diffusion -- Tokenizer is Key to Visual Generation" (MAGVIT-v2),
ICLR 2024 (arXiv:2310.05737).

With d = ``bits`` dimensions, q_i = scale * sign(z_i) and the code is the binary number
sum_i [z_i > 0] 2^i, so V = 2^d and no table is looked up. Gradients pass the sign unchanged
(straight-through). What keeps the implicit codebook in use is an entropy loss on the soft
assignment p(c | z) proportional to exp(-||z - c||^2 / temperature):

    entropy loss = sample_weight * E_z[H(p(. | z))]  -  codebook_weight * H(E_z[p(. | z)])

The first term (minimised) makes each vector commit to one code; the second (maximised) spreads
the batch over all codes. p(. | z) factorises over bits, so the per-sample entropy is a sum of
binary entropies. The batch (codebook) entropy is exact over all 2^d codes when
d <= ``exact_entropy_bits``; above that it uses the per-bit marginals (an upper bound, and the
memory problem that group-wise LFQ in ``glfq.py`` avoids). The batch entropy is per device
(not all-reduced under DDP).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InvalidInput
from .base import Quantizer, QuantizerOutput, code_stats


@dataclass
class LFQConfig:
    bits: int = 10  # d: binary dimensions; V = 2**bits
    dim: int | None = None  # D of the input; None: bits (no projection)
    scale: float = 1.0  # code values are +-scale
    commitment_weight: float = 0.25  # weight of ||z - sg(q)||^2
    entropy_weight: float = 0.1  # weight of the whole entropy term
    sample_entropy_weight: float = 1.0  # weight of the mean per-sample entropy (minimised)
    codebook_entropy_weight: float = 1.0  # gamma: weight of the batch entropy (maximised)
    temperature: float = 1.0  # softness of p(code | z)
    exact_entropy_bits: int = 12  # exact batch entropy over all codes up to this many bits


def _binary_entropy(p: torch.Tensor) -> torch.Tensor:
    eps = 1e-8
    return -(p * (p + eps).log() + (1 - p) * (1 - p + eps).log())


def code_to_signs(codes: torch.Tensor, bits: int, scale: float) -> torch.Tensor:
    """Integer codes (...) -> their bits as +-scale, least significant bit first: (..., bits)."""
    bit = (codes.long().unsqueeze(-1) >> torch.arange(bits, device=codes.device)) & 1  # (..., bits)
    return (bit.float() * 2 - 1) * scale  # (..., bits)


def all_bit_patterns(bits: int, device=None) -> torch.Tensor:
    """(2**bits, bits) float 0/1: row c holds the bits of c, least significant first."""
    ids = torch.arange(2**bits, device=device)  # (V,)
    return ((ids.unsqueeze(-1) >> torch.arange(bits, device=device)) & 1).float()  # (V, d)


def lfq_entropies(h: torch.Tensor, scale: float, temperature: float, exact_bits: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Entropy terms for h (M, G, b): G groups of b bits each, one LFQ per group.

    Returns (per-sample entropy, batch entropy), each summed over groups and in nats.
    """
    # p(bit = 1 | z) from exp(-||z - c||^2 / t): the logit of +s against -s is 4 s z / t.
    logit = 4 * scale * h / temperature  # (M, G, b)
    p1 = torch.sigmoid(logit)  # (M, G, b)
    sample = _binary_entropy(p1).sum(-1).mean(0).sum()  # () mean per-sample entropy
    b = h.shape[-1]
    if b <= exact_bits:
        pattern = all_bit_patterns(b, h.device)  # (V, b)
        log_p1, log_p0 = F.logsigmoid(logit), F.logsigmoid(-logit)  # (M, G, b)
        log_p = log_p1 @ pattern.t() + log_p0 @ (1 - pattern).t()  # (M, G, V) log p(code | z)
        avg = log_p.exp().mean(0)  # (G, V) batch distribution over codes
        batch = -(avg * (avg + 1e-8).log()).sum(-1).sum()  # ()
    else:
        batch = _binary_entropy(p1.mean(0)).sum()  # () entropy of the bit marginals
    return sample, batch


class LFQ(Quantizer):
    def __init__(self, config: LFQConfig | None = None) -> None:
        super().__init__()
        self.config = c = config or LFQConfig()
        if not 1 <= c.bits <= 62:
            raise InvalidInput(f"LFQ bits must be between 1 and 62, got {c.bits}")
        self.bits = c.bits  # d
        self.codebook_size = 2**c.bits  # V
        self.num_codebooks = 1  # K
        self.dim = c.dim or c.bits  # D
        self.project_in = nn.Linear(self.dim, c.bits) if self.dim != c.bits else nn.Identity()
        self.project_out = nn.Linear(c.bits, self.dim) if self.dim != c.bits else nn.Identity()
        self.register_buffer("_powers", 2 ** torch.arange(c.bits), persistent=False)  # (d,)

    def forward(self, z: torch.Tensor) -> QuantizerOutput:
        self._check_input(z)
        c = self.config
        h = self.project_in(z).float()  # (B, N, d)
        bit = h > 0  # (B, N, d)
        q_hard = torch.where(bit, c.scale, -c.scale)  # (B, N, d)
        q = h + (q_hard - h).detach()  # (B, N, d) straight-through
        codes = (bit.long() * self._powers).sum(-1)  # (B, N)
        commit = F.mse_loss(h, q_hard)
        loss = c.commitment_weight * commit
        sample_h = batch_h = torch.zeros((), device=z.device)
        if c.entropy_weight > 0 and self.training:
            sample_h, batch_h = lfq_entropies(
                h.reshape(-1, 1, self.bits), c.scale, c.temperature, c.exact_entropy_bits
            )
            loss = loss + c.entropy_weight * (
                c.sample_entropy_weight * sample_h - c.codebook_entropy_weight * batch_h
            )
        quantized = self.project_out(q).to(z.dtype)  # (B, N, D)
        stats = code_stats(codes, self.codebook_size)
        stats.update(
            commit=float(commit.detach()),
            sample_entropy=float(sample_h.detach()),
            batch_entropy=float(batch_h.detach()),
        )
        return QuantizerOutput(quantized, codes, loss, stats)

    @torch.no_grad()
    def decode_codes(self, codes: torch.Tensor) -> torch.Tensor:
        self._check_codes(codes)
        q = code_to_signs(codes, self.bits, self.config.scale)  # (..., d)
        return self.project_out(q)  # (..., D)

    @torch.no_grad()
    def codebook(self) -> torch.Tensor | None:
        if self.codebook_size > 2**16:
            return None
        return self.decode_codes(torch.arange(self.codebook_size, device=self._powers.device))  # (V, D)
