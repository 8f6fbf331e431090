"""Finite scalar quantization (FSQ).

Mentzer, Minnen, Agustsson, Tschannen, "Finite Scalar Quantization: VQ-VAE Made Simple",
ICLR 2024 (arXiv:2309.15505).

Each of the d = len(levels) dimensions is squashed into a bounded range with tanh and rounded to
one of L_i integers; the code id is the mixed-radix number of those digits, so the codebook is
implicit (V = prod(levels), e.g. (8, 5, 5, 5) -> 1000) and never collapses: there is nothing to
learn, no codebook loss and no dead codes to restart. Gradients pass the rounding unchanged
(straight-through). When the input dimension D differs from d, a linear layer projects D -> d
before quantizing and d -> D after.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import InvalidInput
from .base import Quantizer, QuantizerOutput, code_stats


@dataclass
class FSQConfig:
    levels: tuple[int, ...] = (8, 5, 5, 5)  # L_i per quantized dim; V = prod(levels) (here 1000)
    dim: int | None = None  # D of the input; None: len(levels) (no projection)
    eps: float = 1e-3  # keeps tanh off its asymptotes so every level is reachable


def _round_ste(x: torch.Tensor) -> torch.Tensor:
    """Round to the nearest integer forwards, identity backwards."""
    return x + (torch.round(x) - x).detach()


class FSQ(Quantizer):
    def __init__(self, config: FSQConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or FSQConfig()
        levels = tuple(int(v) for v in config.levels)
        if not levels or min(levels) < 2:
            raise InvalidInput(f"FSQ levels must each be >= 2, got {config.levels}")
        self.levels = levels
        self.codebook_size = math.prod(levels)  # V
        self.num_codebooks = 1  # K
        d = len(levels)
        self.dim = config.dim or d  # D
        self.project_in = nn.Linear(self.dim, d) if self.dim != d else nn.Identity()
        self.project_out = nn.Linear(d, self.dim) if self.dim != d else nn.Identity()
        L = torch.tensor(levels, dtype=torch.float32)  # (d,)
        half_l = (L - 1) * (1 - config.eps) / 2  # (d,) half range of the bounded value
        offset = torch.where(L % 2 == 0, 0.5, 0.0)  # (d,) even L: levels sit at half integers
        # These are constants of the config, not state: not saved in the state_dict.
        self.register_buffer("_half_l", half_l, persistent=False)
        self.register_buffer("_offset", offset, persistent=False)
        self.register_buffer("_shift", torch.atanh(offset / half_l), persistent=False)  # (d,)
        self.register_buffer("_half_width", torch.div(L, 2, rounding_mode="floor"), persistent=False)
        self.register_buffer("_levels", L.long(), persistent=False)  # (d,)
        basis = torch.cumprod(torch.tensor((1,) + levels[:-1]), 0)  # (d,) mixed-radix place values
        self.register_buffer("_basis", basis.long(), persistent=False)

    # -- the steps of FSQ -----------------------------------------------------------------
    def bound(self, z: torch.Tensor) -> torch.Tensor:
        """(..., d) -> (..., d) in (-L/2, L/2): rounding gives L_i distinct integers."""
        return torch.tanh(z + self._shift) * self._half_l - self._offset

    def digits_to_codes(self, digits: torch.Tensor) -> torch.Tensor:
        """(..., d) digits in [0, L_i) -> (...,) mixed-radix code ids in [0, V)."""
        return (digits.long() * self._basis).sum(-1)

    def codes_to_digits(self, codes: torch.Tensor) -> torch.Tensor:
        """(...,) code ids -> (..., d) digits in [0, L_i)."""
        return torch.div(codes.long().unsqueeze(-1), self._basis, rounding_mode="floor") % self._levels

    def _digits_to_vectors(self, digits: torch.Tensor) -> torch.Tensor:
        return (digits.float() - self._half_width) / self._half_width  # (..., d) in [-1, 1]

    # -- the interface --------------------------------------------------------------------
    def forward(self, z: torch.Tensor) -> QuantizerOutput:
        self._check_input(z)
        h = self.project_in(z).float()  # (B, N, d)
        r = _round_ste(self.bound(h))  # (B, N, d) integers in [-L/2, L/2)
        codes = self.digits_to_codes(r.detach() + self._half_width)  # (B, N)
        q = r / self._half_width  # (B, N, d) in [-1, 1]
        quantized = self.project_out(q).to(z.dtype)  # (B, N, D)
        loss = torch.zeros((), device=z.device)
        return QuantizerOutput(quantized, codes, loss, code_stats(codes, self.codebook_size))

    @torch.no_grad()
    def decode_codes(self, codes: torch.Tensor) -> torch.Tensor:
        self._check_codes(codes)
        q = self._digits_to_vectors(self.codes_to_digits(codes))  # (..., d)
        return self.project_out(q)  # (..., D)

    @torch.no_grad()
    def codebook(self) -> torch.Tensor | None:
        if self.codebook_size > 2**16:
            return None
        ids = torch.arange(self.codebook_size, device=self._basis.device)  # (V,)
        return self.decode_codes(ids)  # (V, D)
