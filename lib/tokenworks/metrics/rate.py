"""How many bytes a sequence of tokens costs: fixed-width and entropy-coded estimates.

- ``token_bytes(k, V)``: k tokens from a vocabulary of V written with a fixed number of bits
  in total, ceil(k * log2(V) / 8) bytes (the tokens packed as one base-V number; with whole
  bits per token it would be ceil(k * ceil(log2 V) / 8), given as ``token_bytes_whole_bits``).
- ``doubling_ks(T)``: the prefix lengths 1, 2, 4, ..., T at which ordered tokenizers are measured.
- ``entropy_bytes(ids, probs)``: the size an ideal arithmetic coder reaches with a fixed
  unigram model: bits = sum over tokens of -log2 p(token). A real arithmetic coder adds at most
  about 2 bits per message (not included).

The model cost, stated plainly: ``entropy_bytes`` counts only the tokens. The unigram
distribution is part of the codec, shipped once and shared by every image, like JPEG's
standard tables, and it costs nothing per image only when it was fitted on *other* data (the
training split). Fitting it on the very tokens being measured makes the estimate optimistic;
``unigram_model_bits`` gives the cost of sending such a model along (V counts of
ceil(log2(n + 1)) bits each), to add when that is what was done.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInput


def _check_kv(k: int, V: int) -> None:
    if not isinstance(k, (int, np.integer)) or k < 0:
        raise InvalidInput(f"k (the number of tokens) must be an int >= 0, not {k!r}")
    if not isinstance(V, (int, np.integer)) or V < 1:
        raise InvalidInput(f"V (the vocabulary size) must be an int >= 1, not {V!r}")


def doubling_ks(T: int) -> list[int]:
    """The prefix lengths 1, 2, 4, ..., T (T included even when it is not a power of two): the grid
    on which an ordered tokenizer's rate-quality curve is measured, each point twice the bytes."""
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 1:
        raise InvalidInput(f"T (the number of tokens) must be an int >= 1, not {T!r}")
    ks, k = [], 1
    while k < T:
        ks.append(k)
        k *= 2
    return ks + [int(T)]


def token_bits(k: int, V: int) -> float:
    """k * log2(V): the information in k tokens drawn from V symbols."""
    _check_kv(k, V)
    return float(k) * math.log2(V)


def token_bytes(k: int, V: int) -> int:
    """ceil(k * log2(V) / 8): bytes for k tokens of a V-symbol vocabulary, packed."""
    _check_kv(k, V)
    if k == 0 or V == 1:
        return 0
    bits = k * math.log2(V)
    # guard float noise at exact powers of two (k * log2(1024) is exactly 10 k)
    exact = round(bits)
    return math.ceil((exact if abs(bits - exact) < 1e-9 else bits) / 8)


def token_bytes_whole_bits(k: int, V: int) -> int:
    """ceil(k * ceil(log2 V) / 8): bytes when every token gets a whole number of bits."""
    _check_kv(k, V)
    return math.ceil(k * math.ceil(math.log2(V)) / 8) if V > 1 else 0


def unigram_from_counts(counts, alpha: float = 0.5) -> np.ndarray:
    """(V,) probabilities from (V,) code counts with add-``alpha`` smoothing (no zero p)."""
    c = np.asarray(counts, dtype=np.float64)  # (V,)
    if c.ndim != 1 or c.size == 0 or (c < 0).any():
        raise InvalidInput("counts must be a non-empty 1-D array of non-negative numbers")
    if alpha < 0 or (alpha == 0 and c.sum() == 0):
        raise InvalidInput(f"alpha must be >= 0 (and > 0 when every count is 0); got {alpha}")
    p = c + alpha
    return p / p.sum()


def code_counts(ids, V: int) -> np.ndarray:
    """(V,) how often each code occurs in ``ids`` (any shape)."""
    ids = np.asarray(ids).reshape(-1)
    _check_ids(ids, V)
    return np.bincount(ids.astype(np.int64), minlength=V)


def _check_ids(ids: np.ndarray, V: int) -> None:
    if ids.size and (not np.issubdtype(ids.dtype, np.integer) or ids.min() < 0
                     or ids.max() >= V):
        raise InvalidInput(f"token ids must be integers in [0, {V - 1}]; got "
                           f"{ids.dtype} in [{ids.min()}, {ids.max()}]")


@dataclass
class EntropyEstimate:
    tokens: int  # how many tokens were coded
    bits: float  # sum of -log2 p(token): the ideal arithmetic-coded size
    nbytes: int  # ceil(bits / 8)
    bits_per_token: float  # bits / tokens
    fixed_bytes: int  # token_bytes(tokens, V), for comparison
    model_bits: float  # model cost included in nbytes: 0 (the model is part of the codec)
    note: str  # what the model cost is and is not


def entropy_bytes(ids, probs) -> EntropyEstimate:
    """Ideal entropy-coded size of ``ids`` (any shape) under the unigram ``probs`` (V,)."""
    p = np.asarray(probs, dtype=np.float64)  # (V,)
    if p.ndim != 1 or p.size == 0 or (p < 0).any() or not np.isclose(p.sum(), 1.0, atol=1e-6):
        raise InvalidInput("probs must be a 1-D probability vector (non-negative, sum 1)")
    ids = np.asarray(ids).reshape(-1)  # (T,)
    _check_ids(ids, p.size)
    pt = p[ids.astype(np.int64)] if ids.size else np.ones(0)  # (T,)
    if (pt == 0).any():
        raise InvalidInput("a token has probability 0 under the model (infinite cost); "
                           "smooth the counts, e.g. unigram_from_counts(counts, alpha=0.5)")
    bits = float(-np.log2(pt).sum())
    return EntropyEstimate(
        tokens=int(ids.size), bits=bits, nbytes=math.ceil(bits / 8 - 1e-9),
        bits_per_token=bits / ids.size if ids.size else 0.0,
        fixed_bytes=token_bytes(int(ids.size), int(p.size)), model_bits=0.0,
        note="tokens only: the unigram model is part of the codec (fit it on the training "
             "split); arithmetic-coder overhead (<= ~2 bits per message) not included",
    )


def unigram_model_bits(V: int, n: int) -> float:
    """Bits to send a unigram model as V counts that sum to n: V * ceil(log2(n + 1))."""
    _check_kv(n, V)
    return float(V * math.ceil(math.log2(n + 1)))


def entropy_of(probs) -> float:
    """H(p) in bits per token: the average cost of a token drawn from ``probs`` itself."""
    p = np.asarray(probs, dtype=np.float64)  # (V,)
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())
