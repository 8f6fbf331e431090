"""Vectors for the tokens of a new vocabulary, from the base model's embedding matrix.

Every estimator answers one question: token ``t`` of the new vocabulary is not in the base
vocabulary; what vector should it get?

    zero    the zero vector
    mean    the mean of every base vector
    random  a normal draw with the base vectors' per-dimension mean and spread (seeded)
    fvt     Fast Vocabulary Transfer (Gee et al. 2022): the mean of the vectors of the pieces the
            base tokenizer cuts the token's bytes into
    omp     Orthogonal Matching Pursuit (Goddard & Neto 2025): the token's vector in a shared space
            (``donor_space``: MiniLM's word embeddings) written as a sparse combination of shared
            tokens' vectors there (``OMP_ATOMS`` atoms); the same weights combine those tokens'
            base vectors. Tokens with no shared-space vector fall back to fvt
    tokenadapt  TokenAdapt's hybrid ("Achieving Tokenizer Flexibility ... Supertoken Learning", 2025):
            a local estimate (the pieces' vectors weighted by their byte length) mixed with a global
            one (the base vectors of the ``ADAPT_TOP`` shared tokens nearest in the shared space,
            weighted by a softmax of their cosine), ``ADAPT_LOCAL`` : 1 - ``ADAPT_LOCAL``

Tokens whose bytes are a base token keep that token's vector, whatever the method. ``pieces``
cuts bytes with the base vocabulary's own BPE merges, as one word (a token never spans a
pre-token), so it works for tokens that are only part of a UTF-8 character too; bytes the base
vocabulary has no token for are left out (``EmbeddingPlan.unrepresented`` counts them).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInput

METHODS = ("zero", "mean", "random", "fvt", "omp", "tokenadapt")
OMP_ATOMS = 8  # shared tokens per new token
OMP_POOL = 512  # OMP searches the atoms most correlated with the target (see lm/omp.py)
ADAPT_TOP = 8  # TokenAdapt's global estimate: nearest shared tokens
ADAPT_TEMPERATURE = 0.1  # ... weighted by softmax(cosine / temperature)
ADAPT_LOCAL = 0.5  # weight of the local estimate in the hybrid


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
        elif method != "zero" and method != "mean" and method != "random":
            pieces[i], lost = base_pieces(base_tok, b, alphabet)
            missing += lost
    return EmbeddingPlan(method, shared, pieces, special_map, missing)


def build(E: np.ndarray, p: EmbeddingPlan, new_special: np.ndarray, seed: int = 0,
          new_bytes: list[bytes] | None = None, base_bytes: list[bytes] | None = None) -> np.ndarray:
    """The new (V_new, D) matrix from the base matrix E (V, D) and a plan (omp and tokenadapt also
    need every token's bytes, to place them in the shared space)."""
    V, D = len(p.shared), E.shape[1]
    mean = E.mean(axis=0)  # (D,)
    out = np.zeros((V, D), dtype=np.float32)  # (V_new, D)
    new = (p.shared < 0) & ~new_special  # (V_new,) tokens the method fills
    if p.method == "mean":
        out[new] = mean
    elif p.method == "random":
        rng = np.random.default_rng(seed)
        out[new] = rng.normal(mean, E.std(axis=0), size=(int(new.sum()), D))
    elif p.method in ("fvt", "omp", "tokenadapt"):
        for i in np.flatnonzero(new).tolist():
            out[i] = E[p.pieces[i]].mean(axis=0) if p.pieces[i] else mean
        if p.method != "fvt":
            lengths = np.array([len(b) for b in base_bytes], dtype=np.float64) if base_bytes is not None else None
            _from_shared_space(E, p, new, out, new_bytes, lengths)
    has = p.shared >= 0
    out[has] = E[p.shared[has]]
    for i, j in p.special_map.items():
        out[i] = E[j] if j >= 0 else mean
    return out


def _from_shared_space(E: np.ndarray, p: EmbeddingPlan, new: np.ndarray, out: np.ndarray,
                       new_bytes: list[bytes] | None, lengths: np.ndarray | None) -> None:
    """omp / tokenadapt rows of ``out`` (already holding fvt, the fallback), in place."""
    from .donor_space import donor_vectors
    from .omp import omp

    if new_bytes is None or lengths is None:
        raise ValueError(f"{p.method} needs every token's bytes (build(..., new_bytes=..., base_bytes=...))")
    anchors = np.flatnonzero(p.shared >= 0)  # new ids whose bytes are a base token
    targets = np.flatnonzero(new)
    dv = donor_vectors([new_bytes[i] for i in anchors] + [new_bytes[i] for i in targets])
    A, a_ok = dv.vectors[: len(anchors)], dv.ok[: len(anchors)]  # (M, 384) anchors in the shared space
    Y, y_ok = dv.vectors[len(anchors):], dv.ok[len(anchors):]  # (N, 384) targets
    anchors, A = anchors[a_ok], A[a_ok]
    base_rows = E[p.shared[anchors]]  # (M', D) the anchors' base vectors
    go = np.flatnonzero(y_ok)
    if p.method == "omp":
        idx, coef = omp(Y[go], A, min(OMP_ATOMS, len(A)), pool=OMP_POOL)  # (n, k)
        out[targets[go]] = (coef[..., None] * base_rows[idx]).sum(1)  # (n, D)
        return
    An = A / np.maximum(np.linalg.norm(A, axis=1, keepdims=True), 1e-12)  # (M', 384)
    for s in range(0, len(go), 4096):
        part = go[s:s + 4096]
        Yn = Y[part] / np.maximum(np.linalg.norm(Y[part], axis=1, keepdims=True), 1e-12)
        cos = Yn @ An.T  # (b, M')
        n_top = min(ADAPT_TOP, len(A))
        top = np.argpartition(-cos, n_top - 1, axis=1)[:, :n_top]  # (b, top)
        c = np.take_along_axis(cos, top, axis=1) / ADAPT_TEMPERATURE
        w = np.exp(c - c.max(axis=1, keepdims=True))
        w /= w.sum(axis=1, keepdims=True)
        glob = (w[..., None] * base_rows[top]).sum(1)  # (b, D)
        rows = targets[part]
        local = np.stack([_length_weighted(E, p.pieces[i], out[i], lengths) for i in rows])  # (b, D)
        out[rows] = ADAPT_LOCAL * local + (1 - ADAPT_LOCAL) * glob


def _length_weighted(E: np.ndarray, pieces: list[int], fallback: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """TokenAdapt's local estimate: the pieces' base vectors weighted by their byte lengths."""
    if not pieces:
        return fallback
    return np.average(E[pieces], axis=0, weights=lengths[pieces])
