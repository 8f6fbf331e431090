"""The unigram token distribution of a corpus: entropy, efficiency, Zipf fit.

Efficiency follows Zouhar et al. (2023), "Tokenization and the Noiseless Channel" (ACL 2023):
the entropy of the unigram distribution of the tokens a tokenizer produces on a corpus,
divided by the largest entropy a vocabulary of that size could have, log |V|. A tokenizer that
uses every token equally often has efficiency 1; one that leans on a few tokens scores low.
Their preferred variant is the Renyi entropy of order alpha = 2.5, which discounts very rare
tokens less and very frequent ones more than Shannon entropy does:

    H_1(p)     = -sum_i p_i log p_i                       (Shannon)
    H_alpha(p) = log(sum_i p_i ** alpha) / (1 - alpha)    (Renyi, alpha != 1)
    efficiency = H / log |V|

Both use natural logs (the ratio does not depend on the base). The Zipf fit is an ordinary
least-squares line through (log rank, log frequency) of the distinct tokens, rank 1 the most
frequent; a Zipfian corpus has slope near -1.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInput

RENYI_ALPHA = 2.5  # Zouhar et al. (2023)'s choice


def _probs(counts) -> np.ndarray:
    c = np.asarray(counts, dtype=np.float64).ravel()  # (n,) occurrences of each distinct token
    if c.size == 0 or (c < 0).any() or c.sum() <= 0:
        raise InvalidInput("token counts must be non-negative with a positive total (no tokens were given)")
    c = c[c > 0]
    return c / c.sum()


def shannon_entropy(counts) -> float:
    """H_1 in nats of the distribution ``counts / counts.sum()``."""
    p = _probs(counts)
    return float(-(p * np.log(p)).sum())


def renyi_entropy(counts, alpha: float = RENYI_ALPHA) -> float:
    """H_alpha in nats; alpha = 1 is Shannon, alpha = inf is -log max p."""
    if alpha < 0:
        raise InvalidInput(f"the Renyi order alpha must be >= 0, got {alpha}")
    p = _probs(counts)
    if alpha == 1:
        return shannon_entropy(p)
    if math.isinf(alpha):
        return float(-np.log(p.max()))
    return float(np.log((p ** alpha).sum()) / (1.0 - alpha))


def efficiency(entropy: float, vocab_size: int) -> float | None:
    """entropy / log |V| (None for a one-token vocabulary, where log |V| = 0)."""
    if vocab_size < 1:
        raise InvalidInput(f"the vocabulary size must be >= 1, got {vocab_size}")
    return None if vocab_size == 1 else float(entropy / math.log(vocab_size))


@dataclass(frozen=True)
class ZipfFit:
    """log(frequency) = intercept + slope * log(rank), fitted by least squares."""

    slope: float  # about -1 for a Zipfian distribution
    intercept: float
    r2: float  # coefficient of determination of the line (1: a perfect power law)
    n: int  # distinct tokens in the fit


def zipf_fit(counts) -> ZipfFit | None:
    """Fit the rank-frequency line; None when fewer than 3 distinct tokens occur (no line to judge)."""
    c = np.sort(np.asarray(counts, dtype=np.float64).ravel())[::-1]  # (n,) descending
    c = c[c > 0]
    if c.size < 3:
        return None
    x = np.log(np.arange(1, c.size + 1, dtype=np.float64))  # (n,) log rank
    y = np.log(c)  # (n,) log frequency
    xm, ym = x.mean(), y.mean()
    sxx = ((x - xm) ** 2).sum()
    slope = float(((x - xm) * (y - ym)).sum() / sxx)
    intercept = float(ym - slope * xm)
    ss_tot = float(((y - ym) ** 2).sum())
    ss_res = float(((y - intercept - slope * x) ** 2).sum())
    r2 = 1.0 if ss_tot == 0 else 1.0 - ss_res / ss_tot  # all counts equal: a flat line fits exactly
    return ZipfFit(slope=slope, intercept=intercept, r2=r2, n=int(c.size))
