"""Codebook health over a whole dataset, not one batch.

One batch says little about a codebook of 1024 codes: a batch of 256 vectors cannot use them
all. ``CodebookHealth`` adds up code counts over as many batches as you give it and then reports,
per codebook level: usage (the fraction of codes used at least once), dead codes (never used),
normalised entropy H / log V (1.0 when all codes are equally frequent, 0 when one code takes
everything) and perplexity exp(H) (the effective number of codes)::

    health = CodebookHealth(codebook_size=1024)
    for z in batches:
        health.update(quantizer(z).codes)
    report = health.result()          # HealthReport
    report.usage, report.entropy, report.levels[0].perplexity

or in one call: ``measure(quantizer, batches)``.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import InvalidInput
from .base import QuantizerOutput


@dataclass
class LevelHealth:
    usage: float  # fraction of the V codes used at least once, in [0, 1]
    dead: int  # codes never used
    entropy: float  # normalised entropy H / log V, in [0, 1]
    perplexity: float  # exp(H): the effective number of codes, in [1, V]
    counts: np.ndarray  # (V,) int64 times each code occurred
    total: int  # codes counted


@dataclass
class HealthReport:
    codebook_size: int  # V
    levels: list[LevelHealth]  # one per codebook (K; 1 for plain VQ, FSQ, LFQ)

    @property
    def usage(self) -> float:
        """Mean usage over levels."""
        return float(np.mean([lv.usage for lv in self.levels]))

    @property
    def entropy(self) -> float:
        """Mean normalised entropy over levels."""
        return float(np.mean([lv.entropy for lv in self.levels]))

    @property
    def perplexity(self) -> float:
        """Mean perplexity over levels."""
        return float(np.mean([lv.perplexity for lv in self.levels]))

    @property
    def dead(self) -> int:
        """Dead codes summed over levels."""
        return int(sum(lv.dead for lv in self.levels))

    def as_dict(self) -> dict[str, float]:
        """Flat floats for logs and config.json: the means, then ``usage/0``, ``entropy/0``, ..."""
        out = {"usage": self.usage, "entropy": self.entropy, "perplexity": self.perplexity, "dead": float(self.dead)}
        for i, lv in enumerate(self.levels):
            out.update({f"usage/{i}": lv.usage, f"entropy/{i}": lv.entropy,
                        f"perplexity/{i}": lv.perplexity, f"dead/{i}": float(lv.dead)})
        return out


class CodebookHealth:
    """Counts codes over many batches; ``result()`` gives a ``HealthReport``.

    ``update(codes)``: codes of any shape when ``num_codebooks`` is 1; otherwise (..., k) with
    the level last and k <= K (a residual quantizer run with keep=k counts only its first k levels).
    """

    def __init__(self, codebook_size: int, num_codebooks: int = 1) -> None:
        if codebook_size < 1 or num_codebooks < 1:
            raise InvalidInput(
                f"CodebookHealth needs codebook_size >= 1 and num_codebooks >= 1, got {codebook_size}, {num_codebooks}"
            )
        self.codebook_size = codebook_size  # V
        self.num_codebooks = num_codebooks  # K
        self.counts = torch.zeros(num_codebooks, codebook_size, dtype=torch.long)  # (K, V)

    def reset(self) -> None:
        self.counts.zero_()

    def update(self, codes: torch.Tensor | np.ndarray | QuantizerOutput) -> CodebookHealth:
        if isinstance(codes, QuantizerOutput):
            codes = codes.codes
        codes = torch.as_tensor(codes).detach().cpu()
        if codes.is_floating_point():
            raise InvalidInput(f"codes must be integers, got {codes.dtype}")
        V, K = self.codebook_size, self.num_codebooks
        if codes.numel() and (int(codes.min()) < 0 or int(codes.max()) >= V):
            raise InvalidInput(f"codes must lie in [0, {V}), got values in [{int(codes.min())}, {int(codes.max())}]")
        if K == 1:
            self.counts[0] += torch.bincount(codes.reshape(-1).long(), minlength=V)
            return self
        if codes.dim() < 1 or codes.shape[-1] > K:
            raise InvalidInput(f"codes for {K} codebooks must have shape (..., k) with k <= {K}, got {tuple(codes.shape)}")
        flat = codes.reshape(-1, codes.shape[-1]).long()  # (M, k)
        for level in range(flat.shape[1]):
            self.counts[level] += torch.bincount(flat[:, level], minlength=V)
        return self

    def result(self) -> HealthReport:
        V = self.codebook_size
        levels = []
        for counts in self.counts:
            total = int(counts.sum())
            p = counts.double() / max(total, 1)  # (V,)
            nz = p[p > 0]
            h = float(-(nz * nz.log()).sum())
            levels.append(LevelHealth(
                usage=float((counts > 0).double().mean()),
                dead=int((counts == 0).sum()),
                entropy=h / math.log(V) if V > 1 else 0.0,
                perplexity=math.exp(h),
                counts=counts.numpy().copy(),
                total=total,
            ))
        return HealthReport(codebook_size=V, levels=levels)


def measure(
    quantizer_fn: Callable,
    batches: Iterable[torch.Tensor],
    codebook_size: int | None = None,
    num_codebooks: int | None = None,
) -> HealthReport:
    """Health of a quantizer over all ``batches`` (each (B, N, D)).

    ``quantizer_fn`` is a quantizer (run in eval mode and without gradients, so EMA codebooks do
    not move while measured) or any callable returning codes or a ``QuantizerOutput``; V and K come
    from its ``codebook_size`` / ``num_codebooks`` unless given. A plain callable such as
    ``lambda x: q(enc(x))`` runs as it is: put its modules in eval mode first.
    """
    V = codebook_size or getattr(quantizer_fn, "codebook_size", None)
    K = num_codebooks or getattr(quantizer_fn, "num_codebooks", 1)
    if V is None:
        raise InvalidInput("measure needs codebook_size when quantizer_fn has no codebook_size attribute")
    health = CodebookHealth(V, K)
    was_training = getattr(quantizer_fn, "training", None)
    if isinstance(quantizer_fn, torch.nn.Module):
        quantizer_fn.eval()
    try:
        with torch.no_grad():
            for batch in batches:
                health.update(quantizer_fn(batch))
    finally:
        if was_training:
            quantizer_fn.train()
    return health.result()
