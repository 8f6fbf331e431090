"""ToMe: bipartite soft matching (Bolya et al. 2023, "Token Merging: Your ViT But Faster").

Inside a transformer layer, between attention and the MLP, r tokens are merged away:

1. the layer's keys, averaged over heads, are the similarity metric (cosine);
2. the tokens (all but [CLS], which is never merged) alternate into two sets, A = 1st, 3rd, 5th...
   and B = 2nd, 4th, ...;
3. every token of A draws one edge, to its most similar token of B;
4. the r most similar edges are kept and each of those A tokens merges into its B token.

Merged tokens are averaged weighted by their size (how many input tokens they stand for) and
attention becomes proportional: ``softmax(q k^T / sqrt(d) + log s)``, so a merged token counts
as the tokens it replaced (``text/token_merging.py`` runs both). A step removes exactly
``min(r, |A|)`` tokens; ``token_merging`` keeps r at most half the mergeable tokens, the same
bound PiToMe has, so all methods remove the same count.

    assign = tome_assign(keys, r)    # (N,) group of each token after the step (tokens of a group merge)
"""
from __future__ import annotations

import numpy as np

PROTECTED = 0  # [CLS]: never merged


def cosine_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) cosine similarities of the rows of a and b."""
    a = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-12)
    return a @ b.T


def assign_from_pairs(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """(n,) the group of each of n tokens after ``src[k]`` merges into ``dst[k]`` (no token is
    both a source and a destination); groups are numbered in the order of their destination."""
    root = np.arange(n)
    root[np.asarray(src, dtype=np.int64)] = np.asarray(dst, dtype=np.int64)
    _, assign = np.unique(root, return_inverse=True)
    return assign.astype(np.int64)


def match(keys: np.ndarray, a_idx: np.ndarray, b_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every token of A: (its best cosine to B, that B token's index)."""
    sim = cosine_matrix(keys[a_idx], keys[b_idx])  # (|A|, |B|)
    best = sim.argmax(axis=1)  # (|A|,)
    return sim[np.arange(len(a_idx)), best], b_idx[best]


def tome_assign(keys: np.ndarray, r: int) -> np.ndarray:
    """(N,) groups after merging the ``r`` most similar A->B edges of ``keys`` (N, d); token 0
    ([CLS]) stays alone. r is capped at |A| (and 0 when fewer than 2 tokens can merge)."""
    n = keys.shape[0]
    cand = np.arange(n)[np.arange(n) != PROTECTED]  # mergeable positions, in order
    a_idx, b_idx = cand[0::2], cand[1::2]
    r = min(int(r), len(a_idx)) if len(b_idx) else 0
    if r <= 0:
        return np.arange(n)
    score, dst = match(keys, a_idx, b_idx)  # (|A|,), (|A|,)
    top = np.argsort(-score, kind="stable")[:r]  # the r most similar edges
    return assign_from_pairs(n, a_idx[top], dst[top])
