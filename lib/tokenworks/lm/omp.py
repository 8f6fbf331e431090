"""Orthogonal Matching Pursuit: a vector as a sparse combination of dictionary vectors (atoms).

    idx, coef = omp(Y, A, k)     # Y (N, d) targets, A (M, d) atoms -> (N, k) atom ids, (N, k) weights
    Y ≈ (coef[..., None] * A[idx]).sum(1)

Each step picks the atom most correlated with what is left of the target (atoms compared by
direction), then refits every chosen weight by least squares, so the residual stays orthogonal to
the chosen atoms (Pati, Rezaiifar & Krishnaprasad 1993). Goddard & Neto 2025 use it to transplant a
tokenizer: a new token's vector in a space both vocabularies share is written over shared tokens,
and the same weights combine those tokens' vectors in the base model.
"""
from __future__ import annotations

import numpy as np


def omp(Y: np.ndarray, A: np.ndarray, k: int, batch: int = 2048, tol: float = 1e-9,
        pool: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Sparse codes of every row of Y over the rows of A: (N, k) atom indices and (N, k) weights.

    A target is finished early when its residual falls under ``tol`` times its norm; its unused
    slots hold index 0 with weight 0. ``pool``: search only the ``pool`` atoms most correlated with
    the target itself (one pass over the dictionary instead of k): much faster on a large
    dictionary, and the same answer whenever the atoms OMP would pick are in the pool.
    """
    N, M = len(Y), len(A)
    if not 1 <= k <= M:
        raise ValueError(f"k must be in 1..{M} (the number of atoms), got {k}")
    norms = np.linalg.norm(A, axis=1)  # (M,)
    An = (A / np.maximum(norms, 1e-12)[:, None]).astype(np.float32)  # (M, d) directions
    idx = np.zeros((N, k), dtype=np.int64)
    coef = np.zeros((N, k), dtype=np.float64)
    if pool is not None and pool < M:
        batch = max(1, min(batch, 256))  # (B, pool, d) gathered atoms per batch
    for s in range(0, N, batch):
        Yb = Y[s:s + batch].astype(np.float64)  # (B, d)
        if pool is not None and pool < M:
            cand = np.argpartition(-np.abs(Yb.astype(np.float32) @ An.T), pool - 1, axis=1)[:, :pool]  # (B, P)
        else:
            cand = None
        i, c = _omp_batch(Yb, A, An, k, tol, cand)
        idx[s:s + len(Yb)], coef[s:s + len(Yb)] = i, c
    return idx, coef


def _omp_batch(Yb: np.ndarray, A: np.ndarray, An: np.ndarray, k: int, tol: float,
               cand: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """OMP for a batch of targets Yb (B, d), over every atom or over each target's own pool (B, P)."""
    B = len(Yb)
    R = Yb.copy()  # (B, d) residuals
    scale = np.linalg.norm(Yb, axis=1)  # (B,)
    live = scale > 0  # (B,)
    chosen = np.zeros((B, k), dtype=np.int64)
    w = np.zeros((B, k))
    rows = np.arange(B)
    for step in range(k):
        if cand is None:
            corr = np.abs(R.astype(np.float32) @ An.T)  # (B, M) float32: it only chooses
            for j in range(step):  # never pick an atom twice
                corr[rows, chosen[:, j]] = -1.0
            pick = corr.argmax(axis=1)  # (B,)
        else:
            corr = np.abs(np.einsum("bd,bpd->bp", R.astype(np.float32), An[cand]))  # (B, P)
            for j in range(step):
                corr[cand == chosen[:, j:j + 1]] = -1.0
            pick = cand[rows, corr.argmax(axis=1)]  # (B,)
        on = np.flatnonzero(live)  # rows still being fitted; finished rows keep their weights
        chosen[on, step] = pick[on]
        S = A[chosen[on, : step + 1]].astype(np.float64)  # (b, s, d)
        G = S @ S.transpose(0, 2, 1)  # (b, s, s)
        rhs = S @ Yb[on, :, None]  # (b, s, 1)
        sol = np.linalg.solve(G + 1e-10 * np.eye(step + 1), rhs)[..., 0]  # (b, s)
        w[on, : step + 1] = sol
        R[on] = Yb[on] - (sol[:, :, None] * S).sum(1)  # (b, d)
        live[on] = np.linalg.norm(R[on], axis=1) > tol * np.maximum(scale[on], 1e-30)
        if not live.any():
            break
    return chosen, w
