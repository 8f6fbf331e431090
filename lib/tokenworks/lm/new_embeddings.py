"""Vectors for the tokens of a new vocabulary, from the base model's embedding matrix.

Every estimator answers one question: token ``t`` of the new vocabulary is not in the base
vocabulary; what vector should it get?

    zero    the zero vector
    mean    the mean of every base vector
    random  a normal draw with the base vectors' per-dimension mean and spread (seeded)
    fvt     Fast Vocabulary Transfer (Gee et al. 2022): the mean of the vectors of the pieces the
            base tokenizer cuts the token's bytes into

Tokens whose bytes are a base token keep that token's vector, whatever the method. ``pieces``
cuts bytes with the base vocabulary's own BPE merges, as one word (a token never spans a
pre-token), so it works for tokens that are only part of a UTF-8 character too; bytes the base
vocabulary has no token for are left out (``EmbeddingPlan.unrepresented`` counts them).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInput

METHODS = ("zero", "mean", "random", "fvt")


@dataclass
class EmbeddingPlan:
    """Where each new token's vector comes from. V_new tokens, D dimensions."""

    method: str
    shared: np.ndarray  # (V_new,) int64: the base id with the same bytes, -1 if none
    pieces: list[list[int]]  # the base ids a new token's bytes cut into ([] for shared and special tokens)
    special_map: dict[int, int]  # new special id -> base id of the same name (-1: none, the mean is used)
    unrepresented: int  # bytes of new tokens that no base token holds (left out of their pieces)


def base_pieces(base_tok, data: bytes, alphabet: dict[int, str]) -> tuple[list[int], int]:
    """The base BPE's ids for ``data`` as one word, and how many bytes it could not hold."""
    chars = "".join(alphabet[b] for b in data)
    ids = [t.id for t in base_tok.hf.model.tokenize(chars)]
    held = sum(len(base_tok._bytes[i]) for i in ids if base_tok._bytes[i] is not None)
    return ids, len(data) - held


def plan(base_vocab, base_tok, new_vocab, method: str) -> EmbeddingPlan:
    """Match the new vocabulary against the base one and cut the new tokens into base pieces."""
    if method not in METHODS:
        raise InvalidInput(f"method must be one of {', '.join(METHODS)} (got {method!r})")
    from ..text.hf import byte_alphabet

    alphabet = {b: c for c, b in byte_alphabet().items()}
    by_bytes = {b: i for i, b in enumerate(base_vocab.token_bytes) if b and not base_vocab.special[i]}
    base_special = {name: i for i, name in getattr(base_vocab, "special_names", {}).items()}
    base_by_name = {v: k for k, v in base_special.items()}
    V = len(new_vocab.token_bytes)
    shared = np.full(V, -1, dtype=np.int64)
    pieces: list[list[int]] = [[] for _ in range(V)]
    special_map: dict[int, int] = {}
    missing = 0
    new_names = getattr(new_vocab, "special_names", {})
    for i, b in enumerate(new_vocab.token_bytes):
        if new_vocab.special[i]:
            name = new_names.get(i)
            if name is not None:
                special_map[i] = base_by_name.get(name, -1)
            continue
        j = by_bytes.get(b)
        if j is not None:
            shared[i] = j
        elif method == "fvt":
            pieces[i], lost = base_pieces(base_tok, b, alphabet)
            missing += lost
    return EmbeddingPlan(method, shared, pieces, special_map, missing)


def build(E: np.ndarray, p: EmbeddingPlan, new_special: np.ndarray, seed: int = 0) -> np.ndarray:
    """The new (V_new, D) matrix from the base matrix E (V, D) and a plan."""
    V, D = len(p.shared), E.shape[1]
    mean = E.mean(axis=0)  # (D,)
    out = np.zeros((V, D), dtype=np.float32)  # (V_new, D)
    new = (p.shared < 0) & ~new_special  # (V_new,) tokens the method fills
    if p.method == "mean":
        out[new] = mean
    elif p.method == "random":
        rng = np.random.default_rng(seed)
        out[new] = rng.normal(mean, E.std(axis=0), size=(int(new.sum()), D))
    elif p.method == "fvt":
        for i in np.flatnonzero(new).tolist():
            out[i] = E[p.pieces[i]].mean(axis=0) if p.pieces[i] else mean
    has = p.shared >= 0
    out[has] = E[p.shared[has]]
    for i, j in p.special_map.items():
        out[i] = E[j] if j >= 0 else mean
    return out
