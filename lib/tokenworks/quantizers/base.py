"""The interface every quantizer in this package honours.

A quantizer maps continuous vectors to discrete codes and back::

    q = VQ(VQConfig(dim=64, codebook_size=1024))
    out = q(z)                      # z: (B, N, D) float -> QuantizerOutput
    out.quantized                   # (B, N, D) what the decoder sees (straight-through gradients)
    out.codes                       # (B, N) int64, or (B, N, K) for K codebooks (residual, grouped)
    out.loss                        # scalar tensor to add to the training loss (0 when none)
    out.stats                       # floats for logging: perplexity, usage of this batch, ...
    q.decode_codes(out.codes)       # (B, N, D) == out.quantized (up to float error), no gradients needed

``codebook_size`` is V (ids per code position) and ``num_codebooks`` is K (1 for plain VQ, FSQ,
LFQ). ``codebook()`` returns the (V, D) table of code vectors where one exists (implicit
codebooks such as FSQ and LFQ enumerate it; None when V is too large to list).

Here N is the number of vectors per item (tokens, frames or grid cells), not characters.

Codebook health over a whole dataset (not one batch) is measured with ``health.CodebookHealth``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from ..errors import InvalidInput


@dataclass
class QuantizerOutput:
    quantized: torch.Tensor  # (B, N, D) straight-through quantized vectors
    codes: torch.Tensor  # (B, N) or (B, N, K) int64 code ids
    loss: torch.Tensor  # scalar auxiliary loss (commitment, codebook, entropy ...)
    stats: dict[str, float] = field(default_factory=dict)  # batch statistics for logs


class Quantizer(nn.Module):
    """What every quantizer has: ``forward``, ``decode_codes``, ``codebook``, V and K.

    Subclasses set ``codebook_size`` (V), ``num_codebooks`` (K) and ``dim`` (D) in ``__init__``.
    """

    codebook_size: int
    num_codebooks: int
    dim: int

    def forward(self, z: torch.Tensor) -> QuantizerOutput:  # pragma: no cover - interface
        raise NotImplementedError

    def decode_codes(self, codes: torch.Tensor) -> torch.Tensor:  # pragma: no cover - interface
        raise NotImplementedError

    def codebook(self) -> torch.Tensor | None:
        return None

    # -- small helpers shared by the quantizers --------------------------------------------
    def _check_input(self, z: torch.Tensor) -> None:
        if not isinstance(z, torch.Tensor) or z.dim() != 3 or z.shape[-1] != self.dim:
            shape = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
            raise InvalidInput(
                f"{type(self).__name__} expects z of shape (B, N, D={self.dim}), got {shape}"
            )
        if not z.is_floating_point():
            raise InvalidInput(f"{type(self).__name__} expects a float tensor, got {z.dtype}")

    def _check_codes(self, codes: torch.Tensor, levels: int | None = None) -> None:
        if not isinstance(codes, torch.Tensor) or codes.is_floating_point():
            raise InvalidInput("codes must be an integer tensor")
        if codes.numel() and (int(codes.min()) < 0 or int(codes.max()) >= self.codebook_size):
            raise InvalidInput(
                f"codes must lie in [0, {self.codebook_size}); got values in "
                f"[{int(codes.min())}, {int(codes.max())}]"
            )
        if levels is not None and (codes.dim() != 3 or codes.shape[-1] > levels):
            raise InvalidInput(
                f"codes must have shape (B, N, k) with k <= {levels}, got {tuple(codes.shape)}"
            )


def code_stats(codes: torch.Tensor, codebook_size: int) -> dict[str, float]:
    """Batch statistics of one level of codes (any shape): usage, perplexity, normalised entropy.

    These describe one batch only; measure a whole dataset with ``health.CodebookHealth``.
    """
    counts = torch.bincount(codes.reshape(-1), minlength=codebook_size).double()  # (V,)
    total = counts.sum().clamp_min(1.0)
    p = counts / total  # (V,)
    entropy = float(-(p[p > 0] * p[p > 0].log()).sum())
    return {
        "usage": float((counts > 0).double().mean()),
        "perplexity": math.exp(entropy),
        "entropy": entropy / math.log(codebook_size) if codebook_size > 1 else 0.0,
    }
